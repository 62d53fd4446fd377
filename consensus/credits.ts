/**
 * Credits (§3.4.3): accrual ΔCredits_i = S_i·Σ_j W̄_ij (consensus-clipped weights, Q40) and their influence, a bounded
 * multiplier on bond accrual m_i = 1 + maxBoost·c_i / (c_i + halfCredits). See docs/CONSENSUS.md for the reading of
 * the seed and why self-weighting cannot farm Credits.
 */
import { FRAC_BITS, ONE, WEIGHT_BITS, bitLength } from './fixed.ts'
import { ColumnMac } from './exact-sums.ts'
import type { CreditInfluence } from './types.ts'

/** One Credit in Q40 units. */
export const CREDIT_ONE = 1n << BigInt(FRAC_BITS)

/** Default Credit influence: up to +25% bond accrual, half of it at 10 Credits. */
export const DEFAULT_CREDIT_INFLUENCE: CreditInfluence = { maxBoostPpm: 250_000, halfCredits: 10n * CREDIT_ONE }

/** ΔCredits_i = S_i·Tv_i in Q40 (u_i·Tv_i / (T·2^12), Tv in Q52) and the credits after this epoch. */
export function accrueCredits(u: Float64Array, Tv: Float64Array, T: number, previous: readonly bigint[]): { delta: bigint[]; credits: bigint[] } {
  const n = u.length
  const delta = new Array<bigint>(n)
  const credits = new Array<bigint>(n)
  for (let i = 0; i < n; i++) {
    const d = T === 0 ? 0n : (BigInt(u[i] as number) * BigInt(Tv[i] as number)) / (BigInt(T) << BigInt(WEIGHT_BITS - FRAC_BITS))
    delta[i] = d
    credits[i] = (previous[i] as bigint) + d
  }
  return { delta, credits }
}

/** Stake units with the Credit multiplier applied to bond accrual, and the multipliers (Q40). */
export interface BoostedStake {
  /** Q40 multipliers m_i (ONE when influence is off). */
  readonly multiplier: Float64Array
  /** u_i·m_i scaled to stay below 2^53 (u itself when influence is off). */
  readonly units: Float64Array
  /** Exact column sums Σ_i units_i·W̄_ij (`rankSums` itself when influence is off). */
  readonly colSums: readonly bigint[]
}

/**
 * Applies the Credits' influence to bond accrual: ΔB_ij ∝ m_i·S_i·W̄_ij. With no influence (or maxBoost 0) the stake
 * and the rank sums are returned unchanged.
 */
export function boostStake(
  influence: CreditInfluence | null,
  previous: readonly bigint[],
  u: Float64Array,
  W: Float64Array,
  active: readonly number[],
  rankSums: readonly bigint[],
): BoostedStake {
  const n = u.length
  const multiplier = new Float64Array(n).fill(ONE)
  if (influence === null || influence.maxBoostPpm <= 0) return { multiplier, units: u, colSums: rankSums }
  const boost = BigInt(influence.maxBoostPpm)
  const H = influence.halfCredits
  const scaled = new Array<bigint>(n)
  let sum = 0n
  for (let i = 0; i < n; i++) {
    const c = previous[i] as bigint
    const m = (1n << BigInt(FRAC_BITS)) + ((boost << BigInt(FRAC_BITS)) * c) / (1_000_000n * (c + H))
    multiplier[i] = Number(m)
    const s = BigInt(u[i] as number) * m
    scaled[i] = s
    sum += s
  }
  const sh = Math.max(0, bitLength(sum) - 53)
  const units = new Float64Array(n)
  for (let i = 0; i < n; i++) units[i] = Number((scaled[i] as bigint) >> BigInt(sh))
  const mac = new ColumnMac(n)
  for (const i of active) if ((units[i] as number) > 0) mac.addRow(units[i] as number, W, i * n, n)
  return { multiplier, units, colSums: mac.result() }
}
