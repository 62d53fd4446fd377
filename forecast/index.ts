/**
 * basedai/forecast — the "TFT Enforcer" of §3.3.3–3.4: a Temporal Fusion Transformer (Lim et al. 2021) that forecasts
 * the chain's per-Brain series with quantile outputs, the baselines it must beat, the paper's q-risk evaluation, a
 * seeded simulator of the dev economy's chain series, and the pure, deterministic commit–reveal scoring of validators'
 * forecasts with the incentive combination I = R·C + β(t)·Accuracy.
 *
 * @example
 * ```ts
 * import { simulateChain, chainPanel, trainTft, seasonalNaive, qRisk, defaultForecaster,
 *          commitForecast, scoreRound, forecastIncentive } from 'basedai/forecast'
 *
 * const panel = chainPanel(simulateChain({ seed: 1 }))        // 8 Brains × 120 days of hourly windows
 * const tft = trainTft(panel, { encoderLength: 24, horizon: 12, steps: 300 })
 * const naive = seasonalNaive(panel, 168, 12)
 * const risk = qRisk(panel, tft.forecaster, panel.validEnd, panel.steps, 12, 24) // byQuantile: [P10, P50, P90]
 *
 * // on the chain: commit a hash, reveal later, score against realised values in exact integers
 * const c = commitForecast(validatorKey, forecast, salt)       // 32 bytes
 * const scores = scoreRound({ round, commits, reveals, realised })
 * const { incentive } = forecastIncentive({ consensusIncentive, accuracyQ40: scores.map((s) => s.accuracyQ40), block })
 * ```
 *
 * Which forecaster is the default is decided on the validation span by {@link defaultForecaster}; the numbers are in
 * docs/FORECAST.md and bench/RESULTS.md (`npm run bench -- forecast`).
 */
export { Tape, Tensor, param, zeroGrads } from './tape.ts'
export { TemporalFusionTransformer, Adam, checkConfig } from './tft.ts'
export type { TftConfig, TftSample, TftOutput, AdamOptions } from './tft.ts'
export { simulateChain, rewardOverBlocks, STEPS_PER_DAY, STEPS_PER_WEEK } from './simulate.ts'
export type { ChainSimOptions, SimulatedChain } from './simulate.ts'
export { chainPanel, weeklyCsvPanel, fitScaler, makeSample, unscale, checkPanel } from './dataset.ts'
export type { Panel, PanelEntity, Scaler } from './dataset.ts'
export {
  QUANTILES, qRisk, spanOrigins, seasonalNaive, consensusSmoothing, trainTft, defaultForecaster, empiricalQuantile,
} from './evaluate.ts'
export type { SpanForecaster, QRisk, TrainOptions, TrainedTft, ValidationScore } from './evaluate.ts'
export {
  Q40_ONE, MIN_SALT_BYTES, encodeForecast, decodeForecast, commitForecast, verifyReveal, assertUniqueCommitments,
  quantileLossPpm, accuracyQ40, scoreRound, forecastIncentive, toForecastRecord,
} from './scoring.ts'
export type { ForecastRecord, RoundSpec, Commit, Reveal, RoundStatus, ValidatorScore } from './scoring.ts'
export { roundSchedule, roundPhase, checkRoundWindow } from './schedule.ts'
export type { RoundScheduleInput, RoundSchedule, RoundPhase } from './schedule.ts'
export {
  InvalidModelConfig, InvalidSample, InvalidSeries, InvalidForecastRecord, RevealMismatch, CopiedCommitment,
  OutOfRoundWindow,
} from './errors.ts'
