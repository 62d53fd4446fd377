/**
 * Emission, epochs and governance tallies: what happens at the end of every block.
 *
 * 1. **Block reward** `R(h) = initialBlockReward >> ⌊h / halvingInterval⌋` (10 $BASED, halving every 3,155,760
 *    blocks: blocks 1 … 3,155,759 pay 10, block 3,155,760 pays 5).
 * 2. **Split across Brains.** Weight of Brain b: `wᵦ = min(stakeᵦ, cap) × performanceᵦ` with
 *    `cap = totalStake × brainStakeCapBps / 10⁴` (0.5%, §3.3.2) and performance from the last epoch (1 until the
 *    consensus module supplies scores). `bonusBps` (10%) of R is the **top-30% bonus**: it goes to the ⌈30% × n⌉
 *    Brains ranked first by (performance desc, weight desc, id asc), in proportion to their weights. The other 90%
 *    goes to every active Brain in proportion to weight. All-zero weights split equally. Splits use
 *    largest-remainder rounding (math.ts), so exactly R is credited, to `brain.pending`.
 * 3. **Epoch** of Brain b at heights where `(h + b) % tempo === 0` (staggered like subtensor): the injected
 *    {@link EpochHook} (the consensus module, with the chain's `epochRule` and, when `creditMaxBoostPpm` > 0, each
 *    participant's Credits, stored under `k:<id>` by ledger/credits.ts) returns performance and scores, then `pending`
 *    is distributed: owner cut `ownerBps` (25%) to `rewardTo` (withheld into the participants' part while a staked
 *    Brain is inside its 90-day lock); the rest with consensus's one emission split (`splitEmissionUnits`,
 *    consensus/emission.ts, `minerBps` = its miner share): miners by score (to the personal key that registered
 *    each), the stakers' side over the *active* validators' pools (by consensus dividends, or stake) and the Brain's
 *    own pool, weighted so that the Brain pool and the validator pools share it by stake; inside a pool, positions
 *    by amount. The split's fallbacks apply: with no incentive the miners' part joins the stakers', with no staker
 *    the stakers' part joins the miners'; what nobody can receive goes to the owner's `rewardTo`.
 *    Before the epochs, the forecast round whose scoring height this is is scored (ledger/forecast.ts); the epoch
 *    passes the validators' mean Accuracy since the last epoch to the hook, which may return `validatorIncentives`
 *    (I = R·C + β(t)·Accuracy): validators then share the incentive part with miners.
 *    Each epoch stores its outputs per uid (the hook's `metrics`, the emission paid for each uid) and the owner cut
 *    and Brain-pool part in the epoch record `e:<id>` (records.ts), so the state root covers them.
 * 4. **Governance**: proposals whose deadline is this height are tallied (see `tally`).
 *
 * Supply identity maintained exactly after every block (checked by `auditSupply` in tests):
 *   Σ account.based + Σ stake positions + Σ brain.pending = basedGenesis + emitted
 *   Σ account.pepe + Σ brain.lockedPepe = pepeGenesis + pepeMinted − pepeBurned
 * Transaction fees move from sender to proposer, so they appear in neither side.
 */
import { toHex } from './codec.ts'
import { CREDIT_ONE, splitEmissionUnits, type ConsensusRule, type CreditInfluence } from '../consensus/index.ts'
import { BRAIN_POOL, type Brain, type EpochMetrics, type EpochUid, type Globals, type Participant } from './records.ts'
import type { State } from './state.ts'
import { activeMask, splitProportional } from './math.ts'
import { GOVERNABLE, withParam, type Params } from './params.ts'
import { forecastEndBlock, takeAccuracies } from './forecast.ts'
import { brainCredits, setBrainCredits, type CreditEntry } from './credits.ts'

/** Block reward at height h (h ≥ 1). */
export function blockReward(p: Params, height: number): bigint {
  const halvings = Math.floor(height / p.halvingInterval)
  return halvings >= 128 ? 0n : p.initialBlockReward >> BigInt(halvings)
}

