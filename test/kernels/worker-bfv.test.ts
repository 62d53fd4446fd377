/**
 * The resident BFV multiply + relinearize through a kernel-worker actor (what a miner with an attached worker gets):
 * `kernelPolyBackend(await kernelWorkerClient(ask))` sends the relinearization keys once (KernelBfvKeys) and each
 * batch of pairs as KernelBfvMulRelin messages — across a worker thread, so every frame is encoded and decoded by
 * the protocol schema — and the ciphertexts are byte-identical to the CPU's `multiplyRelin`. A batch larger than the
 * request limit is split into requests of whole pairs. Bad input (unknown keys, keys of another level, ragged
 * operands) is a typed InvalidInput, and the worker keeps serving.
 * The device suite is skipped (loudly) only when no WebGPU adapter exists; CI=true makes a missing adapter fail.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ActorSystem } from '../../supervisor/index.ts'
import { kernelWorkerRole } from '../../actors/kernel-worker.ts'
import { kernelWorkerClient } from '../../kernels/client.ts'
import type { KernelRequest } from '../../kernels/messages.ts'
import { Bfv } from '../../fhe/frontend.ts'
import { kernelPolyBackend, mulSpec } from '../../fhe/async.ts'
import { encodeIntegers, decodeSigned } from '../../fhe/encoder.ts'
import { encryptPublic } from '../../fhe/encrypt.ts'
import { decrypt } from '../../fhe/decrypt.ts'
import * as ev from '../../fhe/evaluate.ts'
import type { Ciphertext } from '../../fhe/types.ts'
import { KernelRejection } from '../../protocol/index.ts'
import { rejectedWith } from '../support/rejection.ts'
import { gpuForTests } from './gpu-support.ts'
import { fixture, negacyclicMod, randomInts } from '../fhe/helpers.ts'

/** The level of a fresh ciphertext: every data prime. */
const cts0Level = (ctx: ReturnType<typeof fixture>['ctx']): number => ctx.levels

const gpu = await gpuForTests()
gpu.rt?.destroy()

