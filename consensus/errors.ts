/**
 * Typed errors of the consensus module. Every error names the offending input field; tests assert on `_tag` and
 * `field`, never on message text.
 */
import { Data } from 'effect'

/** A field of {@link EpochInput} or of the extended epoch options that failed validation. */
export type EpochField =
  | 'stake'
  | 'weights'
  | 'validatorPermit'
  | 'bonds'
  | 'kappa'
  | 'bondsMovingAverage'
  | 'rule'
  | 'rho'
  | 'credits'
  | 'creditInfluence'
  | 'tft'

/**
 * The epoch was given malformed input: a wrong length, a non-square matrix, a negative / NaN / infinite entry,
 * or an out-of-range parameter. `index` locates the entry (`[i]` or `[i, j]`) when one entry is at fault.
 */
export class InvalidEpochInput extends Data.TaggedError('InvalidEpochInput')<{
  readonly field: EpochField
  readonly reason: string
  readonly index?: readonly number[]
}> {
  override get message(): string {
    const at = this.index === undefined ? '' : `[${this.index.join('][')}]`
    return `invalid epoch input ${this.field}${at}: ${this.reason}`
  }
}

/** {@link splitEmission} was given malformed input. */
export class InvalidEmissionInput extends Data.TaggedError('InvalidEmissionInput')<{
  readonly field: 'amount' | 'minerSharePpm' | 'incentive' | 'dividends' | 'stake' | 'validatorPermit'
  readonly reason: string
  readonly index?: readonly number[]
}> {
  override get message(): string {
    const at = this.index === undefined ? '' : `[${this.index.join('][')}]`
    return `invalid emission input ${this.field}${at}: ${this.reason}`
  }
}

/** The β(t) schedule or a forecaster was given malformed input (a negative block, mismatched lengths, …). */
export class InvalidForecastInput extends Data.TaggedError('InvalidForecastInput')<{
  readonly field: 'block' | 'blocksPerYear' | 'observed' | 'forecast' | 'realised' | 'smoothingPpm' | 'state'
  readonly reason: string
}> {
  override get message(): string {
    return `invalid forecast input ${this.field}: ${this.reason}`
  }
}
