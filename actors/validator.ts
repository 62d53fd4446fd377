/**
 * The validator actor: checks its Brain's miners with encrypted challenges whose answers it knows (whitepaper
 * §2.3.3: "ensure that miners are correctly running the model").
 *
 * A challenge is one dense product of the Brain's public model on a random int8 activation vector, encrypted under
 * the validator's own BFV key and sent as an ordinary EncryptedLinear request. Its ciphertexts are indistinguishable
 * from a user's; its request pattern is not yet (one product at a random layer, where a user's token is a burst of
 * every layer's products), so a miner that profiles request patterns could answer challenges honestly and skimp on
 * real queries. Challenges that replay whole forward passes would close that. The validator decrypts the answer and compares it,
 * exactly, with the plaintext int8 product (evaluation is deterministic: the result is exact integers). Scores are
 * an exponential moving average (α = 0.2) of correct answers; a typed error from the miner counts as a failure.
 *
 * Miners come from `args.miners` and from `RegisterMiner` (a miner served by another node, whose proxy registers it:
 * actors/remote-miner.ts); `args.challengeMs` (default 30 s; 0 = only on request) paces the timer, which
 * challenges the miners in turn and, after each full round, submits the scores as a signed `setWeights`
 * transaction (SubmitWeights) from the validator's key registered on the ledger (the dev network's keys,
 * ledger/dev.ts), which the Yuma epoch turns into the miners' share of emission.
 *
 * The forecasting Enforcer (whitepaper §3.3.3–3.4, docs/FORECAST.md "On a live chain"): unless `args.forecast` is
 * false, a validator with a dev ledger key steps every `args.forecastMs` (default 2 s; 0 = only on request) —
 * ForecastStep: it reads its Brain's realised series from the ledger (GetForecastSeries), keeps the complete windows
 * in its own history (the ledger prunes old counters), and when the next round's commit window is open forecasts
 * the round's τ windows with the forecaster that `defaultForecaster` picks on the validation span of that history
 * (seasonal naive, consensus smoothing, or the TFT once its worker thread has trained one — forecast-worker.ts — and
 * only when it scores best there; with too short a history, the empirical P10/P50/P90 of the windows seen),
 * commits the hash (salt from randomBytes, kept in its state), and reveals inside the reveal window. Failures are
 * counted in its status (forecastFailures, forecastLastError), never thrown out of the timer.
 *
 * Weights hash: before each challenge the validator asks its Brain (`args.brainActor`) for the Brain's task
 * (GetTask → TaskInfo { modelId, weightsHash }) and the miner for its status, whose `weightsHash` names the weights
 * it holds. A miner that announces other weights (or none) is not challenged: its score drops to 0 at once and
 * the challenge result says `WeightsHashMismatch`; the status shows the Brain's hash and the mismatching miners.
 * A validator whose own model is not the Brain's refuses to challenge (ValidatorRejection ModelMismatch): it could
 * not tell a right answer from a wrong one. Without `args.brainActor` the validator's own model's hash is the
 * reference.
 *
 * Start arguments: `ValidatorArgs` below (defaults there and nowhere else); `validatorRole.create(id, args)`.
 * Refusals are `ValidatorRejection { reason }` (protocol/rejections.ts): NotConfigured (no ledger key or Brain
 * index for a ledger action), UnknownMiner, ForecastMissed, BrainUnavailable, ModelMismatch.
 */
import { randomBytes, randomInt } from 'node:crypto'
import { Schema } from 'effect'
import { continueWith, defineRole, failWith, toProtocolError, type ActorContext, type ActorRef, type Behaviour, type HandleResult } from '../supervisor/runtime.ts'
import { devKeys, signTx, toAddress, toHex, withMinFee, type TxBody } from '../ledger/index.ts'
import { commitForecast, consensusSmoothing, defaultForecaster, empiricalQuantile, qRisk, seasonalNaive, type Panel, type SpanForecaster, type ValidationScore } from '../forecast/index.ts'
import { MIN_TFT_WINDOWS, startForecastWorker, tftEncoderLength, type ForecastWorkerClient, type TftCandidate } from './forecast-worker.ts'
import { isRejection, ValidatorRejection, type ForecastSeries, type ForecastStepped, type Message, type ProtocolError, type WeightsSubmitted } from '../protocol/index.ts'
import { clientDecryptLinear, clientEncryptLinear, createFheContext, createKeyGenerator, presets, type FheContext } from '../fhe/index.ts'
import { int8Linear, linearWeights, loadBrainTask, loadShippedModel, quantizeWeightInt8, type GptModel, type LinearSite } from '../model/index.ts'
import { answerBasic, basicState, BASIC_TAGS, type BasicState } from './basic.ts'
import { shippedTask } from './brain.ts'

