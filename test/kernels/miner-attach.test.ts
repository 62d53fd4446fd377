/**
 * A GPU kernel worker attached to a running tree is used by a miner in its own worker thread: `UseKernels` (what
 * `based worker attach` sends every miner) points the miner at the worker, which it reaches through its WorkerCell
 * (ctx.lookup in a worker thread); products stay bit-identical to the CPU's, the status names the kernels backend,
 * and `UseKernels cpu` (what `worker detach` sends) puts it back on the CPU. lavapipe here; one small product.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ActorSystem } from '../../supervisor/index.ts'
import { minerRole } from '../../actors/miner.ts'
import { kernelWorkerRole } from '../../actors/kernel-worker.ts'
import { clientEncryptLinear, createFheContext, createKeyGenerator, presets, seededRandom } from '../../fhe/index.ts'
import { loadShippedModel } from '../../model/index.ts'
import type { EncryptedLinear } from '../../protocol/index.ts'
import { gpuForTests } from './gpu-support.ts'

const gpu = await gpuForTests()
gpu.rt?.destroy()

describe('a kernel worker attached at run time serves a worker-thread miner', { skip: gpu.skip }, () => {
  test('UseKernels → kernels backend, same ciphertexts; UseKernels cpu → back on the CPU', { timeout: 300_000 }, async (t) => {
    const sys = await ActorSystem.start({
      kind: 'supervisor',
      id: 'root',
      children: [
        minerRole.create('miner-w', {}, { placement: 'worker' }),
        minerRole.create('miner-ref', {}),
      ],
    })
    t.after(() => sys.shutdown())
    const { model } = loadShippedModel()
    const ctx = createFheContext(presets.bfv4096Linear)
    const kg = createKeyGenerator(ctx, seededRandom('miner-attach'))
    const d = model.config.nEmbd
    const x = new Float32Array(d).map((_, i) => Math.cos(i * 0.21))
    const req = clientEncryptLinear(ctx, kg.secretKey, x, 1, d, d, seededRandom('x'))
    const { ni, mt, no, dIn, dOut, tokens } = req.plan
    const msg: typeof EncryptedLinear.Type = {
      _tag: 'EncryptedLinear', model: 'factbook-gpt', layer: 1, site: 'proj', preset: 'bfv4096Linear', plan: { ni, mt, no, dIn, dOut, tokens }, inputs: req.inputs,
    }
    const miner = sys.ref('/root/miner-w')
    const status = async (): Promise<Readonly<Record<string, string | number | boolean>>> => (await miner.ask({ _tag: 'GetStatus' })).detail
    const expected = (await sys.ref('/root/miner-ref').ask(msg, { timeoutMs: 200_000 })).outputs
    assert.ok(!String((await status()).backend).startsWith('kernels'))

    // Attach: a kernel worker under the running root, then point the miner at it.
    await sys.supervisor('/root').startChild(kernelWorkerRole.create('kernel-1', { allowFallback: false }, { placement: 'worker' }))
    await miner.ask({ _tag: 'UseKernels', kernels: '/root/kernel-1' })
    const onGpu = await miner.ask(msg, { timeoutMs: 200_000 })
    assert.deepEqual(onGpu.outputs, expected, 'same result ciphertexts, byte for byte')
    const after = await status()
    assert.equal(after.backend, 'kernels:webgpu')
    assert.equal(after.kernelsTarget, '/root/kernel-1')
    assert.equal(after.kernelProducts, 1)
    assert.equal(after.kernelFallbacks, 0)

    // Detach: back on the CPU, still the same answer.
    await miner.ask({ _tag: 'UseKernels', kernels: 'cpu' })
    assert.deepEqual((await miner.ask(msg, { timeoutMs: 200_000 })).outputs, expected)
    const back = await status()
    assert.ok(!String(back.backend).startsWith('kernels'))
    assert.equal(back.kernelProducts, 1)
  })
})