describe('resident multiply + relinearize on a kernel-worker actor', { skip: gpu.skip }, () => {
  test('bfv4096: 3 pairs in requests of one pair each, byte-identical to the CPU; typed errors on bad input', async (t) => {
    const sys = await ActorSystem.start({
      kind: 'supervisor',
      id: 'root',
      children: [kernelWorkerRole.create('kernel-1', { allowFallback: false }, { placement: 'worker' })],
    })
    t.after(() => sys.shutdown())
    const ref = sys.ref('/root/kernel-1')
    const sent: string[] = []
    const keyIds: number[] = []
    const ask = async (m: KernelRequest): Promise<unknown> => {
      sent.push(m._tag)
      const r = await ref.ask(m, { timeoutMs: 120_000 })
      if ((r as { _tag?: string })._tag === 'KernelBfvKeysReply') keyIds.push((r as { keys: number }).keys)
      return r
    }
    const { ctx, pk, rlk, kg } = fixture('bfv4096')
    const k = cts0Level(ctx)
    // The keys are 2k² × n words, one pair 4k × n: a limit just over the keys (k = 3: under two pairs) splits a batch
    // into requests of one pair each.
    const client = await kernelWorkerClient(ask, { maxRequestBytes: 2 * k * k * ctx.n * 4 + 64 })
    assert.equal(client.backend, 'webgpu')
    const accel = kernelPolyBackend(client)
    assert.ok(accel.mulRelinMany, 'the worker client gives the resident path')
    const vals = Array.from({ length: 6 }, (_, i) => randomInts(24, -200, 200, 700 + i))
    const cts = vals.map((v) => encryptPublic(ctx, pk, encodeIntegers(ctx, v)))
    const pairs = [0, 1, 2].map((i) => [cts[2 * i], cts[2 * i + 1]] as const) as Array<readonly [Ciphertext, Ciphertext]>
    const got = await Bfv.create(ctx, { accelerator: accel }).evaluator().multiplyRelinMany(pairs, rlk)
    assert.equal(sent.filter((s) => s === 'KernelBfvKeys').length, 1, 'keys sent once')
    assert.equal(sent.filter((s) => s === 'KernelBfvMulRelin').length, 3, 'one request per pair under the limit')
    assert.ok(!sent.includes('KernelNtt'), 'no round-trip NTTs: the product stayed on the worker')
    got.forEach((c, i) => {
      const [a, b] = pairs[i] as readonly [Ciphertext, Ciphertext]
      const cpu = ev.multiplyRelin(ctx, a, b, rlk)
      c.polys.forEach((p, h) => assert.deepEqual(p.data, cpu.polys[h]?.data, `pair ${i} poly ${h} vs CPU`))
      const want = negacyclicMod(vals[2 * i] as number[], vals[2 * i + 1] as number[], ctx.n, ctx.t).slice(0, 24)
      assert.deepEqual(Array.from(decodeSigned(ctx, decrypt(ctx, kg.secretKey, c))).slice(0, 24), want, `pair ${i} decrypts`)
    })
    // A second batch reuses the keys already on the worker.
    await Bfv.create(ctx, { accelerator: accel }).evaluator().multiplyRelinMany(pairs.slice(0, 1), rlk)
    assert.equal(sent.filter((s) => s === 'KernelBfvKeys').length, 1, 'keys not sent again')
    // The worker loses the keys (as after a restart with a fresh device): the backend uploads them again, once.
    await ask({ _tag: 'KernelBfvKeysRelease', keys: keyIds[0] as number })
    const again = await Bfv.create(ctx, { accelerator: accel }).evaluator().multiplyRelinMany(pairs.slice(0, 1), rlk)
    assert.equal(sent.filter((s) => s === 'KernelBfvKeys').length, 2, 'keys sent again after the worker lost them')
    again[0]?.polys.forEach((poly, h) => assert.deepEqual(poly.data, got[0]?.polys[h]?.data))

    // A limit under the keys' size: the resident path does not fit, the six-batch path (NTTs on the worker) runs, same words.
    sent.length = 0
    const small = kernelPolyBackend(await kernelWorkerClient(ask, { maxRequestBytes: 4 * k * ctx.n * 4 + 64 }))
    assert.equal(small.mulRelinFits?.(mulSpec(ctx, k)), false)
    const viaNtt = await Bfv.create(ctx, { accelerator: small }).evaluator().multiplyRelinMany(pairs.slice(0, 1), rlk)
    assert.ok(sent.includes('KernelNtt') && !sent.includes('KernelBfvMulRelin'), sent.join(' '))
    viaNtt[0]?.polys.forEach((poly, h) => assert.deepEqual(poly.data, got[0]?.polys[h]?.data))

    const { q, p } = mulSpec(ctx, k)
    const isInvalid = rejectedWith(KernelRejection, 'InvalidInput')
    await assert.rejects(
      ask({ _tag: 'KernelBfvMulRelin', n: ctx.n, q: [...q], p: [...p], t: ctx.t, keys: 9999, ops: new Uint8Array(4 * k * ctx.n * 4) }),
      isInvalid,
      'unknown keys handle',
    )
    const h = await client.uploadBfvKeys(ctx.n, q, new Uint32Array(2 * k * k * ctx.n))
    await assert.rejects(
      ask({ _tag: 'KernelBfvMulRelin', n: ctx.n, q: q.slice(0, k - 1), p: [...p], t: ctx.t, keys: h.id, ops: new Uint8Array(4 * (k - 1) * ctx.n * 4) }),
      isInvalid,
      'keys of another level',
    )
    await assert.rejects(
      ask({ _tag: 'KernelBfvMulRelin', n: ctx.n, q: [...q], p: [...p], t: ctx.t, keys: h.id, ops: new Uint8Array(12) }),
      isInvalid,
      'ragged operands',
    )
    await client.releaseBfvKeys(h)
    assert.equal(((await ref.ask({ _tag: 'Ping' })) as { _tag: string })._tag, 'Pong', 'the worker still serves')
  })
})
