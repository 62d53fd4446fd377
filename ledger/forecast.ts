/**
 * The forecasting Enforcer on the chain (whitepaper §3.3.3–3.4, issue 15): validators commit to and reveal forecasts
 * of their Brain's own transaction series, the ledger scores them with the quantile loss in exact integers, and the
 * accuracy enters the validators' incentive at the Brain's epoch as I = R·C + β(t)·Accuracy (consensus-hook.ts).
 * The cryptography and the scoring are forecast/scoring.ts's and forecast/schedule.ts's, called as they are.
 *
 * - **Rounds.** With `forecastPeriod` P > 0, every height O = k·P (k ≥ 1) is a round origin for every Brain. A round
 *   asks for τ = `forecastHorizon` windows of `forecastBlocksPerStep` blocks starting at O, at the quantile levels
 *   {@link FORECAST_QUANTILES_PPM}. Commit window [O − commitLead, O), reveal window [O, O + revealWindow)
 *   (`roundSchedule`), scoring at the end of block O + D, D = max(revealWindow, τ·blocksPerStep).
 * - **Realised quantity.** y_k = the number of transactions *applied* in window k that name the Brain (setBrain,
 *   transferBrain, register, addStake, removeStake, vote, setWeights; not the forecast transactions themselves, and
 *   not failed ones), counted at execution into `f:<brain>:t:<window>` with window = ⌊height / blocksPerStep⌋.
 *   Counters no round can still need are deleted.
 * - **Commit** `commitForecast{brain, computeKey, originHeight, commitment}`: a registered validator of the Brain,
 *   signed by the personal key that registered it, inside the commit window. A commitment another validator already
 *   holds in the round is a copy: {@link CopiedCommitment} (at admission and in the block, where it fails and pays
 *   its fee). A validator may replace its own commitment while the window is open (so a front-runner that copied
 *   an honest commitment first cannot lock the honest validator out: it re-commits with a fresh salt, and the
 *   copy, which only the original's key opens, scores 0).
 * - **Reveal** `revealForecast{brain, computeKey, originHeight, values, salt}` inside the reveal window: τ·Q values
 *   (`InvalidForecast` otherwise), opening the commitment (`RevealMismatch` otherwise), once.
 * - **Score**: `scoreRound` over the round's commitments and reveals against y: A = 1/(1 + mean q-risk) in Q40,
 *   exact BigInt; committed but not revealed → 0, the worst. Per validator, the accuracies of the rounds scored
 *   since the Brain's last epoch are summed in `f:<brain>:a` with the number of rounds; the epoch uses the mean
 *   (a validator absent from a round counts 0 for it) and clears the record.
 *
 * Every record is in the state (so the state root covers it); keys (all in shard 0, `shardOf`'s default):
 *   `f:<brain>:<origin>:c:<computehex>`  commitment, height, revealed values and salt
 *   `f:<brain>:<origin>:h:<commithex>`   commitment → the validator holding it (copy detection)
 *   `f:<brain>:t:<window>`               the Brain's transaction count in a window
 *   `f:<brain>:a`                        accuracy sums since the last epoch
 */
import { Reader, Writer, bytesEqual, fromHex, toHex, DecodeError } from './codec.ts'
import { CorruptState, InvalidForecast, PermissionDenied, UnknownBrain, UnknownParticipant } from './errors.ts'
import type { Params } from './params.ts'
import type { State } from './state.ts'
import type { TxBody } from './tx.ts'
import { CopiedCommitment, InvalidForecastRecord } from '../forecast/errors.ts'
import { commitForecast, scoreRound, verifyReveal, Q40_ONE, type ForecastRecord, type RoundSpec } from '../forecast/scoring.ts'
import { checkRoundWindow, roundSchedule, type RoundSchedule } from '../forecast/schedule.ts'

/** Quantile levels of every on-chain round (P10, P50, P90), in parts per million. */
export const FORECAST_QUANTILES_PPM: readonly number[] = [100_000, 500_000, 900_000]

export const ForecastKeys = {
  round: (brain: number, origin: number) => `f:${brain}:${origin}:`,
  commit: (brain: number, origin: number, ckHex: string) => `f:${brain}:${origin}:c:${ckHex}`,
  holder: (brain: number, origin: number, commitHex: string) => `f:${brain}:${origin}:h:${commitHex}`,
  count: (brain: number, window: number) => `f:${brain}:t:${window}`,
  accuracy: (brain: number) => `f:${brain}:a`,
  brain: (brain: number) => `f:${brain}:`,
} as const

