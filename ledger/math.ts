/**
 * Integer splitting with exact conservation, and the percentile rule.
 */
import { largestRemainder } from '../consensus/index.ts'

/**
 * Splits `total` in proportion to `weights` so that the parts sum to `total` exactly (largest-remainder method):
 * each part is floor(total·wᵢ/Σw); the units left over go one each to the largest remainders, ties to the lower
 * index. All-zero (or empty-sum) weights split equally. An empty list returns [] (caller handles the leftover).
 */
export function splitProportional(total: bigint, weights: readonly bigint[]): bigint[] {
  if (weights.length === 0) return []
  let sum = 0n
  for (const w of weights) {
    if (w < 0n) throw new RangeError('negative weight')
    sum += w
  }
  return largestRemainder(total, sum === 0n ? weights.map(() => 1n) : weights)
}

/**
 * Nearest-rank percentile: the smallest value v in `values` such that at least p% of the values are ≤ v
 * (rank ⌈p/100·n⌉, at least 1). Undefined for an empty list.
 */
export function nearestRankPercentile(values: readonly bigint[], p: number): bigint | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100))
  return sorted[Math.min(rank, sorted.length) - 1]
}

/**
 * Validators that are active (§3.2.3): stake > 0 and stake ≥ the `p`-th nearest-rank percentile of the stakes of
 * all validators registered on the Brain (70 by default: the top 30% or so, boundary included).
 */
export function activeMask(stakes: readonly bigint[], p: number): boolean[] {
  const t = nearestRankPercentile(stakes, p)
  return stakes.map((s) => t !== undefined && s > 0n && s >= t)
}
