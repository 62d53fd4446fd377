/**
 * β(t), the weight of the forecaster ("TFT Enforcer") term in I(W, S, TFT, t) = R·C + β(t)·Accuracy(TFT) (§3.4.2).
 *
 * t is the block height since genesis; a year is {@link BLOCKS_PER_YEAR} blocks. β = 0 for t ≤ 2 years, rises
 * linearly to 0.9 at exactly 4 years, and is 1 after (the seed's schedule has that step from 0.9 to 1).
 */
import { InvalidForecastInput } from './errors.ts'
import { FRAC_BITS } from './fixed.ts'

/** Blocks per year in the seed's schedule (§3.4.2). */
export const BLOCKS_PER_YEAR = 3_155_760

/**
 * β(t) as an exact rational num/den. `blocksPerYear` (default {@link BLOCKS_PER_YEAR}) is the length of a year in
 * blocks: the ledger passes its governable parameter, so the schedule follows the chain's own block count.
 */
export function betaRational(block: number, blocksPerYear: number = BLOCKS_PER_YEAR): { num: bigint; den: bigint } {
  if (!Number.isSafeInteger(block) || block < 0) {
    throw new InvalidForecastInput({ field: 'block', reason: 'must be a non-negative safe integer' })
  }
  if (!Number.isSafeInteger(blocksPerYear) || blocksPerYear < 1 || blocksPerYear > 2 ** 50) {
    throw new InvalidForecastInput({ field: 'blocksPerYear', reason: 'must be an integer in [1, 2^50]' })
  }
  const y2 = 2 * blocksPerYear
  const y4 = 4 * blocksPerYear
  if (block <= y2) return { num: 0n, den: 1n }
  if (block > y4) return { num: 1n, den: 1n }
  // 0.9 · (t − 2Y) / (2Y) = 9·(t − 2Y) / (20·Y)
  return { num: 9n * BigInt(block - y2), den: 20n * BigInt(blocksPerYear) }
}

/** β(t) in Q40 (floor). */
export function betaQ40(block: number): number {
  const { num, den } = betaRational(block)
  return Number((num << BigInt(FRAC_BITS)) / den)
}

/** β(t) as a plain number (the Q40 value, exact in float64). */
export function beta(block: number): number {
  return betaQ40(block) / 2 ** FRAC_BITS
}
