import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { gpuSkipDecision, KernelService } from 'basedai/kernels'
import {
  argmax, decodeConfig, forward, forwardAsync, generate, generateAsync, initWeights, int8Linear, kernelInt8Linear,
  loadCorpus, loadShippedModel, windows, type Int8ActivationsInput, type Int8MatmulService, type Int8WeightsInput,
} from 'basedai/model'

/** A pure-TS int8 service written independently of model/int8.ts (weights N×K, y = acc·sa·sw + b). */
function fakeService(): Int8MatmulService<number> & { uploads: number } {
  const store: Int8WeightsInput[] = []
  const svc = {
    uploads: 0,
    async uploadWeights(w: Int8WeightsInput): Promise<number> { svc.uploads++; store.push(w); return store.length - 1 },
    async matmulInt8(x: Int8ActivationsInput, h: number): Promise<{ y: Float32Array }> {
      const w = store[h]
      const y = new Float32Array(x.m * w.n)
      for (let r = 0; r < x.m; r++) for (let n = 0; n < w.n; n++) {
        let acc = 0
        for (let k = 0; k < x.k; k++) acc += x.a[r * x.k + k] * w.w[n * w.k + k]
        y[r * w.n + n] = acc * x.aScale[r] * w.wScale[n] + (w.bias?.[n] ?? 0)
      }
      return { y }
    },
  }
  return svc
}

describe('int8 path through a kernels-style service', () => {
  const cfg = decodeConfig({ nLayer: 2, nHead: 2, nEmbd: 8, nCtx: 10, vocabSize: 12 })
  const model = { config: cfg, weights: initWeights(cfg, 4, 0.3) }

  test('matches the CPU int8 path and uploads each weight tensor once', async () => {
    const svc = fakeService()
    const linear = kernelInt8Linear(svc)
    const tokens = [3, 1, 4, 1, 5, 9, 2, 6]
    const a = await forwardAsync(model, tokens, { linear })
    const b = forward(model, tokens, { linear: int8Linear() })
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4, `logit ${i}`)
    await forwardAsync(model, tokens, { linear })
    assert.equal(svc.uploads, 2 * 4)
    const g1 = []
    for await (const t of generateAsync(model, [1, 2], { maxNewTokens: 6, temperature: 0, linear })) g1.push(t)
    assert.deepEqual(g1, [...generate(model, [1, 2], { maxNewTokens: 6, temperature: 0, forward: { linear: int8Linear() } })])
    await assert.rejects(forwardAsync(model, [99], { linear }), (e: { _tag?: string }) => e._tag === 'InvalidToken')
  })
})

// The real basedai/kernels service: WGSL on a WebGPU adapter. With CI=true a missing adapter fails; elsewhere the
// GPU case is skipped loudly and the kernels' TypeScript reference backend is tested instead.
const gpu = await KernelService.create({ allowFallback: false, log: () => undefined }).then(
  (s) => ({ service: s, skip: false as const }),
  (e: unknown) => {
    const d = gpuSkipDecision(process.env, e)
    if (d.fail) throw e
    process.stderr.write(`\n!!! ${d.message}\n\n`)
    return { service: undefined, skip: d.message }
  },
)
after(() => gpu.service?.destroy())

async function agreementOnShipped(service: KernelService, step: number): Promise<number> {
  const { model, tokenizer } = loadShippedModel()
  const held = windows(tokenizer.encode(loadCorpus().heldOut), model.config.nCtx).filter((_, i) => i % step === 0)
  const linear = kernelInt8Linear(service)
  let same = 0, n = 0
  const V = model.config.vocabSize
  for (const w of held) {
    const a = forward(model, w)
    const b = await forwardAsync(model, w, { linear })
    for (let t = 0; t < w.length; t++) { if (argmax(a.subarray(t * V, (t + 1) * V)) === argmax(b.subarray(t * V, (t + 1) * V))) same++; n++ }
  }
  return same / n
}

describe('shipped model on basedai/kernels', () => {
  test('WGSL int8 path agrees with f32 on top-1 at ≥ 90% of held-out positions', { skip: gpu.skip }, async () => {
    assert.ok(gpu.service !== undefined)
    const agreement = await agreementOnShipped(gpu.service, 120)
    assert.ok(agreement >= 0.9, `agreement ${agreement}`)
  })

  test('through the kernels TypeScript reference backend, too, int8 agrees with f32 at ≥ 90%', async () => {
    const ref = await KernelService.create({ forceReference: true })
    try {
      assert.equal(ref.backend, 'reference')
      const agreement = await agreementOnShipped(ref, 240)
      assert.ok(agreement >= 0.9, `agreement ${agreement}`)
    } finally {
      ref.destroy()
    }
  })
})
