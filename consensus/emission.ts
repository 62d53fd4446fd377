/**
 * Step 8 (and 9) of the epoch for the ledger: split a Brain's integer emission for the epoch between miners (by
 * incentive) and validators (by dividends) in the split the Brain owner set, conserving the amount exactly.
 *
 * - minerPool = ⌊amount · minerSharePpm / 10^6⌋, validatorPool = amount − minerPool.
 * - Each pool is divided in proportion to its weights by largest remainder: every uid gets ⌊pool·w_i / Σw⌋, and the
 *   units left over go one each to the largest remainders, ties to the lower uid. The weights are read exactly (a
 *   float64 is a dyadic rational), so the split is a pure function of its input, identical on every node.
 * - Fallbacks (step 9): when ΣI = 0 (no weight survived consensus, e.g. no weights set at all) the miner pool joins
 *   the validator pool; when ΣD = 0 the validator pool goes by permitted stake (when `stake` is given); a pool with
 *   no recipient at all passes to the other; when nobody can receive, the amount is returned as `undistributed`
 *   (the ledger decides: burn or recycle).
 */
import { InvalidEmissionInput } from './errors.ts'
import { dyadicVector } from './fixed.ts'

export interface EmissionSplitInput {
  /** Emission for this Brain and epoch, in smallest units (≥ 0). */
  readonly amount: bigint
  /** Per-uid incentive (from the epoch), ≥ 0. */
  readonly incentive: readonly number[]
  /** Per-uid dividends (from the epoch), ≥ 0, same length. */
  readonly dividends: readonly number[]
  /** The owner's split: share of the emission that goes to miners, in millionths (integer in [0, 10^6]); default 500 000. */
  readonly minerSharePpm?: number
  /** Stake per uid, for the step-9 fallback when dividends are all 0. */
  readonly stake?: readonly number[]
  /** Validator permits; when given with `stake`, only permitted stake counts in the fallback. */
  readonly validatorPermit?: readonly boolean[]
}

export interface EmissionSplit {
  /** Units paid to each uid as a miner (by incentive). */
  readonly miner: bigint[]
  /** Units paid to each uid as a validator (by dividends, or by stake in the fallback). */
  readonly validator: bigint[]
  /** miner + validator per uid. */
  readonly total: bigint[]
  /** Units nobody could receive (0 unless incentive, dividends and stake are all 0). */
  readonly undistributed: bigint
  /** True when the validator pool was split by stake (step 9). */
  readonly fallbackToStake: boolean
}

function checkWeights(field: 'incentive' | 'dividends' | 'stake', v: unknown, n: number): void {
  if (!Array.isArray(v)) throw new InvalidEmissionInput({ field, reason: 'not an array' })
  if (v.length !== n) throw new InvalidEmissionInput({ field, reason: `length ${v.length}, expected ${n}` })
  for (let i = 0; i < n; i++) {
    const x: unknown = v[i]
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
      throw new InvalidEmissionInput({ field, reason: 'entry must be a finite number ≥ 0', index: [i] })
    }
  }
}

/**
 * Divides `pool` in proportion to exact non-negative integer weights by largest remainder (ties to the lower uid).
 * Σ result = pool exactly; requires Σ weights > 0.
 */
export function largestRemainder(pool: bigint, weights: readonly bigint[]): bigint[] {
  let total = 0n
  for (const w of weights) total += w
  if (total <= 0n) throw new RangeError('largestRemainder: weights sum to 0')
  const out = new Array<bigint>(weights.length)
  const rem = new Array<bigint>(weights.length)
  let given = 0n
  for (let i = 0; i < weights.length; i++) {
    const x = pool * (weights[i] as bigint)
    out[i] = x / total
    rem[i] = x % total
    given += out[i] as bigint
  }
  let left = pool - given
  if (left > 0n) {
    const order = Array.from({ length: weights.length }, (_, i) => i)
    order.sort((a, b) => {
      const ra = rem[a] as bigint
      const rb = rem[b] as bigint
      return ra > rb ? -1 : ra < rb ? 1 : a - b
    })
    for (const i of order) {
      if (left === 0n) break
      out[i] = (out[i] as bigint) + 1n
      left -= 1n
    }
  }
  return out
}

const sumOf = (v: readonly bigint[]): bigint => v.reduce((a, b) => a + b, 0n)

/**
 * Splits one epoch's emission for one Brain (call it every `tempo` blocks after the epoch).
 *
 * @throws InvalidEmissionInput naming the field, for a negative amount, an out-of-range share, mismatched
 * lengths, or negative / NaN entries.
 */
export function splitEmission(input: EmissionSplitInput): EmissionSplit {
  const { amount } = input
  if (typeof amount !== 'bigint' || amount < 0n) {
    throw new InvalidEmissionInput({ field: 'amount', reason: 'must be a bigint ≥ 0' })
  }
  const ppm = input.minerSharePpm ?? 500_000
  if (!Number.isInteger(ppm) || ppm < 0 || ppm > 1_000_000) {
    throw new InvalidEmissionInput({ field: 'minerSharePpm', reason: 'must be an integer in [0, 1000000]' })
  }
  const incentive: unknown = input.incentive
  if (!Array.isArray(incentive)) throw new InvalidEmissionInput({ field: 'incentive', reason: 'not an array' })
  const n = incentive.length
  checkWeights('incentive', incentive, n)
  checkWeights('dividends', input.dividends, n)
  if (input.stake !== undefined) checkWeights('stake', input.stake, n)
  if (input.validatorPermit !== undefined) {
    const p: unknown = input.validatorPermit
    if (!Array.isArray(p) || p.length !== n || p.some((x) => typeof x !== 'boolean')) {
      throw new InvalidEmissionInput({ field: 'validatorPermit', reason: `must be ${n} booleans` })
    }
  }

  const wI = dyadicVector(input.incentive)
  const wD = dyadicVector(input.dividends)
  let wV = wD
  let fallbackToStake = false
  if (sumOf(wD) === 0n && input.stake !== undefined) {
    const permit = input.validatorPermit
    const masked = input.stake.map((s, i) => (permit === undefined || permit[i] === true ? s : 0))
    const wS = dyadicVector(masked)
    if (sumOf(wS) > 0n) {
      wV = wS
      fallbackToStake = true
    }
  }
  let minerPool = (amount * BigInt(ppm)) / 1_000_000n
  let validatorPool = amount - minerPool
  const haveMiners = sumOf(wI) > 0n
  const haveValidators = sumOf(wV) > 0n
  if (!haveMiners) {
    validatorPool += minerPool
    minerPool = 0n
  }
  if (!haveValidators) {
    minerPool += validatorPool
    validatorPool = 0n
  }
  const zero = (): bigint[] => new Array<bigint>(n).fill(0n)
  const miner = haveMiners && minerPool > 0n ? largestRemainder(minerPool, wI) : zero()
  const validator = haveValidators && validatorPool > 0n ? largestRemainder(validatorPool, wV) : zero()
  const undistributed = haveMiners || haveValidators ? 0n : amount
  const total = miner.map((m, i) => m + (validator[i] as bigint))
  return { miner, validator, total, undistributed, fallbackToStake }
}
