/**
 * Step 8 (and 9) of the epoch for the ledger: split a Brain's integer emission for the epoch between miners (by
 * incentive) and validators (by dividends) in the split the Brain owner set, conserving the amount exactly.
 *
 * - minerPool = ⌊amount · minerSharePpm / 10^6⌋, validatorPool = amount − minerPool.
 * - Each pool is divided in proportion to its weights by largest remainder: every uid gets ⌊pool·w_i / Σw⌋, and the
 *   units left over go one each to the largest remainders, ties to the lower uid. The weights are read exactly (a
 *   float64 is a dyadic rational), so the split is a pure function of its input, identical on every node.
 * - Fallbacks (step 9): when ΣI = 0 (no weight survived consensus, e.g. no weights set at all) the miner pool joins
 *   the validator pool; when ΣD = 0 the validator pool goes by permitted stake (when `stake` is given), and when no
 *   uid holds a permit (no permitted stake at all) by all stake, as subtensor's epoch does; a pool with no recipient
 *   at all passes to the other; when nobody can receive (no incentive, no dividends, no stake), the amount is
 *   returned as `undistributed` and the caller decides (the ledger pays it to the Brain owner's reward address:
 *   docs/CONSENSUS.md "Emission split").
 *
 * {@link splitEmissionUnits} is the split itself, on exact integer weights (the ledger's scores and stakes);
 * {@link splitEmission} reads the epoch's plain-number outputs exactly (a float64 is a dyadic rational) and calls it.
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

/** {@link splitEmissionUnits}'s input: {@link EmissionSplitInput} with exact integer weights. */
export interface EmissionUnitsInput {
  readonly amount: bigint
  /** Per-uid incentive weights (any scale), ≥ 0. */
  readonly incentive: readonly bigint[]
  /** Per-uid dividend weights (any scale), ≥ 0, same length. */
  readonly dividends: readonly bigint[]
  readonly minerSharePpm?: number
  /** Stake per uid (any scale), for the step-9 fallback when the dividend weights are all 0. */
  readonly stake?: readonly bigint[]
  readonly validatorPermit?: readonly boolean[]
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

function checkAmountAndShare(amount: unknown, ppm: number): void {
  if (typeof amount !== 'bigint' || amount < 0n) {
    throw new InvalidEmissionInput({ field: 'amount', reason: 'must be a bigint ≥ 0' })
  }
  if (!Number.isInteger(ppm) || ppm < 0 || ppm > 1_000_000) {
    throw new InvalidEmissionInput({ field: 'minerSharePpm', reason: 'must be an integer in [0, 1000000]' })
  }
}

function checkPermit(p: unknown, n: number): void {
  if (p === undefined) return
  if (!Array.isArray(p) || p.length !== n || p.some((x) => typeof x !== 'boolean')) {
    throw new InvalidEmissionInput({ field: 'validatorPermit', reason: `must be ${n} booleans` })
  }
}

function checkUnits(field: 'incentive' | 'dividends' | 'stake', v: unknown, n: number): void {
  if (!Array.isArray(v)) throw new InvalidEmissionInput({ field, reason: 'not an array' })
  if (v.length !== n) throw new InvalidEmissionInput({ field, reason: `length ${v.length}, expected ${n}` })
  for (let i = 0; i < n; i++) {
    const x: unknown = v[i]
    if (typeof x !== 'bigint' || x < 0n) throw new InvalidEmissionInput({ field, reason: 'entry must be a bigint ≥ 0', index: [i] })
  }
}

/**
 * The validator pool's weights: dividends, or (step 9, dividends all 0) permitted stake, or (no uid holds a permit)
 * all stake. Undefined when there is no such weight at all.
 */
function validatorWeights(input: EmissionUnitsInput): { weights: readonly bigint[]; byStake: boolean } | undefined {
  if (sumOf(input.dividends) > 0n) return { weights: input.dividends, byStake: false }
  const { stake, validatorPermit: permit } = input
  if (stake === undefined) return undefined
  const permitted = stake.map((s, i) => (permit === undefined || permit[i] === true ? s : 0n))
  if (sumOf(permitted) > 0n) return { weights: permitted, byStake: true }
  if (sumOf(stake) > 0n) return { weights: stake, byStake: true }
  return undefined
}

/**
 * Splits one epoch's emission for one Brain on exact integer weights (see the module doc): the one emission split
 * of the chain, used by {@link splitEmission} and by the ledger's epoch (ledger/emission.ts).
 *
 * @throws InvalidEmissionInput naming the field, for a negative amount, an out-of-range share, mismatched
 * lengths, or entries that are not bigints ≥ 0.
 */
export function splitEmissionUnits(input: EmissionUnitsInput): EmissionSplit {
  const ppm = input.minerSharePpm ?? 500_000
  checkAmountAndShare(input.amount, ppm)
  const incentive: unknown = input.incentive
  if (!Array.isArray(incentive)) throw new InvalidEmissionInput({ field: 'incentive', reason: 'not an array' })
  const n = incentive.length
  checkUnits('incentive', incentive, n)
  checkUnits('dividends', input.dividends, n)
  if (input.stake !== undefined) checkUnits('stake', input.stake, n)
  checkPermit(input.validatorPermit, n)

  const { amount } = input
  const v = validatorWeights(input)
  const haveMiners = sumOf(input.incentive) > 0n
  let minerPool = (amount * BigInt(ppm)) / 1_000_000n
  let validatorPool = amount - minerPool
  if (!haveMiners) {
    validatorPool += minerPool
    minerPool = 0n
  }
  if (v === undefined) {
    minerPool += validatorPool
    validatorPool = 0n
  }
  const zero = (): bigint[] => new Array<bigint>(n).fill(0n)
  const miner = haveMiners && minerPool > 0n ? largestRemainder(minerPool, input.incentive) : zero()
  const validator = v !== undefined && validatorPool > 0n ? largestRemainder(validatorPool, v.weights) : zero()
  const undistributed = haveMiners || v !== undefined ? 0n : amount
  const total = miner.map((m, i) => m + (validator[i] as bigint))
  return { miner, validator, total, undistributed, fallbackToStake: v?.byStake ?? false }
}

/**
 * Splits one epoch's emission for one Brain (call it every `tempo` blocks after the epoch): the epoch's incentive
 * and dividends (and stake) read exactly as dyadic rationals, then {@link splitEmissionUnits}.
 *
 * @throws InvalidEmissionInput naming the field, for a negative amount, an out-of-range share, mismatched
 * lengths, or negative / NaN entries.
 */
export function splitEmission(input: EmissionSplitInput): EmissionSplit {
  const ppm = input.minerSharePpm ?? 500_000
  checkAmountAndShare(input.amount, ppm)
  const incentive: unknown = input.incentive
  if (!Array.isArray(incentive)) throw new InvalidEmissionInput({ field: 'incentive', reason: 'not an array' })
  const n = incentive.length
  checkWeights('incentive', incentive, n)
  checkWeights('dividends', input.dividends, n)
  if (input.stake !== undefined) checkWeights('stake', input.stake, n)
  checkPermit(input.validatorPermit, n)
  return splitEmissionUnits({
    amount: input.amount,
    incentive: dyadicVector(input.incentive),
    dividends: dyadicVector(input.dividends),
    minerSharePpm: ppm,
    ...(input.stake === undefined ? {} : { stake: dyadicVector(input.stake) }),
    ...(input.validatorPermit === undefined ? {} : { validatorPermit: input.validatorPermit }),
  })
}
