/** Typed errors of basedai/forecast (effect Data.TaggedError; tests assert on `_tag`). */
import { Data } from 'effect'

/** A model configuration that cannot be built (non-positive sizes, heads not dividing the width, …). */
export class InvalidModelConfig extends Data.TaggedError('InvalidModelConfig')<{
  readonly field: string
  readonly reason: string
}> {
  override get message(): string {
    return `invalid forecast model config ${this.field}: ${this.reason}`
  }
}

/** A window of inputs with the wrong shape, out-of-range categories or non-finite values. */
export class InvalidSample extends Data.TaggedError('InvalidSample')<{
  readonly field: string
  readonly reason: string
}> {
  override get message(): string {
    return `invalid forecast sample ${this.field}: ${this.reason}`
  }
}

/** A series, span or evaluation request that does not fit (too short, misaligned, non-finite). */
export class InvalidSeries extends Data.TaggedError('InvalidSeries')<{
  readonly field: string
  readonly reason: string
}> {
  override get message(): string {
    return `invalid series ${this.field}: ${this.reason}`
  }
}

/** A forecast, commitment or reveal that is malformed (not integers, wrong lengths, bad quantile levels, …). */
export class InvalidForecastRecord extends Data.TaggedError('InvalidForecastRecord')<{
  readonly field: string
  readonly reason: string
}> {
  override get message(): string {
    return `invalid forecast record ${this.field}: ${this.reason}`
  }
}

/** A reveal whose sha256(validator ‖ forecast ‖ salt) is not the commitment it claims to open. */
export class RevealMismatch extends Data.TaggedError('RevealMismatch')<{
  readonly validator: string
}> {
  override get message(): string {
    return `reveal of validator ${this.validator} does not match its commitment`
  }
}

/** Two validators posted the same commitment in one round: the later one copied it. */
export class CopiedCommitment extends Data.TaggedError('CopiedCommitment')<{
  /** Hex key of the validator whose commitment came later in chain order. */
  readonly validator: string
  /** Hex key of the validator that posted it first. */
  readonly original: string
}> {
  override get message(): string {
    return `validator ${this.validator} posted the commitment of ${this.original}`
  }
}

/** A commit or reveal at a height outside its window of the round. */
export class OutOfRoundWindow extends Data.TaggedError('OutOfRoundWindow')<{
  readonly action: 'commit' | 'reveal'
  readonly height: number
  readonly from: number
  readonly until: number
}> {
  override get message(): string {
    return `${this.action} at height ${this.height} outside [${this.from}, ${this.until})`
  }
}
