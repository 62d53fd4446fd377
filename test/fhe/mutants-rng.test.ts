/**
 * The secret samplers of fhe/rng.ts against independent oracles (added for mutants that survived the scheme tests,
 * docs/TESTING.md): the ternary secret and the centred-binomial errors equal a BigInt / bit-by-bit recomputation
 * from the very bytes the sampler drew, have the stated distribution (tests with a stated false-alarm rate for a
 * correct sampler; the seeds are fixed, so each run gives the same verdict), and the random bytes are wiped after
 * use; the signed → residue mapping equals ((x mod q) + q) mod q limb by limb.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sampleCbd, sampleTernary, seededRandom, smallToRns, type RandomSource } from '../../fhe/rng.ts'

/** A seeded source that keeps a copy of every byte it hands out, and the buffers it filled. */
function recording(seed: string): { rng: RandomSource; drawn: Uint8Array[]; buffers: Uint8Array[] } {
  const inner = seededRandom(seed)
  const drawn: Uint8Array[] = []
  const buffers: Uint8Array[] = []
  return {
    drawn,
    buffers,
    rng: {
      fill(out) {
        inner.fill(out)
        drawn.push(Uint8Array.from(out))
        buffers.push(out)
      },
    },
  }
}

test('ternary secret: each coefficient is ⌊3r / 2^48⌋ − 1 of its 6 little-endian bytes (BigInt oracle); bytes wiped', () => {
  const n = 4096
  const { rng, drawn, buffers } = recording('mutants-ternary')
  const s = sampleTernary(n, rng)
  assert.equal(s.length, n)
  assert.equal(drawn.length, 1)
  const bytes = drawn[0]!
  assert.equal(bytes.length, 6 * n)
  for (let i = 0; i < n; i++) {
    let r = 0n
    for (let j = 5; j >= 0; j--) r = (r << 8n) | BigInt(bytes[6 * i + j]!)
    assert.equal(s[i], Number((3n * r) >> 48n) - 1, `coefficient ${i}`)
  }
  assert.ok(buffers[0]!.every((b) => b === 0), 'the random bytes behind the secret are zeroed')
})

test('ternary secret: about a third each of −1, 0, 1 (χ², 2 d.o.f., false alarm 10⁻⁶ for a uniform sampler)', () => {
  const n = 60_000
  const s = sampleTernary(n, seededRandom('mutants-ternary-chi2'))
  const counts = new Map<number, number>([[-1, 0], [0, 0], [1, 0]])
  for (const v of s) {
    assert.ok(counts.has(v), `value ${v} outside {−1, 0, 1}`)
    counts.set(v, counts.get(v)! + 1)
  }
  const chi2 = [...counts.values()].reduce((acc, c) => acc + (c - n / 3) ** 2 / (n / 3), 0)
  // P(χ²₂ > x) = e^(−x/2), so x = −2 ln 10⁻⁶ = 27.63.
  assert.ok(chi2 < -2 * Math.log(1e-6), `χ² = ${chi2.toFixed(2)}, counts ${[...counts.values()]}`)
})

const popcount = (x: number): number => {
  let c = 0
  for (let b = 0; b < 32; b++) c += (x >>> b) & 1
  return c
}

test('centred binomial errors: popcount(a) − popcount(b) of η-bit masks of the drawn words (bit-by-bit oracle), |e| ≤ η, bytes wiped', () => {
  const n = 2048
  for (const eta of [1, 2, 7, 21, 31, 32]) {
    const { rng, drawn, buffers } = recording(`mutants-cbd-${eta}`)
    const e = sampleCbd(n, { kind: 'cbd', eta }, rng)
    assert.equal(e.length, n)
    const bytes = drawn[0]!
    assert.equal(bytes.length, 8 * n)
    const view = new DataView(bytes.buffer)
    const mask = eta === 32 ? 0xffffffff : 2 ** eta - 1
    for (let i = 0; i < n; i++) {
      const a = Number(BigInt(view.getUint32(8 * i, true)) & BigInt(mask))
      const b = Number(BigInt(view.getUint32(8 * i + 4, true)) & BigInt(mask))
      assert.equal(e[i], popcount(a) - popcount(b), `η ${eta}, coefficient ${i}`)
      assert.ok(Math.abs(e[i]!) <= eta)
    }
    assert.ok(buffers[0]!.every((x) => x === 0), `η ${eta}: the random bytes behind the errors are zeroed`)
  }
})

