import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeConfig, evaluate, initWeights, mulberry32, namedTensors, type GptModel } from 'basedai/model'
import { lossAndGrad } from '../../model/train/backprop.ts'
import { checkFiniteDifferences } from './grad-check.ts'
import { jsKernels, type TrainKernels } from '../../model/train/kernels.ts'
import { trainWasm, wasmTrainKernels } from '../../model/train/wasm/kernels.ts'

const skip = wasmTrainKernels === undefined ? 'no WebAssembly SIMD training kernels here' : false
const wasm = wasmTrainKernels as TrainKernels

function rand(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed)
  const a = new Float32Array(n)
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale
  return a
}

/** max |a − b| ≤ tol · max(1, max |b|). */
function close(a: Float32Array, b: Float32Array, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`)
  let worst = 0, big = 1
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]))
    big = Math.max(big, Math.abs(b[i]))
  }
  assert.ok(worst <= tol * big, `${what}: max difference ${worst} (scale ${big})`)
}

// Shapes hit every tile path: 4×8 tiles, 4×4 tiles, scalar columns, single rows (rows % 4 ≠ 0).
const SHAPES: readonly [number, number, number][] = [[13, 7, 10], [16, 32, 96], [9, 20, 12], [1, 3, 5], [4, 8, 8]]

test('wasm linear and linearBack equal the TypeScript loops', { skip }, () => {
  for (const [rows, n, m] of SHAPES) {
    const x = rand(rows * n, rows), w = rand(n * m, n + 1), b = rand(m, m + 2), dy = rand(rows * m, 7)
    close(wasm.linear(x, rows, n, m, w, b), jsKernels.linear(x, rows, n, m, w, b), 1e-5, `linear ${rows}×${n}×${m}`)
    const dW1 = rand(n * m, 3, 0.1), db1 = rand(m, 4, 0.1)
    const dW2 = dW1.slice(), db2 = db1.slice()
    const dx1 = wasm.linearBack(x, dy, rows, n, m, w, dW1, db1)
    const dx2 = jsKernels.linearBack(x, dy, rows, n, m, w, dW2, db2)
    close(dx1, dx2, 1e-5, `dx ${rows}×${n}×${m}`)
    close(dW1, dW2, 1e-5, `dW ${rows}×${n}×${m}`)
    close(db1, db2, 1e-5, `db ${rows}×${n}×${m}`)
  }
})

test('wasm attention forward and backward equal the TypeScript loops (causal, several T and head sizes)', { skip }, () => {
  for (const [B, T, H, hd] of [[2, 11, 2, 4], [1, 16, 4, 8], [3, 5, 1, 3], [1, 1, 2, 2], [2, 33, 2, 16]] as const) {
    const d = H * hd, scale = 1 / Math.sqrt(hd)
    const qkv = rand(B * T * 3 * d, T * 7 + hd, 1.5), datt = rand(B * T * d, 99)
    const a = wasm.attention(qkv, B, T, H, hd, scale), r = jsKernels.attention(qkv, B, T, H, hd, scale)
    close(a.probs, r.probs, 1e-5, `probs B${B} T${T} H${H} hd${hd}`)
    close(a.att, r.att, 1e-5, `att B${B} T${T} H${H} hd${hd}`)
    close(wasm.attentionBack(qkv, r.probs, datt, B, T, H, hd, scale), jsKernels.attentionBack(qkv, r.probs, datt, B, T, H, hd, scale), 1e-5, `dqkv B${B} T${T}`)
  }
})

test('wasm LM head, GELU and its gradient equal the TypeScript loops', { skip }, () => {
  const N = 10, d = 12, V = 37
  const hf = rand(N * d, 1), wte = rand(V * d, 2)
  const targets = Int32Array.from({ length: N }, (_, i) => (i * 7) % V)
  const g1 = rand(V * d, 5, 0.01), g2 = g1.slice()
  const a = wasm.lmHead(hf, N, d, wte, V, targets, N, g1), r = jsKernels.lmHead(hf, N, d, wte, V, targets, N, g2)
  assert.ok(Math.abs(a.lossSum - r.lossSum) < 1e-5 * Math.abs(r.lossSum), `${a.lossSum} vs ${r.lossSum}`)
  close(a.dhf, r.dhf, 1e-5, 'dhf')
  close(g1, g2, 1e-5, 'dwte')
  const x = rand(1000, 8, 20)
  close(wasm.gelu(x), jsKernels.gelu(x), 1e-5, 'gelu')
  const ga = rand(1000, 9), gb = ga.slice()
  wasm.geluBack(x, ga)
  jsKernels.geluBack(x, gb)
  close(ga, gb, 1e-5, 'gelu grad')
})

test('the raw GEMM honours strides, accumulation and each triangular mode', { skip }, () => {
  const w = trainWasm!
  const M = 10, N = 10, K = 10
  const A = rand(M * K, 1), Bm = rand(K * N, 2), C0 = rand(M * N, 3)
  for (const transA of [false, true]) {
    for (const tri of [0, 1, 2, 3]) {
      for (const acc of [0, 1]) {
        w.reset()
        const pa = w.put(A), pb = w.put(Bm), pc = w.put(C0)
        w.ex.gemm(M, N, K, pa, transA ? 1 : K, transA ? M : 1, pb, N, pc, N, acc, tri)
        const got = w.view(pc, M * N)
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            // which entries each mode promises: tri 1 computes j < (tile start + 4) (single rows: j ≤ i); others all
            const tile = i < 8 ? i - (i % 4) + 4 : i + 1
            if (tri === 1 && j >= tile) { assert.equal(got[i * N + j], C0[i * N + j], 'untouched above the causal band'); continue }
            const kLo = tri === 3 ? (i < 8 ? i - (i % 4) : i) : 0
            const kHi = tri === 2 ? Math.min(K, tile) : K
            let s = acc ? C0[i * N + j] : 0
            for (let k = kLo; k < kHi; k++) s += (transA ? A[k * M + i] : A[i * K + k]) * Bm[k * N + j]
            assert.ok(Math.abs(got[i * N + j] - s) < 1e-5, `transA ${transA} tri ${tri} acc ${acc} C[${i},${j}] ${got[i * N + j]} vs ${s}`)
          }
        }
      }
    }
  }
})

const cfg = decodeConfig({ nLayer: 2, nHead: 2, nEmbd: 16, nCtx: 13, vocabSize: 37 })
function model(seed: number): GptModel {
  const w = initWeights(cfg, seed, 0.3)
  const r = mulberry32(seed)
  for (const t of namedTensors(cfg, w)) if (t.shape.length === 1) for (let i = 0; i < t.data.length; i++) t.data[i] += 0.3 * (r() - 0.5)
  return { config: cfg, weights: w }
}
const r0 = mulberry32(11)
const batch = Array.from({ length: 3 }, () => Array.from({ length: 14 }, () => Math.floor(r0() * 37)))

test('training step on wasm: same loss as the TypeScript loops and the reference forward, same gradients', { skip }, () => {
  const m = model(4)
  const a = lossAndGrad(m, batch, undefined, wasm)
  const r = lossAndGrad(m, batch, undefined, jsKernels)
  assert.ok(Math.abs(a.loss - r.loss) < 1e-5, `${a.loss} vs ${r.loss}`)
  assert.ok(Math.abs(a.loss - evaluate(m, batch).loss) < 1e-5)
  const ga = namedTensors(cfg, a.grad), gr = namedTensors(cfg, r.grad)
  ga.forEach((t, i) => close(t.data, gr[i].data, 1e-4, t.name))
})

test('wasm gradients match central finite differences of the reference forward', { skip }, () => {
  const m = model(5)
  const { grad } = lossAndGrad(m, batch, undefined, wasm)
  checkFiniteDifferences(m, batch, grad, 6, 2)
})
