/**
 * The HomomorphicEncryption.org security standard (Albrecht et al., 2018), table for 128-bit classical security with
 * a ternary (uniform {−1, 0, 1}) secret and error of standard deviation ≈ 3.2: the largest total log2 q allowed for
 * each ring degree N. Only this table is used; there is no switch to weaken it. Source: /work/shared/REFERENCES.md
 * (FHE section), matching SEAL's `CoeffModulus::MaxBitCount(N, sec_level_type::tc128)`.
 */
export const MAX_LOG_Q_128: Readonly<Record<number, number>> = Object.freeze({
  1024: 27,
  2048: 54,
  4096: 109,
  8192: 218,
  16384: 438,
  32768: 881,
})

/** The 128-bit limit for N, or undefined when N is not in the table (then no parameter set with that N is allowed). */
export function maxLogQ(n: number): number | undefined {
  return MAX_LOG_Q_128[n]
}

/** log2 of the product of the moduli, computed exactly enough to compare against the table (sum of log2 q_i). */
export function logQ(moduli: readonly number[]): number {
  let s = 0
  for (const q of moduli) s += Math.log2(q)
  return s
}
