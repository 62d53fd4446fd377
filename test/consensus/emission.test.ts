import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { epoch, splitEmission, splitEmissionUnits } from 'basedai/consensus'

const sum = (v: readonly bigint[]): bigint => v.reduce((a, b) => a + b, 0n)

describe('splitEmission', () => {
  test('hand case: 50/50, largest remainder with ties to the lower uid', () => {
    // 10 units: 5 to miners by [1, 1, 1] (1, 1, 1 + 2 left → uids 0, 1), 5 to validators by [1, 0, 1] (2, 2 + 1 → uid 0)
    const s = splitEmission({ amount: 10n, incentive: [1, 1, 1], dividends: [1, 0, 1] })
    assert.deepEqual(s.miner, [2n, 2n, 1n])
    assert.deepEqual(s.validator, [3n, 0n, 2n])
    assert.deepEqual(s.total, [5n, 2n, 3n])
    assert.equal(s.undistributed, 0n)
  })

  test("the owner's split: minerSharePpm", () => {
    const s = splitEmission({ amount: 1_000_000n, incentive: [0, 1], dividends: [1, 0], minerSharePpm: 820_000 })
    assert.deepEqual(s.miner, [0n, 820_000n])
    assert.deepEqual(s.validator, [180_000n, 0n])
  })

  test('conserves the amount exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 24n }),
        fc.integer({ min: 1, max: 40 }).chain((n) =>
          fc.tuple(
            fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: n, maxLength: n }),
            fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: n, maxLength: n }),
            fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1e9 })), { minLength: n, maxLength: n }),
          ),
        ),
        fc.integer({ min: 0, max: 1_000_000 }),
        (amount, [incentive, dividends, stake], ppm) => {
          const s = splitEmission({ amount, incentive, dividends, stake, minerSharePpm: ppm })
          assert.equal(sum(s.total) + s.undistributed, amount)
          assert.ok(s.total.every((x) => x >= 0n))
          // Deterministic: the same input gives the same split.
          assert.deepEqual(splitEmission({ amount, incentive, dividends, stake, minerSharePpm: ppm }), s)
        },
      ),
      { numRuns: 300, seed: 12 },
    )
  })

  test('no weights at all: emission falls back to stake (step 9)', () => {
    const zeros = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
    const stake = [3, 1, 0]
    const out = epoch({ stake, weights: zeros, validatorPermit: [true, true, false], bonds: zeros })
    const s = splitEmission({ amount: 100n, incentive: out.incentive, dividends: out.dividends, stake, validatorPermit: [true, true, false] })
    assert.equal(s.fallbackToStake, true)
    assert.deepEqual(s.total, [75n, 25n, 0n])
    const none = splitEmission({ amount: 100n, incentive: out.incentive, dividends: out.dividends })
    assert.equal(none.undistributed, 100n)
  })

  test('no uid holds a validator permit: the whole emission goes by stake, as subtensor pays it; nothing undistributed', () => {
    const zeros = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
    const stake = [3, 1, 0]
    const noPermit = [false, false, false]
    const out = epoch({ stake, weights: zeros, validatorPermit: noPermit, bonds: zeros })
    assert.ok(out.incentive.every((x) => x === 0) && out.dividends.every((x) => x === 0))
    const s = splitEmission({ amount: 101n, incentive: out.incentive, dividends: out.dividends, stake, validatorPermit: noPermit })
    assert.equal(s.fallbackToStake, true)
    assert.deepEqual(s.total, [76n, 25n, 0n], 'largest remainder: 75.75 → 76, 25.25 → 25')
    assert.equal(s.undistributed, 0n)
    // Only when there is no stake at all (and no incentive) is anything left undistributed.
    const empty = splitEmission({ amount: 101n, incentive: out.incentive, dividends: out.dividends, stake: [0, 0, 0], validatorPermit: noPermit })
    assert.equal(empty.undistributed, 101n)
    assert.equal(sum(empty.total) + empty.undistributed, 101n)
  })

  test('splitEmissionUnits is the same split on exact integer weights', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1000), fc.nat(1000), fc.nat(1000), fc.boolean()), { minLength: 1, maxLength: 8 }), fc.bigInt({ min: 0n, max: 10n ** 12n }), (rows, amount) => {
        const incentive = rows.map((r) => r[0])
        const dividends = rows.map((r) => r[1])
        const stake = rows.map((r) => r[2])
        const validatorPermit = rows.map((r) => r[3])
        const viaNumbers = splitEmission({ amount, incentive, dividends, stake, validatorPermit, minerSharePpm: 300_000 })
        const viaUnits = splitEmissionUnits({ amount, incentive: incentive.map(BigInt), dividends: dividends.map(BigInt), stake: stake.map(BigInt), validatorPermit, minerSharePpm: 300_000 })
        assert.deepEqual(viaUnits, viaNumbers)
        assert.equal(sum(viaUnits.total) + viaUnits.undistributed, amount)
      }),
      { numRuns: 200, seed: 5 },
    )
    assert.throws(() => splitEmissionUnits({ amount: 1n, incentive: [1n], dividends: [-1n] }), (e: unknown) => (e as { _tag?: string; field?: string })._tag === 'InvalidEmissionInput' && (e as { field?: string }).field === 'dividends')
  })

  test('typed errors name the field', () => {
    const bad = (input: unknown, field: string): void => {
      assert.throws(
        () => splitEmission(input as Parameters<typeof splitEmission>[0]),
        (e: unknown) => (e as { _tag?: string })._tag === 'InvalidEmissionInput' && (e as { field?: string }).field === field,
      )
    }
    bad({ amount: -1n, incentive: [1], dividends: [1] }, 'amount')
    bad({ amount: 1, incentive: [1], dividends: [1] }, 'amount')
    bad({ amount: 1n, incentive: [1], dividends: [1], minerSharePpm: 1.5 }, 'minerSharePpm')
    bad({ amount: 1n, incentive: [1, Number.NaN], dividends: [1, 1] }, 'incentive')
    bad({ amount: 1n, incentive: [1], dividends: [1, 1] }, 'dividends')
    bad({ amount: 1n, incentive: [1], dividends: [1], stake: [-1] }, 'stake')
  })
})
