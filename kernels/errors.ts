/**
 * Typed errors of basedai/kernels. Each is an effect `Data.TaggedError`: tests and callers match on `_tag` (and the
 * literal `reason` where there is one), never on message text. Every error carries a human `message`.
 */
import { Data } from 'effect'

/** `InvalidNttParams` (and its reasons) moved to basedai/numeric with the NTT tables; re-exported here unchanged. */
export { InvalidNttParams, type NttParamsReason } from '../numeric/errors.ts'

/** Why an operand was refused. */
export type InvalidInputReason =
  | 'length_mismatch'
  | 'coefficient_out_of_range'
  | 'bad_shape'
  | 'bad_argument'
  | 'not_invertible'
  | 'too_large'

/** An operand had the wrong length or shape, or a value outside its declared range. */
export class InvalidInput extends Data.TaggedError('InvalidInput')<{
  readonly op: string
  readonly reason: InvalidInputReason
  readonly message: string
}> {}

/** No WebGPU adapter or device could be obtained. `fix` says what to install. */
export class GpuUnavailable extends Data.TaggedError('GpuUnavailable')<{
  readonly reason: 'no_adapter' | 'no_device' | 'module_load_failed'
  readonly fix: string
  readonly message: string
}> {}

/** The device reported an error (validation, out-of-memory, internal) or was lost while running `op`. */
export class GpuError extends Data.TaggedError('GpuError')<{
  readonly op: string
  readonly kind: 'validation' | 'out-of-memory' | 'internal' | 'device-lost' | 'map-failed'
  readonly message: string
}> {}