export interface CommitRecord {
  readonly commitment: Uint8Array
  readonly at: number
  readonly revealed: boolean
  readonly values: readonly bigint[]
  readonly salt: Uint8Array
}
/** Accuracy sums (Q40) per validator compute key (hex) over `rounds` scored rounds since the last epoch. */
export interface AccuracySums {
  readonly rounds: number
  readonly sums: ReadonlyMap<string, bigint>
}

export function forecastEnabled(p: Params): boolean {
  return p.forecastPeriod > 0
}

/** The block schedule of the round starting at `origin` under `p`. */
export function forecastRound(p: Params, origin: number): RoundSchedule {
  return roundSchedule({
    originHeight: origin, blocksPerStep: p.forecastBlocksPerStep, horizon: p.forecastHorizon,
    commitLead: p.forecastCommitLead, revealWindow: p.forecastRevealWindow,
  })
}

/** Blocks from a round's origin to the end of the block that scores it. */
export function scoreDelay(p: Params): number {
  return Math.max(p.forecastRevealWindow, p.forecastHorizon * p.forecastBlocksPerStep)
}

/** The forecast record a validator commits to for Brain `brain`'s round at `origin` (values τ × Q, window-major). */
export function forecastRecord(p: Params, brain: number, origin: number, values: readonly bigint[]): ForecastRecord {
  return { brain, originHeight: origin, blocksPerStep: p.forecastBlocksPerStep, quantilesPpm: FORECAST_QUANTILES_PPM, values }
}

/** The 32-byte commitment a validator (compute key) posts with `commitForecast`. */
export function forecastCommitment(
  p: Params, brain: number, origin: number, computeKey: Uint8Array, values: readonly bigint[], salt: Uint8Array,
): Uint8Array {
  return commitForecast(computeKey, forecastRecord(p, brain, origin, values), salt)
}

/**
 * {@link OutOfRoundWindow} unless `height` is inside the `action` window of the round at `origin`; a round that
 * cannot be scheduled (its end beyond 2^53) is an {@link InvalidForecast}, never an untyped throw.
 */
function checkWindow(p: Params, origin: number, action: 'commit' | 'reveal', height: number): void {
  let s: RoundSchedule
  try {
    s = forecastRound(p, origin)
  } catch (e) {
    if (e instanceof InvalidForecastRecord) throw new InvalidForecast({ field: 'originHeight', reason: e.reason })
    throw e
  }
  checkRoundWindow(s, action, height)
}

/** Checks the forecasting rules common to commit and reveal; returns the compute key's hex. */
function checkValidator(st: State, p: Params, from: Uint8Array, brain: number, computeKey: Uint8Array, origin: number): string {
  if (!forecastEnabled(p)) throw new InvalidForecast({ field: 'kind', reason: 'forecasting is off (forecastPeriod = 0)' })
  if (!st.brain(brain)) throw new UnknownBrain({ brain })
  const ckHex = toHex(computeKey)
  const v = st.participant(brain, ckHex)
  if (!v || v.role !== 'validator') throw new UnknownParticipant({ brain, key: ckHex })
  if (!bytesEqual(v.owner, from)) throw new PermissionDenied({ reason: 'only the validator\'s personal key forecasts for it' })
  if (origin < p.forecastPeriod || origin % p.forecastPeriod !== 0)
    throw new InvalidForecast({ field: 'originHeight', reason: `round origins are positive multiples of ${p.forecastPeriod}` })
  return ckHex
}

function encodeCommit(c: CommitRecord): Uint8Array {
  const w = new Writer(64 + 10 * c.values.length).fixed(c.commitment, 32).uint(c.at).bool(c.revealed).bytes(c.salt)
  w.uint(c.values.length)
  // Values as sign flag + magnitude (canonical: a zero is never negative).
  for (const v of c.values) w.bool(v < 0n).big(v < 0n ? -v : v)
  return w.finish()
}
function decodeCommit(key: string, b: Uint8Array): CommitRecord {
  try {
    const r = new Reader(b)
    const commitment = r.fixed(32, 'commitment')
    const at = r.uint('at')
    const revealed = r.bool('revealed')
    const salt = r.bytes('salt', 1024)
    const n = r.uint('values')
    const values: bigint[] = []
    for (let i = 0; i < n; i++) {
      const neg = r.bool('sign')
      const m = r.big('value')
      values.push(neg ? -m : m)
    }
    r.end()
    return { commitment, at, revealed, values, salt }
  } catch (e) {
    if (e instanceof DecodeError) throw new CorruptState({ key, reason: `${e.field}: ${e.reason}` })
    throw e
  }
}

