import { test } from 'node:test'
import assert from 'node:assert/strict'
import { countEncryptedOps, decodeConfig, initWeights, type GptModel, type LinearOpCounter } from 'basedai/model'

const cfg = decodeConfig({ nLayer: 2, nHead: 4, nEmbd: 8, nCtx: 8, vocabSize: 10 })
const model: GptModel = { config: cfg, weights: initWeights(cfg, 1) }

test('hand count for the unpruned model with the scalar counter', () => {
  const r = countEncryptedOps(model)
  // per layer: QKV 8·24 + c_proj 8·8 + fc 8·32 + fcProj 32·8 = 192 + 64 + 256 + 256 = 768 MACs; LM head 8·10 = 80
  assert.equal(r.total.ctPtProducts, 2 * 768 + 80)
  assert.equal(r.total.roundTrips, 2 * 4 + 1)
  assert.equal(r.total.ciphertextsUp, 2 * (8 + 8 + 8 + 32) + 8)
  assert.equal(r.total.ciphertextsDown, 2 * (24 + 8 + 32 + 8) + 10)
})

test('fusing QKV keeps the products and saves two round trips and two uploads per layer', () => {
  const fused = countEncryptedOps(model, { fuseQkv: true })
  const split = countEncryptedOps(model, { fuseQkv: false })
  assert.equal(fused.total.ctPtProducts, split.total.ctPtProducts)
  assert.equal(split.total.roundTrips - fused.total.roundTrips, 2 * 2)
  assert.equal(split.total.ciphertextsUp - fused.total.ciphertextsUp, 2 * 2 * 8)
})

test('pruning heads shrinks QKV and c_proj; a layer with no head skips both requests', () => {
  const half = countEncryptedOps({ ...model, headMask: [[1, 0, 1, 0], [1, 1, 1, 1]] })
  assert.equal(countEncryptedOps(model).total.ctPtProducts - half.total.ctPtProducts, 8 * (3 * 2 * 2) + (2 * 2) * 8) // 2 heads of hd = 2 removed
  const none = countEncryptedOps({ ...model, headMask: [[0, 0, 0, 0], [1, 1, 1, 1]] })
  assert.equal(none.perLayer[0].roundTrips, 2)
  assert.equal(none.total.roundTrips, 7)
})

test('a supplied counter (e.g. the FHE planner) is used for every request', () => {
  const shapes: string[] = []
  const counter: LinearOpCounter = (s) => { shapes.push(`${s.dIn}x${s.dOut}x${s.tokens}`); return { ctPtProducts: 1, rotations: 2, ctCtMultiplies: 0, ciphertextsUp: 1, ciphertextsDown: 1 } }
  const r = countEncryptedOps(model, { counter, tokens: 3 })
  assert.deepEqual(shapes, ['8x24x3', '8x8x3', '8x32x3', '32x8x3', '8x24x3', '8x8x3', '8x32x3', '32x8x3', '8x10x3'])
  assert.equal(r.total.rotations, 18)
  assert.throws(() => countEncryptedOps(model, { tokens: 0 }), (e: { _tag?: string }) => e._tag === 'InvalidOption')
})
