/**
 * Training, baselines and the paper's evaluation.
 *
 * q-risk (Lim et al. 2021, §7): R_q = 2 · Σ_{y ∈ Ω} Σ_τ QL(y, ŷ(q), q) / Σ_{y ∈ Ω} Σ_τ |y|, with
 * QL(y, ŷ, q) = max(q·(y − ŷ), (q − 1)·(y − ŷ)), over non-overlapping forecast windows of a span, every entity.
 *
 * Baselines, each giving quantiles as its point forecast plus per-entity, per-horizon empirical quantiles of its own
 * errors on the training span:
 * - **seasonal naive**: ŷ(t + h) = y(t + h − s·⌈(h + 1)/s⌉) with the season s chosen on the validation span;
 * - **exponential smoothing**, consensus/'s `exponentialSmoothing` (what the chain runs today): it smooths each entity's
 *   share of the panel total in exact Q40, times a float exponential smoothing of the total at the same λ (λ chosen on
 *   the validation span). With one entity the share is always 1 and this is plain smoothing of the level.
 */
import { exponentialSmoothing } from '../consensus/index.ts'
import { mulberry32 } from '../numeric/prng.ts'
import { InvalidSeries } from './errors.ts'
import { fitScaler, makeSample, unscale, type Panel, type Scaler } from './dataset.ts'
import { Adam, TemporalFusionTransformer, type TftConfig, type TftSample } from './tft.ts'

export const QUANTILES: readonly number[] = [0.1, 0.5, 0.9]

/** Something that forecasts τ × Q quantiles (unscaled, row-major) for an entity from data before `origin`. */
export interface SpanForecaster {
  readonly name: string
  forecast(entity: number, origin: number): Float64Array
}

export interface QRisk {
  /** q-risk per quantile level, in the order of `quantiles`. */
  readonly byQuantile: readonly number[]
  readonly windows: number
}

/** Forecast origins of a span: from, from + τ, … while the window stays inside [from, to). */
export function spanOrigins(from: number, to: number, tau: number, minOrigin: number): number[] {
  const out: number[] = []
  for (let o = Math.max(from, minOrigin); o + tau <= to; o += tau) out.push(o)
  return out
}

/** q-risk of a forecaster over a span (every entity, non-overlapping windows). */
export function qRisk(p: Panel, f: SpanForecaster, from: number, to: number, tau: number, minOrigin: number,
  quantiles: readonly number[] = QUANTILES): QRisk {
  const origins = spanOrigins(from, to, tau, minOrigin)
  if (origins.length === 0) throw new InvalidSeries({ field: 'span', reason: `no window of ${tau} steps in [${from}, ${to})` })
  const Q = quantiles.length
  const ql = new Array<number>(Q).fill(0)
  let absY = 0
  let windows = 0
  for (let e = 0; e < p.entities.length; e++) {
    const y = (p.entities[e]?.observed[0]) as Float64Array
    for (const o of origins) {
      const pred = f.forecast(e, o)
      windows++
      for (let h = 0; h < tau; h++) {
        const yt = y[o + h] as number
        absY += Math.abs(yt)
        for (let k = 0; k < Q; k++) {
          const q = quantiles[k] as number
          const d = yt - (pred[h * Q + k] as number)
          ql[k] = (ql[k] as number) + (d >= 0 ? q * d : (q - 1) * d)
        }
      }
    }
  }
  return { byQuantile: ql.map((x) => (2 * x) / absY), windows }
}

/** The q-quantile of sorted values, linearly interpolated between order statistics (0 for none). */
export function empiricalQuantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0
  const pos = q * (sorted.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.min(sorted.length - 1, lo + 1)
  return (sorted[lo] as number) + (pos - lo) * ((sorted[hi] as number) - (sorted[lo] as number))
}

/**
 * Wraps a point forecaster (point(entity, origin) → τ values) with per-entity, per-horizon residual quantiles
 * measured on the training span (origins from `firstOrigin` to trainEnd − τ, every step).
 */