/** The stored commitment of a validator (compute key hex) in a round, if any. */
export function readCommit(st: State, brain: number, origin: number, ckHex: string): CommitRecord | undefined {
  const key = ForecastKeys.commit(brain, origin, ckHex)
  const b = st.kv.get(key)
  return b ? decodeCommit(key, b) : undefined
}

/** Executes `commitForecast` (see module doc). */
export function execCommit(st: State, from: Uint8Array, b: Extract<TxBody, { kind: 'commitForecast' }>, height: number, p: Params): void {
  const ckHex = checkValidator(st, p, from, b.brain, b.computeKey, b.originHeight)
  checkWindow(p, b.originHeight, 'commit', height)
  const cHex = toHex(b.commitment)
  const holderKey = ForecastKeys.holder(b.brain, b.originHeight, cHex)
  const holder = st.kv.get(holderKey)
  if (holder && toHex(holder) !== ckHex) throw new CopiedCommitment({ validator: ckHex, original: toHex(holder) })
  const prev = readCommit(st, b.brain, b.originHeight, ckHex)
  if (prev) st.kv.del(ForecastKeys.holder(b.brain, b.originHeight, toHex(prev.commitment)))
  st.kv.put(holderKey, b.computeKey)
  st.kv.put(ForecastKeys.commit(b.brain, b.originHeight, ckHex), encodeCommit({
    commitment: b.commitment, at: height, revealed: false, values: [], salt: new Uint8Array(0),
  }))
}

/** Executes `revealForecast` (see module doc). */
export function execReveal(st: State, from: Uint8Array, b: Extract<TxBody, { kind: 'revealForecast' }>, height: number, p: Params): void {
  const ckHex = checkValidator(st, p, from, b.brain, b.computeKey, b.originHeight)
  checkWindow(p, b.originHeight, 'reveal', height)
  const c = readCommit(st, b.brain, b.originHeight, ckHex)
  if (!c) throw new InvalidForecast({ field: 'commitment', reason: 'no commitment of this validator in this round' })
  if (c.revealed) throw new InvalidForecast({ field: 'reveal', reason: 'already revealed' })
  const want = p.forecastHorizon * FORECAST_QUANTILES_PPM.length
  if (b.values.length !== want) throw new InvalidForecast({ field: 'values', reason: `${want} values (horizon × quantiles) expected` })
  try {
    verifyReveal(
      { validator: b.computeKey, commitment: c.commitment },
      { validator: b.computeKey, forecast: forecastRecord(p, b.brain, b.originHeight, b.values), salt: b.salt },
    )
  } catch (e) {
    // A RevealMismatch passes through as the transaction's typed error.
    if (e instanceof InvalidForecastRecord) throw new InvalidForecast({ field: e.field, reason: e.reason })
    throw e
  }
  st.kv.put(ForecastKeys.commit(b.brain, b.originHeight, ckHex), encodeCommit({ ...c, revealed: true, values: b.values, salt: b.salt }))
}

/** The Brain a transaction counts for in the realised series (undefined: not counted). */
export function countedBrain(b: TxBody): number | undefined {
  switch (b.kind) {
    case 'setBrain':
    case 'transferBrain':
    case 'register':
    case 'addStake':
    case 'removeStake':
    case 'vote':
    case 'setWeights':
      return b.brain
    default:
      return undefined
  }
}

/** Counts an applied transaction into its Brain's window (no-op when forecasting is off or the tx names no Brain). */
export function countTx(st: State, p: Params, height: number, body: TxBody): void {
  if (!forecastEnabled(p)) return
  const brain = countedBrain(body)
  if (brain === undefined) return
  const key = ForecastKeys.count(brain, Math.floor(height / p.forecastBlocksPerStep))
  st.kv.put(key, new Writer(8).uint(readCount(st, key) + 1).finish())
}

function readCount(st: State, key: string): number {
  const b = st.kv.get(key)
  if (!b) return 0
  try {
    const r = new Reader(b)
    const n = r.uint('count')
    r.end()
    return n
  } catch (e) {
    if (e instanceof DecodeError) throw new CorruptState({ key, reason: `${e.field}: ${e.reason}` })
    throw e
  }
}

/** The realised series of Brain `brain`'s round at `origin`: transactions per window (τ values). */
export function realisedSeries(st: State, p: Params, brain: number, origin: number): bigint[] {
  const first = origin / p.forecastBlocksPerStep
  return Array.from({ length: p.forecastHorizon }, (_, k) => BigInt(readCount(st, ForecastKeys.count(brain, first + k))))
}

