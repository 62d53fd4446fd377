/**
 * Messages of the validator actor (actors/validator.ts): challenges of miners with encrypted work whose answer
 * the validator knows, and the scores that come of them.
 *
 * - ChallengeMiner → ChallengeResult: one challenge now (the validator's timer sends these too).
 * - GetScores → Scores: per miner, challenges sent, answered correctly, and the score (exponential moving average).
 * - SubmitWeights → WeightsSubmitted: the scores as a signed setWeights transaction, submitted to the ledger actor,
 *   where the Yuma epoch turns them into miners' emission.
 * - ForecastStep → ForecastStepped: one step of the forecasting Enforcer now (the validator's forecast timer sends
 *   these too): reads its Brain's series from the ledger, commits a forecast inside a round's commit window, reveals
 *   it inside the reveal window; `action` says what it did ('idle', 'committed', 'revealed', 'off').
 */
import { Schema } from 'effect'

const Addr = Schema.String.pipe(Schema.maxLength(1024))
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

export const ChallengeMiner = Schema.TaggedStruct('ChallengeMiner', { miner: Addr })
export const GetScores = Schema.TaggedStruct('GetScores', {})
/** Turn the current scores into a signed setWeights transaction on the ledger (dev network keys). */
export const SubmitWeights = Schema.TaggedStruct('SubmitWeights', {})

/** One step of the forecasting Enforcer (commit or reveal when a window is open). */
export const ForecastStep = Schema.TaggedStruct('ForecastStep', {})

export const ForecastStepped = Schema.TaggedStruct('ForecastStepped', {
  action: Schema.Literal('idle', 'committed', 'revealed', 'off'),
  height: Count,
  origin: Schema.optional(Count),
  /** The forecaster that made the committed forecast. */
  forecaster: Schema.optional(Schema.String.pipe(Schema.maxLength(256))),
  tx: Schema.optional(Schema.String.pipe(Schema.maxLength(128))),
})
export const ChallengeResult = Schema.TaggedStruct('ChallengeResult', {
  miner: Addr,
  correct: Schema.Boolean,
  /**
   * 'ok', 'wrong result', 'WeightsHashMismatch' (the miner announced other weights than its Brain's: not challenged,
   * score 0), or the reason (a rejection family's) or tag of the error the miner answered with.
   */
  reason: Schema.String.pipe(Schema.maxLength(256)),
  ms: Schema.Number.pipe(Schema.finite()),
})
export const WeightsSubmitted = Schema.TaggedStruct('WeightsSubmitted', {
  brain: Count,
  uids: Schema.Array(Count),
  weights: Schema.Array(Count),
  tx: Schema.String.pipe(Schema.maxLength(128)),
})
export const Scores = Schema.TaggedStruct('Scores', {
  miners: Schema.Array(
    Schema.Struct({
      miner: Addr,
      challenges: Count,
      correct: Count,
      score: Schema.Number.pipe(Schema.finite()),
      /** Whether the weights hash the miner announced at its last challenge was its Brain's (false: score 0). */
      weightsHashOk: Schema.optional(Schema.Boolean),
    }),
  ),
})
