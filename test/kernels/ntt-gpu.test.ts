import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { NttKernels } from '../../kernels/ntt/gpu.ts'
import { forwardNttUnchecked, inverseNttUnchecked, makeNttTables, mulMod, polyMulNegacyclic } from '../../kernels/ntt/reference.ts'
import { polyMulSchoolbookBigInt } from '../../kernels/ntt/slow.ts'
import { gpuForTests, need } from './gpu-support.ts'
import { PRIMES_31, randomResidues, rng } from './support.ts'

const gpu = await gpuForTests()
after(() => gpu.rt?.destroy())

function batch(n: number, primes: readonly number[], rows: number, seed: number): Uint32Array {
  const next = rng(seed)
  const out = new Uint32Array(rows * n)
  for (let r = 0; r < rows; r++) out.set(randomResidues(n, primes[r % primes.length] as number, next), r * n)
  // Edge rows: all q−1 in row 0, zeros and ones mixed in row 1.
  out.fill((primes[0] as number) - 1, 0, n)
  if (rows > 1) for (let i = n; i < 2 * n; i++) out[i] = i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : ((primes[1 % primes.length] as number) - 1)
  return out
}

function refBatch(dir: 'forward' | 'inverse', data: Uint32Array, n: number, primes: readonly number[]): Uint32Array {
  const out = data.slice()
  for (let r = 0; r < data.length / n; r++) {
    const t = makeNttTables(n, primes[r % primes.length] as number)
    if (dir === 'forward') forwardNttUnchecked(out, r * n, t)
    else inverseNttUnchecked(out, r * n, t)
  }
  return out
}

function firstDiff(a: Uint32Array, b: Uint32Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? -1 : Math.min(a.length, b.length)
}

