/**
 * NTT-friendly primes: q prime, q < 2^31, q ≡ 1 (mod 2N). Used for the auxiliary RNS base P of ciphertext
 * multiplication (never part of the security-relevant modulus q) and to check presets.
 */
import { isPrime } from '../kernels/ntt/reference.ts'

/**
 * The `count` largest primes below 2^31 that are ≡ 1 (mod 2N) and not in `exclude`, largest first. Deterministic, so
 * every process derives the same auxiliary base for the same parameters.
 */
export function nttPrimes(n: number, count: number, exclude: readonly number[] = []): number[] {
  const step = 2 * n
  const out: number[] = []
  const skip = new Set(exclude)
  // Largest k with k·2N + 1 < 2^31.
  let k = Math.floor((2 ** 31 - 2) / step)
  while (out.length < count && k > 0) {
    const q = k * step + 1
    if (!skip.has(q) && isPrime(q)) out.push(q)
    k -= 1
  }
  if (out.length < count) throw new RangeError(`only ${out.length} NTT-friendly primes below 2^31 for N = ${n}`)
  return out
}

export { isPrime }
