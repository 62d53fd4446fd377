/** Test helpers for test/kernels: a seeded PRNG and random residue vectors. */

import { mulberry32 } from '../../numeric/prng.ts'

/** mulberry32: a small deterministic 32-bit PRNG (shared with the model's weight init). */
export const rng = mulberry32

/** n uniform residues in [0, q). */
export function randomResidues(n: number, q: number, next: () => number): Uint32Array {
  const a = new Uint32Array(n)
  for (let i = 0; i < n; i++) a[i] = Math.floor(next() * q)
  return a
}

/** The 31-bit NTT-friendly primes of /work/shared/REFERENCES.md (q ≡ 1 mod 2^17: valid for every n ≤ 2^16). */
export const PRIMES_31 = [
  2147352577, 2146959361, 2146041857, 2144468993, 2142502913, 2135818241, 2135162881, 2135031809,
] as const
