/**
 * Panels of time series (one entity per Brain, or one real series) and the windows the TFT trains on.
 *
 * A {@link Panel} holds, per entity, its static categories, its observed (past-only) real series with the target
 * first, and its known real series (defined for every step, past and future). Spans are step ranges:
 * training [0, trainEnd), validation [trainEnd, validEnd), test [validEnd, steps). Scalers are fitted on the training
 * span only. The target is scaled per window: z = (y − m) / σ with m the mean of the window's encoder targets and σ
 * the entity's training-span standard deviation, so levels that drift beyond the training span stay in range.
 */
import { InvalidSeries } from './errors.ts'
import { STEPS_PER_DAY, STEPS_PER_WEEK, type SimulatedChain } from './simulate.ts'
import type { TftSample } from './tft.ts'

export interface PanelEntity {
  readonly name: string
  readonly statics: readonly number[]
  /** Observed series, target first; each of length `steps`. */
  readonly observed: readonly Float64Array[]
  /** Known series, each of length `steps`. */
  readonly known: readonly Float64Array[]
}

export interface Panel {
  readonly name: string
  readonly steps: number
  readonly staticCardinalities: readonly number[]
  readonly observedNames: readonly string[]
  readonly knownNames: readonly string[]
  readonly entities: readonly PanelEntity[]
  /** Seasonal periods (in steps) a seasonal-naive baseline may use. */
  readonly seasons: readonly number[]
  readonly trainEnd: number
  readonly validEnd: number
}

/** Per-entity scaling fitted on the training span. */
export interface Scaler {
  /** [entity][observed variable] mean and sd (sd ≥ tiny). */
  readonly mean: readonly (readonly number[])[]
  readonly sd: readonly (readonly number[])[]
}

function meanSd(a: Float64Array, end: number): [number, number] {
  let m = 0
  for (let i = 0; i < end; i++) m += a[i] as number
  m /= end
  let v = 0
  for (let i = 0; i < end; i++) v += ((a[i] as number) - m) ** 2
  return [m, Math.max(Math.sqrt(v / end), 1e-9)]
}

export function checkPanel(p: Panel): void {
  if (!(p.trainEnd > 0 && p.trainEnd < p.validEnd && p.validEnd < p.steps)) {
    throw new InvalidSeries({ field: 'spans', reason: 'need 0 < trainEnd < validEnd < steps' })
  }
  if (p.entities.length === 0) throw new InvalidSeries({ field: 'entities', reason: 'empty panel' })
  for (const e of p.entities) {
    if (e.observed.length !== p.observedNames.length || e.known.length !== p.knownNames.length) {
      throw new InvalidSeries({ field: e.name, reason: 'variable count differs from the names' })
    }
    for (const s of [...e.observed, ...e.known]) {
      if (s.length !== p.steps) throw new InvalidSeries({ field: e.name, reason: `series length ${s.length}, expected ${p.steps}` })
      for (const x of s) if (!Number.isFinite(x)) throw new InvalidSeries({ field: e.name, reason: 'non-finite value' })
    }
  }
}

export function fitScaler(p: Panel): Scaler {
  checkPanel(p)
  const mean: number[][] = []
  const sd: number[][] = []
  for (const e of p.entities) {
    const ms = e.observed.map((s) => meanSd(s, p.trainEnd))
    mean.push(ms.map((x) => x[0]))
    sd.push(ms.map((x) => x[1]))
  }
  return { mean, sd }
}

/** The window offset m: mean of the target over the encoder steps [origin − k, origin). */
export function windowOffset(p: Panel, entity: number, origin: number, k: number): number {
  const y = (p.entities[entity] as PanelEntity).observed[0] as Float64Array
  let m = 0
  for (let t = origin - k; t < origin; t++) m += y[t] as number
  return m / k
}

/** The TFT window whose first forecast step is `origin` (needs origin ≥ k; the target when origin + τ ≤ steps). */
export function makeSample(p: Panel, sc: Scaler, entity: number, origin: number, k: number, tau: number): TftSample {
  if (!Number.isInteger(origin) || origin < k || origin + tau > p.steps) {
    throw new InvalidSeries({ field: 'origin', reason: `window [${origin - k}, ${origin + tau}) outside [0, ${p.steps})` })
  }
  const e = p.entities[entity]
  if (e === undefined) throw new InvalidSeries({ field: 'entity', reason: `no entity ${entity}` })
  const nObs = e.observed.length
  const nKnown = e.known.length
  const mu = sc.mean[entity] as readonly number[]
  const sd = sc.sd[entity] as readonly number[]
  const m = windowOffset(p, entity, origin, k)
  const observed = new Float64Array(k * nObs)
  for (let t = 0; t < k; t++) {
    for (let j = 0; j < nObs; j++) {
      const x = (e.observed[j] as Float64Array)[origin - k + t] as number
      observed[t * nObs + j] = j === 0 ? (x - m) / (sd[0] as number) : (x - (mu[j] as number)) / (sd[j] as number)
    }
  }
  const known = new Float64Array((k + tau) * nKnown)
  for (let t = 0; t < k + tau; t++) {
    for (let j = 0; j < nKnown; j++) known[t * nKnown + j] = (e.known[j] as Float64Array)[origin - k + t] as number
  }
  const y = e.observed[0] as Float64Array
  const target = Float64Array.from({ length: tau }, (_, h) => ((y[origin + h] as number) - m) / (sd[0] as number))
  return { staticCats: e.statics, observed, known, target }
}