export interface EpochParticipant {
  readonly key: Uint8Array
  readonly uid: number
  readonly score: bigint
  /** Stake in the validator's pool (0 for miners). */
  readonly stake: bigint
  /** Validators: in the top 70th percentile (§3.2.3). Miners: always true. */
  readonly active: boolean
  /** Validators: the (uid, weight) pairs it set with `setWeights` (uids ascending). Miners: empty. */
  readonly weights: ReadonlyArray<readonly [number, number]>
  /**
   * Validators: mean forecast Accuracy (Q40, 2^40 = 1) over the rounds scored since the Brain's last epoch
   * (ledger/forecast.ts; 0 for a validator that did not commit or did not reveal). Absent when no round was scored.
   */
  readonly forecastAccuracyQ40?: bigint
}
export interface EpochInput {
  readonly brain: number
  readonly height: number
  readonly miners: readonly EpochParticipant[]
  readonly validators: readonly EpochParticipant[]
  /** Bonds stored by the previous epoch: (validator uid, uid, value). */
  readonly bonds: ReadonlyArray<readonly [number, number, number]>
  /** Length of a year in blocks for β(t) (the governable `forecastBlocksPerYear`). */
  readonly betaBlocksPerYear?: number
  /** The consensus rule (the governable `epochRule`; absent: Yuma). */
  readonly rule?: ConsensusRule
  /** Present while Credits are on: the influence and each uid's Credits (Q40) before this epoch. */
  readonly credits?: {
    readonly influence: CreditInfluence
    readonly previous: ReadonlyArray<readonly [number, bigint]>
  }
}
/**
 * Result of a consensus epoch; omitted fields keep their stored values. Must be a pure function of the input.
 * When `minerScores` is given, miners are paid strictly by those scores (all zero: the miners' part goes to the
 * stakers); otherwise by stored scores, equally when all are zero. When `validatorScores` is given and not all zero,
 * the validator pools' share is divided by those scores (consensus dividends) instead of by pool stake.
 */
export interface EpochOutput {
  readonly performance?: bigint
  readonly minerScores?: readonly bigint[]
  readonly validatorScores?: readonly bigint[]
  readonly bonds?: ReadonlyArray<readonly [number, number, number]>
  /**
   * Validators' share of the incentive I = R·C + β(t)·Accuracy (same scale as `minerScores`). When given and not all
   * zero, the incentive part (`minerBps`) is split over miners and validators together by these scores, the
   * validators' shares paid to the personal key that registered each.
   */
  readonly validatorIncentives?: readonly bigint[]
  /** Per-uid consensus columns (⌊x × 10⁹⌉), stored with the epoch's emission in the Brain's epoch record (`e:<id>`). */
  readonly metrics?: ReadonlyArray<EpochMetrics & { readonly uid: number }>
  /** Each uid's Credits (Q40) after this epoch, when the input carried Credits; the ledger stores them (`k:<id>`). */
  readonly credits?: ReadonlyArray<readonly [number, bigint]>
}
/** Injected consensus: called once per Brain per tempo, inside block execution. Must be deterministic. */
export type EpochHook = (input: EpochInput) => EpochOutput
/** Every Brain performs equally, stored scores are kept, miners share equally (the pre-consensus behaviour). */
export const equalPerformance: EpochHook = () => ({})

export function isGigaBrain(b: Brain, g: Globals, p: Params): boolean {
  return g.totalStake > 0n && b.stake * 10_000n >= g.totalStake * BigInt(p.gigaBrainBps)
}

/** Stake of a Brain counted for emission (§3.3.2). */
export function cappedStake(b: Brain, g: Globals, p: Params): bigint {
  const cap = (g.totalStake * BigInt(p.brainStakeCapBps)) / 10_000n
  return b.stake < cap ? b.stake : cap
}