function withResidualQuantiles(name: string, p: Panel, tau: number, firstOrigin: number,
  point: (entity: number, origin: number) => Float64Array, quantiles: readonly number[]): SpanForecaster {
  const Q = quantiles.length
  const offsets: Float64Array[] = []
  for (let e = 0; e < p.entities.length; e++) {
    const y = (p.entities[e]?.observed[0]) as Float64Array
    const res: number[][] = Array.from({ length: tau }, () => [])
    for (let o = firstOrigin; o + tau <= p.trainEnd; o++) {
      const f = point(e, o)
      for (let h = 0; h < tau; h++) (res[h] as number[]).push((y[o + h] as number) - (f[h] as number))
    }
    const off = new Float64Array(tau * Q)
    for (let h = 0; h < tau; h++) {
      const s = (res[h] as number[]).sort((a, b) => a - b)
      for (let k = 0; k < Q; k++) off[h * Q + k] = empiricalQuantile(s, quantiles[k] as number)
    }
    offsets.push(off)
  }
  return {
    name,
    forecast(entity, origin) {
      const f = point(entity, origin)
      const off = offsets[entity] as Float64Array
      const out = new Float64Array(tau * Q)
      for (let h = 0; h < tau; h++) for (let k = 0; k < Q; k++) out[h * Q + k] = (f[h] as number) + (off[h * Q + k] as number)
      return out
    },
  }
}

/** Seasonal naive with season `lag`, quantiles from its training-span errors. */
export function seasonalNaive(p: Panel, lag: number, tau: number, quantiles: readonly number[] = QUANTILES): SpanForecaster {
  if (!Number.isInteger(lag) || lag <= 0 || lag >= p.trainEnd) throw new InvalidSeries({ field: 'lag', reason: 'out of range' })
  const point = (e: number, o: number): Float64Array => {
    const y = (p.entities[e]?.observed[0]) as Float64Array
    return Float64Array.from({ length: tau }, (_, h) => y[o + h - lag * Math.ceil((h + 1) / lag)] as number)
  }
  return withResidualQuantiles(`seasonal naive (s = ${lag})`, p, tau, lag, point, quantiles)
}

/** consensus/'s exponential smoothing of shares × smoothing of the total (see the module doc). */
export function consensusSmoothing(p: Panel, smoothingPpm: number, tau: number,
  quantiles: readonly number[] = QUANTILES): SpanForecaster {
  const es = exponentialSmoothing({ smoothingPpm })
  const lambda = smoothingPpm / 1e6
  const n = p.entities.length
  const ys = p.entities.map((e) => e.observed[0] as Float64Array)
  // level[o][e]: forecast for step o made after observing steps < o
  const level: Float64Array[] = [new Float64Array(n)]
  let state = es.init(n)
  let total = 0
  for (let t = 0; t < p.steps; t++) {
    const obs = ys.map((y) => Math.max(0, y[t] as number))
    let sum = 0
    for (const y of ys) sum += y[t] as number
    state = es.observe(state, obs)
    total = t === 0 ? sum : total + lambda * (sum - total)
    const share = es.predict(state)
    const shareSum = share.reduce((a, b) => a + b, 0)
    level.push(Float64Array.from(share, (s) => (shareSum > 0 ? (s / shareSum) * total : total / n)))
  }
  const point = (e: number, o: number): Float64Array => new Float64Array(tau).fill((level[o] as Float64Array)[e] as number)
  return withResidualQuantiles(`exponential smoothing, consensus/ (λ = ${lambda})`, p, tau, 1, point, quantiles)
}

export interface TrainOptions {
  readonly hidden?: number
  readonly heads?: number
  readonly encoderLength: number
  readonly horizon: number
  /** Adam steps. */
  readonly steps: number
  readonly batch?: number
  readonly lr?: number
  /** Validate every this many steps (on up to `validWindows` validation windows) and keep the best parameters. */
  readonly evalEvery?: number
  readonly validWindows?: number
  readonly seed?: number
  readonly progress?: (line: string) => void
}

export interface TrainedTft {
  readonly model: TemporalFusionTransformer
  readonly scaler: Scaler
  readonly forecaster: SpanForecaster
  /** (step, mean validation quantile loss on the scaled target). */
  readonly history: readonly (readonly [number, number])[]
  readonly bestStep: number
}

/**
 * Trains a TFT on the training span with Adam, validating every `evalEvery` steps on the validation span and keeping
 * the parameters that scored best there (early stopping). Deterministic in `seed`.
 */
