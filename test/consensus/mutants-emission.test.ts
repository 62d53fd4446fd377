/**
 * largestRemainder, the rounding every emission payout goes through (consensus epochs and the ledger's
 * splitProportional), against hand-worked cases and an independent oracle (added for mutants that survived
 * test/consensus/emission.test.ts, docs/TESTING.md): which index receives each leftover unit is value moved.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { largestRemainder } from 'basedai/consensus'

/** Oracle: quotas as exact fractions; hand the leftover units out one at a time to the largest fractional part
 * not yet served (compared by cross-multiplication), ties to the lower index. */
function oracle(pool: bigint, weights: readonly bigint[]): bigint[] {
  const total = weights.reduce((a, b) => a + b, 0n)
  const floors = weights.map((w) => (pool * w) / total)
  const fracNum = weights.map((w, i) => pool * w - floors[i]! * total) // fractional part = fracNum / total
  let left = pool - floors.reduce((a, b) => a + b, 0n)
  const served = new Set<number>()
  while (left > 0n) {
    let best = -1
    for (let i = 0; i < weights.length; i++) if (!served.has(i) && (best < 0 || fracNum[i]! > fracNum[best]!)) best = i
    served.add(best)
    floors[best] = floors[best]! + 1n
    left -= 1n
  }
  return floors
}

test('hand-worked: leftover units go to the largest remainders, not to the first indices', () => {
  // 7 by [1, 2, 4]: quotas 1, 2, 4 exactly → nothing left over.
  assert.deepEqual(largestRemainder(7n, [1n, 2n, 4n]), [1n, 2n, 4n])
  // 10 by [1, 3, 6]: quotas 1, 3, 6.
  assert.deepEqual(largestRemainder(10n, [1n, 3n, 6n]), [1n, 3n, 6n])
  // 5 by [1, 2, 3, 4] (Σ 10): quotas 0.5, 1, 1.5, 2 → floors 0, 1, 1, 2, one left; remainders .5, 0, .5, 0 → index 0.
  assert.deepEqual(largestRemainder(5n, [1n, 2n, 3n, 4n]), [1n, 1n, 1n, 2n])
  // 10 by [1, 1, 5] (Σ 7): quotas 1.43, 1.43, 7.14 → floors 1, 1, 7, one left; remainders 3/7, 3/7, 1/7 → index 0.
  assert.deepEqual(largestRemainder(10n, [1n, 1n, 5n]), [2n, 1n, 7n])
  // 10 by [5, 1, 1]: the same with the large weight first → the unit goes to index 1 (remainder 3/7), not index 0.
  assert.deepEqual(largestRemainder(10n, [5n, 1n, 1n]), [7n, 2n, 1n])
  // 3 by [1, 1, 1, 1, 2] (Σ 6): quotas .5 ×4, 1 → floors 0,0,0,0,1; two left to indices 0 and 1 (ties, lower first).
  assert.deepEqual(largestRemainder(3n, [1n, 1n, 1n, 1n, 2n]), [1n, 1n, 0n, 0n, 1n])
  // 2 by [3, 0, 4] (Σ 7): quotas 6/7, 0, 8/7 → floors 0, 0, 1, one left; remainders 6/7, 0, 1/7 → index 0.
  assert.deepEqual(largestRemainder(2n, [3n, 0n, 4n]), [1n, 0n, 1n])
  // Nothing to give.
  assert.deepEqual(largestRemainder(0n, [2n, 3n]), [0n, 0n])
})

test('weights that sum to zero are refused', () => {
  assert.throws(() => largestRemainder(5n, [0n, 0n]), RangeError)
  assert.throws(() => largestRemainder(5n, []), RangeError)
})

test('equals the exact-fraction oracle and keeps every part within one unit of its quota (fast-check, fixed seed)', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 10n ** 12n }),
      fc.array(fc.bigInt({ min: 0n, max: 10n ** 6n }), { minLength: 1, maxLength: 12 }).filter((w) => w.some((x) => x > 0n)),
      (pool, weights) => {
        const got = largestRemainder(pool, weights)
        assert.deepEqual(got, oracle(pool, weights))
        const total = weights.reduce((a, b) => a + b, 0n)
        assert.equal(got.reduce((a, b) => a + b, 0n), pool)
        got.forEach((g, i) => {
          const floor = (pool * weights[i]!) / total
          assert.ok(g === floor || g === floor + 1n)
        })
      },
    ),
    { seed: 17, numRuns: 300 },
  )
})

test('Brain-sized splits (65–1792 participants, where the sort merges runs) equal the oracle (fast-check, fixed seed)', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 1n, max: 10n ** 12n }),
      fc.array(fc.bigInt({ min: 0n, max: 50n }), { minLength: 65, maxLength: 1792 }).filter((w) => w.some((x) => x > 0n)),
      (pool, weights) => assert.deepEqual(largestRemainder(pool, weights), oracle(pool, weights)),
    ),
    { seed: 1792, numRuns: 40 },
  )
})
