import assert from 'node:assert/strict'
import { test } from 'node:test'
import { forward } from '../../model/forward.ts'
import { int8Linear } from '../../model/int8.ts'
import { loadShippedModel } from '../../model/shipped.ts'
import { encryptedInt8Linear, type EncryptedLinearRecord } from '../../fhe/inference.ts'
import { noiseBudget } from '../../fhe/decrypt.ts'
import { encryptActivations, evaluateLinearFull, planLinear, prepareLinear } from '../../fhe/linear.ts'
import { fixture, randomInts } from './helpers.ts'

test('shipped model: every dense product under encryption gives logits bit-identical to int8Linear', () => {
  const { model, tokenizer } = loadShippedModel()
  const { ctx, kg } = fixture('bfv4096Linear')
  const tokens = tokenizer.encode('The capital of France is').slice(0, 8)
  const records: EncryptedLinearRecord[] = []
  const enc = forward(model, tokens, { linear: encryptedInt8Linear({ ctx, secretKey: kg.secretKey, onProduct: (r) => records.push(r) }) })
  const plain = forward(model, tokens, { linear: int8Linear() })
  assert.deepEqual(enc, plain)
  // Every dense product of every layer went through the encrypted path, at the shipped model's shapes.
  const d = model.config.nEmbd
  assert.equal(records.length, 4 * model.config.nLayer)
  const shapes = new Set(records.map((r) => `${r.inDim}→${r.outDim}`))
  assert.deepEqual([...shapes].sort(), [`${d}→${3 * d}`, `${d}→${d}`, `${d}→${4 * d}`, `${4 * d}→${d}`].sort())
  assert.ok(records.every((r) => r.rows === tokens.length && r.bytesUp > 0 && r.bytesDown > 0))
})

test("shipped model's shapes: remaining noise budget after each layer shape", () => {
  const { model } = loadShippedModel()
  const { ctx, kg } = fixture('bfv4096Linear')
  const d = model.config.nEmbd
  for (const [dIn, dOut] of [[d, 3 * d], [d, d], [d, 4 * d], [4 * d, d]] as const) {
    const shape = { dIn, dOut, tokens: 4 }
    const plan = planLinear(ctx, shape)
    const w = Int8Array.from(randomInts(dIn * dOut, -128, 127, dIn + dOut))
    const x = Int8Array.from(randomInts(dIn * 4, -128, 127, dIn * dOut))
    const out = evaluateLinearFull(ctx, prepareLinear(ctx, plan, w), encryptActivations(ctx, kg.secretKey, plan, x))
    const least = Math.min(...out.map((c) => noiseBudget(ctx, kg.secretKey, c)))
    assert.ok(least >= plan.worstCaseBudgetBits && least > 15, `${dIn}→${dOut}: ${least} bits left`)
  }
})