export function trainTft(p: Panel, o: TrainOptions): TrainedTft {
  const k = o.encoderLength
  const tau = o.horizon
  const seed = o.seed ?? 1
  const config: TftConfig = {
    hidden: o.hidden ?? 16, heads: o.heads ?? 4, encoderLength: k, horizon: tau,
    staticCardinalities: p.staticCardinalities, observedCount: p.observedNames.length, knownCount: p.knownNames.length,
    quantiles: QUANTILES, seed,
  }
  const model = new TemporalFusionTransformer(config)
  const scaler = fitScaler(p)
  const train: [number, number][] = []
  for (let e = 0; e < p.entities.length; e++) for (let t = k; t + tau <= p.trainEnd; t++) train.push([e, t])
  if (train.length === 0) throw new InvalidSeries({ field: 'trainEnd', reason: 'training span shorter than one window' })
  const validAll: [number, number][] = []
  for (let e = 0; e < p.entities.length; e++) {
    for (const t of spanOrigins(p.trainEnd, p.validEnd, tau, k)) validAll.push([e, t])
  }
  const r = mulberry32(seed ^ 0x5eed)
  const shuffle = <T>(a: T[]): T[] => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1))
      const x = a[i] as T
      a[i] = a[j] as T
      a[j] = x
    }
    return a
  }
  const maxValid = o.validWindows ?? 64
  const valid = validAll.length <= maxValid
    ? validAll
    : Array.from({ length: maxValid }, (_, i) => validAll[Math.floor((i * validAll.length) / maxValid)] as [number, number])
  const validSamples: TftSample[] = valid.map(([e, t]) => makeSample(p, scaler, e, t, k, tau))
  const validLoss = (): number => validSamples.reduce((a, s) => a + model.loss(s), 0) / validSamples.length
  const batch = o.batch ?? 16
  const opt = new Adam([...model.params.values()], { lr: o.lr ?? 2e-3, clip: 1 })
  const evalEvery = o.evalEvery ?? 50
  shuffle(train)
  let cursor = 0
  let best = validLoss()
  let bestStep = 0
  let bestSnap = model.snapshot()
  const history: [number, number][] = [[0, best]]
  for (let step = 1; step <= o.steps; step++) {
    for (let b = 0; b < batch; b++) {
      if (cursor >= train.length) {
        shuffle(train)
        cursor = 0
      }
      const [e, t] = train[cursor++] as [number, number]
      model.lossAndGrad(makeSample(p, scaler, e, t, k, tau))
    }
    // cosine decay of the learning rate
    opt.update(batch, (o.lr ?? 2e-3) * (0.55 + 0.45 * Math.cos((Math.PI * step) / o.steps)))
    if (step % evalEvery === 0 || step === o.steps) {
      const v = validLoss()
      history.push([step, v])
      o.progress?.(`step ${step}/${o.steps}: validation loss ${v.toFixed(4)}`)
      if (v < best) {
        best = v
        bestStep = step
        bestSnap = model.snapshot()
      }
    }
  }
  model.restore(bestSnap)
  const forecaster: SpanForecaster = {
    name: `TFT (d = ${config.hidden}, ${config.heads} heads, k = ${k}, τ = ${tau})`,
    forecast(entity, origin) {
      const s = makeSample(p, scaler, entity, origin, k, tau)
      return unscale(p, scaler, entity, origin, k, model.predict(s).quantiles)
    },
  }
  return { model, scaler, forecaster, history, bestStep }
}

/** A forecaster's validation score, the input to {@link defaultForecaster}. */
export interface ValidationScore {
  readonly name: string
  /** q-risk at P50 and P90 on the validation span. */
  readonly p50: number
  readonly p90: number
}

/**
 * The default forecaster: the candidate with the lowest mean of validation P50 and P90 q-risk (never the test span).
 * Ties go to the earlier candidate, so list the simpler models first.
 */
export function defaultForecaster<T extends ValidationScore>(candidates: readonly T[]): T {
  const first = candidates[0]
  if (first === undefined) throw new InvalidSeries({ field: 'candidates', reason: 'no forecaster to choose from' })
  let best = first
  for (const c of candidates) if ((c.p50 + c.p90) / 2 < (best.p50 + best.p90) / 2) best = c
  return best
}