/** Credits R(h) to the active Brains' pending emission. Returns the amount emitted. */
export function emit(st: State, g: Globals, p: Params, height: number): bigint {
  const reward = blockReward(p, height)
  if (reward === 0n || g.brains.length === 0) return 0n
  const brains = g.brains.map((id) => st.brain(id) as Brain)
  const weights = brains.map((b) => cappedStake(b, g, p) * b.performance)
  const bonus = (reward * BigInt(p.bonusBps)) / 10_000n
  const base = reward - bonus
  const baseShares = splitProportional(base, weights)
  const topN = Math.ceil((brains.length * p.bonusTopPercent) / 100)
  const shares = baseShares.slice()
  if (topN > 0) {
    const order = [...brains.keys()].sort((i, j) => {
      const bi = brains[i] as Brain
      const bj = brains[j] as Brain
      if (bi.performance !== bj.performance) return bi.performance > bj.performance ? -1 : 1
      const wi = weights[i] as bigint
      const wj = weights[j] as bigint
      if (wi !== wj) return wi > wj ? -1 : 1
      return bi.id - bj.id
    })
    const top = order.slice(0, topN)
    const bonusShares = splitProportional(bonus, top.map((i) => weights[i] as bigint))
    top.forEach((i, k) => (shares[i] = (shares[i] as bigint) + (bonusShares[k] as bigint)))
  } else {
    shares[0] = (shares[0] as bigint) + bonus
  }
  brains.forEach((b, i) => {
    b.pending += shares[i] as bigint
    st.setBrain(b)
  })
  g.emitted += reward
  return reward
}

/** One Brain's members as the epoch sees them: compute key, its hex, and the participant record. */
interface Member {
  readonly key: Uint8Array
  readonly hex: string
  readonly p: Participant | undefined
}

/** Runs the epoch hook for a Brain and distributes its pending emission (see module doc). */
export function runEpoch(st: State, b: Brain, p: Params, height: number, hook: EpochHook): void {
  const member = (k: Uint8Array): Member => ({ key: k, hex: toHex(k), p: st.participant(b.id, toHex(k)) })
  const miners = st.members(b.id, 'miner').map(member)
  const validators = st.members(b.id, 'validator').map(member)
  const active = activeMask(validators.map((v) => v.p?.stake ?? 0n), p.activeValidatorPercentile)
  const accuracy = takeAccuracies(st, b.id)
  const creditsOn = p.creditMaxBoostPpm > 0
  const stored = creditsOn ? brainCredits(st, b.id) : []
  const out = hook({
    brain: b.id,
    height,
    miners: miners.map((m) => ({ key: m.key, uid: m.p?.uid ?? 0, score: m.p?.score ?? 0n, stake: 0n, active: true, weights: [] })),
    validators: validators.map((v, i) => ({
      key: v.key, uid: v.p?.uid ?? 0, score: v.p?.score ?? 0n, stake: v.p?.stake ?? 0n, active: active[i] === true,
      weights: st.weights(b.id, v.hex),
      ...(accuracy ? { forecastAccuracyQ40: accuracy.get(v.hex) ?? 0n } : {}),
    })),
    bonds: st.bonds(b.id),
    betaBlocksPerYear: p.forecastBlocksPerYear,
    rule: p.epochRule,
    ...(creditsOn ? { credits: { influence: creditInfluence(p), previous: currentCredits(stored, [...validators, ...miners]) } } : {}),
  })
  if (out.performance !== undefined && out.performance >= 0n) b.performance = out.performance
  if (out.bonds) st.setBonds(b.id, out.bonds)
  if (creditsOn && out.credits) storeCredits(st, b.id, out.credits, [...validators, ...miners])
  const consensusMiners = out.minerScores !== undefined && out.minerScores.length === miners.length
  if (consensusMiners) updateScores(st, b.id, miners, out.minerScores ?? [])
  const consensusValidators = out.validatorScores !== undefined && out.validatorScores.length === validators.length
  if (consensusValidators) updateScores(st, b.id, validators, out.validatorScores ?? [])

  const paid = new Map<number, bigint>()
  let paidOwner = 0n
  let paidBrainPool = 0n
  if (b.pending > 0n) {
    const r = distribute(st, b, height, miners, validators, active, { consensusMiners, consensusValidators, validatorIncentives: out.validatorIncentives })
    for (const [uid, x] of r.paid) paid.set(uid, x)
    paidOwner = r.owner
    paidBrainPool = r.brainPool
    b.pending = 0n
  }
  const metrics = new Map((out.metrics ?? []).map((m) => [m.uid, m] as const))
  const rows: EpochUid[] = []
  for (const x of [...validators, ...miners]) {
    if (!x.p) continue
    const m = metrics.get(x.p.uid)
    const emission = paid.get(x.p.uid) ?? 0n
    rows.push(m ? { uid: x.p.uid, emission, metrics: { rank: m.rank, trust: m.trust, consensus: m.consensus, incentive: m.incentive, dividends: m.dividends } } : { uid: x.p.uid, emission })
  }
  rows.sort((x, y) => x.uid - y.uid)
  st.setEpochRecord(b.id, { height, ownerCut: paidOwner, brainPool: paidBrainPool, rows })
  st.setBrain(b)
}

