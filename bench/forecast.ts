/**
 * `npm run bench -- forecast`: the TFT Enforcer against seasonal naive and consensus/'s exponential smoothing, by the
 * paper's q-risk at P50 and P90 on a held-out test span, on the simulated chain and (when present) a real public
 * series shipped by a Debian package. Every choice (season, λ, TFT early-stopping step, default forecaster) is made
 * on the validation span before the test span; the test span is scored once.
 */
import fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import { cpuDescription, fmt, type BenchContext, type BenchSection, type Cell } from './harness.ts'
import {
  chainPanel, consensusSmoothing, defaultForecaster, qRisk, seasonalNaive, simulateChain, trainTft, weeklyCsvPanel,
  fitScaler, makeSample, spanOrigins, commitForecast, scoreRound, forecastIncentive, toForecastRecord,
  type Panel, type SpanForecaster, type Commit, type Reveal, type RoundSpec,
} from '../forecast/index.ts'
import { BLOCKS_PER_YEAR, beta } from '../consensus/index.ts'

/** Where Debian's python3-statsmodels installs the Mauna Loa weekly CO2 series (FORECAST_REAL_CSV overrides). */
const CO2_PATHS = ['/usr/lib/python3/dist-packages/statsmodels/datasets/co2/co2.csv']
/** Seed of the TFT's initialisation and sample order (FORECAST_TFT_SEED; default 1), to measure the spread over seeds. */
const TFT_SEED = Number.parseInt(process.env.FORECAST_TFT_SEED ?? '1', 10)

interface Candidate {
  readonly name: string
  readonly f: SpanForecaster
  readonly p50: number
  readonly p90: number
  readonly seconds: number
}

interface ChainInfo {
  readonly height: Float64Array
  readonly blocksPerStep: number
}

/**
 * The scoring a ledger would run, over every Brain and test window of the chain: five validators commit and reveal —
 * the three forecasters, one that copies the first one's commitment, one that never reveals — and are scored with
 * exact integer quantile loss; their forecaster-term shares come from forecastIncentive at 3 years (β = 0.45) with
 * an equal consensus incentive for all five.
 */
