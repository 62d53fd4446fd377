/**
 * The stable `epoch()` entry point: Yuma consensus as in subtensor's epoch, returning plain numbers.
 */
import { runEpoch } from './epoch.ts'
import type { EpochInput, EpochOutput } from './types.ts'

/**
 * One consensus epoch for one Brain (Yuma rule, no Credits influence, no forecaster term).
 *
 * @throws InvalidEpochInput naming the field, for wrong lengths, non-square matrices, negative/NaN/infinite
 * entries, or out-of-range `kappa` / `bondsMovingAverage`.
 */
export function epoch(input: EpochInput): EpochOutput {
  const d = runEpoch({
    stake: input.stake,
    weights: input.weights,
    validatorPermit: input.validatorPermit,
    bonds: input.bonds,
    ...(input.kappa === undefined ? {} : { kappa: input.kappa }),
    ...(input.bondsMovingAverage === undefined ? {} : { bondsMovingAverage: input.bondsMovingAverage }),
  })
  return {
    consensus: d.consensus,
    rank: d.rank,
    trust: d.trust,
    incentive: d.incentive,
    validatorTrust: d.validatorTrust,
    dividends: d.dividends,
    bonds: d.bonds,
  }
}