function encodeSums(s: AccuracySums): Uint8Array {
  const keys = [...s.sums.keys()].sort()
  const w = new Writer(16 + 48 * keys.length).uint(s.rounds).uint(keys.length)
  for (const k of keys) w.fixed(fromHex(k), 32).big(s.sums.get(k) as bigint)
  return w.finish()
}

/** Accuracy sums of Brain `brain` since its last epoch (undefined when no round was scored since). */
export function readAccuracySums(st: State, brain: number): AccuracySums | undefined {
  const key = ForecastKeys.accuracy(brain)
  const b = st.kv.get(key)
  if (!b) return undefined
  try {
    const r = new Reader(b)
    const rounds = r.uint('rounds')
    const n = r.uint('n')
    const sums = new Map<string, bigint>()
    for (let i = 0; i < n; i++) sums.set(toHex(r.fixed(32, 'validator')), r.big('sum'))
    r.end()
    return { rounds, sums }
  } catch (e) {
    if (e instanceof DecodeError) throw new CorruptState({ key, reason: `${e.field}: ${e.reason}` })
    throw e
  }
}

/**
 * Mean accuracy (Q40) per validator compute key (hex) over the rounds scored since the last epoch, and clears the
 * sums. Undefined when no round was scored since.
 */
export function takeAccuracies(st: State, brain: number): Map<string, bigint> | undefined {
  const s = readAccuracySums(st, brain)
  if (!s) return undefined
  st.kv.del(ForecastKeys.accuracy(brain))
  if (s.rounds === 0) return undefined
  const out = new Map<string, bigint>()
  for (const [k, v] of s.sums) {
    const mean = v / BigInt(s.rounds)
    out.set(k, mean > Q40_ONE ? Q40_ONE : mean)
  }
  return out
}

/** Scores Brain `brain`'s round at `origin` (if anyone committed), adds to its accuracy sums, deletes the round. */
export function scoreBrainRound(st: State, p: Params, brain: number, origin: number): void {
  const prefix = ForecastKeys.round(brain, origin)
  const entries = [...st.kv.scan(prefix)]
  if (entries.length === 0) return
  const commitPrefix = `${prefix}c:`
  const commits: Array<{ validator: Uint8Array; commitment: Uint8Array }> = []
  const reveals: Array<{ validator: Uint8Array; forecast: ForecastRecord; salt: Uint8Array }> = []
  for (const [k, v] of entries) {
    if (!k.startsWith(commitPrefix)) continue
    const c = decodeCommit(k, v)
    const validator = fromHex(k.slice(commitPrefix.length))
    commits.push({ validator, commitment: c.commitment })
    if (c.revealed) reveals.push({ validator, forecast: forecastRecord(p, brain, origin, c.values), salt: c.salt })
  }
  if (commits.length > 0) {
    const round: RoundSpec = {
      brain, originHeight: origin, blocksPerStep: p.forecastBlocksPerStep, quantilesPpm: FORECAST_QUANTILES_PPM,
      horizon: p.forecastHorizon,
    }
    const scores = scoreRound({ round, commits, reveals, realised: realisedSeries(st, p, brain, origin) })
    const prev = readAccuracySums(st, brain)
    const sums = new Map(prev?.sums ?? [])
    for (const s of scores) sums.set(s.validator, (sums.get(s.validator) ?? 0n) + s.accuracyQ40)
    st.kv.put(ForecastKeys.accuracy(brain), encodeSums({ rounds: (prev?.rounds ?? 0) + 1, sums }))
  }
  for (const [k] of entries) st.kv.del(k)
}

/**
 * End-of-block forecasting work (before the epochs): score the round whose scoring height this is, for every
 * Brain, and delete window counters no round can still need.
 */
export function forecastEndBlock(st: State, brains: readonly number[], p: Params, height: number): void {
  if (!forecastEnabled(p)) return
  const origin = height - scoreDelay(p)
  if (origin >= p.forecastPeriod && origin % p.forecastPeriod === 0)
    for (const id of brains) scoreBrainRound(st, p, id, origin)
  // Rounds still to be scored start at origin + 1 or later, so they need windows ≥ ⌈(origin + 1)/bps⌉.
  if (origin > 0 && origin % p.forecastBlocksPerStep === 0) {
    const stale = origin / p.forecastBlocksPerStep - 1
    for (const id of brains) {
      const key = ForecastKeys.count(id, stale)
      if (st.kv.get(key)) st.kv.del(key)
    }
  }
}

/** Deletes every forecasting record of a Brain (when it is deactivated). */
export function clearBrainForecasts(st: State, brain: number): void {
  for (const [k] of [...st.kv.scan(ForecastKeys.brain(brain))]) st.kv.del(k)
}
