/**
 * Keys, plaintexts and ciphertexts. Every object carries the `paramsId` of the context that made it; operations check
 * it (cheap metadata check, SEAL's `is_metadata_valid_for`) before touching data.
 */
import type { RnsPoly } from './poly.ts'

/** A plaintext polynomial: N coefficients in [0, t). */
export interface Plaintext {
  readonly paramsId: string
  readonly coeffs: Uint32Array
}

/**
 * A BFV ciphertext: `size` polynomials (2 fresh, 3 after a multiply before relinearization) at `level` primes, in
 * coefficient form. When c1 was expanded from a public seed (secret-key encryption), `seed` is kept so serialization
 * can ship 32 bytes instead of c1.
 */
export interface Ciphertext {
  readonly paramsId: string
  readonly level: number
  readonly polys: readonly RnsPoly[]
  readonly seed?: Uint8Array
  /**
   * True when the polynomials hold NTT values instead of coefficients. Only encryptions made for the linear layer
   * use it (the miner then needs no forward NTT); every evaluator op converts such a ciphertext first.
   */
  readonly ntt?: boolean
}

/** The secret key: s (ternary) in NTT form over every prime of q. Only keygen.ts and decrypt.ts read it. */
export interface SecretKey {
  readonly paramsId: string
  readonly sNtt: RnsPoly
}

/** Public key (p0, p1) = (−(a·s + e), a), NTT form; a is expanded from `seed`. */
export interface PublicKey {
  readonly paramsId: string
  readonly p0: RnsPoly
  readonly p1: RnsPoly
  readonly seed: Uint8Array
}

/**
 * Relinearization keys with RNS-digit decomposition: for each prime q_i, (b_i, a_i) with
 * b_i = −(a_i·s + e_i) + g_i·s², g_i = (Q/q_i)·[(Q/q_i)^{-1}]_{q_i} (≡ 1 mod q_i, ≡ 0 mod q_j, j ≠ i). NTT form, top
 * level; a_i expanded from `seed` (domain i).
 */
export interface RelinKeys {
  readonly paramsId: string
  readonly b: readonly RnsPoly[]
  readonly a: readonly RnsPoly[]
  readonly seed: Uint8Array
}
