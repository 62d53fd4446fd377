/**
 * The consensus epoch (Yuma, as in subtensor's epoch, plus the seed's sigmoid rule, Credits and the β(t) term) as a
 * sequence of named steps, computed entirely in exact integer arithmetic:
 *
 *   stake units → 1. weights → 3. consensus → 2/4/5. prerank, clip, rank → incentive (+ β(t) term) → Credits →
 *   6. bonds → 7. dividends → outputs
 *
 * Representation (fixed.ts, docs/CONSENSUS.md): stake as integer units u (stake.ts); weights, consensus, clipped
 * weights and validator trust in Q52; prerank / rank numerators Σ_i u_i·W_ij exact (exact-sums.ts); bonds,
 * incentive, dividends, stake share and Credits in Q40. The weighted median is median.ts; the reading of float
 * inputs as fixed point is quantise.ts; bonds and dividends bonds.ts; Credits credits.ts. Every division is an exact
 * floor, and outputs are the fixed-point integers divided by 2^52 or 2^40 (exact in float64). Nothing is kept
 * between calls: each step takes what it needs and returns what it made.
 */
import { FRAC_BITS, ONE, WEIGHT_ONE, dyadicVector, fracQ40, fracQ52, mulDivFloor } from './fixed.ts'
import { ColumnMac, limbs26, normaliseBig, rowDotQ52, toNumbers } from './exact-sums.ts'
import { columnConsensus, exactColumnConsensus, medianWork } from './median.ts'
import { normaliseBondColumns, normaliseWeights } from './quantise.ts'
import { activeRows, kappaThreshold, stakeUnits, type StakeUnits } from './stake.ts'
import { bondAccrual, bondEma, dividendNumerators } from './bonds.ts'
import { DEFAULT_CREDIT_INFLUENCE, accrueCredits, boostStake } from './credits.ts'
import { betaQ40 } from './schedule.ts'
import { sigmoidConsensusQ52 } from './sigmoid.ts'
import type { ConsensusRule, CreditInfluence, EpochDetail, EpochOptions, TftTerm } from './types.ts'
import { validateEpoch } from './validate.ts'
import { EpochWorkspace } from './workspace.ts'

export { CREDIT_ONE, DEFAULT_CREDIT_INFLUENCE } from './credits.ts'

/** T_j numerators: Σ_i u_i·[W_ij > 0] over active rows (the stake with a non-zero edge to j). */
function supportStake(W: Float64Array, n: number, active: readonly number[], u: Float64Array): Float64Array {
  const TN = new Float64Array(n)
  for (const i of active) {
    const o = i * n
    const ui = u[i] as number
    for (let j = 0; j < n; j++) if ((W[o + j] as number) > 0) TN[j] = (TN[j] as number) + ui
  }
  return TN
}

/**
 * Step 3, Yuma: C_j = the largest w with Σ_{i: W_ij ≥ w} u_i ≥ ⌈κT⌉ (0 when the support is below it). With rounded
 * stake, a decision within rounding distance of κ is settled on the exact stake.
 */
function yumaConsensus(W: Float64Array, n: number, stake: StakeUnits, active: readonly number[], support: Float64Array, kappa: number): Float64Array {
  const { u, T, exact } = stake
  const thr = T === 0 ? 0 : kappaThreshold(kappa, T)
  const work = medianWork(active.length)
  const C = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    const s = support[j] as number
    let c = 0
    let margin = thr - s
    if (T > 0 && s >= thr) ({ value: c, margin } = columnConsensus(W, n, j, active, u, thr, s, work))
    if (exact !== null && margin <= n + 2) c = exactColumnConsensus(W, n, j, exact, kappa, c)
    C[j] = c
  }
  return C
}

/** Step 3, the seed's rule (§3.4.1): C_j = σ(ρ·(T_j − κ)), T_j the stake share with a non-zero edge to j. */
function sigmoidConsensus(n: number, T: number, support: Float64Array, kappa: number, rho: number): Float64Array {
  const C = new Float64Array(n)
  for (let j = 0; j < n; j++) C[j] = sigmoidConsensusQ52(support[j] as number, T, kappa, rho)
  return C
}

