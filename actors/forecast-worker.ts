/**
 * The live validator's TFT, off the main thread (docs/FORECAST.md "On a live chain"): a worker thread (node:worker_threads)
 * that trains a Temporal Fusion Transformer on the validator's own history of complete windows and, on request,
 * scores it on that history's validation span with the same `qRisk` call as the baselines and forecasts the next
 * windows. The RPC is comlink (`expose` in the worker, `wrap` in the validator) over comlink's Node adapter.
 *
 * Training runs in steps with an `await setImmediate` between them, so the worker answers `forecast` (with the model
 * trained last) while a new one trains; the new one replaces it only when done. Budget: `steps` Adam steps or
 * `timeBudgetMs` of wall time, whichever comes first; early stopping keeps the parameters best on validation.
 *
 * @example
 * ```ts
 * const w = startForecastWorker()
 * await w.api.train({ ys, firstWindow: 0, horizon: 8, steps: 150, timeBudgetMs: 20_000, seed: 1, qs: [0.1, 0.5, 0.9] })
 * const c = await w.api.forecast({ ys, firstWindow: 0, ahead: 6, qs: [0.1, 0.5, 0.9] }) // validation p50/p90 + 6 × 3
 * await w.terminate()
 * ```
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { expose, wrap, type Remote } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import {
  Adam, TemporalFusionTransformer, fitScaler, makeSample, qRisk, spanOrigins, unscale,
  type Panel, type Scaler, type SpanForecaster, type TftSample,
} from '../forecast/index.ts'
import { mulberry32 } from '../model/weights.ts'

/** Seasons (in windows) given to the TFT as known sin/cos inputs: a day and a week at the chain's default 1-hour windows. */
export const TFT_SEASONS: readonly number[] = [24, 168]
/** Fewest complete windows before the TFT is trained (2 days of 1-hour windows at the chain's defaults). */
export const MIN_TFT_WINDOWS = 48

export interface TrainRequest {
  /** Complete windows, oldest first; `firstWindow` is the absolute index of ys[0] (for the calendar inputs). */
  readonly ys: readonly number[]
  readonly firstWindow: number
  /** Windows the model forecasts (the validator uses the first `ahead` ≤ horizon of them). */
  readonly horizon: number
  readonly steps: number
  readonly timeBudgetMs: number
  readonly seed: number
  readonly qs: readonly number[]
  readonly hidden?: number
  readonly heads?: number
}

export interface TrainResult {
  readonly windows: number
  readonly encoderLength: number
  readonly horizon: number
  readonly stepsRun: number
  readonly bestStep: number
  readonly validLoss: number
  readonly stoppedBy: 'steps' | 'time'
  readonly ms: number
}

export interface ForecastRequest {
  readonly ys: readonly number[]
  readonly firstWindow: number
  readonly ahead: number
  readonly qs: readonly number[]
}

/** The TFT as a candidate of `forecastWindows`: its validation q-risk and its forecast of the next `ahead` windows. */
export interface TftCandidate {
  readonly name: string
  readonly p50: number
  readonly p90: number
  /** Validation windows scored. */
  readonly windows: number
  /** ahead × Q, window-major, unscaled. */
  readonly forecast: readonly number[]
  /** Windows of history the model was trained on. */
  readonly trainedOn: number
}

export interface ForecastWorkerApi {
  train(req: TrainRequest): Promise<TrainResult>
  /** null when no model is trained yet, or it cannot serve this request (horizon, quantiles, span too short). */
  forecast(req: ForecastRequest): Promise<TftCandidate | null>
}

/** Encoder length for a history of n windows forecasting `horizon`: ≤ 24, and ≥ 8 training windows left (else 0). */
export function tftEncoderLength(n: number, horizon: number): number {
  const trainEnd = Math.floor(n * 0.7)
  const k = Math.min(24, Math.floor((trainEnd - horizon) / 2))
  return k >= 4 && trainEnd - k - horizon + 1 >= 8 ? k : 0
}

/**
 * The history as a one-entity panel with `pad` future steps (target padded with its last value: never read, the
 * forecast needs only the encoder steps and the known inputs): spans as `forecastWindows` uses them (training the first
 * 70 %, validation up to the last complete window).
 */
