/**
 * The forecaster behind the β(t)·Accuracy(TFT) term (§3.4.2), and the state machine the ledger keeps per Brain.
 *
 * The seed's "TFT Enforcer" is a Temporal Fusion Transformer forecasting each peer's performance from the chain's
 * time series. No such model is shipped here: the interface {@link PeerForecaster} is pluggable, and the default is
 * plain **exponential smoothing** of each peer's realised consensus incentive share — named as what it is. Its
 * state is Q40 integers updated with exact integer arithmetic, so it is as deterministic as the epoch.
 *
 * Accuracy metric ({@link forecastAccuracy}): one minus the total-variation distance between the forecast
 * distribution and the realised one, A = 1 − ½·Σ_j |f̂_j − r̂_j| ∈ [0, 1] (1 = perfect; f̂, r̂ normalised to sum 1).
 */
import { InvalidForecastInput } from './errors.ts'
import { FRAC_BITS, ONE, dyadicVector, fracQ40 } from './fixed.ts'
import { runEpoch } from './epoch.ts'
import type { ConsensusRule, EpochDetail } from './types.ts'

/** A forecaster of each peer's share of the next epoch's incentive from the history of realised shares. */
export interface PeerForecaster<S> {
  /** What the model is (shown in logs and docs; the default says "exponential smoothing"). */
  readonly name: string
  /** Initial state for n peers. */
  init(n: number): S
  /** The forecast shares for the next epoch (non-negative; any scale). Deterministic in the state. */
  predict(state: S): number[]
  /** Folds one epoch's realised shares into the state. Deterministic. */
  observe(state: S, realised: readonly number[]): S
}

/** State of {@link exponentialSmoothing}: per-peer level in Q40 integers and the number of observations. */
export interface SmoothingState {
  readonly level: readonly number[]
  readonly observations: number
}

/** Exact Q40 distribution of non-negative numbers (all 0 when they sum to 0). */
function distributionQ40(v: readonly number[]): bigint[] {
  const ints = dyadicVector(v)
  let s = 0n
  for (const x of ints) s += x
  return ints.map((x) => (s === 0n ? 0n : BigInt(fracQ40(x, s))))
}

function checkShares(field: 'observed' | 'forecast' | 'realised', v: unknown, n?: number): asserts v is number[] {
  if (!Array.isArray(v)) throw new InvalidForecastInput({ field, reason: 'not an array' })
  if (n !== undefined && v.length !== n) throw new InvalidForecastInput({ field, reason: `length ${v.length}, expected ${n}` })
  for (const x of v) {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
      throw new InvalidForecastInput({ field, reason: 'entries must be finite numbers ≥ 0' })
    }
  }
}

/**
 * Exponential smoothing: level ← level + λ·(realised − level), λ = smoothingPpm / 10^6 (default 0.2); the first
 * observation sets the level. The forecast is the level.
 */
export function exponentialSmoothing(opts: { smoothingPpm?: number } = {}): PeerForecaster<SmoothingState> {
  const ppm = opts.smoothingPpm ?? 200_000
  if (!Number.isInteger(ppm) || ppm <= 0 || ppm > 1_000_000) {
    throw new InvalidForecastInput({ field: 'smoothingPpm', reason: 'must be an integer in (0, 1000000]' })
  }
  const lambda = BigInt(ppm)
  return {
    name: `exponential smoothing (λ = ${ppm / 1e6})`,
    init: (n) => ({ level: new Array<number>(n).fill(0), observations: 0 }),
    predict: (state) => state.level.map((x) => x / ONE),
    observe: (state, realised) => {
      checkShares('observed', realised, state.level.length)
      const r = distributionQ40(realised)
      if (state.observations === 0) return { level: r.map(Number), observations: 1 }
      const level = state.level.map((l, j) => {
        const L = BigInt(l)
        const diff = (r[j] as bigint) - L
        // floor division toward −∞ keeps the update exact and sign-symmetric in its rounding rule
        const q = diff >= 0n ? (lambda * diff) / 1_000_000n : -((lambda * -diff + 999_999n) / 1_000_000n)
        return Number(L + q)
      })
      return { level, observations: state.observations + 1 }
    },
  }
}

