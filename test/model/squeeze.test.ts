import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  decodeConfig, defaultHeadCost, dequantize, dynamicQuantize, evaluate, foldHeadMask, forward, headSignificance, initWeights,
  squeezeHeads, createKvCache, linearF32, linearWeights, type GptModel, type HeadCostFn, type LinearFn,
} from 'basedai/model'

const cfg = decodeConfig({ nLayer: 2, nHead: 4, nEmbd: 16, nCtx: 12, vocabSize: 17 })
const model: GptModel = { config: cfg, weights: initWeights(cfg, 21, 0.6) }
// Head (1, 2) is made inert: its rows of the output projection are zero, so ablating it changes nothing.
for (let r = 2 * 4; r < 3 * 4; r++) for (let j = 0; j < 16; j++) model.weights.layers[1].projW[r * 16 + j] = 0
const calib = [[1, 5, 9, 2, 16, 3, 3, 7, 0, 11, 4, 8], [2, 2, 14, 6, 1, 0, 9, 13, 5, 5, 10, 12], [7, 3, 1, 15, 8, 8, 2, 4, 6, 11, 0, 9]]
const S = headSignificance(model, calib)
const tag = (name: string) => (e: unknown): boolean => (e as { _tag?: string })._tag === name

describe('Cerberus Squeezing: heads', () => {
  test('S(h) is the loss increase when only h is masked; an inert head scores exactly 0', () => {
    assert.equal(S[1][2], 0)
    const base = evaluate(model, calib).loss
    const mask = [[1, 1, 1, 1], [1, 1, 1, 1]]
    mask[0][3] = 0
    assert.ok(Math.abs(S[0][3] - (evaluate(model, calib, { headMask: mask }).loss - base)) < 1e-12)
    assert.ok(S.flat().filter((s) => s !== 0).length >= 6, 'the other heads matter')
  })

  test('θ = 0 prunes nothing and changes no output, although some heads have S ≤ 0', () => {
    assert.ok(S.flat().some((s) => s <= 0))
    const { model: m, report } = squeezeHeads(model, calib, { theta: 0 }, { significance: S })
    assert.equal(report.pruned.length, 0)
    assert.equal(report.headCostAfter, report.headCostBefore)
    for (const seq of calib) assert.deepEqual(forward(m, seq), forward(model, seq))
  })

  test('θ > 0 removes exactly the heads with S ≤ θ', () => {
    const theta = [...S.flat()].sort((a, b) => a - b)[3]
    const { model: m, report } = squeezeHeads(model, calib, { theta }, { significance: S })
    const expected = S.flatMap((row, layer) => row.flatMap((s, head) => (s <= theta ? [{ layer, head }] : [])))
    assert.deepEqual(report.pruned, expected)
    assert.equal(report.pruned.length, 4)
    assert.deepEqual(forward(m, calib[0]), forward(model, calib[0], { headMask: m.headMask }))
    assert.ok(Math.abs(report.calibrationLossAfter - evaluate(model, calib, { headMask: m.headMask }).loss) < 1e-12)
  })

  test('a budget is never exceeded, and no pruned head would still fit', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 8, maxLength: 8 }),
      fc.integer({ min: 0, max: 500 }),
      (costs, budget) => {
        const headCost: HeadCostFn = (id) => costs[id.layer * 4 + id.head]
        const { report } = squeezeHeads(model, calib, { budget }, { significance: S, headCost })
        const used = report.kept.reduce((a, id) => a + headCost(id, cfg), 0)
        assert.equal(used, report.headCostAfter)
        return used <= budget && report.pruned.every((id) => headCost(id, cfg) > budget - used)
      }), { seed: 5, numRuns: 60 })
  })

  test('the budget keeps the most significant heads first', () => {
    const unit: HeadCostFn = () => 1
    const { report } = squeezeHeads(model, calib, { budget: 3 }, { significance: S, headCost: unit })
    const top = S.flatMap((row, layer) => row.map((s, head) => ({ layer, head, s }))).sort((a, b) => b.s - a.s).slice(0, 3)
    assert.deepEqual(report.kept.map((k) => `${k.layer}.${k.head}`).sort(), top.map((k) => `${k.layer}.${k.head}`).sort())
  })

  test('folding the mask into the weights gives the same logits without a mask', () => {
    const { model: m, report } = squeezeHeads(model, calib, { budget: 2 * defaultHeadCost({ layer: 0, head: 0 }, cfg) }, { significance: S })
    assert.equal(report.kept.length, 2)
    const folded = foldHeadMask(m)
    assert.equal(folded.headMask, undefined)
    const a = forward(folded, calib[1]), b = forward(m, calib[1])
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5)
  })

  test('pruned heads are sliced out of QKV and the output projection; an emptied layer skips both', () => {
    // layer 0 keeps heads 1 and 3; layer 1 keeps none
    const mask = [[0, 1, 0, 1], [0, 0, 0, 0]]
    const squeezed: GptModel = { ...model, headMask: mask }
    const calls: string[] = []
    const linear: LinearFn = (x, rows, inDim, outDim, w, b, site) => {
      calls.push(`${site.layer}/${site.name} ${inDim}→${outDim}`)
      return linearF32(x, rows, inDim, outDim, w, b, site)
    }
    const seq = calib[0]
    const sliced = forward(squeezed, seq, { linear })
    assert.deepEqual(calls, ['0/attn 16→24', '0/proj 8→16', '0/fc 16→64', '0/fcProj 64→16', '1/fc 16→64', '1/fcProj 64→16'])
    // independent oracle: the unsliced computation with the pruned heads' weights zeroed (foldHeadMask), no mask
    const folded = foldHeadMask(squeezed)
    const full = forward({ config: folded.config, weights: folded.weights }, seq)
    for (let i = 0; i < full.length; i++) assert.ok(Math.abs(sliced[i] - full[i]) < 1e-4, `logit ${i}: ${sliced[i]} vs ${full[i]}`)
    // what the miner serves for this model is what the client computes with
    const attn = linearWeights(squeezed, { layer: 0, name: 'attn' })
    assert.ok(attn !== undefined)
    assert.equal(attn.outDim, 24)
    assert.equal(linearWeights(squeezed, { layer: 1, name: 'proj' }), undefined)
    // q of kept head 1 = columns 4..8 of the fused QKV; its k = columns 16 + 4..8
    for (let i = 0; i < 16; i++) {
      assert.equal(attn.w[i * 24 + 0], model.weights.layers[0].attnW[i * 48 + 4])
      assert.equal(attn.w[i * 24 + 8 + 4], model.weights.layers[0].attnW[i * 48 + 16 + 12])
    }
    // incremental decoding through the cache gives the same logits when heads are sliced
    const cache = createKvCache(cfg)
    const a = forward(squeezed, seq.slice(0, 5), { cache })
    const b = forward(squeezed, seq.slice(5), { cache })
    const V = cfg.vocabSize
    for (let i = 0; i < b.length; i++) assert.ok(Math.abs(b[i] - sliced[5 * V + i]) < 1e-4)
    assert.equal(a.length, 5 * V)
  })

  test('bad options are rejected', () => {
    assert.throws(() => squeezeHeads(model, calib, { theta: -1 }, { significance: S }), tag('InvalidOption'))
    assert.throws(() => squeezeHeads(model, calib, { budget: Number.NaN }, { significance: S }), tag('InvalidOption'))
    assert.throws(() => squeezeHeads(model, calib, { budget: 10 }, { significance: S, headCost: () => -1 }), tag('InvalidOption'))
    assert.throws(() => squeezeHeads(model, calib, { theta: 1 }, { significance: [[1]] }), tag('InvalidOption'))
  })
})

