/**
 * Tagged errors of `basedai/fhe`. Every failure of the scheme is one of these; tests assert on `_tag` and on the
 * literal `reason` fields, never on message text.
 */
import { Data } from 'effect'

/** Why a parameter set was refused (mirrors SEAL's `error_type` list for the cases we check). */
export type InvalidParamsReason =
  | 'schema'
  | 'poly_modulus_degree_not_power_of_two'
  | 'poly_modulus_degree_out_of_range'
  | 'coeff_modulus_empty'
  | 'coeff_modulus_too_large_bits'
  | 'coeff_modulus_not_prime'
  | 'coeff_modulus_not_ntt_friendly'
  | 'coeff_modulus_not_distinct'
  | 'insecure'
  | 'plain_modulus_too_small'
  | 'plain_modulus_too_large'
  | 'plain_modulus_not_coprime'
  | 'error_distribution'

/**
 * The parameter set cannot be used. For `insecure`, `maxLogQ` is the HomomorphicEncryption.org 128-bit classical
 * limit for this N and `logQ` what was asked for.
 */
export class InvalidParams extends Data.TaggedError('InvalidParams')<{
  readonly reason: InvalidParamsReason
  readonly message: string
  readonly logQ?: number
  readonly maxLogQ?: number
}> {}

/** Why bytes could not be decoded into a key or ciphertext. */
export type DecodeReason =
  | 'truncated'
  | 'trailing_bytes'
  | 'bad_magic'
  | 'unsupported_version'
  | 'wrong_kind'
  | 'params_mismatch'
  | 'bad_header'
  | 'checksum'
  | 'coefficient_out_of_range'

/**
 * Bytes from the network or disk that are not a valid object for this context. Never a wrong answer instead. Its
 * tag is distinct from the protocol's frame `DecodeError`; across actors it travels as `FheRejection` with reason
 * `CiphertextDecodeError`.
 */
export class CiphertextDecodeError extends Data.TaggedError('CiphertextDecodeError')<{
  readonly reason: DecodeReason
  readonly message: string
}> {}

/** @deprecated Old name of `CiphertextDecodeError` (same class; its tag is now `CiphertextDecodeError`). */
export const DecodeError = CiphertextDecodeError
/** @deprecated Old name of `CiphertextDecodeError`. */
export type DecodeError = CiphertextDecodeError

/** Two objects built for different parameter sets (different `paramsId`) were combined. */
export class ParamsMismatch extends Data.TaggedError('ParamsMismatch')<{
  readonly expected: string
  readonly actual: string
}> {}

/** Operands at incompatible levels or sizes, a missing key, or an operation the ciphertext's state forbids. */
export class InvalidOperand extends Data.TaggedError('InvalidOperand')<{
  readonly reason:
    | 'level_mismatch'
    | 'size_mismatch'
    | 'size_unsupported'
    | 'level_exhausted'
    | 'value_out_of_range'
    | 'shape'
    | 'missing_key'
  readonly message: string
}> {}

/** A task configuration named an FHE backend that cannot do what was asked (e.g. evaluation under `tfhe`). */
export class BackendUnsupported extends Data.TaggedError('BackendUnsupported')<{
  readonly backend: string
  readonly operation: string
  readonly message: string
}> {}

export type FheError = InvalidParams | CiphertextDecodeError | ParamsMismatch | InvalidOperand | BackendUnsupported
