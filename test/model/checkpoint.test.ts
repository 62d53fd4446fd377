import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import {
  decodeConfig, floatToHalf, forward, halfToFloat, initWeights, loadGpt2Checkpoint, loadGpt2File, namedTensors,
  parseSafetensors, saveGpt2Checkpoint, writeSafetensors, type GptModel,
} from 'basedai/model'

const cfg = decodeConfig({ nLayer: 2, nHead: 2, nEmbd: 8, nCtx: 6, vocabSize: 10 })
const model: GptModel = { config: cfg, weights: initWeights(cfg, 5, 0.3) }
const tag = (name: string, check?: (e: Record<string, unknown>) => boolean) => (e: unknown): boolean =>
  (e as { _tag?: string })._tag === name && (check === undefined || check(e as Record<string, unknown>))

/** Hand-build a safetensors file so the reader is not only tested against its own writer. */
function handBuilt(header: object, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(8 + h.length + data.length)
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true)
  out.set(h, 8)
  out.set(data, 8 + h.length)
  return out
}

describe('safetensors', () => {
  test('reads a hand-built file: F32 and F16 little-endian, offsets relative to the data section', () => {
    const data = new Uint8Array(12 + 4)
    const v = new DataView(data.buffer)
    v.setFloat32(0, 1.5, true); v.setFloat32(4, -2, true); v.setFloat32(8, 0.25, true)
    v.setUint16(12, 0x3c00, true) // 1.0
    v.setUint16(14, 0xc500, true) // -5.0
    const f = parseSafetensors(handBuilt({ __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, b: { dtype: 'F16', shape: [1, 2], data_offsets: [12, 16] } }, data))
    assert.deepEqual(f.metadata, { format: 'pt' })
    assert.deepEqual(Array.from(f.getF32(f.tensors.get('a')!)), [1.5, -2, 0.25])
    assert.deepEqual(Array.from(f.getF32(f.tensors.get('b')!)), [1, -5])
    assert.deepEqual(f.tensors.get('b')!.shape, [1, 2])
  })

  test('writer output has an 8-byte aligned header and round-trips', () => {
    const bytes = writeSafetensors([{ name: 'x', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }], { metadata: { k: 'v' } })
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true))
    assert.equal(n % 8, 0)
    const f = parseSafetensors(bytes)
    assert.deepEqual(Array.from(f.getF32(f.tensors.get('x')!)), [1, 2, 3, 4, 5, 6])
    assert.equal(f.metadata['k'], 'v')
  })

  test('f16 conversion: exact on representable values, nearest on others', () => {
    for (const [x, h] of [[0, 0], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [2 ** -24, 1], [2 ** -14, 0x0400], [0.1, 0x2e66], [1e6, 0x7c00]] as const) {
      assert.equal(floatToHalf(x), h, `floatToHalf(${x})`)
    }
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), (h) => {
      const x = halfToFloat(h)
      fc.pre(Number.isFinite(x) && !Object.is(x, -0))
      return floatToHalf(x) === h
    }), { seed: 7, numRuns: 2000 })
    fc.assert(fc.property(fc.double({ min: -60000, max: 60000, noNaN: true }), (x) => {
      const y = halfToFloat(floatToHalf(x))
      return Math.abs(y - x) <= Math.max(Math.abs(x) * 2 ** -11, 2 ** -25) + 1e-30
    }), { seed: 8, numRuns: 2000 })
  })

  test('malformed containers are rejected with typed errors', () => {
    assert.throws(() => parseSafetensors(new Uint8Array(4)), tag('SafetensorsFormatError'))
    const big = new Uint8Array(16)
    new DataView(big.buffer).setBigUint64(0, 1000n, true)
    assert.throws(() => parseSafetensors(big), tag('SafetensorsFormatError'))
    assert.throws(() => parseSafetensors(handBuilt({ a: 1 }, new Uint8Array())), tag('SafetensorsFormatError', (e) => e['tensor'] === 'a'))
    assert.throws(() => parseSafetensors(handBuilt({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8))), tag('SafetensorsFormatError', (e) => e['tensor'] === 'a'))
    assert.throws(() => parseSafetensors(handBuilt({ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1))), tag('SafetensorsFormatError'))
    assert.throws(() => parseSafetensors(handBuilt({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(10))),
      tag('TruncatedTensor', (e) => e['tensor'] === 'a' && e['availableBytes'] === 10))
    const ints = parseSafetensors(handBuilt({ i: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)))
    assert.throws(() => ints.getF32(ints.tensors.get('i')!), tag('UnsupportedDtype', (e) => e['tensor'] === 'i'))
    const garbage = handBuilt({}, new Uint8Array())
    garbage[8] = 0x7b; garbage[9] = 0x7b
    assert.throws(() => parseSafetensors(garbage), tag('SafetensorsFormatError'))
  })
})

