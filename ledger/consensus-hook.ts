/**
 * The ledger's bridge to `basedai/consensus`: an {@link EpochHook} that runs the consensus epoch (`runEpoch()`) on a
 * Brain's metagraph every tempo blocks, with the rule the chain's parameters name (Yuma by default, or the seed's
 * sigmoid rule) and, when Credits are on, each validator's Credits (accrued and returned for the ledger to store).
 *
 * - uids: the Brain's participants sorted by uid; row i of the weight matrix is what validator i set with
 *   `setWeights` (entries naming absent uids are dropped); miners' rows are zero.
 * - stake: each validator's pool stake (Number of the integer units; exact below 2^53, deterministic above);
 *   validator permit = active (top 70th percentile, §3.2.3).
 * - Out: miner score = ⌊incentive × 10^9⌉, validator score = ⌊dividends × 10^9⌉, bonds stored sparsely for the next
 *   epoch, Brain performance = 1 + ⌊10^6 × Σᵢ sᵢ·vtrustᵢ⌋ over permitted validators (sᵢ = stake share): the
 *   stake-weighted fraction of the validators' weight that survived consensus clipping, plus 1 so a Brain whose
 *   validators have not set weights still competes by stake alone.
 * - Forecasting (§3.4.2, ledger/forecast.ts): when the input carries permitted validators' forecast Accuracy and β(t) > 0 (t =
 *   the height, years of `betaBlocksPerYear` blocks), the incentive becomes I = normalise(Î + β(t)·Â) over all uids
 *   (forecast/scoring.ts `forecastIncentive`, exact BigInt Q40; Î = consensus incentive, Â = accuracies normalised):
 *   miner score = ⌊I × 10^9⌋ and `validatorIncentives` = ⌊I × 10^9⌋ for validators, so the forecasters' term is paid
 *   out of the same incentive part as miners (one split). At β = 0 or with no accuracy the output is as without.
 * - `metrics`: every uid's rank, trust, consensus, incentive (the one paid: blended when the forecaster term applies)
 *   and dividends as ⌊x × 10^9⌉, which emission.ts stores in the Brain's epoch record for `GetMetagraph`.
 * - Rule and Credits (params `epochRule`, `creditMaxBoostPpm`, `creditHalfCredits`; docs/CONSENSUS.md "On the
 *   chain"): `input.rule` picks the consensus rule; `input.credits` (present while Credits are on) carries each uid's
 *   Credits before the epoch and the influence, and the output's `credits` each uid's Credits after it.
 * - A degenerate input that the consensus module rejects (e.g. no permitted stake) falls back to "no change" —
 *   the same input always gives the same fallback, so determinism holds.
 */
import { runEpoch, type EpochDetail } from '../consensus/index.ts'
import { forecastIncentive } from '../forecast/scoring.ts'
import type { EpochHook, EpochOutput } from './emission.ts'

