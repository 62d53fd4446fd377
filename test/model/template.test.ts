import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ActorSystem } from '../../supervisor/index.ts'
import { brainRole } from '../../actors/brain.ts'
import { validatorRole } from '../../actors/validator.ts'
import { MinerRejection } from '../../protocol/index.ts'
import { rejectedWith } from '../support/rejection.ts'
import { EncryptedSession } from '../../gateway/index.ts'
import { buildBrainTemplate } from '../../cli/template.ts'
import { createFheContext, createKeyGenerator, encryptedInt8Linear, presets } from '../../fhe/index.ts'
import {
  forward, forwardAsync, int8Linear, LAYER_TENSORS, linearWeights, loadBrainTask, sha256Hex, writeSafetensors, type TensorToWrite,
} from '../../model/index.ts'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'brain-template-'))
after(() => fs.rmSync(tmp, { recursive: true, force: true }))
const isTag = (tag: string) => (e: unknown): boolean => (e as { _tag?: string })._tag === tag
const role = (n: string): string => new URL(`../../actors/${n}.ts`, import.meta.url).href

/** xorshift32 uniform in [-a, a): fast enough to fill GPT-2 small's 124 M parameters. */
function filler(seed: number): (n: number, a: number) => Float32Array {
  let s = seed >>> 0 || 1
  return (n, a) => {
    const out = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0
      out[i] = (s / 4294967296 * 2 - 1) * a
    }
    return out
  }
}

/** A checkpoint with Hugging Face GPT-2 tensor names and an HF config.json beside it; random weights. */
function writeCheckpoint(dir: string, c: { nLayer: number; nHead: number; nEmbd: number; nCtx: number; vocabSize: number }, seed: number): string {
  fs.mkdirSync(dir, { recursive: true })
  const rand = filler(seed)
  const d = c.nEmbd
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1)
  const tensors: TensorToWrite[] = [
    { name: 'wte.weight', shape: [c.vocabSize, d], data: rand(c.vocabSize * d, 0.1) },
    { name: 'wpe.weight', shape: [c.nCtx, d], data: rand(c.nCtx * d, 0.02) },
  ]
  for (let l = 0; l < c.nLayer; l++) {
    for (const t of LAYER_TENSORS) {
      const shape = t.shape(d)
      const n = shape.reduce((a, b) => a * b, 1)
      const isGain = t.suffix.startsWith('ln_') && t.suffix.endsWith('weight')
      tensors.push({ name: `h.${l}.${t.suffix}`, shape, data: isGain ? ones(n) : rand(n, shape.length === 2 ? 0.5 / Math.sqrt(shape[0]) : 0.02) })
    }
  }
  tensors.push({ name: 'ln_f.weight', shape: [d], data: ones(d) }, { name: 'ln_f.bias', shape: [d], data: new Float32Array(d) })
  const file = path.join(dir, 'model.safetensors')
  fs.writeFileSync(file, writeSafetensors(tensors, { dtype: 'F32', metadata: {} }))
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ n_layer: c.nLayer, n_head: c.nHead, n_embd: d, n_positions: c.nCtx, vocab_size: c.vocabSize, layer_norm_epsilon: 1e-5 }))
  return file
}

