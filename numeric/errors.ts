/**
 * Typed errors of basedai/numeric (effect `Data.TaggedError`; callers match on `_tag` and the literal `reason`).
 * `InvalidNttParams` is re-exported by basedai/kernels (its historical home), so it still crosses actor boundaries
 * as a `KernelRejection`.
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

/** `invMod(a, q)` / `bigInvMod(a, m)`: gcd(a, q) ≠ 1, so a has no inverse. Values as decimal strings (bigint-safe). */
export class NotInvertible extends Data.TaggedError('NotInvertible')<{
  readonly a: string
  readonly q: string
  readonly message: string
}> {}

/** `nttPrimes`: fewer NTT-friendly primes below 2^31 than asked for this ring degree. */
export class NotEnoughPrimes extends Data.TaggedError('NotEnoughPrimes')<{
  readonly n: number
  readonly wanted: number
  readonly found: number
  readonly message: string
}> {}
