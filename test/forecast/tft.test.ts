import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { TemporalFusionTransformer, Adam, type TftConfig, type TftSample } from '../../forecast/tft.ts'
import { mulberry32 } from '../../model/weights.ts'

const tiny: TftConfig = {
  hidden: 4, heads: 2, encoderLength: 4, horizon: 3, staticCardinalities: [3, 2],
  observedCount: 2, knownCount: 2, quantiles: [0.1, 0.5, 0.9], seed: 7,
}

function randomSample(c: TftConfig, seed: number): TftSample {
  const r = mulberry32(seed)
  const n = (len: number): Float64Array => Float64Array.from({ length: len }, () => 2 * r() - 1)
  return {
    staticCats: c.staticCardinalities.map((k) => Math.floor(r() * k)),
    observed: n(c.encoderLength * c.observedCount),
    known: n((c.encoderLength + c.horizon) * c.knownCount),
    target: n(c.horizon),
  }
}

describe('Temporal Fusion Transformer backprop', () => {
  test('gradient of every parameter group matches central finite differences', () => {
    const model = new TemporalFusionTransformer(tiny)
    // perturb LayerNorm gains / biases and the LSTM bias away from their initial constants so that every group's
    // gradient is generic
    const r = mulberry32(99)
    for (const p of model.params.values()) for (let i = 0; i < p.size; i++) p.data[i] = (p.data[i] as number) + 0.1 * (2 * r() - 1)
    const samples = [randomSample(tiny, 1), randomSample(tiny, 2)]
    for (const s of samples) model.lossAndGrad(s)
    const lossAll = (): number => samples.reduce((acc, s) => acc + model.loss(s), 0)
    const h = 1e-5
    let groups = 0
    let worst = 0
    for (const [name, p] of model.params) {
      const g = p.grad as Float64Array
      assert.ok(g.some((x) => x !== 0), `${name}: no gradient reaches this group`)
      const picks = new Set<number>()
      // the largest-gradient entry and two random ones
      let big = 0
      for (let i = 1; i < p.size; i++) if (Math.abs(g[i] as number) > Math.abs(g[big] as number)) big = i
      picks.add(big)
      for (let k = 0; k < Math.min(2, p.size); k++) picks.add(Math.floor(r() * p.size))
      for (const i of picks) {
        const x0 = p.data[i] as number
        p.data[i] = x0 + h
        const up = lossAll()
        p.data[i] = x0 - h
        const down = lossAll()
        p.data[i] = x0
        const fd = (up - down) / (2 * h)
        const an = g[i] as number
        const err = Math.abs(fd - an) / Math.max(1e-6, Math.abs(fd) + Math.abs(an))
        worst = Math.max(worst, err)
        assert.ok(err < 1e-4, `${name}[${i}]: analytic ${an}, finite difference ${fd}`)
      }
      groups++
    }
    assert.equal(groups, model.params.size)
    assert.ok(groups > 80, `expected every component to have parameters, got ${groups} groups`)
    assert.ok(worst < 1e-4)
  })

  test('a wrong gradient would be caught: perturbing one analytic entry fails the comparison', () => {
    const model = new TemporalFusionTransformer(tiny)
    const s = randomSample(tiny, 3)
    model.lossAndGrad(s)
    const p = model.params.get('output.W')
    assert.ok(p !== undefined && p.grad !== null)
    const h = 1e-5
    const x0 = p.data[0] as number
    p.data[0] = x0 + h
    const up = model.loss(s)
    p.data[0] = x0 - h
    const down = model.loss(s)
    p.data[0] = x0
    const fd = (up - down) / (2 * h)
    assert.ok(Math.abs(fd - (p.grad[0] as number)) < 1e-7)
    assert.ok(Math.abs(fd - ((p.grad[0] as number) + 1e-3)) > 1e-4)
  })

  test('Adam fits a small seasonal series (loss falls well below its start); deterministic by seed', () => {
    const c: TftConfig = { ...tiny, hidden: 8, encoderLength: 8, horizon: 4, staticCardinalities: [1], observedCount: 1, knownCount: 1 }
    const series = Array.from({ length: 80 }, (_, t) => Math.sin((2 * Math.PI * t) / 8))
    const samples: TftSample[] = []
    for (let o = 8; o + 4 <= 80; o += 3) {
      samples.push({
        staticCats: [0],
        observed: Float64Array.from(series.slice(o - 8, o)),
        known: Float64Array.from({ length: 12 }, (_, i) => Math.cos((2 * Math.PI * (o - 8 + i)) / 8)),
        target: Float64Array.from(series.slice(o, o + 4)),
      })
    }
    const run = (): number[] => {
      const m = new TemporalFusionTransformer(c)
      const opt = new Adam([...m.params.values()], { lr: 0.01 })
      const mean = (): number => samples.reduce((a, s) => a + m.loss(s), 0) / samples.length
      const start = mean()
      for (let step = 0; step < 60; step++) {
        for (let b = 0; b < 4; b++) m.lossAndGrad(samples[(step * 4 + b) % samples.length] as TftSample)
        opt.update(4)
      }
      return [start, mean()]
    }
    const [start, end] = run()
    assert.ok((end as number) < 0.5 * (start as number), `loss ${start} → ${end}`)
    assert.deepEqual(run(), [start, end])
  })

  test('bad configs and samples are typed errors', () => {
    assert.throws(() => new TemporalFusionTransformer({ ...tiny, heads: 3 }), { _tag: 'InvalidModelConfig' })
    assert.throws(() => new TemporalFusionTransformer({ ...tiny, quantiles: [0.5, 1] }), { _tag: 'InvalidModelConfig' })
    assert.throws(() => new TemporalFusionTransformer({ ...tiny, staticCardinalities: [] }), { _tag: 'InvalidModelConfig' })
    const m = new TemporalFusionTransformer(tiny)
    const s = randomSample(tiny, 4)
    assert.throws(() => m.predict({ ...s, staticCats: [5, 0] }), { _tag: 'InvalidSample' })
    assert.throws(() => m.predict({ ...s, observed: new Float64Array(3) }), { _tag: 'InvalidSample' })
    const bad = s.known.slice()
    bad[0] = Number.NaN
    assert.throws(() => m.predict({ ...s, known: bad }), { _tag: 'InvalidSample' })
    assert.throws(() => m.lossAndGrad({ ...s, target: undefined }), { _tag: 'InvalidSample' })
  })

  test('interpretability outputs: causal attention rows sum to 1, selection weights are distributions', () => {
    const m = new TemporalFusionTransformer(tiny)
    const o = m.predict(randomSample(tiny, 5))
    const T = tiny.encoderLength + tiny.horizon
    for (let i = 0; i < tiny.horizon; i++) {
      let s = 0
      for (let j = 0; j < T; j++) {
        const a = o.attention[i * T + j] as number
        if (j > tiny.encoderLength + i) assert.equal(a, 0)
        s += a
      }
      assert.ok(Math.abs(s - 1) < 1e-12)
    }
    const sum = (a: Float64Array): number => a.reduce((x, y) => x + y, 0)
    assert.ok(Math.abs(sum(o.pastWeights) - 1) < 1e-12)
    assert.ok(Math.abs(sum(o.futureWeights) - 1) < 1e-12)
    assert.ok(Math.abs(sum(o.staticWeights) - 1) < 1e-12)
    assert.equal(o.quantiles.length, tiny.horizon * 3)
  })
})
