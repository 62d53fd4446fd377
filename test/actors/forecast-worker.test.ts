/**
 * The live validator's TFT in a worker thread (actors/forecast-worker.ts, comlink over node:worker_threads):
 * it trains on a seasonal series while the main thread keeps running, returns quantile forecasts of the right shape
 * with its validation q-risk, and `forecastWindows` (the validator's chooser) takes it only when its measured
 * validation q-risk is the lowest; terminate ends the thread, also through the validator's terminate().
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { simulateChain } from '../../forecast/index.ts'
import { mulberry32 } from '../../model/weights.ts'
import { startForecastWorker, type TftCandidate } from '../../actors/forecast-worker.ts'
import validatorBehaviour, { forecastWindows, type ValidatorState } from '../../actors/validator.ts'
import { ShutdownExit, type ActorContext } from '../../supervisor/types.ts'

const QS = [0.1, 0.5, 0.9]
const mean = (s: { p50: number; p90: number }): number => (s.p50 + s.p90) / 2

test('TFT worker: trains off the main thread, forecasts quantiles, is chosen only when better on validation, ends on terminate', { timeout: 85_000 }, async (t) => {
  const w = startForecastWorker()
  try {
    // 8 days of one simulated Brain's hourly queries: a strong daily season
    const chain = simulateChain({ seed: 3, brains: 1, days: 8 })
    const ys = Array.from(chain.queries[0] as Float64Array)
    assert.equal(ys.length, 192)

    // the main thread stays responsive while the worker trains: a 10 ms timer keeps firing
    let ticks = 0
    let maxGap = 0
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      maxGap = Math.max(maxGap, now - last)
      last = now
      ticks++
    }, 10)
    const r = await w.call((api) => api.train({ ys, firstWindow: 0, horizon: 7, steps: 60, timeBudgetMs: 60_000, seed: 1, qs: QS }), 80_000)
    clearInterval(timer)
    t.diagnostic(`simulated Brain: ${r.stepsRun} steps (best ${r.bestStep}) in ${r.ms.toFixed(0)} ms; main-thread timer: ${ticks} ticks, longest gap ${maxGap.toFixed(0)} ms`)
    assert.equal(r.stepsRun, 60)
    assert.equal(r.stoppedBy, 'steps')
    assert.equal(r.encoderLength, 24)
    assert.equal(r.horizon, 7)
    // training on the main thread would have blocked the timer for the whole r.ms (> 2 s); here it never stops long
    assert.ok(r.ms > 2_000, `training long enough to tell (${r.ms} ms)`)
    assert.ok(maxGap < 1_000, `longest timer gap ${maxGap.toFixed(0)} ms during ${r.ms.toFixed(0)} ms of training, ${ticks} ticks`)

    const c = await w.call((api) => api.forecast({ ys, firstWindow: 0, ahead: 6, qs: QS }), 10_000)
    assert.ok(c)
    assert.equal(c.forecast.length, 6 * 3, '6 windows × P10/P50/P90')
    assert.ok(c.forecast.every((v) => Number.isFinite(v)))
    assert.ok(c.windows > 0 && Number.isFinite(c.p50) && Number.isFinite(c.p90) && c.p50 > 0)
    assert.equal(c.trainedOn, 192)
    // a longer horizon than trained, or other quantile levels: not a candidate
    assert.equal(await w.call((api) => api.forecast({ ys, firstWindow: 0, ahead: 8, qs: QS }), 10_000), null)
    assert.equal(await w.call((api) => api.forecast({ ys, firstWindow: 0, ahead: 6, qs: [0.2, 0.5, 0.8] }), 10_000), null)
    // the chooser's decision is the lowest measured validation q-risk among the baselines and the TFT
    const sim = forecastWindows(ys, 6, 4, QS, c)
    t.diagnostic(`simulated Brain, validation mean(P50, P90) q-risk: ${sim.scores.map((s) => `${s.name} ${mean(s).toFixed(4)}`).join('; ')} → ${sim.kind}`)
    assert.equal(sim.values.length, 4 * 3)
    const tftScore = sim.scores.find((s) => s.name === c.name)
    assert.ok(tftScore, 'the TFT is among the candidates')
    const argmin = sim.scores.reduce((b, s) => (mean(s) < mean(b) ? s : b))
    assert.equal(sim.name, argmin.name)
    assert.equal(sim.kind, argmin.name === c.name ? 'tft' : argmin.name.startsWith('seasonal naive') ? 'seasonal-naive' : 'smoothing')

    // Case 1: a daily sinusoid under heavy noise. Seasonal naive copies last day's noise; the TFT (with the day as a
    // known input) learns the mean cycle: lower validation q-risk, so it is chosen.
    const rnd = mulberry32(7)
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd())
    const noisy = Array.from({ length: 192 }, (_, t) => Math.max(0, 100 + 60 * Math.sin((2 * Math.PI * t) / 24) + 25 * gauss()))
    // while this trains, the worker still answers forecasts with the model trained before
    const training = w.call((api) => api.train({ ys: noisy, firstWindow: 0, horizon: 7, steps: 60, timeBudgetMs: 60_000, seed: 1, qs: QS }), 80_000)
    const t0 = performance.now()
    const during = await w.call((api) => api.forecast({ ys, firstWindow: 0, ahead: 6, qs: QS }), 10_000)
    assert.equal(during?.name, c.name, `answered during training in ${(performance.now() - t0).toFixed(0)} ms by the previous model`)
    await training
    const cNoisy = await w.call((api) => api.forecast({ ys: noisy, firstWindow: 0, ahead: 6, qs: QS }), 10_000) as TftCandidate
    const chosen = forecastWindows(noisy, 6, 4, QS, cNoisy)
    t.diagnostic(`noisy daily sinusoid: TFT ${mean(cNoisy).toFixed(4)}, baselines ${chosen.scores.filter((s) => s.name !== cNoisy.name).map((s) => mean(s).toFixed(4)).join(', ')} → ${chosen.kind}`)
    const bestBaseline = chosen.scores.filter((s) => s.name !== cNoisy.name).reduce((b, s) => (mean(s) < mean(b) ? s : b))
    assert.equal(chosen.kind, 'tft', `TFT ${mean(cNoisy).toFixed(4)} vs ${bestBaseline.name} ${mean(bestBaseline).toFixed(4)}`)
    assert.ok(mean(cNoisy) < mean(bestBaseline))
    assert.deepEqual(chosen.values, forecastWindows(noisy, 6, 4, QS, cNoisy).values, 'deterministic')

    // Case 2: an exactly periodic series. Seasonal naive (s = 24) forecasts it exactly (q-risk 0), the TFT cannot.
    const exact = Array.from({ length: 192 }, (_, t) => [30, 0, 50, 10, 40, 20][t % 6] as number)
    await w.call((api) => api.train({ ys: exact, firstWindow: 0, horizon: 7, steps: 60, timeBudgetMs: 60_000, seed: 1, qs: QS }), 80_000)
    const cExact = await w.call((api) => api.forecast({ ys: exact, firstWindow: 0, ahead: 6, qs: QS }), 10_000) as TftCandidate
    const kept = forecastWindows(exact, 6, 4, QS, cExact)
    t.diagnostic(`exact period 6: TFT ${mean(cExact).toFixed(4)} → ${kept.kind} (${kept.name})`)
    assert.equal(kept.kind, 'seasonal-naive')
    assert.ok(mean(cExact) > 0, `the TFT measured ${mean(cExact).toFixed(4)} on validation`)
    assert.deepEqual(kept.values, forecastWindows(exact, 6, 4, QS).values, 'the same forecast as without the TFT')
  } finally {
    assert.equal(await w.terminate(), 1, 'terminated')
  }
  assert.equal(w.alive(), false)
  // a call on an ended worker rejects instead of waiting forever
  await assert.rejects(w.call((api) => api.forecast({ ys: [1], firstWindow: 0, ahead: 1, qs: QS }), 5_000), /ended/)
})

test('the validator\'s terminate() ends its TFT worker thread', { timeout: 30_000 }, async () => {
  const client = startForecastWorker()
  // the only fields terminate() reads (the rest of a validator's state needs a ledger, a model and FHE keys)
  const state = { timer: null, forecast: { timer: null, tft: { client } } } as unknown as ValidatorState
  assert.equal(await client.call((api) => api.forecast({ ys: [1, 2, 3], firstWindow: 0, ahead: 1, qs: QS }), 20_000), null, 'running, no model yet')
  const terminate = validatorBehaviour().terminate
  assert.ok(terminate)
  const ctx: ActorContext = { address: '/test/validator', role: 'validator', args: {}, faults: false, uptimeMs: () => 0, placement: 'main' }
  await terminate(state, ShutdownExit, ctx)
  assert.equal(client.alive(), false)
})
