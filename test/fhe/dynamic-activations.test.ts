import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createFheContext, createKeyGenerator, encryptedInt8Linear, presets, seededRandom } from '../../fhe/index.ts'
import { forward, int8Linear, loadShippedModel, quantizeRowsInt8, type ActivationQuant } from '../../model/index.ts'

const SQUEEZE: ActivationQuant = { levels: 256, threshold: 0.1, alpha: 0.5 } // §5.2 pseudocode defaults

test('§5.1 dynamic quantization of activations: reconstruction within half a level; offsets folded back exactly', () => {
  const rows = 3
  const cols = 50
  const x = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.7) * (1 + (i % 7)) + (i < cols ? 0 : 0.01 * i))
  const a = quantizeRowsInt8(x, rows, cols, SQUEEZE)
  for (let r = 0; r < rows; r++) {
    const off = a.offset![r]!
    const step = a.step[r]!
    for (let k = 0; k < cols; k++) {
      const rec = off + step * a.q[r * cols + k]!
      assert.ok(Math.abs(rec - x[r * cols + k]!) <= step / 2 + 1e-9, `row ${r} col ${k}`)
    }
  }
  assert.throws(() => quantizeRowsInt8(x, rows, cols, { ...SQUEEZE, levels: 16 }), { _tag: 'InvalidOption' })
})

test('the shipped model with §5.1-quantized activations: encrypted logits equal the plaintext twin bit for bit', () => {
  const { model, tokenizer } = loadShippedModel()
  const ctx = createFheContext(presets.bfv4096Linear)
  const secretKey = createKeyGenerator(ctx, seededRandom('dyn-key')).secretKey
  const tokens = tokenizer.encode('The capital is')
  const enc = forward(model, tokens, { linear: encryptedInt8Linear({ ctx, secretKey, activations: SQUEEZE, rng: seededRandom('dyn-enc') }), lastOnly: true })
  const plain = forward(model, tokens, { linear: int8Linear(SQUEEZE), lastOnly: true })
  assert.deepEqual(enc, plain)
  const f32 = forward(model, tokens, { lastOnly: true })
  const argmax = (v: Float32Array): number => v.indexOf(Math.max(...v))
  assert.equal(argmax(plain), argmax(f32), 'the §5.1 path keeps the f32 top-1 on this prompt')
})
