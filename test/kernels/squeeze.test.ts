import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { SqueezeKernels } from '../../kernels/squeeze/gpu.ts'
import { squeezeFromStats, squeezeReference, STAT_WORDS, type SqueezeOptions, type SqueezeResult } from '../../kernels/squeeze/reference.ts'
import { gpuForTests, need } from './gpu-support.ts'
import { rng } from './support.ts'

const gpu = await gpuForTests()
after(() => gpu.rt?.destroy())

interface Case {
  readonly name: string
  readonly row: number[]
  readonly opts: SqueezeOptions
  readonly codes: number[]
  readonly values: number[]
  readonly scale: number
  readonly q: number
}

// Worked by hand from the formulas (σ population; S = α if σ > T else 1/α; Δ = (max−min)/(L−1); k = ⌊(x−min)/Δ⌋;
// q = S·(k·Δ + min); Q = S·Δ).
const CASES: readonly Case[] = [
  // μ = 1.5, σ = √1.25 ≈ 1.118 > 0.1 → S = 0.5; Δ = 3/3 = 1.
  { name: 'spread row, L = 4', row: [0, 1, 2, 3], opts: { levels: 4 }, codes: [0, 1, 2, 3], values: [0, 0.5, 1, 1.5], scale: 0.5, q: 0.5 },
  // μ = 1.109375, σ² = 0.008544921875, σ ≈ 0.0924 ≤ 0.1 → S = 1/α = 2; Δ = 0.25/4 = 0.0625; (x−1)/Δ = 0, 1, 2, 4.
  { name: 'flat row scaled up, L = 5', row: [1, 1.0625, 1.125, 1.25], opts: { levels: 5 }, codes: [0, 1, 2, 4], values: [2, 2.125, 2.25, 2.5], scale: 2, q: 0.125 },
  // σ = 0 → S = 2; max = min → every code 0, value S·min.
  { name: 'constant row', row: [5, 5, 5], opts: {}, codes: [0, 0, 0], values: [10, 10, 10], scale: 2, q: 0 },
  // Floor, not round: Δ = 0.5, (x−0)/Δ = 0.98, 1.02 → 0, 1.
  { name: 'floor not round, L = 3', row: [0, 0.49, 0.51, 1], opts: { levels: 3 }, codes: [0, 0, 1, 2], values: [0, 0, 0.25, 0.5], scale: 0.5, q: 0.25 },
  // σ = T exactly (σ = 0.25 for [0, 0.5]) → not greater → S = 1/α = 2; L = 2: Δ = 0.5.
  { name: 'σ = T is not above the threshold', row: [0, 0.5], opts: { levels: 2, threshold: 0.25 }, codes: [0, 1], values: [0, 1], scale: 2, q: 1 },
  // Default L = 256: Δ = 2/255, inv = 127.5; x = 0 → ⌊127.5⌋ = 127; x = 1 → 255. S = 0.5 (σ ≈ 0.816).
  { name: 'defaults, symmetric row', row: [-1, 0, 1], opts: {}, codes: [0, 127, 255], values: [-0.5, 0.5 * (127 * (2 / 255) - 1), 0.5], scale: 0.5, q: 1 / 255 },
  // α = 0.25 → flat rows scale by 4.
  { name: 'custom α', row: [2, 2.0625], opts: { alpha: 0.25, levels: 2 }, codes: [0, 1], values: [8, 8.25], scale: 4, q: 0.25 },
]

function checkCase(r: SqueezeResult, c: Case): void {
  assert.deepEqual(Array.from(r.codes), c.codes, `${c.name}: codes`)
  c.values.forEach((v, i) => assert.ok(Math.abs((r.values[i] as number) - v) <= 1e-6 * Math.max(1, Math.abs(v)), `${c.name}: value ${i} ${r.values[i]} ≠ ${v}`))
  assert.equal(r.stats[4], c.scale, `${c.name}: S`)
  assert.ok(Math.abs((r.stats[5] as number) - c.q) <= 1e-7, `${c.name}: Q = ${r.stats[5]} ≠ ${c.q}`)
}

describe('squeeze reference', () => {
  for (const c of CASES) {
    test(`hand-made: ${c.name}`, () => checkCase(squeezeReference(Float32Array.from(c.row), 1, c.row.length, c.opts), c))
  }

  test('rows are independent; bad input is refused', () => {
    const x = Float32Array.from([0, 1, 2, 3, 5, 5, 5, 5])
    const r = squeezeReference(x, 2, 4, { levels: 4 })
    assert.deepEqual(Array.from(r.codes), [0, 1, 2, 3, 0, 0, 0, 0])
    assert.equal(r.stats[STAT_WORDS + 4], 2)
    assert.throws(() => squeezeReference(x, 3, 4), { _tag: 'InvalidInput', reason: 'bad_shape' })
    assert.throws(() => squeezeReference(x, 2, 4, { levels: 1 }), { _tag: 'InvalidInput', reason: 'bad_argument' })
    assert.throws(() => squeezeReference(x, 2, 4, { alpha: 0 }), { _tag: 'InvalidInput', reason: 'bad_argument' })
    assert.throws(() => squeezeReference(Float32Array.from([NaN]), 1, 1), { _tag: 'InvalidInput', reason: 'bad_argument' })
  })
})

// Under 1 s on lavapipe on this loaded 2-core machine; the limit is far below the runner's 300 s (a GPU wait that
// never resolves fails here, and the file's after() destroys the device).
describe('squeeze on WebGPU', { skip: gpu.skip, timeout: 30_000 }, () => {
  test('hand-made cases', async () => {
    const k = new SqueezeKernels(need(gpu))
    for (const c of CASES) checkCase(await k.run(Float32Array.from(c.row), 1, c.row.length, c.opts), c)
  })

  test('random rows: statistics within tolerance, codes exact given the statistics, S as the reference', async () => {
    const k = new SqueezeKernels(need(gpu))
    const next = rng(77)
    const rows = 64
    const cols = 768
    const x = new Float32Array(rows * cols)
    for (let r = 0; r < rows; r++) {
      const spread = r % 2 === 0 ? 0.02 : 3 // half the rows flat (σ < T), half spread
      for (let j = 0; j < cols; j++) x[r * cols + j] = (next() - 0.5) * spread + r * 0.1
    }
    const got = await k.run(x, rows, cols)
    const want = squeezeReference(x, rows, cols)
    for (let r = 0; r < rows; r++) {
      const o = r * STAT_WORDS
      for (const [w, tol] of [[0, 1e-5], [1, 1e-5], [2, 0], [3, 0], [4, 0], [7, 1e-6]] as const) {
        const d = Math.abs((got.stats[o + w] as number) - (want.stats[o + w] as number))
        assert.ok(d <= tol * Math.max(1, Math.abs(want.stats[o + w] as number)), `row ${r} stat ${w}: ${got.stats[o + w]} vs ${want.stats[o + w]}`)
      }
    }
    const mirror = squeezeFromStats(x, rows, cols, got.stats, 256)
    assert.deepEqual(got.codes, mirror.codes)
    let agree = 0
    for (let i = 0; i < x.length; i++) if (got.codes[i] === want.codes[i]) agree++
    assert.ok(agree / x.length > 0.999, `codes equal the float64-statistics reference for ${agree}/${x.length}`)
    for (let i = 0; i < x.length; i++) {
      assert.ok(Math.abs((got.values[i] as number) - (mirror.values[i] as number)) <= 1e-6 * Math.max(1, Math.abs(mirror.values[i] as number)))
    }
  })
})