export const consensusEpochHook: EpochHook = (input): EpochOutput => {
  const parts = [
    ...input.validators.map((v) => ({ ...v, validator: true })),
    ...input.miners.map((m) => ({ ...m, validator: false })),
  ].sort((a, b) => a.uid - b.uid)
  const n = parts.length
  if (n === 0 || input.validators.length === 0) return {}
  const index = new Map<number, number>(parts.map((p, i) => [p.uid, i]))
  const stake = parts.map((p) => (p.validator ? Number(p.stake) : 0))
  const permit = parts.map((p) => p.validator && p.active)
  const weights = parts.map(() => new Array<number>(n).fill(0))
  parts.forEach((p, i) => {
    for (const [uid, w] of p.weights) {
      const j = index.get(uid)
      if (j !== undefined) (weights[i] as number[])[j] = w
    }
  })
  const bonds = parts.map(() => new Array<number>(n).fill(0))
  for (const [from, to, v] of input.bonds) {
    const i = index.get(from)
    const j = index.get(to)
    if (i !== undefined && j !== undefined) (bonds[i] as number[])[j] = v
  }
  const credits = input.credits
  const previousCredits = credits ? creditsByIndex(credits.previous, index, n) : undefined
  let out: EpochDetail
  try {
    out = runEpoch({
      stake, weights, validatorPermit: permit, bonds, rule: input.rule ?? 'yuma',
      ...(credits && previousCredits ? { credits: previousCredits, creditInfluence: credits.influence } : {}),
    })
  } catch {
    return {}
  }
  const at = (arr: readonly number[], uid: number): number => arr[index.get(uid) as number] ?? 0
  const toScore = (x: number): bigint => BigInt(Math.round(Math.max(0, x) * 1e9))
  let permitted = 0
  parts.forEach((p, i) => {
    if (permit[i]) permitted += stake[i] as number
  })
  let agreement = 0
  if (permitted > 0) parts.forEach((p, i) => {
    if (permit[i]) agreement += ((stake[i] as number) / permitted) * (out.validatorTrust[i] ?? 0)
  })
  // Only permitted validators (stake in the top 70th percentile) earn the forecaster term: unstaked validator keys
  // running one model cannot multiply an operator's share.
  const blended = blend(input.height, input.betaBlocksPerYear, out.incentive, parts.map((p, i) => (permit[i] ? (p.forecastAccuracyQ40 ?? 0n) : 0n)))
  const sparse: Array<readonly [number, number, number]> = []
  out.bonds.forEach((row, i) => row.forEach((v, j) => {
    if (v !== 0) sparse.push([(parts[i] as { uid: number }).uid, (parts[j] as { uid: number }).uid, v] as const)
  }))
  return {
    performance: 1n + BigInt(Math.floor(Math.min(1, Math.max(0, agreement)) * 1e6)),
    minerScores: input.miners.map((m) => (blended ? (blended[index.get(m.uid) as number] ?? 0n) : toScore(at(out.incentive, m.uid)))),
    validatorScores: input.validators.map((v) => toScore(at(out.dividends, v.uid))),
    bonds: sparse,
    metrics: parts.map((p, i) => ({
      uid: p.uid, rank: toScore(out.rank[i] ?? 0), trust: toScore(out.trust[i] ?? 0), consensus: toScore(out.consensus[i] ?? 0),
      incentive: blended ? (blended[i] ?? 0n) : toScore(out.incentive[i] ?? 0), dividends: toScore(out.dividends[i] ?? 0),
    })),
    ...(blended ? { validatorIncentives: input.validators.map((v) => blended[index.get(v.uid) as number] ?? 0n) } : {}),
    ...(credits ? { credits: parts.map((p, i) => [p.uid, out.credits[i] ?? 0n] as const) } : {}),
  }
}

/** The Yuma hook's old name: the same hook (Yuma is the default rule; `input.rule` may name another). */
export const yumaEpochHook: EpochHook = consensusEpochHook

/** Credits per row of the epoch from (uid, Credits) pairs; uids not in the metagraph are dropped. */
function creditsByIndex(pairs: ReadonlyArray<readonly [number, bigint]>, index: ReadonlyMap<number, number>, n: number): bigint[] {
  const out = new Array<bigint>(n).fill(0n)
  for (const [uid, c] of pairs) {
    const i = index.get(uid)
    if (i !== undefined && c > 0n) out[i] = c
  }
  return out
}

/**
 * I = normalise(Î + β(t)·Â) as integer scores (⌊I·10^9⌋ from the exact Q40 value), or undefined when the forecaster
 * term is absent (no accuracy above 0, β(t) = 0, or no year length given).
 */
function blend(height: number, blocksPerYear: number | undefined, incentive: readonly number[], accuracy: readonly bigint[]): bigint[] | undefined {
  if (blocksPerYear === undefined || !accuracy.some((a) => a > 0n)) return undefined
  let r: ReturnType<typeof forecastIncentive>
  try {
    r = forecastIncentive({ consensusIncentive: incentive, accuracyQ40: accuracy, block: height, blocksPerYear })
  } catch {
    return undefined // malformed input (cannot happen from the ledger's own records): no forecaster term, deterministically
  }
  if (r.beta.num === 0n) return undefined
  return r.incentiveQ40.map((x) => (x * 1_000_000_000n) >> 40n)
}
