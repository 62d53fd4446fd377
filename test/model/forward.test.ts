import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createKvCache, decodeConfig, forward, generate, initWeights, sampleToken, argmax, mulberry32,
  type GptConfig, type GptModel, type GptWeights,
} from 'basedai/model'

// ---- An independent, deliberately naive GPT-2 written with nested number[] arrays and per-head matrices. ----
type Mat = number[][]
const row = (a: Float32Array, r: number, n: number): number[] => Array.from(a.subarray(r * n, (r + 1) * n))
const toMat = (a: Float32Array, rows: number, cols: number): Mat => Array.from({ length: rows }, (_, r) => row(a, r, cols))
const matmul = (x: Mat, w: Mat, b: number[]): Mat => x.map((xr) => b.map((bj, j) => xr.reduce((s, xk, k) => s + xk * w[k][j], bj)))
const ln = (x: Mat, g: Float32Array, b: Float32Array): Mat => x.map((r) => {
  const mu = r.reduce((s, v) => s + v, 0) / r.length
  const va = r.reduce((s, v) => s + (v - mu) ** 2, 0) / r.length
  return r.map((v, i) => ((v - mu) / Math.sqrt(va + 1e-5)) * g[i] + b[i])
})
const geluRef = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))

function naiveLogits(c: GptConfig, w: GptWeights, tokens: number[], mask?: number[][]): Mat {
  const d = c.nEmbd, H = c.nHead, hd = d / H, T = tokens.length
  let x: Mat = tokens.map((tok, p) => row(w.wte, tok, d).map((v, i) => v + w.wpe[p * d + i]))
  w.layers.forEach((L, l) => {
    const h = ln(x, L.ln1G, L.ln1B)
    const qkv = matmul(h, toMat(L.attnW, d, 3 * d), Array.from(L.attnB))
    const heads: Mat[] = []
    for (let hh = 0; hh < H; hh++) {
      const q = qkv.map((r) => r.slice(hh * hd, (hh + 1) * hd))
      const k = qkv.map((r) => r.slice(d + hh * hd, d + (hh + 1) * hd))
      const v = qkv.map((r) => r.slice(2 * d + hh * hd, 2 * d + (hh + 1) * hd))
      const out: Mat = []
      for (let t = 0; t < T; t++) {
        const s = k.map((kr, j) => (j <= t ? kr.reduce((a, kv, i) => a + kv * q[t][i], 0) / Math.sqrt(hd) : -Infinity))
        const m = Math.max(...s)
        const e = s.map((v2) => Math.exp(v2 - m))
        const z = e.reduce((a, b) => a + b, 0)
        const mult = mask === undefined ? 1 : mask[l][hh]
        out.push(Array.from({ length: hd }, (_, i) => mult * e.reduce((a, ej, j) => a + (ej / z) * v[j][i], 0)))
      }
      heads.push(out)
    }
    const concat: Mat = Array.from({ length: T }, (_, t) => heads.flatMap((hm) => hm[t]))
    const a = matmul(concat, toMat(L.projW, d, d), Array.from(L.projB))
    x = x.map((r, t) => r.map((v, i) => v + a[t][i]))
    const f = matmul(ln(x, L.ln2G, L.ln2B), toMat(L.fcW, d, 4 * d), Array.from(L.fcB)).map((r) => r.map(geluRef))
    const m2 = matmul(f, toMat(L.fcProjW, 4 * d, d), Array.from(L.fcProjB))
    x = x.map((r, t) => r.map((v, i) => v + m2[t][i]))
  })
  const hf = ln(x, w.lnfG, w.lnfB)
  return hf.map((r) => Array.from({ length: c.vocabSize }, (_, v) => r.reduce((s, hv, i) => s + hv * w.wte[v * d + i], 0)))
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`)
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`)
  }
}

/** Random weights with non-trivial LN gains and biases, so every parameter matters. */
function randomModel(cfg: GptConfig, seed: number): GptModel {
  const w = initWeights(cfg, seed, 0.5)
  const rand = mulberry32(seed + 99)
  for (const L of w.layers) {
    for (const a of [L.ln1G, L.ln2G]) for (let i = 0; i < a.length; i++) a[i] = 0.5 + rand()
    for (const a of [L.ln1B, L.ln2B, L.attnB, L.projB, L.fcB, L.fcProjB]) for (let i = 0; i < a.length; i++) a[i] = rand() - 0.5
  }
  for (let i = 0; i < w.lnfG.length; i++) { w.lnfG[i] = 0.5 + rand(); w.lnfB[i] = rand() - 0.5 }
  return { config: cfg, weights: w }
}