const Index = Schema.Number.pipe(Schema.int(), Schema.positive())
const Ms = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

/** Start arguments of a validator (defaults here and nowhere else). */
export const ValidatorArgs = Schema.Struct({
  /** Addresses of the miners it challenges, in turn. */
  miners: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  /** Dev-network index of each miner in `miners` (their ledger keys, for setWeights). */
  minerDev: Schema.optional(Schema.Array(Index)),
  /** This validator's dev-network index (its ledger keys); without it no ledger action (NotConfigured). */
  dev: Schema.optional(Index),
  /** Its Brain's index on the ledger (1-based); without it no ledger action (NotConfigured). */
  brain: Schema.optional(Index),
  /** Address of its Brain actor: the reference weights hash (GetTask). Without it: its own model's hash. */
  brainActor: Schema.optional(Schema.String),
  /** Address of the ledger actor. */
  ledger: Schema.optionalWith(Schema.String, { default: () => '/root/ledger/writer' }),
  /** A Brain task directory (model/template.ts) whose model it checks; default the shipped model. */
  template: Schema.optional(Schema.String),
  /** Challenge timer period (0: only on request). */
  challengeMs: Schema.optionalWith(Ms, { default: () => 30_000 }),
  /** The forecasting Enforcer on or off. */
  forecast: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** Forecast timer period (0: only on request). */
  forecastMs: Schema.optionalWith(Ms, { default: () => 2_000 }),
  /** The TFT candidate (trained in a worker thread) on or off. */
  forecastTft: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  forecastTftSteps: Schema.optionalWith(Index, { default: () => 150 }),
  forecastTftBudgetMs: Schema.optionalWith(Index, { default: () => 20_000 }),
  /** Retrain the TFT at most every this many rounds. */
  forecastTftEvery: Schema.optionalWith(Index, { default: () => 24 }),
})
export type ValidatorArgs = typeof ValidatorArgs.Type

export const validatorRole = defineRole('validator', import.meta.url, ValidatorArgs)

interface MinerScore {
  challenges: number
  correct: number
  score: number
  /** Whether the weights hash it announced at its last challenge was the Brain's. */
  hashOk: boolean
}

/** One line for an error in the status: a family's `reason: message`, else its tag. */
function label(e: ProtocolError): string {
  return isRejection(e) ? `${e.reason}: ${e.message}` : e._tag
}

/** What a challenge result names of a miner's error: a family's reason, else its tag. */
function reasonOf(e: ProtocolError): string {
  return isRejection(e) ? e.reason : e._tag
}

export interface ValidatorState {
  readonly basic: BasicState
  readonly args: ValidatorArgs
  readonly model: GptModel
  /** The Brain's model id and weights hash (args.template's task, or the shipped model's file). */
  readonly modelId: string
  readonly weightsHash: string
  /** The Brain's weights hash as last read (GetTask), '' before the first challenge. */
  brainWeightsHash: string
  readonly fhe: FheContext
  readonly miners: string[]
  readonly scores: Map<string, MinerScore>
  next: number
  timer: NodeJS.Timeout | null
  readonly forecast: ForecastState
}

/** A forecast this validator committed and has not yet revealed. */
interface PendingForecast {
  readonly values: bigint[]
  readonly salt: Uint8Array
  readonly tx: string
  readonly forecaster: string
}

interface ForecastState {
  readonly on: boolean
  /** Complete windows seen: window index → transactions naming the Brain. */
  readonly history: Map<number, number>
  /** Round origin → the committed forecast (until revealed or given up). */
  readonly pending: Map<number, PendingForecast>
  timer: NodeJS.Timeout | null
  commits: number
  reveals: number
  failures: number
  lastError: string
  lastForecaster: string
  lastKind: ForecasterKind | ''
  readonly tft: TftSlot
}

/** The TFT in its worker thread (forecast-worker.ts): started lazily, trained at most every `every` rounds. */
interface TftSlot {
  readonly on: boolean
  readonly steps: number
  readonly budgetMs: number
  readonly every: number
  client: ForecastWorkerClient | null
  training: boolean
  /** Horizon of the trained model (0: none yet). */
  horizon: number
  roundsSinceTrain: number
  attempts: number
  trainings: number
  lastTraining: string
  /** The TFT's last validation score beside the chosen forecaster's. */
  lastScore: string
}

