import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  BLOCKS_PER_YEAR,
  brainEpoch,
  exponentialSmoothing,
  forecastAccuracy,
  initialBrainState,
  runEpoch,
} from 'basedai/consensus'

describe('forecaster (exponential smoothing) and accuracy', () => {
  test('exponential smoothing: first observation sets the level, then level += λ·(y − level)', () => {
    const f = exponentialSmoothing({ smoothingPpm: 500_000 })
    assert.match(f.name, /exponential smoothing/)
    let s = f.init(2)
    assert.deepEqual(f.predict(s), [0, 0])
    s = f.observe(s, [1, 3]) // shares .25, .75
    assert.deepEqual(f.predict(s), [0.25, 0.75])
    s = f.observe(s, [1, 0]) // shares 1, 0 → .625, .375
    assert.deepEqual(f.predict(s), [0.625, 0.375])
  })

  test('accuracy = 1 − ½·Σ|f̂ − r̂|', () => {
    assert.equal(forecastAccuracy([1, 1], [2, 2]), 1)
    assert.equal(forecastAccuracy([1, 0], [0, 1]), 0)
    assert.equal(forecastAccuracy([3, 1], [1, 1]), 0.75)
    assert.equal(forecastAccuracy([0, 0], [0, 0]), 1)
    assert.equal(forecastAccuracy([0, 0], [1, 0]), 0)
  })

  test('the β(t)·Accuracy term: no effect before two years, mixes in afterwards', () => {
    const zeros = Array.from({ length: 4 }, () => [0, 0, 0, 0])
    const input = {
      stake: [1, 0, 0, 0],
      weights: [[0, 1, 3, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
      validatorPermit: [true, false, false, false],
      bonds: zeros,
    }
    const forecast = [0, 0, 0, 1]
    const early = runEpoch({ ...input, tft: { block: 2 * BLOCKS_PER_YEAR, forecast, accuracy: 1 } })
    assert.deepEqual(early.incentive, [0, 0.25, 0.75, 0])
    const late = runEpoch({ ...input, tft: { block: 5 * BLOCKS_PER_YEAR, forecast, accuracy: 1 } })
    // β = 1, accuracy 1: I ∝ (0, .25, .75, 0) + (0, 0, 0, 1) → (0, .125, .375, .5)
    assert.ok(Math.abs((late.incentive[3] as number) - 0.5) < 1e-12)
    assert.ok(Math.abs((late.incentive[1] as number) - 0.125) < 1e-12)
    assert.deepEqual(late.consensusIncentive, [0, 0.25, 0.75, 0])
    const useless = runEpoch({ ...input, tft: { block: 5 * BLOCKS_PER_YEAR, forecast, accuracy: 0 } })
    assert.deepEqual(useless.incentive, early.incentive)
  })

  test('brainEpoch threads bonds, Credits and the forecaster through epochs', () => {
    const n = 4
    let state = initialBrainState(n)
    const input = {
      stake: [2, 1, 0, 0],
      weights: [[0, 0, 1, 1], [0, 0, 1, 2], [0, 0, 0, 0], [0, 0, 0, 0]],
      validatorPermit: [true, true, false, false],
    }
    for (let e = 0; e < 3; e++) {
      const { output, state: next } = brainEpoch(state, { ...input, block: 3 * BLOCKS_PER_YEAR + e * 99 })
      assert.deepEqual(next.bonds, output.bonds)
      assert.deepEqual(next.credits, output.credits)
      state = next
    }
    assert.equal(state.forecaster.observations, 3)
    assert.ok(state.accuracy > 0.99, `a steady Brain is forecast well (${state.accuracy})`)
    assert.ok((state.credits[0] as bigint) > 0n)
  })
})