describe('f32 forward pass', () => {
  test('hand-computed 1-layer model (d=2, zero projections): logits follow from LN of the embeddings', () => {
    const cfg = decodeConfig({ nLayer: 1, nHead: 1, nEmbd: 2, nCtx: 2, vocabSize: 2, layerNormEps: 1e-12 })
    const w = initWeights(cfg, 1)
    // Zero every dense weight and bias: both residual branches add nothing, so the final hidden state is
    // x = wte[tok] + wpe[pos]. For a 2-vector LN gives (±1, ∓1) (sign of x0 − x1). With wte = [[1,0],[0,3]],
    // wpe = [[0,0],[0.5,0]], ln_f gain (2,1), bias (0.25,0):
    //   token 1 at pos 0: x = (0,3) → LN (−1, 1) → h = (−1.75, 1) → logits (h·(1,0), h·(0,3)) = (−1.75, 3)
    //   token 0 at pos 1: x = (1.5,0) → LN (1, −1) → h = (2.25, −1) → logits (2.25, −3)
    for (const L of w.layers) for (const a of [L.attnW, L.attnB, L.projW, L.projB, L.fcW, L.fcB, L.fcProjW, L.fcProjB]) a.fill(0)
    w.wte.set([1, 0, 0, 3]); w.wpe.set([0, 0, 0.5, 0]); w.lnfG.set([2, 1]); w.lnfB.set([0.25, 0])
    const logits = forward({ config: cfg, weights: w }, [1, 0])
    assertClose(logits, [-1.75, 3, 2.25, -3], 1e-5, 'logits')
  })

  test('hand-computed attention: zero queries give uniform attention, the output is the mean of the values', () => {
    // d=2, one head, V projection = identity, Q = K = 0 → position 1 attends 50/50 to positions 0 and 1.
    const cfg = decodeConfig({ nLayer: 1, nHead: 1, nEmbd: 2, nCtx: 2, vocabSize: 2, layerNormEps: 1e-12 })
    const w = initWeights(cfg, 2)
    const L = w.layers[0]
    for (const a of [L.attnW, L.attnB, L.projB, L.fcW, L.fcB, L.fcProjW, L.fcProjB]) a.fill(0)
    L.attnW[0 * 6 + 4] = 1; L.attnW[1 * 6 + 5] = 1 // v = LN1(x)
    L.projW.set([1, 0, 0, 1])
    w.wte.set([3, 1, 0, 2]); w.wpe.fill(0); w.lnfG.set([1, 1]); w.lnfB.set([0, 0])
    // token 0 at pos 0: x=(3,1), LN1 → (1,−1), att = (1,−1), x' = (4,0) → LN_f (1,−1) → logits (3−1, 0−2) = (2, −2)
    // token 1 at pos 1: x=(0,2), LN1 → (−1,1), att = mean((1,−1),(−1,1)) = (0,0), x' = (0,2) → LN_f (−1,1) → (−2, 2)
    const logits = forward({ config: cfg, weights: w }, [0, 1])
    assertClose(logits, [2, -2, -2, 2], 1e-5, 'logits')
  })

  for (const [name, cfgIn] of [
    ['1 layer, 2 heads', { nLayer: 1, nHead: 2, nEmbd: 4, nCtx: 5, vocabSize: 7 }],
    ['2 layers, 3 heads', { nLayer: 2, nHead: 3, nEmbd: 6, nCtx: 6, vocabSize: 11 }],
  ] as const) {
    test(`matches an independent naive implementation (${name})`, () => {
      const cfg = decodeConfig(cfgIn)
      const model = randomModel(cfg, 7)
      const tokens = Array.from({ length: cfg.nCtx }, (_, i) => (i * 5 + 3) % cfg.vocabSize)
      const expected = naiveLogits(cfg, model.weights, tokens).flat()
      assertClose(forward(model, tokens), expected, 2e-4, 'logits')
      const mask = Array.from({ length: cfg.nLayer }, (_, l) => Array.from({ length: cfg.nHead }, (_, h) => ((l + h) % 2 === 0 ? 1 : 0)))
      const masked = naiveLogits(cfg, model.weights, tokens, mask).flat()
      assertClose(forward(model, tokens, { headMask: mask }), masked, 2e-4, 'masked logits')
      assert.ok(masked.some((v, i) => Math.abs(v - expected[i]) > 1e-3), 'the mask changes the output')
    })
  }

  test('KV-cached incremental decoding equals the full-sequence forward', () => {
    const cfg = decodeConfig({ nLayer: 2, nHead: 2, nEmbd: 8, nCtx: 12, vocabSize: 13 })
    const model = randomModel(cfg, 3)
    const tokens = [1, 5, 2, 9, 12, 0, 4, 4, 7, 3, 11, 6]
    const full = forward(model, tokens)
    const cache = createKvCache(cfg)
    const chunks = [[1, 5, 2], [9], [12, 0, 4, 4], [7], [3], [11, 6]]
    const parts: number[] = []
    for (const ch of chunks) parts.push(...forward(model, ch, { cache }))
    assert.equal(cache.length, tokens.length)
    assertClose(parts, full, 1e-5, 'incremental logits')
    const last = forward(model, tokens, { lastOnly: true })
    assertClose(last, full.subarray((tokens.length - 1) * cfg.vocabSize), 0, 'lastOnly')
  })

  test('bad input gives typed errors', () => {
    const cfg = decodeConfig({ nLayer: 1, nHead: 1, nEmbd: 2, nCtx: 3, vocabSize: 4 })
    const model: GptModel = { config: cfg, weights: initWeights(cfg, 0) }
    assert.throws(() => forward(model, [4]), (e: { _tag?: string }) => e._tag === 'InvalidToken')
    assert.throws(() => forward(model, [1.5]), (e: { _tag?: string }) => e._tag === 'InvalidToken')
    assert.throws(() => forward(model, [0, 1, 2, 3]), (e: { _tag?: string }) => e._tag === 'ContextOverflow')
    assert.throws(() => forward(model, [0], { headMask: [[1, 1]] }), (e: { _tag?: string }) => e._tag === 'InvalidOption')
    assert.throws(() => forward(model, []), (e: { _tag?: string }) => e._tag === 'InvalidOption')
    assert.throws(() => decodeConfig({ nLayer: 1, nHead: 3, nEmbd: 4, nCtx: 3, vocabSize: 4 }), (e: { _tag?: string; field?: string }) => e._tag === 'InvalidConfig' && e.field === 'nEmbd')
    assert.throws(() => decodeConfig({ nLayer: 0, nHead: 1, nEmbd: 4, nCtx: 3, vocabSize: 4 }), (e: { _tag?: string; field?: string }) => e._tag === 'InvalidConfig' && e.field === 'nLayer')
    assert.throws(() => decodeConfig({ nLayer: 1, nHead: 1, nEmbd: 4, vocabSize: 4 }), (e: { _tag?: string; field?: string }) => e._tag === 'InvalidConfig' && e.field === 'nCtx')
  })
})