describe('Brain templates', () => {
  test('a small checkpoint → a squeezed int8 Brain task; a miner serves it encrypted; hash mismatches are refused by miners and validators', async () => {
    const src = writeCheckpoint(path.join(tmp, 'small-src'), { nLayer: 2, nHead: 4, nEmbd: 32, nCtx: 32, vocabSize: 512 }, 7)
    const out = path.join(tmp, 'small-task')
    const task = await buildBrainTemplate({ weights: src, fraction: 0.5, out, modelId: 'small-test', calibrationTokens: 96 })
    assert.equal(task.squeeze.budgetFraction, 0.5)
    assert.ok(task.squeeze.keptFraction <= 0.5)
    assert.equal(task.squeeze.heads, '4/8')
    assert.equal(task.tokenizer, 'shipped')
    assert.equal(task.weightsHash, sha256Hex(fs.readFileSync(path.join(out, 'model.safetensors'))))
    assert.ok(Number(task.fhe?.ctPtProductsPerToken) < Number(task.fhe?.ctPtProductsPerTokenAllHeads))
    const { model } = loadBrainTask(out)
    assert.deepEqual(model.headMask, task.squeeze.headMask)

    // a tampered copy: same task, one byte of weights changed
    const bad = path.join(tmp, 'small-tampered')
    fs.cpSync(out, bad, { recursive: true })
    const bytes = fs.readFileSync(path.join(bad, 'model.safetensors'))
    bytes[bytes.length - 3] ^= 0x40
    fs.writeFileSync(path.join(bad, 'model.safetensors'), bytes)
    assert.throws(() => loadBrainTask(bad), isTag('WeightsHashMismatch'))

    const sys = await ActorSystem.start({
      kind: 'supervisor',
      id: 'root',
      children: [
        { kind: 'actor', id: 'miner', behaviour: { module: role('miner') }, placement: 'worker', args: { template: out } },
        { kind: 'actor', id: 'tampered', behaviour: { module: role('miner') }, placement: 'worker', args: { template: bad } },
        { kind: 'actor', id: 'other', behaviour: { module: role('miner') }, placement: 'worker' },
        // the Brain serves the task; the validator reads its hash (GetTask) and checks each miner's against it
        brainRole.create('brain', { modelId: task.modelId, weightsHash: task.weightsHash }),
        validatorRole.create('validator', { template: out, miners: [], challengeMs: 0, brainActor: '/root/brain' }),
      ],
    })
    try {
      const ref = sys.ref('/root/miner')
      assert.equal((await ref.ask({ _tag: 'GetStatus' })).detail.weightsHash, task.weightsHash)
      const session = new EncryptedSession({ model, modelId: 'small-test', ask: (m) => ref.ask(m, { timeoutMs: 120_000 }) })
      const tokens = [5, 100, 7, 300]
      const encrypted = await forwardAsync(model, tokens, { linear: session.linear, lastOnly: true })
      const plain = forward(model, tokens, { linear: int8Linear(), lastOnly: true })
      assert.deepEqual(encrypted, plain, 'the squeezed model, encrypted on the miner, equals the int8 path bit for bit')
      const layersWithHeads = model.headMask?.filter((row) => row.some((m) => m !== 0)).length ?? 2
      assert.equal(session.stats.products, 2 * 2 + 2 * layersWithHeads, 'emptied layers send no attention products')

      const tampered = new EncryptedSession({ model, modelId: 'small-test', ask: (m) => sys.ref('/root/tampered').ask(m, { timeoutMs: 120_000 }) })
      await assert.rejects(forwardAsync(model, tokens, { linear: tampered.linear }), rejectedWith(MinerRejection, 'WeightsHashMismatch'))

      const v = sys.ref('/root/validator')
      const ok = await v.ask({ _tag: 'ChallengeMiner', miner: '/root/miner' }, { timeoutMs: 120_000 })
      assert.deepEqual([ok.correct, ok.reason], [true, 'ok'])
      const other = await v.ask({ _tag: 'ChallengeMiner', miner: '/root/other' }, { timeoutMs: 120_000 })
      assert.deepEqual([other.correct, other.reason], [false, 'WeightsHashMismatch'])
      const tamperedChallenge = await v.ask({ _tag: 'ChallengeMiner', miner: '/root/tampered' }, { timeoutMs: 120_000 })
      assert.deepEqual([tamperedChallenge.correct, tamperedChallenge.reason], [false, 'WeightsHashMismatch'])
      const vs = (await v.ask({ _tag: 'GetStatus' })).detail
      assert.deepEqual([vs.brainWeightsHash, vs.weightsMismatches, vs.mismatchedMiners], [task.weightsHash, 2, '/root/other /root/tampered'])
    } finally {
      await sys.shutdown()
    }
  })

  test("GPT-2 small's exact shape (random weights, real tensor names): loaded, templated at 50%, FHE-ready", async () => {
    const shape = { nLayer: 12, nHead: 12, nEmbd: 768, nCtx: 1024, vocabSize: 50257 }
    const src = writeCheckpoint(path.join(tmp, 'gpt2-src'), shape, 11)
    const out = path.join(tmp, 'gpt2-task')
    const task = await buildBrainTemplate({ weights: src, config: path.join(tmp, 'gpt2-src', 'config.json'), fraction: 0.5, out, calibrationTokens: 12 })
    assert.deepEqual({ ...task.config }, { ...shape, layerNormEps: 1e-5 })
    assert.equal(task.tokenizer, 'gpt2')
    assert.equal(task.squeeze.heads, '72/144')
    // all heads: per layer QKV 24·18 + proj 12·12 + fc 24·24 + fcProj 24·24 = 1728 products (planner, one token)
    assert.equal(task.fhe?.ctPtProductsPerTokenAllHeads, 12 * 1728)
    assert.ok(Number(task.fhe?.ctPtProductsPerToken) < 12 * 1728)
    const { model } = loadBrainTask(out)
    // one sliced product of the squeezed model under BFV equals the int8 product
    const site = { layer: 0, name: 'attn' as const }
    const lw = linearWeights(model, site) ?? linearWeights(model, { layer: model.headMask?.findIndex((r) => r.some((m) => m !== 0)) ?? 0, name: 'attn' })
    assert.ok(lw !== undefined)
    const ctx = createFheContext(presets.bfv4096Linear)
    const x = filler(3)(lw.inDim, 1)
    const enc = encryptedInt8Linear({ ctx, secretKey: createKeyGenerator(ctx).secretKey })(x, 1, lw.inDim, lw.outDim, lw.w, lw.b, site)
    assert.deepEqual(enc, int8Linear()(x, 1, lw.inDim, lw.outDim, lw.w, lw.b, site))
  })
})
