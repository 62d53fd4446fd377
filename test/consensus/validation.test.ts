import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { epoch, runEpoch, type EpochInput, type EpochOptions } from 'basedai/consensus'

const zeros = (n: number): number[][] => Array.from({ length: n }, () => new Array<number>(n).fill(0))
const good: EpochInput = {
  stake: [1, 1, 0],
  weights: [[0, 1, 1], [1, 0, 1], [0, 0, 0]],
  validatorPermit: [true, true, false],
  bonds: zeros(3),
}

function rejects(input: unknown, field: string, index?: number[]): void {
  assert.throws(
    () => runEpoch(input as EpochOptions),
    (e: unknown) => {
      const err = e as { _tag?: string; field?: string; index?: number[] }
      assert.equal(err._tag, 'InvalidEpochInput')
      assert.equal(err.field, field)
      if (index !== undefined) assert.deepEqual(err.index, index)
      return true
    },
  )
}

describe('epoch input validation: a typed error naming the field', () => {
  test('the good input passes', () => {
    assert.doesNotThrow(() => epoch(good))
  })
  test('stake: negative, NaN, infinite, not a number, not an array', () => {
    rejects({ ...good, stake: [1, -1, 0] }, 'stake', [1])
    rejects({ ...good, stake: [1, Number.NaN, 0] }, 'stake', [1])
    rejects({ ...good, stake: [1, Infinity, 0] }, 'stake', [1])
    rejects({ ...good, stake: [1, '2', 0] }, 'stake', [1])
    rejects({ ...good, stake: 5 }, 'stake')
  })
  test('weights: wrong row count, non-square, negative, NaN', () => {
    rejects({ ...good, weights: [[0, 1, 1], [1, 0, 1]] }, 'weights')
    rejects({ ...good, weights: [[0, 1, 1], [1, 0], [0, 0, 0]] }, 'weights', [1])
    rejects({ ...good, weights: [[0, 1, 1], [1, 0, -2], [0, 0, 0]] }, 'weights', [1, 2])
    rejects({ ...good, weights: [[0, 1, Number.NaN], [1, 0, 1], [0, 0, 0]] }, 'weights', [0, 2])
  })
  test('validatorPermit: wrong length or not booleans', () => {
    rejects({ ...good, validatorPermit: [true, true] }, 'validatorPermit')
    rejects({ ...good, validatorPermit: [true, 1, false] }, 'validatorPermit', [1])
  })
  test('bonds: non-square or negative', () => {
    rejects({ ...good, bonds: [[0, 0], [0, 0], [0, 0]] }, 'bonds', [0])
    rejects({ ...good, bonds: [[0, 0, 0], [0, -1, 0], [0, 0, 0]] }, 'bonds', [1, 1])
  })
  test('kappa and bondsMovingAverage out of range', () => {
    rejects({ ...good, kappa: 0 }, 'kappa')
    rejects({ ...good, kappa: 1.5 }, 'kappa')
    rejects({ ...good, kappa: Number.NaN }, 'kappa')
    rejects({ ...good, bondsMovingAverage: 0.5 }, 'bondsMovingAverage')
    rejects({ ...good, bondsMovingAverage: 1_000_001 }, 'bondsMovingAverage')
  })
  test('extended options: rule, rho, credits, creditInfluence, tft', () => {
    rejects({ ...good, rule: 'median' }, 'rule')
    rejects({ ...good, rho: -1 }, 'rho')
    rejects({ ...good, credits: [0n, 0n] }, 'credits')
    rejects({ ...good, credits: [0n, -1n, 0n] }, 'credits', [1])
    rejects({ ...good, credits: [0n, 0n, 0n], creditInfluence: { maxBoostPpm: 2_000_000, halfCredits: 1n } }, 'creditInfluence')
    rejects({ ...good, tft: { block: -1, forecast: [0, 0, 0], accuracy: 0.5 } }, 'tft')
    rejects({ ...good, tft: { block: 1, forecast: [0, 0], accuracy: 0.5 } }, 'tft')
    rejects({ ...good, tft: { block: 1, forecast: [0, 0, 0], accuracy: 2 } }, 'tft')
  })
})
