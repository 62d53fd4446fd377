import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  bigInvMod,
  bigMod,
  bitReverse,
  gaussian,
  invMod,
  makeNttTables,
  modExact,
  mulberry32,
  mulMod,
  mulShoup,
  nttPrimes,
  powMod,
  shoupPrecompute,
} from '../../numeric/index.ts'

const Q = [3, 12289, 1_073_479_681, 2_147_352_577, 2 ** 31 - 1]

describe('numeric: modular arithmetic', () => {
  test('mulMod and mulShoup equal the BigInt product mod q, for every modulus range', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Q), fc.nat(), fc.nat(), (q, x, y) => {
        const a = x % q
        const b = y % q
        const want = Number((BigInt(a) * BigInt(b)) % BigInt(q))
        assert.equal(mulMod(a, b, q), want)
        assert.equal(mulShoup(a, b, shoupPrecompute(b, q), q), want)
      }),
      { seed: 7, numRuns: 2000 },
    )
  })

  test('edge values 0 and q − 1', () => {
    for (const q of Q) {
      assert.equal(mulMod(q - 1, q - 1, q), 1)
      assert.equal(mulMod(0, q - 1, q), 0)
      assert.equal(mulShoup(q - 1, q - 1, shoupPrecompute(q - 1, q), q), 1)
    }
  })

  test('powMod, invMod, bigInvMod; a non-invertible value is a typed NotInvertible', () => {
    const q = 2_147_352_577
    assert.equal(powMod(3, q - 1, q), 1) // Fermat
    for (const x of [1, 2, 12345, q - 1]) assert.equal(mulMod(x, invMod(x, q), q), 1)
    const m = 2n ** 61n - 1n
    assert.equal(bigMod(123456789n * bigInvMod(123456789n, m), m), 1n)
    assert.throws(() => invMod(6, 12), (e: unknown) => (e as { _tag?: string })._tag === 'NotInvertible')
    assert.throws(() => bigInvMod(10n, 25n), (e: unknown) => (e as { _tag?: string })._tag === 'NotInvertible')
  })

  test('modExact is x mod m for negative and large x', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), fc.integer({ min: 1, max: 2 ** 40 }), (x, m) => {
        assert.equal(modExact(x, m), Number(bigMod(BigInt(x), BigInt(m))))
      }),
      { seed: 3, numRuns: 1000 },
    )
  })
})

describe('numeric: NTT tables and primes', () => {
  test('nttPrimes: primes ≡ 1 mod 2N, largest first, distinct from the excluded ones; NotEnoughPrimes past the end', () => {
    const ps = nttPrimes(4096, 4)
    assert.deepEqual([...ps].sort((a, b) => b - a), ps)
    for (const p of ps) assert.equal((p - 1) % 8192, 0)
    const next = nttPrimes(4096, 2, ps.slice(0, 2))
    assert.deepEqual(next, ps.slice(2, 4))
    assert.throws(() => nttPrimes(2 ** 16, 100_000), (e: unknown) => (e as { _tag?: string })._tag === 'NotEnoughPrimes')
  })

  test('makeNttTables: ψ is a primitive 2n-th root, tables bit-reversed, memoized; bad parameters are InvalidNttParams', () => {
    const n = 1024
    const [q] = nttPrimes(n, 1) as [number]
    const t = makeNttTables(n, q)
    assert.equal(powMod(t.psi, n, q), q - 1)
    assert.equal(mulMod(t.psi, t.psiInv, q), 1)
    assert.equal(t.psiRev[bitReverse(1, t.logN)], t.psi)
    assert.equal(mulMod(t.nInv, n, q), 1)
    assert.equal(makeNttTables(n, q), t)
    assert.throws(() => makeNttTables(1000, q), (e: unknown) => (e as { _tag?: string; reason?: string }).reason === 'n_not_power_of_two')
    assert.throws(() => makeNttTables(n, 12289 * 3), (e: unknown) => (e as { _tag?: string })._tag === 'InvalidNttParams')
  })
})

describe('numeric: seeded PRNG', () => {
  test('mulberry32 is deterministic per seed, in [0, 1); gaussian has mean ≈ 0 and variance ≈ 1', () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    const c = mulberry32(43)
    const xs = Array.from({ length: 1000 }, () => a())
    assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()))
    assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c()))
    assert.ok(xs.every((x) => x >= 0 && x < 1))
    const r = mulberry32(1)
    const g = Array.from({ length: 20000 }, () => gaussian(r))
    const mean = g.reduce((s, x) => s + x, 0) / g.length
    const v = g.reduce((s, x) => s + (x - mean) ** 2, 0) / g.length
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`)
    assert.ok(Math.abs(v - 1) < 0.05, `variance ${v}`)
  })
})
