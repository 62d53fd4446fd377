/**
 * The seed's older consensus rule (§3.4.1), in exact BigInt fixed point:
 * C_j = σ(ρ·(T_j − κ)) with T_j = Σ_i S_i·[W_ij > 0], σ(x) = 1 / (1 + e^−x).
 *
 * e^x is computed from scratch in 96-bit BigInt fixed point (range reduction by ln 2, then a Taylor series), so
 * the result depends on no engine's `Math.exp`. Its error is below 2^-90, far under the Q40 resolution of C.
 */
import { WEIGHT_BITS, toDyadic } from './fixed.ts'

const P = 96n
const ONE_P = 1n << P

/** ln 2 in Q96, from ln 2 = Σ_{k≥1} 1 / (k·2^k) evaluated with 32 guard bits. */
const LN2_P: bigint = (() => {
  const Q = P + 32n
  let s = 0n
  for (let k = 1n; k <= Q; k++) s += (1n << (Q - k)) / k
  return s >> 32n
})()

/** floor(a / b) for BigInt with b > 0 (BigInt `/` truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a < 0n && q * b !== a ? q - 1n : q
}

/** e^x for x in Q96 (any sign, |x| up to a few hundred), result in Q96. */
export function expQ96(x: bigint): bigint {
  const k = floorDiv(x + LN2_P / 2n, LN2_P)
  const r = x - k * LN2_P // |r| ≤ ln2 / 2
  let term = ONE_P
  let sum = ONE_P
  for (let i = 1n; i < 64n; i++) {
    term = floorDiv(term * r, i * ONE_P)
    if (term === 0n) break
    sum += term
  }
  return k >= 0n ? sum << k : sum >> -k
}

/** x·2^k for BigInt x and integer k of either sign (floor when shifting right). */
function shift(x: bigint, k: number): bigint {
  return k >= 0 ? x << BigInt(k) : x >> BigInt(-k)
}

/**
 * Sigmoid consensus in Q52 for one peer: σ(ρ·(tn/total − κ)), where tn/total is the share of stake with a non-zero
 * edge to the peer (exact integers), ρ and κ exact float64 values.
 */
export function sigmoidConsensusQ52(tn: number, total: number, kappa: number, rho: number): number {
  if (total === 0) return 0
  const kd = toDyadic(kappa)
  const rd = toDyadic(rho)
  // x·2^96 = ρ·(tn − κ·total)·2^96 / total, with κ = km·2^ke and ρ = rm·2^re.
  const e = Math.min(0, kd.exp)
  const diff = shift(BigInt(tn), -e) - shift(kd.mant * BigInt(total), kd.exp - e) // (tn − κ·total)·2^−e
  const num = shift(rd.mant * diff, rd.exp + e + Number(P))
  const x = floorDiv(num, BigInt(total))
  const den = ONE_P + expQ96(-x)
  return Number((ONE_P << BigInt(WEIGHT_BITS)) / den)
}