export function historyPanel(ys: readonly number[], firstWindow: number, pad: number): Panel {
  const n = ys.length
  const steps = n + pad
  const y = Float64Array.from({ length: steps }, (_, t) => (t < n ? (ys[t] as number) : (ys[n - 1] ?? 0)))
  const known: Float64Array[] = []
  for (const s of TFT_SEASONS) {
    known.push(Float64Array.from({ length: steps }, (_, t) => Math.sin((2 * Math.PI * ((firstWindow + t) % s)) / s)))
    known.push(Float64Array.from({ length: steps }, (_, t) => Math.cos((2 * Math.PI * ((firstWindow + t) % s)) / s)))
  }
  return {
    name: 'brain transactions', steps, staticCardinalities: [1], observedNames: ['transactions'],
    knownNames: TFT_SEASONS.flatMap((s) => [`sin ${s}`, `cos ${s}`]),
    entities: [{ name: 'brain', statics: [0], observed: [y], known }],
    seasons: [], trainEnd: Math.floor(n * 0.7), validEnd: n - 1,
  }
}

interface Trained {
  readonly model: TemporalFusionTransformer
  readonly scaler: Scaler
  readonly k: number
  readonly horizon: number
  readonly qs: readonly number[]
  readonly trainedOn: number
  readonly name: string
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r))

/** The worker's side: a trained model (or none) and the training loop. Exported so it can be tested in-thread. */
export class TftWorkerState implements ForecastWorkerApi {
  current: Trained | null = null
  training = false

  async train(req: TrainRequest): Promise<TrainResult> {
    if (this.training) throw new Error('already training')
    const t0 = performance.now()
    const n = req.ys.length
    const tau = req.horizon
    const k = tftEncoderLength(n, tau)
    if (n < MIN_TFT_WINDOWS || k === 0) throw new Error(`history of ${n} windows too short for a TFT of horizon ${tau}`)
    this.training = true
    try {
      const p = historyPanel(req.ys, req.firstWindow, 0)
      const hidden = req.hidden ?? 16
      const heads = req.heads ?? 4
      const model = new TemporalFusionTransformer({
        hidden, heads, encoderLength: k, horizon: tau, staticCardinalities: [1], observedCount: 1,
        knownCount: 2 * TFT_SEASONS.length, quantiles: req.qs, seed: req.seed,
      })
      const scaler = fitScaler(p)
      const train: number[] = []
      for (let t = k; t + tau <= p.trainEnd; t++) train.push(t)
      const validOrigins = spanOrigins(p.trainEnd, p.validEnd, tau, k)
      const valid: TftSample[] = validOrigins.slice(-32).map((t) => makeSample(p, scaler, 0, t, k, tau))
      // no window of the full horizon in the validation span: the training loss decides (early stopping off)
      const validLoss = (): number => (valid.length === 0 ? 0 : valid.reduce((a, s) => a + model.loss(s), 0) / valid.length)
      const r = mulberry32(req.seed ^ 0x5eed)
      const lr = 3e-3
      const batch = 16
      const opt = new Adam([...model.params.values()], { lr, clip: 1 })
      const evalEvery = Math.max(5, Math.floor(req.steps / 10))
      let best = validLoss()
      let bestStep = 0
      let bestSnap = model.snapshot()
      let step = 0
      let stoppedBy: 'steps' | 'time' = 'steps'
      while (step < req.steps) {
        if (performance.now() - t0 > req.timeBudgetMs) {
          stoppedBy = 'time'
          break
        }
        step++
        for (let b = 0; b < batch; b++) model.lossAndGrad(makeSample(p, scaler, 0, train[Math.floor(r() * train.length)] as number, k, tau))
        opt.update(batch, lr * (0.55 + 0.45 * Math.cos((Math.PI * step) / req.steps)))
        if (valid.length > 0 && (step % evalEvery === 0 || step === req.steps)) {
          const v = validLoss()
          if (v < best) {
            best = v
            bestStep = step
            bestSnap = model.snapshot()
          }
        }
        await yieldToLoop() // forecast requests are answered between steps
      }
      if (valid.length > 0) model.restore(bestSnap)
      else bestStep = step
      this.current = {
        model, scaler, k, horizon: tau, qs: [...req.qs], trainedOn: n,
        name: `TFT (d = ${hidden}, ${heads} heads, k = ${k}, τ = ${tau}, ${bestStep} steps on ${n} windows)`,
      }
      return { windows: n, encoderLength: k, horizon: tau, stepsRun: step, bestStep, validLoss: best, stoppedBy, ms: performance.now() - t0 }
    } finally {
      this.training = false
    }
  }

