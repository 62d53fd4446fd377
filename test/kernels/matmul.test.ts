import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { MatmulKernels } from '../../kernels/matmul/gpu.ts'
import { matmulInt8Reference, packInt8Rows, quantizeRows, type Int8Weights, type MatmulInput } from '../../kernels/matmul/reference.ts'
import { gpuForTests, need } from './gpu-support.ts'
import { rng } from './support.ts'

const gpu = await gpuForTests()
after(() => gpu.rt?.destroy())

function int8s(len: number, next: () => number, edge = false): Int8Array {
  const a = new Int8Array(len)
  for (let i = 0; i < len; i++) a[i] = edge ? (i % 2 === 0 ? -128 : 127) : Math.floor(next() * 256) - 128
  return a
}

function problem(m: number, n: number, k: number, seed: number, bias = true): { x: MatmulInput; w: Int8Weights } {
  const next = rng(seed)
  const aScale = Float32Array.from({ length: m }, () => 0.001 + next() * 0.05)
  const wScale = Float32Array.from({ length: n }, () => 0.001 + next() * 0.05)
  const x: MatmulInput = { a: int8s(m * k, next), aScale, m, k }
  const w: Int8Weights = {
    w: int8s(n * k, next),
    wScale,
    n,
    k,
    ...(bias ? { bias: Float32Array.from({ length: n }, () => next() - 0.5) } : {}),
  }
  return { x, w }
}

describe('int8 matmul reference', () => {
  test('hand-made case and extremes', () => {
    // [1 2 3 4] · [[1 0 0 0], [−1 −1 −1 −1], [127 127 127 127]]ᵀ
    const r = matmulInt8Reference(
      { a: Int8Array.from([1, 2, 3, 4]), aScale: Float32Array.from([0.5]), m: 1, k: 4 },
      { w: Int8Array.from([1, 0, 0, 0, -1, -1, -1, -1, 127, 127, 127, 127]), wScale: Float32Array.from([1, 2, 0.25]), n: 3, k: 4 },
    )
    assert.deepEqual(Array.from(r.acc), [1, -10, 1270])
    assert.deepEqual(Array.from(r.y), [0.5, -10, 158.75])
    const k = 4096
    const e = matmulInt8Reference(
      { a: new Int8Array(k).fill(-128), aScale: Float32Array.from([1]), m: 1, k },
      { w: new Int8Array(k).fill(-128), wScale: Float32Array.from([1]), n: 1, k },
    )
    assert.equal(e.acc[0], 128 * 128 * k)
  })

  test('quantizeRows and packInt8Rows', () => {
    const { q, scale } = quantizeRows(Float32Array.from([0, 1.27, -2.54, 0, 0, 0]), 2, 3)
    assert.deepEqual(Array.from(q), [0, 64, -127, 0, 0, 0])
    assert.ok(Math.abs((scale[0] as number) - 0.02) < 1e-9)
    assert.equal(scale[1], 1)
    const p = packInt8Rows(Int8Array.from([1, -1, 2, 3, 4]), 1, 5)
    assert.deepEqual(Array.from(p), [0x0302ff01, 0x00000004])
  })

  test('shape errors are typed', () => {
    const { x, w } = problem(2, 3, 8, 1)
    assert.throws(() => matmulInt8Reference({ ...x, k: 7 }, w), { _tag: 'InvalidInput', reason: 'bad_shape' })
    assert.throws(() => matmulInt8Reference({ ...x, aScale: new Float32Array(1) }, w), { _tag: 'InvalidInput', reason: 'bad_shape' })
    assert.throws(() => matmulInt8Reference(x, { ...w, wScale: new Float32Array(2) }), { _tag: 'InvalidInput', reason: 'bad_shape' })
  })
})

// Under 1 s on lavapipe on this loaded 2-core machine; the limit is far below the runner's 300 s (a GPU wait that
// never resolves fails here, and the file's after() destroys the device).
describe('int8 matmul on WebGPU', { skip: gpu.skip, timeout: 30_000 }, () => {
  test('GEMV and GEMM: int32 accumulators exact, f32 outputs equal the reference', async () => {
    const mm = new MatmulKernels(need(gpu))
    for (const [m, n, k, kernel] of [
      [1, 256, 768, 'gemv'],
      [3, 50, 13, 'gemv'],
      [1, 7, 5000, 'gemv'],
      [64, 96, 256, 'gemm'],
      [37, 45, 70, 'gemm'],
      [5, 3, 3, 'gemm'],
      [64, 96, 256, 'gemm_tiled'],
      [37, 45, 70, 'gemm_tiled'],
    ] as const) {
      const { x, w } = problem(m, n, k, m * 1000 + n, k !== 13)
      const gw = mm.upload(w)
      const got = await mm.run(x, gw, kernel)
      const want = matmulInt8Reference(x, w)
      assert.deepEqual(got.acc, want.acc, `${kernel} ${m}×${n}×${k} acc`)
      for (let i = 0; i < want.y.length; i++) {
        const d = Math.abs((got.y[i] as number) - (want.y[i] as number))
        assert.ok(d <= 1e-6 * Math.max(1, Math.abs(want.y[i] as number)), `${kernel} y[${i}] ${got.y[i]} vs ${want.y[i]}`)
      }
      mm.release(gw)
    }
  })

  test('extreme values: (−128)·(−128) summed over K = 4096, and 127·(−128)', async () => {
    const mm = new MatmulKernels(need(gpu))
    const k = 4096
    const next = rng(5)
    const a = int8s(2 * k, next, true)
    a.fill(-128, 0, k)
    const w = new Int8Array(2 * k)
    w.fill(-128, 0, k)
    w.fill(127, k)
    const x = { a, aScale: Float32Array.from([1, 1]), m: 2, k }
    const wt = { w, wScale: Float32Array.from([1, 1]), n: 2, k }
    for (const kernel of ['gemv', 'gemm', 'gemm_tiled'] as const) {
      const gw = mm.upload(wt)
      const got = await mm.run(x, gw, kernel)
      assert.deepEqual(got.acc, matmulInt8Reference(x, wt).acc)
      assert.equal(got.acc[0], 128 * 128 * k)
      mm.release(gw)
    }
    await assert.rejects(mm.run(x, mm.upload({ ...wt, k: 8, w: new Int8Array(16) })), { _tag: 'InvalidInput' })
  })
})