/** What steps 2, 4 and 5 produce: exact prerank and rank numerators and validator trust (Q52). */
interface Ranks {
  readonly prerank: bigint[]
  readonly rank: bigint[]
  readonly validatorTrust: Float64Array
}

/**
 * Steps 2, 4, 5 in one pass over the rows: P_j = Σ_i u_i·W_ij (exact); Yuma clips W̄_ij = min(W_ij, C_j) in place,
 * Tv_i = Σ_j W̄_ij and R_j = Σ_i u_i·W̄_ij; the sigmoid rule leaves W unclipped, R = P and Tv_i = Σ_j W_ij·C_j.
 */
function rankAndClip(W: Float64Array, n: number, u: Float64Array, permit: readonly boolean[], C: Float64Array, rule: ConsensusRule): Ranks {
  const preMac = new ColumnMac(n)
  const rankMac = new ColumnMac(n)
  const Tv = new Float64Array(n)
  const { hi: C1, lo: C0 } = limbs26(C)
  for (let i = 0; i < n; i++) {
    if (permit[i] !== true) continue
    const o = i * n
    const ui = u[i] as number
    if (ui > 0) preMac.addRow(ui, W, o, n)
    if (rule === 'yuma') {
      let tv = 0
      for (let j = 0; j < n; j++) {
        const w = W[o + j] as number
        const c = C[j] as number
        const wb = w < c ? w : c
        W[o + j] = wb
        tv += wb
      }
      Tv[i] = tv
      if (ui > 0) rankMac.addRow(ui, W, o, n)
    } else {
      Tv[i] = rowDotQ52(W, o, n, C1, C0)
    }
  }
  const prerank = preMac.result()
  return { prerank, rank: rule === 'yuma' ? rankMac.result() : prerank, validatorTrust: Tv }
}

/** Incentive numerators from consensus alone: R (Yuma) or R·C (sigmoid rule). */
function consensusIncentiveNumerators(rank: readonly bigint[], C: Float64Array, rule: ConsensusRule): bigint[] {
  return rule === 'yuma' ? rank.slice() : rank.map((r, j) => r * BigInt(C[j] as number))
}

/**
 * I(W, S, TFT, t) = R·C + β(t)·Accuracy(TFT), both terms as distributions: I = normalise(Î + β(t)·A·f̂) (see
 * docs/CONSENSUS.md). Returns the consensus incentive unchanged when the term is absent or vanishes.
 */
function blendForecast(consensusIncentive: Float64Array, consensusNum: bigint[], tft: TftTerm | undefined): { incentive: Float64Array; numerators: bigint[]; betaQ: number } {
  const none = { incentive: consensusIncentive, numerators: consensusNum }
  if (tft === undefined) return { ...none, betaQ: 0 }
  const betaQ = betaQ40(tft.block)
  const accQ = Math.floor(tft.accuracy * ONE)
  const f = dyadicVector(tft.forecast)
  let fSum = 0n
  for (const x of f) fSum += x
  if (betaQ === 0 || accQ === 0 || fSum === 0n) return { ...none, betaQ }
  const scale = BigInt(betaQ) * BigInt(accQ)
  const blended = new Array<bigint>(consensusIncentive.length)
  for (let j = 0; j < blended.length; j++) {
    const term = (scale * BigInt(fracQ40(f[j] as bigint, fSum))) >> BigInt(2 * FRAC_BITS)
    blended[j] = BigInt(consensusIncentive[j] as number) + term
  }
  return { incentive: normaliseBig(blended), numerators: blended, betaQ }
}

/** The Credit influence in force: explicit, or the default when Credits are passed, or none. */
function creditInfluenceOf(input: EpochOptions): CreditInfluence | null {
  if (input.creditInfluence !== undefined) return input.creditInfluence
  return input.credits === undefined ? null : DEFAULT_CREDIT_INFLUENCE
}

/** The Q40 bonds as plain rows (packed, not holey: cheaper to read back next epoch). */
function bondRows(B: Float64Array, n: number): number[][] {
  const rows = new Array<number[]>(n)
  for (let i = 0; i < n; i++) {
    const o = i * n
    const row = new Array<number>(n).fill(0)
    for (let j = 0; j < n; j++) row[j] = (B[o + j] as number) / ONE
    rows[i] = row
  }
  return rows
}

