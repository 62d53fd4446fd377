/**
 * Vetted parameter sets. Every one passes the HomomorphicEncryption.org 128-bit classical table; their primes are the
 * NTT-friendly 31-bit primes of REFERENCES.md (≡ 1 mod 2^17, so valid for every N ≤ 2^16).
 *
 * | preset          | N    | q (bits)      | t         | use                                                           |
 * |-----------------|------|---------------|-----------|---------------------------------------------------------------|
 * | bfv4096         | 4096 | 3 × 31 = 93   | 65537     | general arithmetic, one ct×ct multiply with budget to spare   |
 * | bfv4096Linear   | 4096 | 3 × 31 = 93   | 2^28      | encrypted int8 linear layers (int32 results, d_in ≤ 8192)     |
 * | bfv8192         | 8192 | 7 × 31 = 217  | 65537     | deeper circuits (several ct×ct multiplies)                    |
 * | bfv8192Linear   | 8192 | 7 × 31 = 217  | 2^28      | linear layers followed by ct×ct products                      |
 */
import type { BfvParamsInput } from './params.ts'

/** NTT-friendly primes below 2^31, ≡ 1 (mod 2^17), from REFERENCES.md. */
export const PRIMES_31 = [
  2147352577, 2146959361, 2146041857, 2144468993, 2142502913, 2135818241, 2135162881, 2135031809,
] as const

const cbd21 = { kind: 'cbd', eta: 21 } as const

function preset(n: number, primes: number, t: number): BfvParamsInput {
  return Object.freeze({
    scheme: 'bfv',
    polyModulusDegree: n,
    coeffModulus: PRIMES_31.slice(0, primes),
    plainModulus: t,
    errorDistribution: cbd21,
  })
}

export const presets = Object.freeze({
  bfv4096: preset(4096, 3, 65537),
  bfv4096Linear: preset(4096, 3, 2 ** 28),
  bfv8192: preset(8192, 7, 65537),
  bfv8192Linear: preset(8192, 7, 2 ** 28),
})
export type PresetName = keyof typeof presets