function updateScores(st: State, brain: number, members: readonly Member[], scores: readonly bigint[]): void {
  members.forEach((m, i) => {
    if (!m.p) return
    m.p.score = scores[i] ?? m.p.score
    st.setParticipant(brain, m.hex, m.p)
  })
}

/** The Credit influence the parameters set (consensus/credits.ts). */
function creditInfluence(p: Params): CreditInfluence {
  return { maxBoostPpm: p.creditMaxBoostPpm, halfCredits: BigInt(p.creditHalfCredits) * CREDIT_ONE }
}

/** Stored Credits of the Brain's current participants, by uid (an entry of a compute key no longer at that uid is 0). */
function currentCredits(stored: readonly CreditEntry[], members: readonly Member[]): Array<readonly [number, bigint]> {
  const byKey = new Map(stored.map((e) => [`${e.uid}:${e.computeKey}`, e.credits] as const))
  const out: Array<readonly [number, bigint]> = []
  for (const m of members) if (m.p) out.push([m.p.uid, byKey.get(`${m.p.uid}:${m.hex}`) ?? 0n] as const)
  return out
}

function storeCredits(st: State, brain: number, credits: ReadonlyArray<readonly [number, bigint]>, members: readonly Member[]): void {
  const keyOf = new Map<number, string>()
  for (const m of members) if (m.p) keyOf.set(m.p.uid, m.hex)
  const entries: CreditEntry[] = []
  for (const [uid, c] of credits) {
    const computeKey = keyOf.get(uid)
    if (computeKey !== undefined) entries.push({ uid, computeKey, credits: c })
  }
  setBrainCredits(st, brain, entries)
}

/** What the epoch's consensus said about how to pay (see {@link EpochOutput}). */
interface PayRule {
  readonly consensusMiners: boolean
  readonly consensusValidators: boolean
  readonly validatorIncentives: readonly bigint[] | undefined
}

/**
 * Distributes the Brain's pending emission: the owner cut, then the participants' part with consensus's one split
 * (`splitEmissionUnits`, consensus/emission.ts) over every recipient at once — miners (and, with the forecaster
 * term, validators) by incentive, the stakers' side by dividends: each active validator's pool by its consensus
 * dividends (or stake) scaled by the validators' stake, the Brain's own pool by its direct stake scaled by the
 * validators' total weight, so that one largest-remainder pass pays exactly what the two-stage rule (Brain pool vs
 * validator pools by stake, then validator pools by dividends) says. Inside a pool, stakers by position. What
 * nobody can receive (no incentive, no stake) goes to the owner's reward address.
 */
