import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeConfig, evaluate, initWeights, mulberry32, namedTensors, type GptModel } from 'basedai/model'
import { AdamW, lossAndGrad } from '../../model/train/backprop.ts'

const cfg = decodeConfig({ nLayer: 2, nHead: 2, nEmbd: 8, nCtx: 6, vocabSize: 11 })
function model(seed: number): GptModel {
  const w = initWeights(cfg, seed, 0.4)
  const r = mulberry32(seed)
  for (const t of namedTensors(cfg, w)) if (t.shape.length === 1) for (let i = 0; i < t.data.length; i++) t.data[i] += 0.3 * (r() - 0.5)
  return { config: cfg, weights: w }
}
const batch = [[1, 4, 2, 8, 5, 7, 3], [0, 10, 9, 9, 2, 6, 1]]

test('training loss equals the reference forward pass loss', () => {
  const m = model(1)
  const { loss } = lossAndGrad(m, batch)
  assert.ok(Math.abs(loss - evaluate(m, batch).loss) < 1e-5, `${loss} vs ${evaluate(m, batch).loss}`)
  const mask = [[1, 0], [0, 1]]
  const masked = lossAndGrad(m, batch, mask).loss
  assert.ok(Math.abs(masked - evaluate(m, batch, { headMask: mask }).loss) < 1e-5)
})

test('gradients match central finite differences for every tensor', () => {
  const m = model(2)
  const { grad } = lossAndGrad(m, batch)
  const params = namedTensors(cfg, m.weights)
  const grads = namedTensors(cfg, grad)
  const rand = mulberry32(5)
  let checked = 0
  params.forEach((p, t) => {
    for (let trial = 0; trial < 3; trial++) {
      const i = Math.floor(rand() * p.data.length)
      const orig = p.data[i]
      const h = 1e-2
      p.data[i] = orig + h
      const up = evaluate(m, batch).loss
      p.data[i] = orig - h
      const down = evaluate(m, batch).loss
      p.data[i] = orig
      const numeric = (up - down) / (2 * h)
      const analytic = grads[t].data[i]
      assert.ok(Math.abs(numeric - analytic) <= 2e-3 + 0.05 * Math.abs(numeric), `${p.name}[${i}]: analytic ${analytic} numeric ${numeric}`)
      checked++
    }
  })
  assert.equal(checked, params.length * 3)
})

test('AdamW steps reduce the loss on a fixed batch', () => {
  const m = model(3)
  const opt = new AdamW(m)
  const first = lossAndGrad(m, batch).loss
  let last = first
  for (let s = 0; s < 40; s++) {
    const { loss, grad } = lossAndGrad(m, batch)
    last = loss
    opt.update(grad, { lr: 1e-2 })
  }
  assert.ok(last < first * 0.5, `loss ${first} → ${last}`)
})