/** How long a forecast request may wait for the worker (it answers between training steps). */
const TFT_FORECAST_TIMEOUT_MS = 5_000

function countFailure(f: ForecastState, address: string, message: string): void {
  f.failures++
  f.lastError = message.slice(0, 400)
  const n = f.failures
  if (n <= 3 || n % 100 === 0) console.warn(`${address}: forecast step failed (${n}): ${f.lastError}`)
}

/**
 * Starts a training in the worker when the history is long enough and none is running, none was made yet, the trained
 * horizon is too short, or `every` rounds passed since the last; never awaited (the result lands in the slot).
 */
function maybeTrainTft(f: ForecastState, address: string, ys: readonly number[], firstWindow: number, ahead: number, qs: readonly number[]): void {
  const t = f.tft
  if (!t.on || t.training || ys.length < MIN_TFT_WINDOWS) return
  const horizon = ahead + 1 // one window of slack: the distance to the next origin varies by a window between rounds
  // at most once every `every` rounds (the first as soon as the history allows; a failed one waits too)
  if (t.attempts > 0 && t.roundsSinceTrain < t.every) return
  if (tftEncoderLength(ys.length, horizon) === 0) return
  if (!t.client || !t.client.alive()) {
    try {
      t.client = startForecastWorker()
    } catch (e) {
      countFailure(f, address, `TftWorker: ${e instanceof Error ? e.message : String(e)}`)
      return
    }
  }
  t.training = true
  t.attempts++
  t.roundsSinceTrain = 0
  const client = t.client
  const req = { ys: [...ys], firstWindow, horizon, steps: t.steps, timeBudgetMs: t.budgetMs, seed: 1 + t.trainings, qs: [...qs] }
  client.call((api) => api.train(req), t.budgetMs + 60_000).then(
    (r) => {
      t.horizon = r.horizon
      t.trainings++
      t.lastTraining = `${r.stepsRun} steps (best ${r.bestStep}, stopped by ${r.stoppedBy}) on ${r.windows} windows in ${Math.round(r.ms)} ms`
    },
    (e: unknown) => {
      // a worker ended by terminate() (client cleared first) is no failure
      if (t.client === client) countFailure(f, address, `TftTraining: ${e instanceof Error ? e.message : String(e)}`)
    },
  ).finally(() => {
    t.training = false
  })
}

const SITES: ReadonlyArray<LinearSite['name']> = ['attn', 'proj', 'fc', 'fcProj']

/**
 * Scores → a signed setWeights on the ledger (dev network keys: `args.dev` = this validator's index, `args.brain`
 * the cluster index of its Brain, `args.minerDev` the dev index of each miner in `args.miners`; `args.ledger` the
 * ledger actor). Weight = round(score · 65535), by the miners' uids on the Brain.
 */
async function submitWeights(state: ValidatorState, ctx: ActorContext): Promise<typeof WeightsSubmitted.Type> {
  const { ledger, brain, dev } = await ledgerSide(state.args, ctx)
  const minerDev = state.args.minerDev ?? []
  const entries: Array<{ uid: number; weight: number }> = []
  for (let i = 0; i < state.miners.length; i++) {
    const miner = state.miners[i] as string
    // a dev miner's compute key from its index; any other miner's (a remote miner's proxy, a wallet miner) from its status
    const idx = minerDev[i]
    let computeKey: string | undefined = typeof idx === 'number' ? toHex(devKeys.minerCompute(idx).publicKey) : undefined
    if (computeKey === undefined) {
      try {
        const ck = (await ctx.lookup?.(miner)?.ask({ _tag: 'GetStatus' }, { timeoutMs: 10_000 }))?.detail.computeKey
        if (typeof ck === 'string' && /^[0-9a-f]{64}$/.test(ck)) computeKey = ck
      } catch {
        // gone: no weight for it this round
      }
    }
    if (computeKey === undefined) continue
    let uid: number
    try {
      uid = (await ledger.ask({ _tag: 'GetParticipant', brain, computeKey })).uid
    } catch {
      continue // not (or no longer) registered on this Brain
    }
    const score = state.scores.get(miner)?.score ?? 0
    if (entries.some((e) => e.uid === uid)) continue
    entries.push({ uid, weight: Math.round(Math.min(1, Math.max(0, score)) * 65535) })
  }
  if (entries.length === 0) refuse(ctx, 'NotConfigured', 'no miner with a known uid on the ledger (args.minerDev, or a compute key in its status)')
  entries.sort((x, y) => x.uid - y.uid)
  const uids = entries.map((e) => e.uid)
  const weights = entries.map((e) => e.weight)
  const tx = await submitSigned(ledger, dev, { kind: 'setWeights', brain, computeKey: devKeys.validatorCompute(dev).publicKey, uids, weights })
  return { _tag: 'WeightsSubmitted', brain, uids, weights, tx }
}