test('centred binomial errors (η = 21): mean 0 and variance η/2 within 7.5 and 8 standard errors', () => {
  const n = 60_000
  const e = sampleCbd(n, { kind: 'cbd', eta: 21 }, seededRandom('mutants-cbd-moments'))
  let sum = 0
  let sq = 0
  for (const v of e) {
    sum += v
    sq += v * v
  }
  const mean = sum / n
  const variance = sq / n - mean * mean
  // σ² = 10.5: standard error of the mean √(10.5/n) ≈ 0.013; of the variance ≈ σ²·√(2/n) ≈ 0.061.
  assert.ok(Math.abs(mean) < 0.1, `mean ${mean}`)
  assert.ok(Math.abs(variance - 10.5) < 0.5, `variance ${variance}`)
})

test('smallToRns: limb i holds ((x mod q_i) + q_i) mod q_i for every coefficient, Int8 and Int32 inputs', () => {
  const moduli = [17, 12_289, 1_073_479_681, 2_147_483_647, 4_294_967_291]
  const rng = seededRandom('mutants-rns')
  const raw = new Uint8Array(4 * 512)
  rng.fill(raw)
  const view = new DataView(raw.buffer)
  for (const q of moduli) {
    // |x| < q (the samplers' outputs are small): Int32 values spread over (−min(q, 2^31), min(q, 2^31)).
    const bound = Math.min(q, 2 ** 31) - 1
    const x32 = Int32Array.from({ length: 512 }, (_, j) => (view.getInt32(4 * j, true) % (bound + 1)) | 0)
    x32[0] = -bound
    x32[1] = bound
    x32[2] = 0
    x32[3] = -1
    const x8 = Int8Array.from({ length: 512 }, (_, j) => ((raw[j]! % 65) - 32) % q)
    for (const x of [x32, x8]) {
      const ms = [3, q]
      const out = new Uint32Array(ms.length * x.length).fill(0xdeadbeef)
      smallToRns(x, ms, out)
      for (let i = 0; i < ms.length; i++)
        for (let j = 0; j < x.length; j++) {
          const m = BigInt(ms[i]!)
          const want = ((BigInt(x[j]!) % m) + m) % m
          if (i === 0 && Math.abs(x[j]!) >= 3) continue // the contract is |x| < q
          assert.equal(BigInt(out[i * x.length + j]!), want, `q ${ms[i]}, x ${x[j]}`)
        }
    }
  }
})

test('ternary secret at the interval boundaries: r = ⌈2^48/3⌉ − 1, ⌈2^48/3⌉, ⌈2^49/3⌉ − 1, ⌈2^49/3⌉, 0, 2^48 − 1', () => {
  // ⌈2^48/3⌉ = 0x555555555556 and ⌈2^49/3⌉ = 0xaaaaaaaaaaab: every byte counts, so any error in how the six bytes
  // are assembled moves at least one of these across a boundary.
  const rs = [0x555555555555n, 0x555555555556n, 0xaaaaaaaaaaaan, 0xaaaaaaaaaaabn, 0n, 2n ** 48n - 1n]
  const want = [-1, 0, 0, 1, -1, 1]
  const bytes = new Uint8Array(6 * rs.length)
  rs.forEach((r, i) => {
    for (let j = 0; j < 6; j++) bytes[6 * i + j] = Number((r >> BigInt(8 * j)) & 0xffn)
  })
  const fixed: RandomSource = { fill: (out) => out.set(bytes.subarray(0, out.length)) }
  assert.deepEqual([...sampleTernary(rs.length, fixed)], want)
})