describe('Cerberus Squeezing: dynamic quantization (§5.1)', () => {
  test('each element is within half a level spacing; codes lie in [0, L)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 2, max: 300 }),
      fc.double({ min: 0.1, max: 10, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true }), fc.integer(),
      (rows, cols, levels, alpha, threshold, seed) => {
        let s = seed >>> 0
        const x = Array.from({ length: rows * cols }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s / 2 ** 32 - 0.5) * 8 })
        const q = dynamicQuantize(x, rows, cols, { levels, alpha, threshold })
        const y = dequantize(q)
        for (let i = 0; i < rows; i++) {
          const mu = x.slice(i * cols, (i + 1) * cols).reduce((a, b) => a + b, 0) / cols
          const sigma = Math.sqrt(x.slice(i * cols, (i + 1) * cols).reduce((a, b) => a + (b - mu) ** 2, 0) / cols)
          if (q.scale[i] !== (sigma > threshold ? alpha : 1 / alpha)) return false
          for (let j = 0; j < cols; j++) {
            const k = i * cols + j
            if (q.codes[k] >= levels) return false
            if (Math.abs(y[k] - x[k]) > q.step[i] / (2 * q.scale[i]) + 1e-9 * (1 + Math.abs(x[k]))) return false
          }
        }
        return true
      }), { seed: 11, numRuns: 300 })
  })

  test('bad options are rejected', () => {
    assert.throws(() => dynamicQuantize([1, 2], 1, 2, { levels: 1, alpha: 2, threshold: 0 }), tag('InvalidOption'))
    assert.throws(() => dynamicQuantize([1, 2], 1, 2, { levels: 4, alpha: 0, threshold: 0 }), tag('InvalidOption'))
    assert.throws(() => dynamicQuantize([1, 2], 2, 2, { levels: 4, alpha: 2, threshold: 0 }), tag('InvalidOption'))
  })
})