/** Throws this validator's typed refusal. */
function refuse(ctx: ActorContext, reason: ValidatorRejection['reason'], message: string): never {
  throw new ValidatorRejection({ actor: ctx.address, reason, message, detail: {} })
}

/** The ledger actor, the Brain id and this validator's dev keys (args.dev, args.brain, args.ledger). */
async function ledgerSide(a: ValidatorArgs, ctx: ActorContext): Promise<{ ledger: ActorRef; brain: number; dev: number }> {
  const dev = a.dev ?? refuse(ctx, 'NotConfigured', 'no dev validator index (args.dev): this validator has no ledger key')
  const brainIndex = a.brain ?? refuse(ctx, 'NotConfigured', 'no Brain index (args.brain)')
  const ledger = ctx.lookup?.(a.ledger) ?? refuse(ctx, 'LedgerUnavailable', `no ledger actor at ${a.ledger}`)
  const brain = (await ledger.ask({ _tag: 'GetBrains' })).ids[brainIndex - 1] ?? refuse(ctx, 'NotConfigured', `no Brain #${brainIndex} on the ledger`)
  return { ledger, brain, dev }
}

/** Signs `body` with this validator's dev personal key at its next nonce and submits it; returns the tx hash. */
async function submitSigned(ledger: ActorRef, dev: number, body: TxBody): Promise<string> {
  const me = devKeys.validator(dev)
  const head = await ledger.ask({ _tag: 'GetHead' })
  const acct = await ledger.ask({ _tag: 'GetAccount', address: toAddress(me.publicKey) })
  const tx = signTx(
    withMinFee({ chainId: head.chainId, from: me.publicKey, nonce: BigInt(acct.nextNonce), body }, BigInt(head.baseFee), BigInt(head.byteFee)),
    me.secretKey,
  )
  return (await ledger.ask({ _tag: 'SubmitTx', tx: tx.bytes })).hash
}

/** Which forecaster made a round's forecast (GetStatus detail `forecasterKind`). */
export type ForecasterKind = 'tft' | 'seasonal-naive' | 'smoothing' | 'history'

/** What {@link forecastWindows} forecast, with which forecaster, and every candidate's validation q-risk. */
export interface ForecastChoice {
  readonly name: string
  readonly kind: ForecasterKind
  readonly values: bigint[]
  /** The candidates' validation P50/P90 q-risk (empty for the empirical fallback); the chosen one has the lowest mean. */
  readonly scores: readonly ValidationScore[]
}

/** Fewest windows of history before the baselines are scored on a validation span (else the empirical fallback). */
const MIN_PANEL_WINDOWS = 24

/**
 * Forecasts `ahead` windows after the history `ys` (one value per complete window) at quantile levels `qs`, and
 * returns the last `tau` of them (window-major, τ × Q): the forecaster `defaultForecaster` picks among seasonal
 * naive (seasons 1, τ, 24, 168 windows where the history allows) and consensus smoothing (λ 0.05, 0.2, 0.5) by
 * validation q-risk on the last 30 % of the history (training span the first 70 %); with fewer than
 * {@link MIN_PANEL_WINDOWS} windows (or a span too short for a validation window), every window gets the empirical
 * quantiles of the history. `tft`, when given (the worker's trained TFT, scored by the same `qRisk` call on the same
 * span, see forecast-worker.ts), is one more candidate, listed last. Values are rounded to non-negative integers,
 * sorted per window.
 */
