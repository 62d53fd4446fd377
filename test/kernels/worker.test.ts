import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Schema } from 'effect'
import { ActorSystem } from '../../supervisor/index.ts'
import { KernelService } from '../../kernels/service.ts'
import { handleKernelRequest } from '../../kernels/requests.ts'
import { bytesOf, KernelReply, KernelRequest, u32Of } from '../../kernels/messages.ts'
import { forwardNttUnchecked, makeNttTables } from '../../kernels/ntt/reference.ts'
import { gpuForTests } from './gpu-support.ts'
import { PRIMES_31, randomResidues, rng } from './support.ts'
import { kernelWorkerRole } from '../../actors/kernel-worker.ts'
import { KernelRejection } from '../../protocol/index.ts'
import { rejectedWith } from '../support/rejection.ts'

const gpu = await gpuForTests()
after(() => gpu.rt?.destroy())

const roundTrip = <A>(schema: Schema.Schema<A, A>, x: A): A => Schema.decodeUnknownSync(schema)(x)

describe('kernel worker', () => {
  // Under 0.1 s here; the limit is far below the runner's 300 s.
  test('handleKernelRequest: schema-valid requests in, schema-valid replies out (reference backend)', { timeout: 30_000 }, async (t) => {
    const svc = await KernelService.create({ forceReference: true })
    t.after(() => svc.destroy())
    const n = 64
    const q = PRIMES_31[0]
    const x = randomResidues(n, q, rng(1))
    const req = roundTrip(KernelRequest, { _tag: 'KernelNtt', direction: 'forward', n, primes: [q], data: bytesOf(x) } as KernelRequest)
    const rep = roundTrip(KernelReply, await handleKernelRequest(svc, req))
    assert.equal(rep._tag, 'KernelWords')
    const want = x.slice()
    forwardNttUnchecked(want, 0, makeNttTables(n, q))
    assert.deepEqual(u32Of('data', (rep as { data: Uint8Array }).data), want)

    const info = await handleKernelRequest(svc, { _tag: 'KernelInfo' })
    assert.deepEqual(info, { _tag: 'KernelInfoReply', backend: 'reference', adapter: svc.label, slow: true })

    const caches = new Map()
    const created = await handleKernelRequest(svc, { _tag: 'KernelKvCreate', heads: 2, headDim: 4, capacity: 4 }, caches)
    assert.equal(created._tag, 'KernelKvCreated')
    const cache = (created as { cache: number }).cache
    const i8 = new Uint8Array(8).fill(1)
    const f = bytesOf(new Float32Array([1, 1]))
    const att = roundTrip(
      KernelReply,
      await handleKernelRequest(svc, { _tag: 'KernelAttention', cache, tokens: 1, q: i8, qScale: f, k: i8, kScale: f, v: i8, vScale: f, headMask: [true, false] }, caches),
    )
    assert.equal(att._tag, 'KernelAttentionReply')
    assert.deepEqual((att as { activeHeads: readonly number[] }).activeHeads, [0])
    assert.deepEqual(await handleKernelRequest(svc, { _tag: 'KernelKvRelease', cache }, caches), { _tag: 'KernelAck' })
    await assert.rejects(
      handleKernelRequest(svc, { _tag: 'KernelAttention', cache, tokens: 1, q: i8, qScale: f, k: i8, kScale: f, v: i8, vScale: f }, caches),
      { _tag: 'InvalidInput' },
    )
    await assert.rejects(handleKernelRequest(svc, { _tag: 'KernelNtt', direction: 'forward', n, primes: [q], data: new Uint8Array(7) }), {
      _tag: 'InvalidInput',
      reason: 'length_mismatch',
    })
    const sq = await handleKernelRequest(svc, { _tag: 'KernelSqueeze', rows: 1, cols: 4, x: bytesOf(Float32Array.from([0, 1, 2, 3])), levels: 4 })
    assert.deepEqual(Array.from((sq as { codes: Uint8Array }).codes), [0, 1, 2, 3])
  })

  // ~8 s on this loaded 2-core machine (reference backend); t.after shuts the system down even on a timeout.
  test('runs in a supervised worker thread, reports its adapter, and is restarted with a fresh device after a crash', { timeout: 45_000 }, async (t) => {
    const sys = await ActorSystem.start({
      kind: 'supervisor',
      id: 'root',
      flags: { intensity: 5, periodMs: 5000 },
      children: [
        kernelWorkerRole.create('gpu', {}, { placement: 'worker', faults: true }),
      ],
    })
    t.after(() => sys.shutdown())
    try {
      const ref = sys.ref('/root/gpu')
      const s1 = await ref.ask({ _tag: 'GetStatus' }, { timeoutMs: 30_000 })
      assert.equal(s1.role, 'kernel-worker')
      assert.equal(s1.detail.backend, gpu.rt ? 'webgpu' : 'reference')
      assert.equal(s1.detail.adapter, gpu.rt ? gpu.rt.label : 'no WebGPU adapter (TypeScript reference path, slow)')
      await assert.rejects(ref.ask({ _tag: 'Fault', mode: 'exit' }, { timeoutMs: 30_000 }), { _tag: 'ActorCrashed' })
      const s2 = await ref.ask({ _tag: 'GetStatus' }, { timeoutMs: 30_000 })
      assert.equal(s2.detail.backend, s1.detail.backend)
      assert.equal(s2.detail.handled, 1, 'a new incarnation')
      assert.equal(sys.stats().find((r) => r.address === '/root/gpu')?.restarts, 1)

      // Kernel requests through the actor (protocol frames across the thread), checked against the reference.
      const n = 1024
      const q = PRIMES_31[0] as number
      const data = randomResidues(n, q, rng(9))
      const reply = await ref.ask({ _tag: 'KernelNtt', direction: 'forward', n, primes: [q], data: bytesOf(data) }, { timeoutMs: 60_000 })
      const expected = data.slice()
      forwardNttUnchecked(expected, 0, makeNttTables(n, q))
      assert.deepEqual(u32Of('data', reply.data), expected)
      // Bad input is the caller's error: a typed error back, the worker keeps serving (no restart).
      await assert.rejects(
        ref.ask({ _tag: 'KernelNtt', direction: 'forward', n, primes: [q], data: new Uint8Array(4 * n + 3) }, { timeoutMs: 60_000 }),
        rejectedWith(KernelRejection, 'InvalidInput'),
      )
      await assert.rejects(
        ref.ask({ _tag: 'KernelNtt', direction: 'forward', n: 1000, primes: [q], data: bytesOf(data) }, { timeoutMs: 60_000 }),
        rejectedWith(KernelRejection, 'InvalidNttParams'),
      )
      assert.equal((await ref.ask({ _tag: 'KernelInfo' })).backend, s1.detail.backend)
      assert.equal(sys.stats().find((r) => r.address === '/root/gpu')?.restarts, 1)
    } finally {
      await sys.shutdown()
    }
  })
})