test('a squeezed checkpoint round-trips with its mask and report', async () => {
  const { loadGpt2Checkpoint, parseSafetensors, saveSqueezed } = await import('basedai/model')
  const result = squeezeHeads(model, calib, { budget: 3 * defaultHeadCost({ layer: 0, head: 0 }, cfg) }, { significance: S })
  const bytes = saveSqueezed(result)
  const loaded = loadGpt2Checkpoint(bytes)
  assert.deepEqual(loaded.headMask, result.model.headMask)
  const report = JSON.parse(parseSafetensors(bytes).metadata['basedai.squeezeReport']) as { pruned: unknown[] }
  assert.equal(report.pruned.length, 5)
  const a = forward(loaded, calib[2]), b = forward(result.model, calib[2])
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5)
  const withoutMask = forward({ config: loaded.config, weights: loaded.weights }, calib[2])
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(withoutMask[i] - b[i]) < 1e-5, 'folded weights alone give the squeezed output')
})

test('folding LayerNorm affines into the next product keeps the function and leaves unit LayerNorms', async () => {
  const { foldLayerNormAffine } = await import('basedai/model')
  const m: GptModel = { config: cfg, weights: initWeights(cfg, 8, 0.5) }
  for (const L of m.weights.layers) for (let i = 0; i < 16; i++) { L.ln1G[i] = 0.5 + i / 16; L.ln1B[i] = (i % 3) / 4 - 0.2; L.ln2G[i] = 1.5 - i / 32; L.ln2B[i] = (i % 5) / 10 }
  const folded = foldLayerNormAffine(m)
  assert.ok(folded.weights.layers.every((L) => L.ln1G.every((v) => v === 1) && L.ln2B.every((v) => v === 0)))
  const a = forward(folded, calib[0]), b = forward(m, calib[0])
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4, `logit ${i}: ${a[i]} vs ${b[i]}`)
  assert.ok(m.weights.layers[0].ln1G[3] !== 1, 'the input model is not modified')
})