export function forecastWindows(ys: readonly number[], ahead: number, tau: number, qs: readonly number[], tft?: TftCandidate | null): ForecastChoice {
  const Q = qs.length
  const n = ys.length
  const trainEnd = Math.floor(n * 0.7)
  const validEnd = n - 1
  let name = `empirical quantiles of ${n} windows`
  let kind: ForecasterKind = 'history'
  let scores: ValidationScore[] = []
  let out: Float64Array | undefined
  if (n >= MIN_PANEL_WINDOWS && validEnd - trainEnd >= ahead) {
    const panel: Panel = {
      name: 'brain transactions', steps: n, staticCardinalities: [1], observedNames: ['transactions'], knownNames: [],
      entities: [{ name: 'brain', statics: [0], observed: [Float64Array.from(ys)], known: [] }],
      seasons: [], trainEnd, validEnd,
    }
    const candidates: Array<{ name: string; p50: number; p90: number; f: SpanForecaster }> = []
    const minOrigin = Math.min(trainEnd, 168)
    const add = (f: SpanForecaster): void => {
      const r = qRisk(panel, f, trainEnd, validEnd, ahead, minOrigin, qs)
      const fin = (x: number | undefined): number => (x !== undefined && Number.isFinite(x) ? x : Number.POSITIVE_INFINITY)
      candidates.push({ name: f.name, p50: fin(r.byQuantile[1]), p90: fin(r.byQuantile[2]), f })
    }
    for (const lag of [1, tau, 24, 168]) if (lag + ahead <= trainEnd) add(seasonalNaive(panel, lag, ahead, qs))
    for (const ppm of [50_000, 200_000, 500_000]) add(consensusSmoothing(panel, ppm, ahead, qs))
    // the TFT last (ties go to the simpler baselines), scored by the worker with the same qRisk call on this span
    if (tft && candidates.length > 0 && tft.forecast.length === ahead * Q) {
      const fc = Float64Array.from(tft.forecast)
      candidates.push({ name: tft.name, p50: tft.p50, p90: tft.p90, f: { name: tft.name, forecast: () => fc } })
    }
    if (candidates.length > 0) {
      const best = defaultForecaster(candidates)
      name = best.name
      kind = best.name === tft?.name ? 'tft' : best.name.startsWith('seasonal naive') ? 'seasonal-naive' : 'smoothing'
      scores = candidates.map((c) => ({ name: c.name, p50: c.p50, p90: c.p90 }))
      out = best.f.forecast(0, n).slice((ahead - tau) * Q)
    }
  }
  if (!out) {
    const sorted = [...ys].sort((a, b) => a - b)
    const row = qs.map((q) => empiricalQuantile(sorted, q))
    out = Float64Array.from({ length: tau * Q }, (_, i) => row[i % Q] as number)
  }
  const values: bigint[] = []
  for (let h = 0; h < tau; h++) {
    const row = Array.from(out.subarray(h * Q, h * Q + Q), (v) => Math.max(0, Math.round(Number.isFinite(v) ? v : 0))).sort((a, b) => a - b)
    for (const v of row) values.push(BigInt(v))
  }
  return { name, kind, values, scores }
}

/** The newest contiguous run of complete windows in the history, ending at `last`. */
function contiguousHistory(history: ReadonlyMap<number, number>, last: number): number[] {
  const ys: number[] = []
  for (let w = last; history.has(w); w--) ys.push(history.get(w) as number)
  return ys.reverse()
}

/**
 * One step of the forecasting Enforcer (see the module doc): reveal what is due, commit the next round's forecast
 * when its commit window is open. Throws on a ledger refusal (the caller counts it).
 */
