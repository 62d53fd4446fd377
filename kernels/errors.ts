/**
 * Typed errors of basedai/kernels. Each is an effect `Data.TaggedError`: tests and callers match on `_tag` (and the
 * literal `reason` where there is one), never on message text. Every error carries a human `message`.
 */
import { Data } from 'effect'

/** Why a (n, q) pair cannot carry a negacyclic NTT. Mirrors SEAL's `error_type` style of named reasons. */
export type NttParamsReason =
  | 'n_not_power_of_two'
  | 'n_out_of_range'
  | 'q_not_integer'
  | 'q_out_of_range'
  | 'q_not_prime'
  | 'q_not_ntt_friendly'

/** `makeNttTables(n, q)` (or an RNS base) was given parameters that admit no negacyclic NTT. */
export class InvalidNttParams extends Data.TaggedError('InvalidNttParams')<{
  readonly reason: NttParamsReason
  readonly n: number
  readonly q: number
  readonly message: string
}> {}

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
