/**
 * Integer splitting with exact conservation, and the percentile rule.
 */

/**
 * Splits `total` in proportion to `weights` so that the parts sum to `total` exactly (largest-remainder method):
 * each part is floor(total·wᵢ/Σw); the units left over go one each to the largest remainders, ties to the lower
 * index. All-zero (or empty-sum) weights split equally. An empty list returns [] (caller handles the leftover).
 */
export function splitProportional(total: bigint, weights: readonly bigint[]): bigint[] {
  const n = weights.length
  if (n === 0) return []
  let sum = 0n
  for (const w of weights) {
    if (w < 0n) throw new RangeError('negative weight')
    sum += w
  }
  const ws = sum === 0n ? weights.map(() => 1n) : weights
  const s = sum === 0n ? BigInt(n) : sum
  const parts: bigint[] = new Array<bigint>(n)
  const rems: bigint[] = new Array<bigint>(n)
  let given = 0n
  for (let i = 0; i < n; i++) {
    const num = total * (ws[i] as bigint)
    parts[i] = num / s
    rems[i] = num % s
    given += parts[i] as bigint
  }
  let left = total - given
  if (left > 0n) {
    const order = [...Array(n).keys()].sort((a, b) => {
      const ra = rems[a] as bigint
      const rb = rems[b] as bigint
      return ra > rb ? -1 : ra < rb ? 1 : a - b
    })
    for (const i of order) {
      if (left === 0n) break
      parts[i] = (parts[i] as bigint) + 1n
      left--
    }
  }
  return parts
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
