/**
 * Stake for the epoch: permitted stake as exact integer units u (S_i = u_i / T) and the exact κ threshold.
 *
 * When the permitted stakes are, after one common power-of-two scaling, integers summing below 2^53 (any stake in
 * smallest units below 9·10^15), u is exactly proportional to the input. Otherwise u_i = ⌊2^52·stake_i / Σ stake⌋
 * and the exact integers are kept beside it ({@link ExactStake}) so that median decisions landing within rounding
 * distance of κ can be redone exactly (median.ts `exactColumnConsensus`).
 */
import { bitLength, dyadicVector, toDyadic } from './fixed.ts'

/** The exact stake behind rounded stake units: integers proportional to the permitted stake. */
export interface ExactStake {
  readonly ints: readonly bigint[]
  readonly total: bigint
  /** ints as three 40-bit limbs (hi, mid, lo) per uid, or null when some stake needs more than 120 bits. */
  readonly limbs: Float64Array | null
  /** uids with non-zero exact stake (permitted), including those whose rounded unit is 0. */
  readonly rows: readonly number[]
}

/** Stake units of one epoch: u_i (< 2^53 in total), T = Σ u_i, and the exact stake when u had to be rounded. */
export interface StakeUnits {
  readonly u: Float64Array
  readonly T: number
  readonly exact: ExactStake | null
}

/** Stake units u (exactly proportional to permitted stake when possible) and their total T. */
export function stakeUnits(stake: readonly number[], permit: readonly boolean[]): StakeUnits {
  const n = stake.length
  const masked = new Array<number>(n)
  for (let i = 0; i < n; i++) masked[i] = permit[i] === true ? (stake[i] as number) : 0
  const ints = dyadicVector(masked)
  let total = 0n
  for (const x of ints) total += x
  const u = new Float64Array(n)
  if (total === 0n) return { u, T: 0, exact: null }
  if (total < 1n << 53n) {
    for (let i = 0; i < n; i++) u[i] = Number(ints[i])
    return { u, T: Number(total), exact: null }
  }
  let T = 0
  for (let i = 0; i < n; i++) {
    const v = Number(((ints[i] as bigint) << 52n) / total)
    u[i] = v
    T += v
  }
  return { u, T, exact: exactStake(ints, total) }
}

function exactStake(ints: readonly bigint[], total: bigint): ExactStake {
  const n = ints.length
  // Three 40-bit limbs per stake when every stake fits in 120 bits, so exact sums need no BigInt per entry.
  let maxBits = 0
  for (const x of ints) maxBits = Math.max(maxBits, bitLength(x))
  let limbs: Float64Array | null = null
  if (maxBits <= 120) {
    limbs = new Float64Array(3 * n)
    const mask = (1n << 40n) - 1n
    for (let i = 0; i < n; i++) {
      const x = ints[i] as bigint
      limbs[3 * i] = Number(x >> 80n)
      limbs[3 * i + 1] = Number((x >> 40n) & mask)
      limbs[3 * i + 2] = Number(x & mask)
    }
  }
  const rows: number[] = []
  for (let i = 0; i < n; i++) if ((ints[i] as bigint) > 0n) rows.push(i)
  return { ints, total, limbs, rows }
}

/** ⌈κ·T⌉: Σ u ≥ κ·T ⇔ Σ u ≥ ⌈κ·T⌉ for integer sums. */
export function kappaThreshold(kappa: number, T: number): number {
  const { mant, exp } = toDyadic(kappa)
  const prod = mant * BigInt(T)
  if (exp >= 0) return Number(prod << BigInt(exp))
  const d = 1n << BigInt(-exp)
  return Number((prod + d - 1n) / d)
}

/** Permitted uids with non-zero stake units (the rows that carry stake in every sum). */
export function activeRows(u: Float64Array, permit: readonly boolean[]): number[] {
  const active: number[] = []
  for (let i = 0; i < u.length; i++) if (permit[i] === true && (u[i] as number) > 0) active.push(i)
  return active
}