describe('GPT-2 checkpoint loader', () => {
  test('a synthetic checkpoint in HF GPT-2 naming loads and gives the same logits', () => {
    const bytes = saveGpt2Checkpoint(model)
    const names = [...parseSafetensors(bytes).tensors.keys()]
    for (const n of ['wte.weight', 'wpe.weight', 'h.0.attn.c_attn.weight', 'h.1.mlp.c_proj.bias', 'ln_f.weight']) assert.ok(names.includes(n), n)
    assert.deepEqual(parseSafetensors(bytes).tensors.get('h.1.attn.c_attn.weight')!.shape, [8, 24])
    const loaded = loadGpt2Checkpoint(bytes)
    assert.deepEqual(loaded.config, cfg)
    const tokens = [1, 4, 9, 0, 3]
    assert.deepEqual(forward(loaded, tokens), forward(model, tokens))
  })

  test('the transformer. prefix and extra buffers of HF exports are accepted; F16 loads within half precision', () => {
    const tensors = namedTensors(cfg, model.weights).map((t) => ({ ...t, name: `transformer.${t.name}` }))
    tensors.push({ name: 'transformer.h.0.attn.bias', shape: [1, 1, 6, 6], data: new Float32Array(36).fill(1) })
    tensors.push({ name: 'lm_head.weight', shape: [10, 8], data: model.weights.wte })
    const bytes = writeSafetensors(tensors, { dtype: 'F16' })
    const loaded = loadGpt2Checkpoint(bytes, { config: { nLayer: 2, nHead: 2, nEmbd: 8, nCtx: 6, vocabSize: 10 } })
    const a = forward(loaded, [1, 2, 3])
    const b = forward(model, [1, 2, 3])
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-2, `logit ${i}`)
  })

  test('loadGpt2File reads an HF config.json next to the weights', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpt2-'))
    try {
      fs.writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(namedTensors(cfg, model.weights)))
      assert.throws(() => loadGpt2File(path.join(dir, 'model.safetensors')), tag('InvalidConfig'))
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ n_layer: 2, n_head: 2, n_embd: 8, n_positions: 6, vocab_size: 10, layer_norm_epsilon: 1e-5 }))
      const loaded = loadGpt2File(path.join(dir, 'model.safetensors'))
      assert.deepEqual(forward(loaded, [2, 7]), forward(model, [2, 7]))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('missing, mis-shaped and truncated tensors are named in the error', () => {
    const all = namedTensors(cfg, model.weights)
    const without = writeSafetensors(all.filter((t) => t.name !== 'h.1.ln_2.bias'), { metadata: { 'basedai.config': JSON.stringify(cfg) } })
    assert.throws(() => loadGpt2Checkpoint(without), tag('MissingTensor', (e) => e['tensor'] === 'h.1.ln_2.bias'))
    const transposed = all.map((t) => (t.name === 'h.0.attn.c_attn.weight' ? { ...t, shape: [24, 8] } : t))
    assert.throws(() => loadGpt2Checkpoint(writeSafetensors(transposed), { config: cfg }),
      tag('TensorShapeMismatch', (e) => e['tensor'] === 'h.0.attn.c_attn.weight' && JSON.stringify(e['expected']) === '[8,24]'))
    const full = saveGpt2Checkpoint(model)
    const cut = full.subarray(0, full.length - 10)
    const last = all[all.length - 1].name
    assert.throws(() => loadGpt2Checkpoint(cut), tag('TruncatedTensor', (e) => e['tensor'] === last))
    assert.throws(() => loadGpt2Checkpoint(full, { config: { ...cfg, nHead: 3 } }), tag('InvalidConfig'))
    assert.throws(() => loadGpt2Checkpoint(full, { config: { ...cfg, nLayer: 3 } }), tag('MissingTensor', (e) => e['tensor'] === 'h.2.ln_1.weight'))
  })
})
