/**
 * basedai/consensus — the consensus epoch each Brain runs every `tempo` blocks (default 99).
 *
 * `epoch()` is Yuma consensus as in subtensor's epoch: permitted validators' weights are row-normalised, each
 * miner's consensus weight is the stake-weighted median (κ = 0.5), weights above it are clipped, rank / trust /
 * incentive follow from the clipped weights, bonds are an EMA of column-normalised stake×weight, and dividends pay
 * validators by bonds × incentive. Everything is computed in exact integer fixed point (Q52 weights and consensus,
 * Q40 bonds / incentive / dividends, exact limb sums, an exact stake-weighted median), so every node and thread
 * gets bit-identical results; the output is plain numbers within 1e-6 of the float64 formulas.
 *
 * @example
 * ```ts
 * import { epoch, splitEmission } from 'basedai/consensus'
 * const out = epoch({
 *   stake: [60, 40, 0, 0, 0],
 *   weights: [[0, 0, 1, 1, 0], [0, 0, 1, 0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
 *   validatorPermit: [true, true, false, false, false],
 *   bonds: Array.from({ length: 5 }, () => [0, 0, 0, 0, 0]),
 * })
 * const paid = splitEmission({ amount: 1_000_000_000n, incentive: out.incentive, dividends: out.dividends })
 * ```
 *
 * Also here: `runEpoch()` with the seed's sigmoid rule (§3.4.1), Credits (§3.4.3) and the β(t)·Accuracy(TFT) term
 * (§3.4.2); `beta()` and the forecaster interface with an exponential-smoothing default; for the ledger,
 * `brainEpoch()` (one Brain's epoch with its state threaded between epochs) and `splitEmission()` (the integer
 * emission split, conserved exactly). Design and limits: docs/CONSENSUS.md.
 */
export { epoch } from './core.ts'
export { runEpoch, CREDIT_ONE, DEFAULT_CREDIT_INFLUENCE } from './epoch.ts'
export { EpochWorkspace } from './workspace.ts'
export { BLOCKS_PER_YEAR, beta, betaQ40, betaRational } from './schedule.ts'
export { splitEmission, splitEmissionUnits, largestRemainder } from './emission.ts'
export type { EmissionSplit, EmissionSplitInput, EmissionUnitsInput } from './emission.ts'
export {
  brainEpoch,
  exponentialSmoothing,
  forecastAccuracy,
  initialBrainState,
} from './forecast.ts'
export type { BrainConsensusState, BrainEpochInput, PeerForecaster, SmoothingState } from './forecast.ts'
export { FRAC_BITS, WEIGHT_BITS } from './fixed.ts'
export { InvalidEpochInput, InvalidEmissionInput, InvalidForecastInput } from './errors.ts'
export type { EpochField } from './errors.ts'
export type {
  ConsensusRule,
  CreditInfluence,
  EpochDetail,
  EpochInput,
  EpochOptions,
  EpochOutput,
  TftTerm,
} from './types.ts'