/** Output rank (R_j / T in Q52) and trust (R_j / P_j for Yuma, T_j for the sigmoid rule) per uid. */
function rankAndTrustOut(ranks: Ranks, support: Float64Array, T: number, rule: ConsensusRule): { rank: Float64Array; trust: Float64Array } {
  const n = support.length
  const Tbig = BigInt(T)
  const rank = new Float64Array(n)
  const trust = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    rank[j] = T === 0 ? 0 : Number((ranks.rank[j] as bigint) / Tbig)
    if (rule === 'yuma') trust[j] = fracQ52(ranks.rank[j] as bigint, ranks.prerank[j] as bigint)
    else trust[j] = T === 0 ? 0 : fracQ52(BigInt(support[j] as number), Tbig)
  }
  return { rank, trust }
}

/**
 * Runs one epoch with the seed's extensions. See {@link epoch} for the stable core; this adds the rule choice,
 * Credits (accrual and influence) and the β(t)·Accuracy(TFT) incentive term. `workspace` (default: a fresh one)
 * holds the two n×n work matrices; pass the same one to repeated epochs to spare the allocation (workspace.ts).
 *
 * @throws InvalidEpochInput naming the field, for wrong lengths, non-square matrices, negative/NaN/infinite
 * entries, or out-of-range parameters.
 */
export function runEpoch(input: EpochOptions, workspace: EpochWorkspace = new EpochWorkspace()): EpochDetail {
  const { n, kappa, bondsMovingAverage, rule, rho } = validateEpoch(input)
  const permit = input.validatorPermit
  const stake = stakeUnits(input.stake, permit)
  const { u, T } = stake
  const active = activeRows(u, permit)

  const W = normaliseWeights(input.weights, permit, n, workspace.matrix(0, n * n)) // 1
  const support = supportStake(W, n, active, u)
  const C = rule === 'yuma' ? yumaConsensus(W, n, stake, active, support, kappa) : sigmoidConsensus(n, T, support, kappa, rho) // 3
  const ranks = rankAndClip(W, n, u, permit, C, rule) // 2, 4, 5 (W is now W̄)

  const consensusNum = consensusIncentiveNumerators(ranks.rank, C, rule)
  const consensusIncentive = normaliseBig(consensusNum)
  const { incentive, numerators: incentiveNum, betaQ } = blendForecast(consensusIncentive, consensusNum, input.tft)

  const previousCredits = input.credits ?? new Array<bigint>(n).fill(0n)
  const { delta: creditsDelta, credits } = accrueCredits(u, ranks.validatorTrust, T, previousCredits)
  const boosted = boostStake(creditInfluenceOf(input), previousCredits, u, W, active, ranks.rank)

  const dB = bondAccrual(W, n, boosted.units, permit, boosted.colSums) // 6
  const { B, colSum } = bondEma(dB, normaliseBondColumns(input.bonds, n, workspace.matrix(1, n * n)), bondsMovingAverage, n)
  const dividends = normaliseBig(dividendNumerators(B, colSum, incentiveNum, n)) // 7

  const { rank, trust } = rankAndTrustOut(ranks, support, T, rule)
  const stakeShare = new Float64Array(n)
  if (T > 0) for (let i = 0; i < n; i++) stakeShare[i] = mulDivFloor(u[i] as number, ONE, T)
  return {
    consensus: toNumbers(C, WEIGHT_ONE),
    rank: toNumbers(rank, WEIGHT_ONE),
    trust: toNumbers(trust, WEIGHT_ONE),
    incentive: toNumbers(incentive),
    validatorTrust: toNumbers(ranks.validatorTrust, WEIGHT_ONE),
    dividends: toNumbers(dividends),
    bonds: bondRows(B, n),
    rule,
    consensusIncentive: toNumbers(consensusIncentive),
    stakeShare: toNumbers(stakeShare),
    creditsDelta,
    credits,
    bondMultiplier: toNumbers(boosted.multiplier),
    beta: betaQ / ONE,
    fallbackToStake: consensusNum.every((x) => x === 0n),
  }
}
