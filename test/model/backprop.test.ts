import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeConfig, evaluate, initWeights, mulberry32, namedTensors, type GptModel } from 'basedai/model'
import { AdamW, lossAndGrad } from '../../model/train/backprop.ts'
import { checkFiniteDifferences } from './grad-check.ts'

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
  const checked = checkFiniteDifferences(m, batch, grad, 5, 3)
  assert.equal(checked, namedTensors(cfg, m.weights).length * 3)
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
