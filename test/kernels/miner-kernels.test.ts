/**
 * The miner on the GPU path: a main-thread miner whose `kernels` argument names a kernel-worker actor runs the NTTs
 * of its encrypted products on that worker's WebGPU device (lavapipe here) and answers bit-identically to a CPU
 * miner; its status names the kernels backend. Skips (loudly) only when no WebGPU adapter exists; fails with CI=true.
 * Kept to one small product: lavapipe runs WGSL on the CPU.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ActorSystem } from '../../supervisor/index.ts'
import { minerRole } from '../../actors/miner.ts'
import { clientEncryptLinear, createFheContext, createKeyGenerator, decryptLinear, deserializePartial, linearPlain, presets, seededRandom } from '../../fhe/index.ts'
import { loadShippedModel, quantizeWeightInt8 } from '../../model/index.ts'
import type { EncryptedLinear } from '../../protocol/index.ts'
import { gpuForTests } from './gpu-support.ts'

const gpu = await gpuForTests()
gpu.rt?.destroy() // only the adapter check; the kernel worker acquires its own device

const kernelWorker = new URL('../../actors/kernel-worker.ts', import.meta.url).href

describe('miner with a GPU kernel worker attached', { skip: gpu.skip }, () => {
  test('encrypted product bit-identical to the CPU miner; status names the kernels backend; a missing worker leaves it on the CPU', { timeout: 240_000 }, async (t) => {
    const sys = await ActorSystem.start({
      kind: 'supervisor',
      id: 'root',
      children: [
        { kind: 'actor', id: 'kernel-1', role: 'kernel-worker', behaviour: { module: kernelWorker }, placement: 'worker', args: { allowFallback: false } },
        minerRole.create('miner-gpu', { kernels: '/root/kernel-1' }),
        minerRole.create('miner-cpu', {}),
        minerRole.create('miner-orphan', { kernels: '/root/kernel-9' }),
      ],
    })
    t.after(() => sys.shutdown())
    const { model } = loadShippedModel()
    const ctx = createFheContext(presets.bfv4096Linear)
    const kg = createKeyGenerator(ctx, seededRandom('miner-kernels'))
    const d = model.config.nEmbd
    const x = new Float32Array(2 * d).map((_, i) => Math.sin(i * 0.37))
    const req = clientEncryptLinear(ctx, kg.secretKey, x, 2, d, d, seededRandom('x'))
    const { ni, mt, no, dIn, dOut, tokens } = req.plan
    const msg: typeof EncryptedLinear.Type = {
      _tag: 'EncryptedLinear', model: 'factbook-gpt', layer: 0, site: 'proj', preset: 'bfv4096Linear', plan: { ni, mt, no, dIn, dOut, tokens }, inputs: req.inputs,
    }
    const onGpu = await sys.ref('/root/miner-gpu').ask(msg, { timeoutMs: 200_000 })
    const onCpu = await sys.ref('/root/miner-cpu').ask(msg, { timeoutMs: 200_000 })
    assert.equal(onGpu.outputs.length, req.plan.outputCiphertexts)
    assert.deepEqual(onGpu.outputs, onCpu.outputs, 'same result ciphertexts, byte for byte')
    // And they decrypt to W·x of the int8 operands.
    const w = quantizeWeightInt8(model.weights.layers[0]!.projW, d, d)
    const y = decryptLinear(ctx, kg.secretKey, req.plan, onGpu.outputs.map((b) => deserializePartial(ctx, b)))
    assert.deepEqual(y, linearPlain(w.q, req.quant.q, { dIn: d, dOut: d, tokens: 2 }))

    const gpuStatus = (await sys.ref('/root/miner-gpu').ask({ _tag: 'GetStatus' })).detail
    assert.equal(gpuStatus.backend, 'kernels:webgpu')
    assert.equal(gpuStatus.kernelProducts, 1)
    assert.equal(gpuStatus.kernelFallbacks, 0)
    const cpuStatus = (await sys.ref('/root/miner-cpu').ask({ _tag: 'GetStatus' })).detail
    assert.ok(!String(cpuStatus.backend).startsWith('kernels'), String(cpuStatus.backend))
    assert.equal(cpuStatus.kernelProducts, 0)

    const orphan = await sys.ref('/root/miner-orphan').ask(msg, { timeoutMs: 200_000 })
    assert.deepEqual(orphan.outputs, onCpu.outputs)
    const orphanStatus = (await sys.ref('/root/miner-orphan').ask({ _tag: 'GetStatus' })).detail
    assert.equal(orphanStatus.backend, cpuStatus.backend)
    assert.match(String(orphanStatus.kernels), /not found/)
  })
})

describe('miner kernels argument', () => {
  test('a bad value is InvalidArgs naming the field', () => {
    assert.throws(() => minerRole.create('m', { kernels: 'gpu please' }), (e: unknown) => (e as { _tag?: string; field?: string })._tag === 'InvalidArgs' && (e as { field?: string }).field === 'kernels')
  })
})

