/**
 * Integer-exact rounding of the two RNS sums BFV's HPS multiplication rounds (no floating point):
 *
 *   centred base conversion:  v = round(Σ_i y_i / q_i)          (y_i = [x_i·q̂_i^−1]_{q_i} < q_i)
 *   t/Q scale-and-round:      r = round(Σ_i y_i · θ_i)          (θ_i = frac(t·P/q_i) = ρ_i/q_i, ρ_i = [t·P]_{q_i})
 *
 * Both are S = Σ_i y_i·ρ_i/q_i with integers y_i < 2^31 and 0 ≤ ρ_i < q_i (ρ_i = 1 for the conversion), so
 * S = z/M with z an integer and M = Π q_i odd. Hence S is never a half-integer, and its distance to every half-integer
 * is at least 1/(2M). Each fraction is stored in fixed point with W = 32·L bits, Θ_i = ⌊ρ_i·2^W/q_i⌋ (L u32 words,
 * least significant first), and F = Σ_i y_i·Θ_i is computed exactly in integers. Truncation makes
 * S − F/2^W ∈ [0, k·2^31/2^W). With L chosen so that k·2^31·2^−W ≤ 1/(2M) (`fixedWords`), F/2^W lies on the same
 * side of every half-integer as S (or is exactly on it only if S is just above it), so
 *
 *   round(S) = ⌊(F + 2^(W−1)) / 2^W⌋        (exact; ties cannot occur for S)
 *
 * This is what the WGSL kernels compute (kernels/rns/bfv.wgsl: u32 words, 32×32→64 products from 16-bit halves) and
 * what the CPU backends fall back to when their float64 estimate lies within 2^−12 of a half-integer (their float error
 * is below 2^−15, so outside that window the float rounding is already round(S)). All paths therefore give the
 * mathematically exact round(S), and so the same words.
 */
import { InvalidInput } from '../errors.ts'

/** Fixed-point words L such that k·2^31·2^(−32L) ≤ 1/(2·M), M = Π moduli. */
export function fixedWords(moduli: readonly number[]): number {
  const M = moduli.reduce((a, q) => a * BigInt(q), 1n)
  const need = BigInt(moduli.length) * 2n ** 31n * 2n * M // 2^W ≥ k·2^31·2M
  let L = 1
  while (2n ** BigInt(32 * L) < need) L++
  return L
}

/**
 * The fixed-point fractions ⌊ρ_i·2^W/q_i⌋ for i < k as k·L u32 words (row i at i·L, least significant word first).
 * `numerators` are the ρ_i (each below its q_i); omitted, every ρ_i is 1 (the fractions 1/q_i).
 */
export function fixedFractions(moduli: readonly number[], L: number, numerators?: readonly bigint[]): Uint32Array {
  const out = new Uint32Array(moduli.length * L)
  const W = BigInt(32 * L)
  moduli.forEach((q, i) => {
    const rho = numerators ? (numerators[i] as bigint) : 1n
    if (rho < 0n || rho >= BigInt(q)) throw new InvalidInput({ op: 'fixedFractions', reason: 'bad_argument', message: `numerator ${rho} not below ${q}` })
    let v = (rho << W) / BigInt(q)
    for (let w = 0; w < L; w++) {
      out[i * L + w] = Number(v & 0xffffffffn)
      v >>= 32n
    }
  })
  return out
}

const H = 65536

/**
 * ⌊(Σ_i y_i·Θ_i + 2^(32L−1)) / 2^(32L)⌋ for y_i < 2^31 (read as y[yOff + i·yStride]) and Θ_i the L words of row i of
 * `fix`: the exact round(S) described above. Plain doubles, all exact: the sum runs over 16-bit half-words, each
 * column below 2^47·k + 2^40 < 2^53.
 */
export function fixedRound(y: ArrayLike<number>, fix: Uint32Array, k: number, L: number, yOff = 0, yStride = 1): number {
  let carry = 0
  for (let w = 0; w < L; w++) {
    let lo = carry
    let hi = 0
    for (let i = 0; i < k; i++) {
      const yi = y[yOff + i * yStride] as number
      const word = fix[i * L + w] as number
      lo += yi * (word & 0xffff)
      hi += yi * (word >>> 16)
    }
    // column 2w: lo; column 2w + 1: hi plus lo's carry.
    const loCarry = Math.floor(lo / H)
    let acc = hi + loCarry
    if (w === L - 1) acc += H / 2 // + 2^(32L − 1): the half, at bit 15 of the top half-word
    carry = Math.floor(acc / H)
  }
  return carry
}