/** A = 1 − ½·Σ|f̂ − r̂| in Q40, as a number in [0, 1]. Both all-zero: 1; exactly one all-zero: 0. */
export function forecastAccuracy(forecast: readonly number[], realised: readonly number[]): number {
  checkShares('forecast', forecast)
  checkShares('realised', realised, forecast.length)
  const f = distributionQ40(forecast)
  const r = distributionQ40(realised)
  const fz = f.every((x) => x === 0n)
  const rz = r.every((x) => x === 0n)
  if (fz && rz) return 1
  if (fz || rz) return 0
  let l1 = 0n
  for (let j = 0; j < f.length; j++) {
    const d = (f[j] as bigint) - (r[j] as bigint)
    l1 += d < 0n ? -d : d
  }
  const acc = (1n << BigInt(FRAC_BITS)) - l1 / 2n
  return Number(acc < 0n ? 0n : acc) / ONE
}

/** What the ledger keeps per Brain between epochs. */
export interface BrainConsensusState<S = SmoothingState> {
  readonly bonds: number[][]
  readonly credits: bigint[]
  readonly forecaster: S
  /** Accuracy of the forecaster's last forecast against what was then realised (0 before any). */
  readonly accuracy: number
}

/** Fresh state for a Brain of n uids. */
export function initialBrainState<S = SmoothingState>(
  n: number,
  forecaster: PeerForecaster<S> = exponentialSmoothing() as unknown as PeerForecaster<S>,
): BrainConsensusState<S> {
  return {
    bonds: Array.from({ length: n }, () => new Array<number>(n).fill(0)),
    credits: new Array<bigint>(n).fill(0n),
    forecaster: forecaster.init(n),
    accuracy: 0,
  }
}

/** One Brain's inputs at an epoch boundary. */
export interface BrainEpochInput {
  readonly stake: readonly number[]
  readonly weights: readonly (readonly number[])[]
  readonly validatorPermit: readonly boolean[]
  /** Block height since genesis (sets β(t)). */
  readonly block: number
  readonly kappa?: number
  readonly bondsMovingAverage?: number
  readonly rule?: ConsensusRule
}

/**
 * The per-Brain epoch the ledger runs every `tempo` blocks: the epoch with Credits and the forecaster term, then the
 * forecaster observes the realised consensus incentive (not the blended one, so the forecaster never learns from its
 * own output) and its accuracy for the next epoch is measured.
 */
export function brainEpoch<S = SmoothingState>(
  state: BrainConsensusState<S>,
  input: BrainEpochInput,
  forecaster: PeerForecaster<S> = exponentialSmoothing() as unknown as PeerForecaster<S>,
): { output: EpochDetail; state: BrainConsensusState<S> } {
  const forecast = forecaster.predict(state.forecaster)
  const output = runEpoch({
    stake: input.stake,
    weights: input.weights,
    validatorPermit: input.validatorPermit,
    bonds: state.bonds,
    credits: state.credits,
    tft: { block: input.block, forecast, accuracy: state.accuracy },
    ...(input.kappa === undefined ? {} : { kappa: input.kappa }),
    ...(input.bondsMovingAverage === undefined ? {} : { bondsMovingAverage: input.bondsMovingAverage }),
    ...(input.rule === undefined ? {} : { rule: input.rule }),
  })
  const realised = output.consensusIncentive
  const hasForecast = forecast.some((x) => x > 0)
  return {
    output,
    state: {
      bonds: output.bonds,
      credits: output.credits,
      forecaster: forecaster.observe(state.forecaster, realised),
      accuracy: hasForecast ? forecastAccuracy(forecast, realised) : 0,
    },
  }
}