function onChainRounds(p: Panel, chain: ChainInfo, cands: readonly Candidate[], tau: number): string {
  const names = [...cands.map((c) => c.name.replace(/ \(.*$/, '')), 'copier', 'silent']
  const V = names.length
  const key = (i: number): Uint8Array => new Uint8Array(32).fill(i + 1)
  const acc = new Array<number>(V).fill(0)
  const share = new Array<number>(V).fill(0)
  let rounds = 0
  const block = 3 * BLOCKS_PER_YEAR
  for (let e = 0; e < p.entities.length; e++) {
    for (const o of spanOrigins(p.validEnd, p.steps, tau, 0)) {
      const round: RoundSpec = { brain: e, originHeight: chain.height[o] as number, blocksPerStep: chain.blocksPerStep, quantilesPpm: [100_000, 500_000, 900_000], horizon: tau }
      const commits: Commit[] = []
      const reveals: Reveal[] = []
      cands.forEach((c, i) => {
        const f = toForecastRecord(round, c.f.forecast(e, o))
        const salt = new Uint8Array(16).fill(rounds % 251).map((x, j) => x ^ (i * 16 + j))
        commits.push({ validator: key(i), commitment: commitForecast(key(i), f, salt) })
        reveals.push({ validator: key(i), forecast: f, salt })
      })
      commits.push({ validator: key(V - 2), commitment: (commits[0] as Commit).commitment })
      const silentF = toForecastRecord(round, cands[0]?.f.forecast(e, o) ?? new Float64Array(0))
      commits.push({ validator: key(V - 1), commitment: commitForecast(key(V - 1), silentF, new Uint8Array(16).fill(7)) })
      const y = (p.entities[e]?.observed[0]) as Float64Array
      const realised = Array.from({ length: tau }, (_, h) => BigInt(Math.round(y[o + h] as number)))
      const scores = scoreRound({ round, commits, reveals, realised })
      const inc = forecastIncentive({ consensusIncentive: new Array<number>(V).fill(1 / 8), accuracyQ40: scores.map((x) => x.accuracyQ40), block })
      scores.forEach((x, i) => {
        acc[i] = (acc[i] as number) + x.accuracy
        share[i] = (share[i] as number) + (inc.incentive[i] as number)
      })
      rounds++
    }
  }
  return `${p.name}, on-chain scoring over ${rounds} test rounds (commit, reveal, exact quantile loss): mean Accuracy / ` +
    `incentive share at β(3 y) = ${fmt(beta(block), 2)} with equal consensus incentive: ` +
    names.map((n, i) => `${n} ${fmt((acc[i] as number) / rounds, 3)} / ${fmt((share[i] as number) / rounds, 3)}`).join('; ')
}

function evaluate(ctx: BenchContext, p: Panel & { onChain?: ChainInfo }, k: number, tau: number, steps: number, hidden: number): {
  rows: Record<string, Cell>[]; notes: string[]
} {
  const val = (f: SpanForecaster): { p50: number; p90: number } => {
    const r = qRisk(p, f, p.trainEnd, p.validEnd, tau, k).byQuantile
    return { p50: r[1] as number, p90: r[2] as number }
  }
  const pick = (fs: SpanForecaster[]): Candidate => {
    const scored = fs.map((f) => ({ name: f.name, f, seconds: 0, ...val(f) }))
    return defaultForecaster(scored)
  }
  ctx.progress(`${p.name}: baselines`)
  const naive = pick(p.seasons.map((s) => seasonalNaive(p, s, tau)))
  const es = pick([50_000, 200_000, 500_000].map((ppm) => consensusSmoothing(p, ppm, tau)))
  ctx.progress(`${p.name}: training the TFT (${steps} Adam steps)`)
  const t0 = performance.now()
  const tft = trainTft(p, { encoderLength: k, horizon: tau, steps, hidden, heads: 4, batch: 16, lr: 3e-3, evalEvery: Math.max(10, Math.floor(steps / 6)), validWindows: 48, seed: TFT_SEED, progress: ctx.progress })
  const seconds = (performance.now() - t0) / 1000
  const tftC: Candidate = { name: tft.forecaster.name, f: tft.forecaster, seconds, ...val(tft.forecaster) }
  const candidates = [naive, es, tftC]
  const chosen = defaultForecaster(candidates)
  const rows: Record<string, Cell>[] = []
  const test: Record<string, number[]> = {}
  for (const c of candidates) {
    const r = qRisk(p, c.f, p.validEnd, p.steps, tau, k)
    test[c.name] = r.byQuantile as number[]
    rows.push({
      data: p.name, forecaster: c.name + (c === chosen ? ' **(default)**' : ''), 'valid P50': fmt(c.p50, 4),
      'valid P90': fmt(c.p90, 4), 'test P50': fmt(r.byQuantile[1] as number, 4), 'test P90': fmt(r.byQuantile[2] as number, 4),
      'test windows': r.windows, 'train s': c === tftC ? fmt(seconds, 3) : '–',
    })
  }
  const t = test[tftC.name] as number[]
  const bestBase = [naive, es].map((c) => test[c.name] as number[])
  const ratio = (i: number): string => fmt((t[i] as number) / Math.min(...bestBase.map((b) => b[i] as number)), 3)
  // interpretability: mean past variable-selection weights over the test windows
  const sc = fitScaler(p)
  const w = new Float64Array(p.observedNames.length + p.knownNames.length)
  let n = 0
  for (let e = 0; e < p.entities.length; e++) {
    for (const o of spanOrigins(p.validEnd, p.steps, tau, k)) {
      const out = tft.model.predict(makeSample(p, sc, e, o, k, tau))
      out.pastWeights.forEach((x, j) => (w[j] = (w[j] as number) + x))
      n++
    }
  }
  const names = [...p.observedNames, ...p.knownNames.map((x) => `${x} (known)`)]
  const top = names.map((name, j) => [name, (w[j] as number) / n] as const).sort((a, b) => b[1] - a[1]).slice(0, 4)
  const notes = [
    ...(p.onChain === undefined ? [] : [onChainRounds(p, p.onChain, [tftC, naive, es], tau)]),
    `${p.name}: TFT test q-risk / best baseline's: P50 ${ratio(1)}, P90 ${ratio(2)} (below 1 = the TFT is better); seed ${TFT_SEED}; ` +
      `TFT best validation step ${tft.bestStep} of ${steps}, ${tft.model.parameterCount()} parameters, k = ${k}, τ = ${tau}; ` +
      `default by validation: ${chosen.name}`,
    `${p.name}: TFT past-input selection weights (test windows, mean): ${top.map(([a, b]) => `${a} ${fmt(b, 2)}`).join(', ')}`,
  ]
  return { rows, notes }
}

export async function bench(ctx: BenchContext): Promise<BenchSection> {
  const rows: Record<string, Cell>[] = []
  const notes: string[] = []
  const sim = simulateChain({ seed: 1, brains: 8, days: ctx.quick ? 60 : 120 })
  const chain = { ...chainPanel(sim), onChain: { height: sim.height, blocksPerStep: sim.blocksPerStep } }
  const r1 = evaluate(ctx, chain, 24, 12, ctx.quick ? 30 : 240, 16)
  rows.push(...r1.rows)
  notes.push(...r1.notes)
  const csvPath = process.env.FORECAST_REAL_CSV ?? CO2_PATHS.find((f) => fs.existsSync(f))
  if (csvPath !== undefined && fs.existsSync(csvPath)) {
    const co2 = weeklyCsvPanel('Mauna Loa CO2 (weekly, statsmodels)', fs.readFileSync(csvPath, 'utf8'))
    const r2 = evaluate(ctx, co2, 52, 13, ctx.quick ? 20 : 160, 16)
    rows.push(...r2.rows)
    notes.push(...r2.notes)
  } else {
    notes.push('real series: no co2.csv found (install python3-statsmodels, or set FORECAST_REAL_CSV to its datasets/co2/co2.csv); skipped')
  }
  notes.push(
    'q-risk = 2·Σ QL_q / Σ|y| over every entity and non-overlapping test window (Lim et al. 2021); seasons, λ and the TFT ' +
      'stopping step chosen on the validation span (70 / 15 / 15 % split); the test span is scored once.',
    `simulated chain: 8 Brains, ${ctx.quick ? 60 : 120} days of 360-block windows, seed 1 (forecast/simulate.ts); ` +
      'target = queries settled per Brain per window.',
    ctx.quick ? 'quick mode: shorter chain and far fewer training steps; not representative.' : 'full mode.',
    `host: ${cpuDescription()}; shared with other builds, so training seconds are wall-clock under load.`,
  )
  return {
    title: 'Forecast: TFT Enforcer vs baselines (q-risk, lower is better)',
    columns: ['data', 'forecaster', 'valid P50', 'valid P90', 'test P50', 'test P90', 'test windows', 'train s'],
    rows,
    notes,
  }
}