async function forecastStep(state: ValidatorState, ctx: ActorContext): Promise<typeof ForecastStepped.Type> {
  const f = state.forecast
  if (!f.on) return { _tag: 'ForecastStepped', action: 'off', height: 0 }
  const { ledger, brain, dev } = await ledgerSide(state.args, ctx)
  const s: typeof ForecastSeries.Type = await ledger.ask({ _tag: 'GetForecastSeries', brain })
  const h = s.height
  if (s.period === 0) return { _tag: 'ForecastStepped', action: 'idle', height: h }
  const bps = s.blocksPerStep
  s.counts.forEach((c, i) => {
    const w = s.firstWindow + i
    if ((w + 1) * bps - 1 <= h) f.history.set(w, c)
  })
  for (const w of [...f.history.keys()]) if (w < s.firstWindow - 10_000) f.history.delete(w) // bounded memory
  const computeKey = devKeys.validatorCompute(dev).publicKey
  const ck = toHex(computeKey)
  const next = h + 1 // the earliest block a transaction sent now can enter
  // Reveals first: a round whose reveal window holds the next block.
  for (const [origin, p] of [...f.pending]) {
    const onChain = s.commits.find((c) => c.origin === origin && c.computeKey === ck)
    if (next >= origin + s.revealWindow || (next >= origin && !onChain)) {
      // missed: the reveal window closed, or the commitment never reached the chain
      f.pending.delete(origin)
      refuse(ctx, 'ForecastMissed', `round ${origin}: ${onChain ? 'reveal window closed' : 'commitment not on chain'} at height ${h}`)
    }
    if (next >= origin && onChain) {
      if (onChain.revealed) {
        f.pending.delete(origin)
        continue
      }
      const tx = await submitSigned(ledger, dev, { kind: 'revealForecast', brain, computeKey, originHeight: origin, values: p.values, salt: p.salt })
      f.pending.delete(origin)
      f.reveals++
      return { _tag: 'ForecastStepped', action: 'revealed', height: h, origin, forecaster: p.forecaster, tx }
    }
  }
  // The next round whose commit window holds the next block.
  const origin = Math.ceil((next + 1) / s.period) * s.period
  if (origin - s.commitLead <= next && next < origin) {
    const prev = f.pending.get(origin)
    const status = prev ? await ledger.ask({ _tag: 'GetTxStatus', hash: prev.tx }) : undefined
    // committed already (pending or on chain): nothing to do; a commitment that failed is made again
    if (status && (status.status === 'pending' || s.commits.some((c) => c.origin === origin && c.computeKey === ck)))
      return { _tag: 'ForecastStepped', action: 'idle', height: h }
    const lastComplete = Math.floor((h + 1) / bps) - 1
    const ys = contiguousHistory(f.history, lastComplete)
    const ahead = origin / bps - lastComplete - 1 + s.horizon
    const qs = s.quantilesPpm.map((q) => q / 1e6)
    const firstWindow = lastComplete - ys.length + 1
    f.tft.roundsSinceTrain++
    if (f.tft.client && !f.tft.client.alive()) {
      // the thread died (its model with it): counted once; a new one is started at the next training
      countFailure(f, ctx.address, `TftWorker: ${f.tft.client.exitReason()}`)
      f.tft.client = null
      f.tft.horizon = 0
    }
    maybeTrainTft(f, ctx.address, ys, firstWindow, ahead, qs)
    // the trained TFT (if any) scored on this history's validation span; a worker error falls back to the baselines
    let tft: TftCandidate | null = null
    const client = f.tft.client
    if (f.tft.horizon >= ahead && client) {
      try {
        tft = await client.call((api) => api.forecast({ ys, firstWindow, ahead, qs }), TFT_FORECAST_TIMEOUT_MS)
      } catch (e) {
        countFailure(f, ctx.address, `TftForecast: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
    const { name, kind, values, scores } = forecastWindows(ys, ahead, s.horizon, qs, tft)
    if (tft) {
      const mean = (c: ValidationScore): string => ((c.p50 + c.p90) / 2).toFixed(4)
      const chosen = scores.find((c) => c.name === name)
      f.tft.lastScore = `round ${origin}: TFT ${mean(tft)} vs ${kind} ${chosen ? mean(chosen) : '?'} (validation mean P50/P90 q-risk over ${tft.windows} windows)`
    }
    const salt = new Uint8Array(randomBytes(32))
    const commitment = commitForecast(computeKey, { brain, originHeight: origin, blocksPerStep: bps, quantilesPpm: s.quantilesPpm, values }, salt)
    const tx = await submitSigned(ledger, dev, { kind: 'commitForecast', brain, computeKey, originHeight: origin, commitment })
    f.pending.set(origin, { values, salt, tx, forecaster: name })
    f.commits++
    f.lastForecaster = name
    f.lastKind = kind
    return { _tag: 'ForecastStepped', action: 'committed', height: h, origin, forecaster: name, tx }
  }
  return { _tag: 'ForecastStepped', action: 'idle', height: h }
}

/**
 * The weights hash miners must announce: the Brain's (GetTask on args.brainActor), else this validator's own model's.
 * Refuses (BrainUnavailable, ModelMismatch) when the Brain cannot be asked or serves other weights than this
 * validator holds.
 */
async function referenceHash(state: ValidatorState, ctx: ActorContext): Promise<string> {
  const at = state.args.brainActor
  if (at === undefined) return state.weightsHash
  const brain = ctx.lookup?.(at) ?? refuse(ctx, 'BrainUnavailable', `no Brain actor at ${at}`)
  let task: { readonly modelId: string; readonly weightsHash: string }
  try {
    task = await brain.ask({ _tag: 'GetTask' })
  } catch (e) {
    return refuse(ctx, 'BrainUnavailable', `${at} did not answer GetTask: ${label(toProtocolError(at, e))}`)
  }
  state.brainWeightsHash = task.weightsHash
  if (task.weightsHash !== state.weightsHash || task.modelId !== state.modelId) {
    refuse(ctx, 'ModelMismatch', `the Brain serves ${task.modelId} (${task.weightsHash}); this validator holds ${state.modelId} (${state.weightsHash})`)
  }
  return task.weightsHash
}

/** One challenge of `miner` (see the module doc); the result, with the score updated. */
async function challenge(state: ValidatorState, miner: string, ref: ActorRef, expected: string): Promise<{ correct: boolean; reason: string }> {
  const s = state.scores.get(miner) ?? { challenges: 0, correct: 0, score: 0, hashOk: true }
  state.scores.set(miner, s)
  s.challenges++
  let announced: string | number | boolean | undefined
  try {
    announced = (await ref.ask({ _tag: 'GetStatus' }, { timeoutMs: 60_000 })).detail.weightsHash
  } catch (e) {
    s.score = 0.8 * s.score
    return { correct: false, reason: reasonOf(toProtocolError(miner, e)) }
  }
  s.hashOk = announced === expected
  if (!s.hashOk) {
    // other weights (or none announced) than the Brain's: nothing it computes counts
    s.score = 0
    return { correct: false, reason: 'WeightsHashMismatch' }
  }
  // a layer of a squeezed model may have no attention products: draw among the products that exist
  const sites = Array.from({ length: state.model.config.nLayer }, (_, layer) => SITES.map((name): LinearSite => ({ layer, name })))
    .flat().filter((site) => linearWeights(state.model, site) !== undefined)
  const site = sites[randomInt(sites.length)] as LinearSite
  const { w, b, inDim, outDim } = linearWeights(state.model, site) as NonNullable<ReturnType<typeof linearWeights>>
  const x = Float32Array.from({ length: inDim }, () => randomInt(-1000, 1001) / 250)
  // A fresh key per challenge: scores are public (setWeights), so a miner could otherwise use them as a
  // decryption oracle on one long-lived key (RLWE keys leak to such oracles; see docs/FHE.md).
  const secretKey = createKeyGenerator(state.fhe).secretKey
  const req = clientEncryptLinear(state.fhe, secretKey, x, 1, inDim, outDim)
  let reason = 'ok'
  try {
    const { ni, mt, no, dIn, dOut, tokens } = req.plan
    const reply = await ref.ask(
      { _tag: 'EncryptedLinear', model: state.modelId, layer: site.layer, site: site.name, preset: 'bfv4096Linear', plan: { ni, mt, no, dIn, dOut, tokens }, inputs: req.inputs },
      { timeoutMs: 60_000 },
    )
    const got = clientDecryptLinear(state.fhe, secretKey, req, reply.outputs, quantizeWeightInt8(w, inDim, outDim), b)
    const want = int8Linear()(x, 1, inDim, outDim, w, b, site)
    if (got.length !== want.length || got.some((v, i) => v !== want[i])) reason = 'wrong result'
  } catch (e) {
    reason = reasonOf(toProtocolError(miner, e))
  }
  const correct = reason === 'ok'
  if (correct) s.correct++
  s.score = 0.8 * s.score + 0.2 * (correct ? 1 : 0)
  return { correct, reason }
}

export default function validatorBehaviour(): Behaviour<ValidatorState> {
  return {
    accepts: [...BASIC_TAGS, 'ChallengeMiner', 'GetScores', 'SubmitWeights', 'ForecastStep', 'RegisterMiner'],
    init(ctx) {
      const args = validatorRole.args(ctx.args)
      const fhe = createFheContext(presets.bfv4096Linear)
      // args.template: a Brain task directory; its weights must hash to the task's (WeightsHashMismatch otherwise)
      const template = args.template !== undefined ? loadBrainTask(args.template) : undefined
      const shipped = template ? undefined : shippedTask()
      const state: ValidatorState = {
        basic: basicState(),
        args,
        model: template?.model ?? loadShippedModel().model,
        modelId: template?.task.modelId ?? (shipped as { modelId: string }).modelId,
        weightsHash: template?.task.weightsHash ?? (shipped as { weightsHash: string }).weightsHash,
        brainWeightsHash: '',
        fhe,
        miners: [...args.miners],
        scores: new Map(),
        next: 0,
        timer: null,
        forecast: {
          on: args.forecast, history: new Map(), pending: new Map(), timer: null,
          commits: 0, reveals: 0, failures: 0, lastError: '', lastForecaster: '', lastKind: '',
          tft: {
            on: args.forecastTft, steps: args.forecastTftSteps, budgetMs: args.forecastTftBudgetMs, every: args.forecastTftEvery,
            client: null, training: false, horizon: 0, roundsSinceTrain: 0, attempts: 0, trainings: 0, lastTraining: '', lastScore: '',
          },
        },
      }
      const self = ctx.self
      // miners may join later (RegisterMiner: a miner on another node, actors/remote-miner.ts): the timer runs anyway
      if (args.challengeMs > 0 && self) {
        state.timer = setInterval(() => {
          if (state.miners.length === 0) return
          const miner = state.miners[state.next++ % state.miners.length] as string
          try {
            self.tell({ _tag: 'ChallengeMiner', miner })
            // After each full round, weights go on chain (when this validator has a dev ledger key).
            if (state.next % state.miners.length === 0 && args.dev !== undefined) self.tell({ _tag: 'SubmitWeights' })
          } catch {
            // mailbox full: skip this round
          }
        }, args.challengeMs)
        state.timer.unref()
      }
      // The forecasting Enforcer's timer: only for a validator with a ledger key, unless args.forecast is false.
      if (state.forecast.on && args.forecastMs > 0 && self && args.dev !== undefined) {
        state.forecast.timer = setInterval(() => {
          try {
            self.tell({ _tag: 'ForecastStep' })
          } catch {
            // mailbox full: skip this step
          }
        }, args.forecastMs)
        state.forecast.timer.unref()
      }
      return state
    },
    status: (state) => {
      const mismatched = [...state.scores].filter(([, s]) => !s.hashOk).map(([m]) => m)
      return {
        miners: state.miners.length, challenged: state.scores.size,
        modelId: state.modelId, weightsHash: state.weightsHash, brainWeightsHash: state.brainWeightsHash,
        weightsMismatches: mismatched.length, mismatchedMiners: mismatched.join(' '),
        forecasting: state.forecast.on, forecastCommits: state.forecast.commits, forecastReveals: state.forecast.reveals,
        forecastFailures: state.forecast.failures, forecastLastError: state.forecast.lastError, forecaster: state.forecast.lastForecaster,
        forecasterKind: state.forecast.lastKind, tftTraining: state.forecast.tft.training, tftTrainings: state.forecast.tft.trainings,
        tftLastTraining: state.forecast.tft.lastTraining, tftLastScore: state.forecast.tft.lastScore,
      }
    },
    async handle(state, msg: Message, ctx): Promise<HandleResult<ValidatorState>> {
      switch (msg._tag) {
        case 'RegisterMiner':
          // a miner to challenge from now on (its uid is read from the ledger by its compute key at SubmitWeights)
          if (!state.miners.includes(msg.miner)) state.miners.push(msg.miner)
          return continueWith(state)
        case 'GetScores':
          return continueWith(state, {
            _tag: 'Scores',
            miners: [...state.scores.entries()].map(([miner, s]) => ({ miner, challenges: s.challenges, correct: s.correct, score: s.score, weightsHashOk: s.hashOk })),
          })
        case 'SubmitWeights': {
          try {
            return continueWith(state, await submitWeights(state, ctx))
          } catch (e) {
            return failWith(state, toProtocolError(ctx.address, e))
          }
        }
        case 'ForecastStep': {
          try {
            return continueWith(state, await forecastStep(state, ctx))
          } catch (e) {
            const err = toProtocolError(ctx.address, e)
            // logged, not thrown out of the timer; a misconfigured validator would repeat every step, so sparsely
            countFailure(state.forecast, ctx.address, label(err))
            return failWith(state, err)
          }
        }
        case 'ChallengeMiner': {
          const t0 = performance.now()
          try {
            const ref = ctx.lookup?.(msg.miner) ?? refuse(ctx, 'UnknownMiner', `no miner at ${msg.miner}`)
            const expected = await referenceHash(state, ctx)
            const { correct, reason } = await challenge(state, msg.miner, ref, expected)
            return continueWith(state, { _tag: 'ChallengeResult', miner: msg.miner, correct, reason, ms: performance.now() - t0 })
          } catch (e) {
            return failWith(state, toProtocolError(ctx.address, e))
          }
        }
        default:
          return continueWith(state, answerBasic(state.basic, msg, ctx))
      }
    },
    async terminate(state) {
      if (state.timer) clearInterval(state.timer)
      if (state.forecast.timer) clearInterval(state.forecast.timer)
      const client = state.forecast.tft.client
      state.forecast.tft.client = null
      if (client) await client.terminate() // ends the TFT's worker thread
    },
  }
}