function distribute(
  st: State, b: Brain, height: number, miners: readonly Member[], validators: readonly Member[], active: readonly boolean[], rule: PayRule,
): { paid: Map<number, bigint>; owner: bigint; brainPool: bigint } {
  const P = b.pending
  const locked = b.method === 'stake' && height < b.unlockAt
  let owner = locked ? 0n : (P * BigInt(b.ownerBps)) / 10_000n
  const rest = P - owner

  // Incentive side: miners by score (stored scores, equally when all zero, when the epoch gave none); validators by
  // their share of the incentive I = R·C + β(t)·Accuracy when the forecaster term applies.
  const mScores = miners.map((m) => (m.p ? m.p.score : 0n))
  const mSum = mScores.reduce((a, x) => a + x, 0n)
  const minerWeights = !rule.consensusMiners && mSum === 0n ? miners.map((m) => (m.p ? 1n : 0n)) : mScores
  const vInc = rule.validatorIncentives !== undefined && rule.validatorIncentives.length === validators.length ? rule.validatorIncentives : undefined
  const vIncWeights = validators.map((v, i) => (v.p && vInc ? ((vInc[i] ?? 0n) > 0n ? (vInc[i] as bigint) : 0n) : 0n))

  // Stakers' side: the active validators' pools and the Brain's own pool.
  const inPool = validators.map((v, i) => active[i] === true && (v.p?.stake ?? 0n) > 0n)
  const byScore = rule.consensusValidators && validators.some((v, i) => inPool[i] === true && (v.p?.score ?? 0n) > 0n)
  const x = validators.map((v, i) => (inPool[i] ? (byScore ? (v.p?.score ?? 0n) : (v.p?.stake ?? 0n)) : 0n))
  const X = x.reduce((a, y) => a + y, 0n)
  const vStake = validators.reduce((a, v, i) => a + (inPool[i] ? (v.p?.stake ?? 0n) : 0n), 0n)
  const poolWeights = X === 0n ? x : x.map((y) => y * vStake)
  const directWeight = X === 0n ? b.directStake : b.directStake * X

  const split = splitEmissionUnits({
    amount: rest,
    minerSharePpm: b.minerBps * 100,
    incentive: [...minerWeights, ...vIncWeights, 0n],
    dividends: [...miners.map(() => 0n), ...poolWeights, directWeight],
  })
  owner += split.undistributed

  const paid = new Map<number, bigint>()
  const pay = (uid: number, amount: bigint): void => {
    if (amount > 0n) paid.set(uid, (paid.get(uid) ?? 0n) + amount)
  }
  const nm = miners.length
  ;[...miners, ...validators].forEach((m, i) => {
    const amount = split.miner[i] as bigint
    if (amount === 0n || !m.p) return
    st.credit(toHex(m.p.owner), 'based', amount)
    pay(m.p.uid, amount)
  })
  const pools: Array<{ target: string; amount: bigint }> = []
  validators.forEach((v, i) => {
    const amount = split.validator[nm + i] as bigint
    if (amount === 0n || !v.p) return
    pools.push({ target: v.hex, amount })
    pay(v.p.uid, amount)
  })
  const brainPool = split.validator[nm + validators.length] as bigint
  if (brainPool > 0n) pools.push({ target: BRAIN_POOL, amount: brainPool })
  for (const pool of pools) {
    const hexes = st.poolStakers(b.id, pool.target).map(toHex)
    const parts = splitProportional(pool.amount, hexes.map((h) => st.position(b.id, pool.target, h)))
    hexes.forEach((h, k) => st.credit(h, 'based', parts[k] as bigint))
  }
  st.credit(toHex(b.rewardTo), 'based', owner)
  return { paid, owner, brainPool }
}

/**
 * Tallies a proposal at its deadline. Electorate N = GigaBrains at tally time; a vote counts if its Brain is
 * still a GigaBrain. In year one (proposal created before block `halvingInterval`) it passes unless more than
 * half of N voted no; afterwards it passes only if more than half of N voted yes. A passed proposal sets the
 * parameter at once.
 */
export function tally(st: State, g: Globals, p: Params, id: number): Params {
  const prop = st.proposal(id)
  if (!prop || prop.status !== 'open') return p
  const giga = new Set<number>()
  for (const bid of g.brains) {
    const b = st.brain(bid)
    if (b && isGigaBrain(b, g, p)) giga.add(bid)
  }
  const n = giga.size
  let yes = 0
  let no = 0
  for (const v of prop.votes) {
    if (!giga.has(v.brain)) continue
    if (v.approve) yes++
    else no++
  }
  const yearOne = prop.createdAt < p.halvingInterval
  const passed = yearOne ? !(no * 2 > n) : yes * 2 > n
  prop.status = passed ? 'passed' : 'rejected'
  st.setProposal(prop)
  if (!passed) return p
  const name = GOVERNABLE[prop.param]
  if (name === undefined) return p
  const next = withParam(p, name, prop.value)
  st.setParams(next)
  return next
}

/** End-of-block processing: emission, due epochs, due tallies. Mutates `g` (caller stores it). */
export function endBlock(st: State, g: Globals, params: Params, height: number, hook: EpochHook): Params {
  emit(st, g, params, height)
  forecastEndBlock(st, g.brains, params, height)
  for (const id of g.brains) {
    if ((height + id) % params.tempo !== 0) continue
    const b = st.brain(id)
    if (b) runEpoch(st, b, params, height, hook)
  }
  let p = params
  const due = g.openProposals.filter((id) => (st.proposal(id)?.deadline ?? 0) <= height)
  for (const id of due) p = tally(st, g, p, id)
  if (due.length > 0) g.openProposals = g.openProposals.filter((id) => !due.includes(id))
  return p
}