  forecast(req: ForecastRequest): Promise<TftCandidate | null> {
    const c = this.current
    const n = req.ys.length
    const Q = req.qs.length
    if (!c || req.ahead > c.horizon || req.ahead < 1 || Q !== c.qs.length || req.qs.some((q, i) => q !== c.qs[i])) return Promise.resolve(null)
    const p = historyPanel(req.ys, req.firstWindow, c.horizon)
    const trainEnd = Math.floor(n * 0.7)
    const validEnd = n - 1
    if (trainEnd < c.k || validEnd - trainEnd < req.ahead) return Promise.resolve(null)
    const f: SpanForecaster = {
      name: c.name,
      forecast(entity, origin) {
        const z = c.model.predict(makeSample(p, c.scaler, entity, origin, c.k, c.horizon)).quantiles
        return unscale(p, c.scaler, entity, origin, c.k, z).slice(0, req.ahead * Q)
      },
    }
    // the same call as the baselines' in forecastWindows: same span, origins, horizon and quantiles
    const risk = qRisk(p, f, trainEnd, validEnd, req.ahead, Math.min(trainEnd, 168), req.qs)
    const fin = (x: number | undefined): number => (x !== undefined && Number.isFinite(x) ? x : Number.POSITIVE_INFINITY)
    return Promise.resolve({
      name: c.name, p50: fin(risk.byQuantile[1]), p90: fin(risk.byQuantile[2]), windows: risk.windows,
      forecast: Array.from(f.forecast(0, n)), trainedOn: c.trainedOn,
    })
  }
}

/** The validator's handle on its worker: the comlink proxy, whether the thread is alive, and terminate(). */
export interface ForecastWorkerClient {
  readonly api: Remote<ForecastWorkerApi>
  /** False once the thread exited (terminated, crashed or failed to start). */
  alive(): boolean
  /** Why the thread exited, if it did on its own. */
  exitReason(): string
  /** Runs `f` on the proxy; rejects if the thread exits first or `timeoutMs` passes (comlink alone would wait forever). */
  call<T>(f: (api: Remote<ForecastWorkerApi>) => Promise<T>, timeoutMs: number): Promise<T>
  /** Ends the thread; resolves with its exit code. */
  terminate(): Promise<number>
}

/** Starts the worker thread (this module, in worker mode). */
export function startForecastWorker(): ForecastWorkerClient {
  const w = new Worker(new URL(import.meta.url), { workerData: { basedForecastWorker: true } })
  w.unref() // a validator's worker never keeps the process alive
  let alive = true
  let reason = ''
  w.on('error', (e: unknown) => {
    reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  })
  let onExit: () => void = () => undefined
  const exited = new Promise<void>((resolve) => {
    onExit = resolve
  })
  w.on('exit', (code) => {
    alive = false
    if (reason === '') reason = `exited with code ${code}`
    onExit()
  })
  const api = wrap<ForecastWorkerApi>(nodeEndpoint(w))
  return {
    api,
    alive: () => alive,
    exitReason: () => reason,
    call<T>(f: (a: Remote<ForecastWorkerApi>) => Promise<T>, timeoutMs: number): Promise<T> {
      if (!alive) return Promise.reject(new Error(`forecast worker ended: ${reason}`))
      let timer: NodeJS.Timeout | undefined
      const fail = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`forecast worker: no answer in ${timeoutMs} ms`)), timeoutMs)
        timer.unref()
        void exited.then(() => reject(new Error(`forecast worker ended: ${reason}`)))
      })
      return Promise.race([f(api), fail]).finally(() => clearTimeout(timer))
    },
    terminate: () => w.terminate(),
  }
}

// Worker mode: only in the thread startForecastWorker started (an actor hosted in a worker thread imports this too).
const marker: unknown = workerData
if (!isMainThread && parentPort && typeof marker === 'object' && marker !== null && 'basedForecastWorker' in marker) {
  expose(new TftWorkerState(), nodeEndpoint(parentPort))
}
