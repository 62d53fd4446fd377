/**
 * kernelWorkerClient: a kernel worker's NTT and pointwise kernels through messages give the KernelService's words,
 * also when a batch is split into several requests (each starting on a whole polynomial, so every row keeps its
 * prime). Runs on the reference service with `handleKernelRequest` as the "worker" (no actors, no GPU).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { kernelWorkerClient } from '../../kernels/client.ts'
import { handleKernelRequest } from '../../kernels/requests.ts'
import { KernelService } from '../../kernels/service.ts'
import type { KernelRequest } from '../../kernels/messages.ts'
import { PRIMES_31, randomResidues, rng } from './support.ts'

describe('kernelWorkerClient', () => {
  test('split batches give the service\'s words; each request stays under the byte limit', async (t) => {
    const svc = await KernelService.create({ forceReference: true })
    t.after(() => svc.destroy())
    const sizes: number[] = []
    const ask = (m: KernelRequest) => {
      if (m._tag === 'KernelNtt') sizes.push(m.data.byteLength)
      if (m._tag === 'KernelPointwise') sizes.push(m.a.byteLength)
      return handleKernelRequest(svc, m)
    }
    const n = 64
    const primes = PRIMES_31.slice(0, 3)
    const rows = 7 * primes.length
    const next = rng(5)
    const a = new Uint32Array(rows * n)
    const b = new Uint32Array(rows * n)
    for (let r = 0; r < rows; r++) {
      a.set(randomResidues(n, primes[r % 3] as number, next), r * n)
      b.set(randomResidues(n, primes[r % 3] as number, next), r * n)
    }
    const limit = 2 * primes.length * n * 4 + 100 // two polynomials and a bit: splits into 4 requests
    const client = await kernelWorkerClient(ask, { maxRequestBytes: limit })
    assert.equal(client.backend, 'reference')
    const f = await client.nttForward(a, n, primes)
    assert.deepEqual(f, await svc.nttForward(a, n, primes))
    assert.deepEqual(await client.nttInverse(f, n, primes), a)
    assert.deepEqual(await client.pointwise('mul', a, b, n, primes), await svc.pointwise('mul', a, b, n, primes))
    assert.equal(sizes.length, 3 * 4)
    assert.ok(sizes.every((s) => s <= limit && s % (primes.length * n * 4) === 0), String(sizes))
  })

  test('not a kernel worker, or a wrong reply: typed GpuError; ragged input: InvalidInput', async () => {
    await assert.rejects(kernelWorkerClient(async () => ({ _tag: 'Pong' })), (e: unknown) => (e as { _tag?: string })._tag === 'GpuError')
    const liar = await kernelWorkerClient(async (m) => (m._tag === 'KernelInfo' ? { _tag: 'KernelInfoReply', backend: 'webgpu', adapter: 'x', slow: false } : { _tag: 'KernelAck' }))
    await assert.rejects(liar.nttForward(new Uint32Array(8), 8, [17]), (e: unknown) => (e as { _tag?: string })._tag === 'GpuError')
    await assert.rejects(async () => liar.nttForward(new Uint32Array(9), 8, [17]), (e: unknown) => (e as { _tag?: string })._tag === 'InvalidInput')
  })
})
