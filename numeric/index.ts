/**
 * numeric — the number theory that fhe/, kernels/, model/, bft/ and forecast/ share, in one leaf module (it imports
 * nothing of the project): 32-bit modular arithmetic without BigInt on a hot path (`mulMod`, `powMod`, `invMod`,
 * Shoup products), NTT-friendly primes and the canonical negacyclic twiddle tables (`makeNttTables`, bit reversal),
 * and the seeded PRNG used by simulations and weight initialisation (`mulberry32`, `gaussian`).
 *
 * basedai/kernels re-exports the arithmetic and tables under their old names (its `ntt/reference.ts` was their
 * home), and basedai/model re-exports `mulberry32` and `gaussian`.
 *
 * @example
 * ```ts
 * import { makeNttTables, mulMod, invMod, nttPrimes, mulberry32 } from '../numeric/index.ts'
 * const [q] = nttPrimes(4096, 1)          // largest prime < 2^31 with q ≡ 1 mod 8192
 * const t = makeNttTables(4096, q)         // ψ, bit-reversed twiddles and Shoup quotients
 * mulMod(t.psi, invMod(t.psi, q), q)       // 1
 * const rand = mulberry32(42); rand()       // same value in every process
 * ```
 */
export * from './errors.ts'
export * from './modular.ts'
export * from './ntt-tables.ts'
export * from './prng.ts'