describe('NTT kernels on WebGPU', { skip: gpu.skip }, () => {
  for (const strategy of ['registers', 'workgroup'] as const) {
  test(`${strategy} passes: forward and inverse are bit-exact against the reference for every n = 2^10 … 2^16 (B polys × L primes)`, async () => {
    const k = new NttKernels(need(gpu), { strategy })
    for (let logN = 10; logN <= 16; logN++) {
      const n = 2 ** logN
      const L = logN <= 13 ? 3 : 2
      const primes = PRIMES_31.slice(logN % 4, (logN % 4) + L)
      const rows = logN <= 12 ? 2 * L : L // B = 2 or 1
      const x = batch(n, primes, rows, logN)
      const f = await k.transform('forward', x, n, primes)
      assert.equal(firstDiff(f, refBatch('forward', x, n, primes)), -1, `forward n=${n}`)
      const back = await k.transform('inverse', f, n, primes)
      assert.equal(firstDiff(back, x), -1, `INTT(NTT(x)) = x, n=${n}`)
    }
  })
  }

  test('register passes for small n (fewer stages than the radix, partial last pass)', async () => {
    const k = new NttKernels(need(gpu), { strategy: 'registers' })
    for (const n of [2, 4, 8, 32, 64, 512]) {
      const primes = [PRIMES_31[2], PRIMES_31[6]]
      const x = batch(n, primes, 4, 3 * n)
      const f = await k.transform('forward', x, n, primes)
      assert.equal(firstDiff(f, refBatch('forward', x, n, primes)), -1, `forward n=${n}`)
      const inv = await k.transform('inverse', x, n, primes)
      assert.equal(firstDiff(inv, refBatch('inverse', x, n, primes)), -1, `inverse n=${n}`)
    }
  })

  test('global-memory stages (small tiles) agree with the reference, n = 2 … 2048', async () => {
    const k = new NttKernels(need(gpu), { tile: 8, workgroupSize: 64, strategy: 'workgroup' })
    for (const n of [2, 4, 8, 16, 64, 2048]) {
      const primes = [PRIMES_31[0], PRIMES_31[5]]
      const x = batch(n, primes, 4, n)
      const f = await k.transform('forward', x, n, primes)
      assert.equal(firstDiff(f, refBatch('forward', x, n, primes)), -1, `forward n=${n}`)
      const inv = await k.transform('inverse', x, n, primes)
      assert.equal(firstDiff(inv, refBatch('inverse', x, n, primes)), -1, `inverse n=${n}`)
    }
  })

  test('batches split across binding-size chunks keep each row on its prime', async () => {
    const n = 1024
    const primes = PRIMES_31.slice(0, 3)
    const k = new NttKernels(need(gpu), { maxBindingBytes: n * 4 * 4 }) // 4 rows per binding → chunks of 3 rows
    const x = batch(n, primes, 9, 99)
    const f = await k.transform('forward', x, n, primes)
    assert.equal(firstDiff(f, refBatch('forward', x, n, primes)), -1)
  })

  test('pointwise mul/add/sub (Montgomery) match the reference, edges included', async () => {
    const k = new NttKernels(need(gpu))
    const n = 1024
    const primes = [PRIMES_31[2], PRIMES_31[7], 1073479681]
    const a = batch(n, primes, 6, 5)
    const b = batch(n, primes, 6, 6)
    b.fill((primes[0] as number) - 1, 0, n) // (q−1)·(q−1)
    for (const op of ['mul', 'add', 'sub'] as const) {
      const got = await k.pointwise(op, a, b, n, primes)
      for (let i = 0; i < a.length; i++) {
        const q = primes[Math.floor(i / n) % primes.length] as number
        const x = a[i] as number
        const y = b[i] as number
        const want = op === 'mul' ? mulMod(x, y, q) : op === 'add' ? (x + y) % q : (x - y + q) % q
        if (got[i] !== want) assert.fail(`${op} at ${i}: ${got[i]} ≠ ${want}`)
      }
    }
  })

  test('polyMul equals the reference and, for small n, the BigInt schoolbook product', async () => {
    const k = new NttKernels(need(gpu))
    for (const n of [16, 64, 4096]) {
      const primes = [PRIMES_31[1], PRIMES_31[4]]
      const a = batch(n, primes, 4, n + 1)
      const b = batch(n, primes, 4, n + 2)
      const got = await k.polyMul(a, b, n, primes)
      for (let r = 0; r < 4; r++) {
        const q = primes[r % 2] as number
        const ra = a.subarray(r * n, (r + 1) * n)
        const rb = b.subarray(r * n, (r + 1) * n)
        const want = n <= 64 ? polyMulSchoolbookBigInt(ra, rb, q) : polyMulNegacyclic(ra, rb, makeNttTables(n, q))
        assert.equal(firstDiff(got.subarray(r * n, (r + 1) * n), want), -1, `n=${n} row ${r}`)
      }
    }
  })

  test('concurrent calls (pooled buffers, overlapping submissions) each get their own correct result', async () => {
    const k = new NttKernels(need(gpu))
    const n = 1024
    const primes = [PRIMES_31[3], PRIMES_31[4]]
    const inputs = Array.from({ length: 8 }, (_, i) => batch(n, primes, 2, 500 + i))
    const outs = await Promise.all(inputs.map((x, i) => (i % 2 === 0 ? k.transform('forward', x, n, primes) : k.polyMul(x, x, n, primes))))
    outs.forEach((got, i) => {
      const x = inputs[i] as Uint32Array
      if (i % 2 === 0) assert.equal(firstDiff(got, refBatch('forward', x, n, primes)), -1, `call ${i}`)
      else {
        for (let r = 0; r < 2; r++) {
          const row = x.subarray(r * n, (r + 1) * n)
          assert.equal(firstDiff(got.subarray(r * n, (r + 1) * n), polyMulNegacyclic(row, row, makeNttTables(n, primes[r] as number))), -1, `call ${i}`)
        }
      }
    })
  })

  test('bad input is refused with typed errors before any dispatch', async () => {
    const k = new NttKernels(need(gpu))
    const primes = [PRIMES_31[0]]
    await assert.rejects(k.transform('forward', new Uint32Array(1000), 1024, primes), { _tag: 'InvalidInput', reason: 'length_mismatch' })
    const x = new Uint32Array(1024)
    x[5] = PRIMES_31[0]
    await assert.rejects(k.transform('forward', x, 1024, primes), { _tag: 'InvalidInput', reason: 'coefficient_out_of_range' })
    await assert.rejects(async () => k.transform('forward', new Uint32Array(1024), 1024, [2 ** 31 - 1]), {
      _tag: 'InvalidNttParams',
      reason: 'q_not_ntt_friendly',
    })
  })
})
