import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import {
  simulateChain, rewardOverBlocks, chainPanel, weeklyCsvPanel, fitScaler, makeSample, unscale, qRisk, seasonalNaive,
  consensusSmoothing, defaultForecaster, spanOrigins, type Panel, type SpanForecaster,
} from 'basedai/forecast'
import { blockReward } from '../../ledger/emission.ts'
import { defaultParams } from '../../ledger/params.ts'

describe('simulated chain', () => {
  test('deterministic in its seed', () => {
    const a = simulateChain({ seed: 5, days: 10 })
    const b = simulateChain({ seed: 5, days: 10 })
    const c = simulateChain({ seed: 6, days: 10 })
    assert.deepEqual(a, b)
    assert.notDeepEqual(a.queries[0], c.queries[0])
    assert.equal(a.steps, 240)
    assert.equal(a.queries.length, 8)
  })

  test("window rewards are the ledger's block rewards summed (a halving inside a window included)", () => {
    const p = defaultParams()
    const sumLedger = (from: number, count: number): bigint => {
      let s = 0n
      for (let h = from; h < from + count; h++) s += blockReward(p, h)
      return s
    }
    for (const from of [1, p.halvingInterval - 100, 2 * p.halvingInterval - 359, 5_000_000]) {
      assert.equal(rewardOverBlocks(p, from, 360), Number(sumLedger(from, 360)) / 1e9)
    }
  })

  test('the halving falls inside the default span and halves the emission', () => {
    const c = simulateChain({ seed: 2, days: 80 })
    const halvingStep = c.height.findIndex((h) => h >= c.halvingInterval)
    assert.ok(halvingStep > 0 && halvingStep < c.steps)
    const total = (t: number): number => c.emission.reduce((s, e) => s + (e[t] as number), 0)
    const ratio = total(halvingStep + 2) / total(halvingStep - 2)
    assert.ok(ratio > 0.4 && ratio < 0.6, `emission ratio across the halving ${ratio}`)
  })

  test('bad options are typed errors', () => {
    assert.throws(() => simulateChain({ days: 0 }), { _tag: 'InvalidSeries' })
    assert.throws(() => simulateChain({ brains: 1.5 }), { _tag: 'InvalidSeries' })
  })
})

describe('panels, windows and q-risk', () => {
  const panel = chainPanel(simulateChain({ seed: 4, days: 30 }))

  test('windows have the model shapes and the target scaling inverts', () => {
    const sc = fitScaler(panel)
    const s = makeSample(panel, sc, 2, 300, 24, 12)
    assert.equal(s.observed.length, 24 * 7)
    assert.equal(s.known.length, 36 * 6)
    assert.deepEqual(s.staticCats, [2, 0])
    const y = unscale(panel, sc, 2, 300, 24, s.target as Float64Array)
    const truth = (panel.entities[2]?.observed[0] as Float64Array).slice(300, 312)
    y.forEach((v, i) => assert.ok(Math.abs(v - (truth[i] as number)) < 1e-9))
    assert.throws(() => makeSample(panel, sc, 0, 10, 24, 12), { _tag: 'InvalidSeries' })
    assert.throws(() => makeSample(panel, sc, 0, panel.steps - 5, 24, 12), { _tag: 'InvalidSeries' })
    assert.throws(() => makeSample(panel, sc, 9, 300, 24, 12), { _tag: 'InvalidSeries' })
  })

  test('q-risk: 0 for the truth, 2·mean|error|/mean|y| at P50 for a biased point forecast', () => {
    const truth: SpanForecaster = {
      name: 'truth',
      forecast: (e, o) => {
        const y = panel.entities[e]?.observed[0] as Float64Array
        return Float64Array.from({ length: 36 }, (_, i) => y[o + Math.floor(i / 3)] as number)
      },
    }
    assert.deepEqual(qRisk(panel, truth, panel.validEnd, panel.steps, 12, 24).byQuantile, [0, 0, 0])
    const plus10: SpanForecaster = { name: '+10', forecast: (e, o) => truth.forecast(e, o).map((v) => v + 10) }
    const r = qRisk(panel, plus10, panel.validEnd, panel.steps, 12, 24)
    let absY = 0
    let n = 0
    for (const e of panel.entities) {
      for (const o of spanOrigins(panel.validEnd, panel.steps, 12, 24)) {
        for (let h = 0; h < 12; h++) {
          absY += Math.abs((e.observed[0] as Float64Array)[o + h] as number)
          n++
        }
      }
    }
    // over-forecast by 10: QL = (1 − q)·10 per point
    const expect = [0.9, 0.5, 0.1].map((w) => (2 * w * 10 * n) / absY)
    r.byQuantile.forEach((x, i) => assert.ok(Math.abs(x - (expect[i] as number)) < 1e-12))
  })

  test('seasonal naive is exact on a purely periodic series; the baselines are deterministic', () => {
    const steps = 400
    const y = Float64Array.from({ length: steps }, (_, t) => 100 + 10 * Math.sin((2 * Math.PI * t) / 24))
    const p: Panel = {
      name: 'periodic', steps, staticCardinalities: [1], observedNames: ['y'], knownNames: [],
      entities: [{ name: 'y', statics: [0], observed: [y], known: [] }], seasons: [24], trainEnd: 280, validEnd: 340,
    }
    const r = qRisk(p, seasonalNaive(p, 24, 12), p.validEnd, p.steps, 12, 24).byQuantile
    r.forEach((x) => assert.ok(x < 1e-12))
    const es = consensusSmoothing(panel, 200_000, 12)
    assert.deepEqual(es.forecast(1, 500), consensusSmoothing(panel, 200_000, 12).forecast(1, 500))
    assert.ok(qRisk(panel, es, panel.validEnd, panel.steps, 12, 24).byQuantile.every((x) => x > 0 && x < 2))
  })

  test('defaultForecaster picks the lowest validation q-risk, ties to the first', () => {
    const c = [{ name: 'naive', p50: 0.2, p90: 0.1 }, { name: 'tft', p50: 0.15, p90: 0.12 }, { name: 'es', p50: 0.15, p90: 0.12 }]
    assert.equal(defaultForecaster(c).name, 'tft')
    assert.equal(defaultForecaster([c[0]!, { name: 'x', p50: 0.1, p90: 0.2 }]).name, 'naive')
    assert.throws(() => defaultForecaster([]), { _tag: 'InvalidSeries' })
  })

  test('a weekly CSV with gaps parses, gaps interpolated', () => {
    const rows = ['date,co2']
    for (let i = 0; i < 300; i++) {
      const d = new Date(Date.UTC(1960, 0, 3) + i * 7 * 86_400_000)
      const ds = `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`
      rows.push(`${ds},${i === 10 || i === 11 ? '' : String(300 + i)}`)
    }
    const p = weeklyCsvPanel('test', rows.join('\n'))
    const y = p.entities[0]?.observed[0] as Float64Array
    assert.ok(Math.abs((y[10] as number) - 310) < 1e-9 && Math.abs((y[11] as number) - 311) < 1e-9)
    assert.equal(p.knownNames.length, 3)
    assert.throws(() => weeklyCsvPanel('short', 'date,co2\n19600103,1'), { _tag: 'InvalidSeries' })
  })
})