describe('sampling and generation', () => {
  test('greedy generation equals argmax of the full forward at each step', () => {
    const cfg = decodeConfig({ nLayer: 2, nHead: 2, nEmbd: 8, nCtx: 16, vocabSize: 13 })
    const model = randomModel(cfg, 11)
    const prompt = [3, 1, 4]
    const out = [...generate(model, prompt, { maxNewTokens: 8, temperature: 0 })]
    assert.equal(out.length, 8)
    const seq = [...prompt]
    for (const t of out) {
      assert.equal(t, argmax(forward(model, seq, { lastOnly: true })))
      seq.push(t)
    }
  })

  test('temperature/top-k sampling is seeded, stays inside the top k, and follows the distribution', () => {
    const logits = new Float32Array([0, Math.log(3), 5, -2, Math.log(2)]) // top-3: 2, 1, 4
    const counts = new Map<number, number>()
    const rand = mulberry32(42)
    for (let i = 0; i < 20000; i++) {
      const t = sampleToken(logits, { temperature: 1, topK: 2 }, rand)
      counts.set(t, (counts.get(t) ?? 0) + 1)
    }
    assert.deepEqual([...counts.keys()].sort(), [1, 2])
    const p1 = 3 / (3 + Math.exp(5))
    assert.ok(Math.abs((counts.get(1) ?? 0) / 20000 - p1) < 0.01)
    const a = [...generate(randomModel(decodeConfig({ nLayer: 1, nHead: 1, nEmbd: 4, nCtx: 20, vocabSize: 9 }), 1), [1], { maxNewTokens: 15, temperature: 1.5, topK: 5, seed: 9 })]
    const b = [...generate(randomModel(decodeConfig({ nLayer: 1, nHead: 1, nEmbd: 4, nCtx: 20, vocabSize: 9 }), 1), [1], { maxNewTokens: 15, temperature: 1.5, topK: 5, seed: 9 })]
    assert.deepEqual(a, b)
    assert.throws(() => sampleToken(logits, { temperature: -1 }, rand), (e: { _tag?: string }) => e._tag === 'InvalidOption')
    assert.throws(() => sampleToken(logits, { topK: 1.5 }, rand), (e: { _tag?: string }) => e._tag === 'InvalidOption')
    const model = randomModel(decodeConfig({ nLayer: 1, nHead: 1, nEmbd: 4, nCtx: 4, vocabSize: 9 }), 1)
    // a full context slides by default (test/model/generate.test.ts) or stops: 2 prompt tokens + 2 fed back fill nCtx 4.
    assert.equal([...generate(model, [1, 2], { maxNewTokens: 9 })].length, 9)
    assert.equal([...generate(model, [1, 2], { maxNewTokens: 9, onFull: 'stop' })].length, 3)
    assert.throws(() => forward(model, [1, 2, 3, 4, 5]), (e: { _tag?: string }) => e._tag === 'ContextOverflow')
  })
})
