import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { divExactFloor, exponentOf, mulDivFloor, pow2, toDyadic } from '../../consensus/fixed.ts'

describe('exact integer primitives', () => {
  test('mulDivFloor is the exact floor of a·b/c (against BigInt), including exact multiples', () => {
    const big = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })
    fc.assert(
      fc.property(big, fc.integer({ min: 0, max: 2 ** 40 }), big, fc.boolean(), (a, q, c, exact) => {
        // Build b so the quotient is below 2^42 and, half the time, a·b is an exact multiple of c (the hard case).
        const bBig = exact ? (BigInt(q) * BigInt(c)) / BigInt(a) : (BigInt(q) * BigInt(c) + BigInt(a) - 1n) / BigInt(a)
        const b = Number(bBig)
        if (!Number.isSafeInteger(b) || a * b >= 2 ** 100) return
        const expected = Number((BigInt(a) * BigInt(b)) / BigInt(c))
        if (expected >= 2 ** 42) return
        assert.equal(mulDivFloor(a, b, c), expected)
      }),
      { numRuns: 5000, seed: 13 },
    )
  })

  test('divExactFloor is the exact floor of a/c for exact numerators up to 2^104', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 52 - 1 }), fc.integer({ min: 1, max: 2 ** 52 }), fc.integer({ min: -1, max: 1 }), (q, c, off) => {
        // a = q·2^52, or a multiple of c nudged by one unit (representable only when small enough).
        const a = q * 2 ** 52
        const expected = (BigInt(q) << 52n) / BigInt(c)
        if (expected >= 2n ** 53n) return
        assert.equal(divExactFloor(a, c), Number(expected))
        const m = Number(BigInt(c) * (expected > 0n ? expected : 1n)) + off
        if (Number.isSafeInteger(m) && m >= 0) assert.equal(divExactFloor(m, c), Math.floor(Number(BigInt(m) / BigInt(c))))
      }),
      { numRuns: 5000, seed: 14 },
    )
  })

  test('exponentOf, pow2 and toDyadic are exact', () => {
    assert.equal(exponentOf(1), 0)
    assert.equal(exponentOf(0.75), -1)
    assert.equal(exponentOf(Number.MIN_VALUE), -1074)
    assert.equal(exponentOf(Number.MAX_VALUE), 1023)
    assert.equal(pow2(-1074), Number.MIN_VALUE)
    assert.equal(pow2(10), 1024)
    assert.deepEqual(toDyadic(0.75), { mant: 3n, exp: -2 })
    assert.deepEqual(toDyadic(96), { mant: 3n, exp: 5 })
  })
})