/** Undoes the target scaling of a window's τ × Q output. */
export function unscale(p: Panel, sc: Scaler, entity: number, origin: number, k: number, z: Float64Array): Float64Array {
  const m = windowOffset(p, entity, origin, k)
  const s = (sc.sd[entity] as readonly number[])[0] as number
  return z.map((v) => m + v * s)
}

/**
 * The simulated chain as a panel: one entity per Brain, target = queries settled per window. Observed: queries,
 * transactions, fees, block time, emission, stake, registrations. Known: block height and position inside the current
 * halving interval (both from the height), hour of day and day of week (sin / cos, from the nominal 10 s clock).
 * Static: Brain id and template. Spans: 70 % / 15 % / 15 %.
 */
export function chainPanel(c: SimulatedChain): Panel {
  const steps = c.steps
  const hMin = c.height[0] as number
  const hMax = c.height[steps - 1] as number
  const heightScaled = c.height.map((h) => (2 * (h - hMin)) / Math.max(1, hMax - hMin) - 1)
  const halvingPos = c.height.map((h) => (h % c.halvingInterval) / c.halvingInterval)
  const cyc = (period: number, f: (x: number) => number): Float64Array =>
    Float64Array.from({ length: steps }, (_, t) => f((2 * Math.PI * (t % period)) / period))
  const known = [heightScaled, halvingPos, cyc(STEPS_PER_DAY, Math.sin), cyc(STEPS_PER_DAY, Math.cos),
    cyc(STEPS_PER_WEEK, Math.sin), cyc(STEPS_PER_WEEK, Math.cos)]
  const entities: PanelEntity[] = []
  for (let b = 0; b < c.brains; b++) {
    entities.push({
      name: `brain${b}`,
      statics: [b, c.template[b] as number],
      observed: [c.queries[b] as Float64Array, c.transactions, c.fees, c.blockTimeMs, c.emission[b] as Float64Array,
        c.stake[b] as Float64Array, c.registrations[b] as Float64Array],
      known,
    })
  }
  const trainEnd = Math.floor(steps * 0.7)
  const validEnd = Math.floor(steps * 0.85)
  const p: Panel = {
    name: 'simulated chain', steps, staticCardinalities: [c.brains, 2],
    observedNames: ['queries settled', 'transactions', 'fees', 'block time', 'emission', 'stake', 'registrations'],
    knownNames: ['block height', 'halving position', 'hour sin', 'hour cos', 'weekday sin', 'weekday cos'],
    entities, seasons: [STEPS_PER_DAY, STEPS_PER_WEEK], trainEnd, validEnd,
  }
  checkPanel(p)
  return p
}

/**
 * Parses a `date,value` CSV (dates as YYYYMMDD, weekly as statsmodels' co2.csv ships it; empty values are missing and
 * filled by linear interpolation) into a one-entity panel with a 52-step season. Known inputs: week of year (sin, cos)
 * and the scaled time index. Spans: 70 % / 15 % / 15 %.
 */
export function weeklyCsvPanel(name: string, csv: string): Panel {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim().length > 0)
  const rows = lines.slice(1).map((l) => l.split(','))
  if (rows.length < 200) throw new InvalidSeries({ field: 'csv', reason: `only ${rows.length} rows` })
  const vals = rows.map((r) => (r[1] === undefined || r[1].trim() === '' ? Number.NaN : Number(r[1])))
  const dates = rows.map((r) => String(r[0] ?? ''))
  // linear interpolation of gaps
  for (let i = 0; i < vals.length; i++) {
    if (!Number.isNaN(vals[i] as number)) continue
    let j = i
    while (j < vals.length && Number.isNaN(vals[j] as number)) j++
    const left = i > 0 ? (vals[i - 1] as number) : (vals[j] as number)
    const right = j < vals.length ? (vals[j] as number) : left
    for (let t = i; t < j; t++) vals[t] = left + ((right - left) * (t - i + 1)) / (j - i + 1)
    i = j
  }
  if (vals.some((v) => !Number.isFinite(v))) throw new InvalidSeries({ field: 'csv', reason: 'unparseable values' })
  const steps = vals.length
  const weekOfYear = dates.map((d) => {
    const y = Number(d.slice(0, 4))
    const ms = Date.UTC(y, Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8))) - Date.UTC(y, 0, 1)
    return ms / (7 * 86_400_000)
  })
  const known = [
    Float64Array.from(weekOfYear, (w) => Math.sin((2 * Math.PI * w) / 52.18)),
    Float64Array.from(weekOfYear, (w) => Math.cos((2 * Math.PI * w) / 52.18)),
    Float64Array.from({ length: steps }, (_, t) => (2 * t) / (steps - 1) - 1),
  ]
  const p: Panel = {
    name, steps, staticCardinalities: [1], observedNames: ['value'], knownNames: ['week sin', 'week cos', 'time'],
    entities: [{ name, statics: [0], observed: [Float64Array.from(vals)], known }],
    seasons: [52], trainEnd: Math.floor(steps * 0.7), validEnd: Math.floor(steps * 0.85),
  }
  checkPanel(p)
  return p
}
