/**
 * `Evaluator.multiplyRelinMany` / `multiplyRelin` over `kernelPolyBackend(KernelService)`: resident on the device
 * (one submission per level present, whatever the batch), byte-identical to the CPU path (wasm SIMD) and to the
 * round-trip accelerator path (NTT batches on the device, RNS steps on the CPU), decrypting to the plain products.
 * `encryptedInt8LinearAsync` (the miner half on an accelerator) gives the shipped model's int8 logits bit for bit.
 * The device suites are skipped (loudly) only when no WebGPU adapter exists; CI=true makes a missing adapter fail.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { KernelService } from '../../kernels/service.ts'
import { Bfv } from '../../fhe/frontend.ts'
import { asyncPolyBackend, kernelPolyBackend, type AsyncPolyBackend } from '../../fhe/async.ts'
import { encryptedInt8LinearAsync } from '../../fhe/inference.ts'
import { forward, forwardAsync } from '../../model/forward.ts'
import { int8Linear } from '../../model/int8.ts'
import { loadShippedModel } from '../../model/shipped.ts'
import { decodeSigned, encodeIntegers } from '../../fhe/encoder.ts'
import { encryptPublic } from '../../fhe/encrypt.ts'
import { decrypt } from '../../fhe/decrypt.ts'
import * as ev from '../../fhe/evaluate.ts'
import type { Ciphertext } from '../../fhe/types.ts'
import { gpuForTests } from '../kernels/gpu-support.ts'
import { fixture, negacyclicMod, randomInts } from './helpers.ts'

const gpu = await gpuForTests()
gpu.rt?.destroy()
const service = gpu.skip ? undefined : await KernelService.create({ allowFallback: false, log: () => undefined })
after(() => service?.destroy())

describe('resident multiply + relinearize through the front end', { skip: gpu.skip }, () => {
  const svc = () => service as KernelService

  test('bfv4096: 6 pairs at two levels — one submission per level, words equal the CPU and the round-trip path', async () => {
    const { ctx, pk, rlk, kg } = fixture('bfv4096')
    const accel = kernelPolyBackend(svc())
    assert.ok(accel.mulRelinMany, 'a KernelService with an adapter gives the resident path')
    const { mulRelinMany: _resident, ...roundTripFields } = accel
    const roundTrip: AsyncPolyBackend = roundTripFields
    const bfv = Bfv.create(ctx, { accelerator: accel })
    const vals = Array.from({ length: 12 }, (_, i) => randomInts(24, -200, 200, 300 + i))
    const cts = vals.map((v, i) => {
      const c = encryptPublic(ctx, pk, encodeIntegers(ctx, v))
      return i >= 8 ? ev.modSwitchToNext(ctx, c) : c
    })
    const pairs = Array.from({ length: 6 }, (_, i) => [cts[2 * i], cts[2 * i + 1]] as const) as Array<readonly [Ciphertext, Ciphertext]>
    const before = svc().bfvSubmissions
    const got = await bfv.evaluator().multiplyRelinMany(pairs, rlk)
    assert.equal(svc().bfvSubmissions - before, 2, 'one submission per level (4 pairs at level 3, 2 at level 2)')
    const viaRoundTrip = await Bfv.create(ctx, { accelerator: roundTrip }).evaluator().multiplyRelinMany(pairs, rlk)
    got.forEach((c, i) => {
      const [a, b] = pairs[i] as readonly [Ciphertext, Ciphertext]
      const cpu = ev.multiplyRelin(ctx, a, b, rlk)
      assert.equal(c.level, cpu.level)
      c.polys.forEach((p, h) => {
        assert.deepEqual(p.data, cpu.polys[h]?.data, `pair ${i} poly ${h} vs CPU`)
        assert.deepEqual(p.data, viaRoundTrip[i]?.polys[h]?.data, `pair ${i} poly ${h} vs round trip`)
      })
      const want = negacyclicMod(vals[2 * i] as number[], vals[2 * i + 1] as number[], ctx.n, ctx.t).slice(0, 47)
      assert.deepEqual(Array.from(decodeSigned(ctx, decrypt(ctx, kg.secretKey, c))).slice(0, 47), want, `pair ${i} decrypts`)
    })
    // A single product takes the resident path too.
    const [a, b] = pairs[0] as readonly [Ciphertext, Ciphertext]
    const one = await bfv.evaluator().multiplyRelin(a, b, rlk)
    assert.deepEqual(one.polys.map((p) => p.data), got[0]?.polys.map((p) => p.data))
  })

  test('bad input is refused with typed errors before anything reaches the device', async () => {
    const { ctx, pk, rlk } = fixture('bfv4096')
    const other = fixture('bfv8192')
    const bfv = Bfv.create(ctx, { accelerator: kernelPolyBackend(svc()) })
    const c = encryptPublic(ctx, pk, encodeIntegers(ctx, [1, 2, 3]))
    await assert.rejects(bfv.evaluator().multiplyRelinMany([[c, c]], other.rlk), { _tag: 'ParamsMismatch' })
    await assert.rejects(bfv.evaluator().multiplyRelinMany([[c, ev.modSwitchToNext(ctx, c)]], rlk), { _tag: 'InvalidOperand' })
  })
})

async function asyncLogitsMatch(accel: AsyncPolyBackend): Promise<void> {
  const { model, tokenizer } = loadShippedModel()
  const { ctx, kg } = fixture('bfv4096Linear')
  const tokens = tokenizer.encode('The capital of France is').slice(0, 6)
  const enc = await forwardAsync(model, tokens, { linear: encryptedInt8LinearAsync({ ctx, secretKey: kg.secretKey, accelerator: accel }) })
  assert.deepEqual(enc, forward(model, tokens, { linear: int8Linear() }))
}

test('encryptedInt8LinearAsync on the CPU accelerator: the shipped model\'s int8 logits bit for bit', async () => {
  await asyncLogitsMatch(asyncPolyBackend(fixture('bfv4096Linear').ctx.backend))
})

test('encryptedInt8LinearAsync on the device: the shipped model\'s int8 logits bit for bit', { skip: gpu.skip }, async () => {
  await asyncLogitsMatch(kernelPolyBackend(service as KernelService))
})
