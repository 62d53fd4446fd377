import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { KernelService } from '../../kernels/service.ts'
import { fastBaseConvert, makeBaseConvTables } from '../../kernels/rns/reference.ts'
import { gpuForTests } from './gpu-support.ts'
import { matmulInt8Reference } from '../../kernels/matmul/reference.ts'
import { squeezeReference } from '../../kernels/squeeze/reference.ts'
import { PRIMES_31, randomResidues, rng } from './support.ts'

const gpu = await gpuForTests()
after(() => gpu.rt?.destroy())

// Each suite takes under 1.1 s here (lavapipe, loaded 2-core machine); the limit is far below the runner's 300 s.
describe('KernelService', { timeout: 30_000 }, () => {
  test('reference backend (no GPU) is flagged slow and computes the same results', async (t) => {
    const lines: string[] = []
    const svc = await KernelService.create({ forceReference: true, log: (l) => lines.push(l) })
    t.after(() => svc.destroy())
    assert.equal(svc.backend, 'reference')
    assert.equal(svc.slow, true)
    assert.equal(svc.adapter, null)
    assert.match(svc.label, /reference path, slow/)
    const n = 256
    const primes = [PRIMES_31[0], PRIMES_31[1]]
    const next = rng(3)
    const a = new Uint32Array(4 * n)
    for (let r = 0; r < 4; r++) a.set(randomResidues(n, primes[r % 2] as number, next), r * n)
    const f = await svc.nttForward(a, n, primes)
    assert.deepEqual(await svc.nttInverse(f, n, primes), a)
    const sq = await svc.polyMul(a, a, n, primes)
    const viaNtt = await svc.nttInverse(await svc.pointwise('mul', f, f, n, primes), n, primes)
    assert.deepEqual(sq, viaNtt)
    const conv = await svc.baseConvert(a.subarray(0, 2 * n), n, primes, [PRIMES_31[2]])
    assert.deepEqual(conv, fastBaseConvert(a.subarray(0, 2 * n), n, makeBaseConvTables(primes, [PRIMES_31[2]])))
    await assert.rejects(svc.nttForward(new Uint32Array(3), n, primes), { _tag: 'InvalidInput' })
  })

  test('GPU and reference backends agree (when a GPU is present)', { skip: gpu.skip }, async () => {
    const g = await KernelService.create({ allowFallback: false, log: () => undefined })
    const r = await KernelService.create({ forceReference: true })
    try {
      assert.equal(g.backend, 'webgpu')
      assert.equal(g.slow, false)
      const n = 2048
      const primes = PRIMES_31.slice(0, 3)
      const next = rng(4)
      const a = new Uint32Array(6 * n)
      for (let i = 0; i < 6; i++) a.set(randomResidues(n, primes[i % 3] as number, next), i * n)
      assert.deepEqual(await g.nttForward(a, n, primes), await r.nttForward(a, n, primes))
      assert.deepEqual(await g.polyMul(a, a, n, primes), await r.polyMul(a, a, n, primes))
    } finally {
      g.destroy()
    }
  })
})

describe('KernelService model kernels (both backends)', { timeout: 30_000 }, () => {
  const backends: Array<['webgpu' | 'reference', string | false]> = [['reference', false], ['webgpu', gpu.skip]]
  for (const [backend, skip] of backends) {
    test(`${backend}: weights handles, KV cache handles with head mask, squeeze`, { skip }, async () => {
      const svc = await KernelService.create({ forceReference: backend === 'reference', allowFallback: false, log: () => undefined })
      try {
        assert.equal(svc.backend, backend)
        const next = rng(9)
        const n = 24
        const k = 40
        const w = { w: Int8Array.from({ length: n * k }, () => Math.floor(next() * 256) - 128), wScale: new Float32Array(n).fill(0.01), n, k }
        const x = { a: Int8Array.from({ length: 3 * k }, () => Math.floor(next() * 256) - 128), aScale: new Float32Array(3).fill(0.02), m: 3, k }
        const h = await svc.uploadWeights(w)
        assert.deepEqual(JSON.parse(JSON.stringify(h)), h, 'handles are plain data')
        assert.deepEqual((await svc.matmulInt8(x, h)).acc, matmulInt8Reference(x, w).acc)
        assert.deepEqual((await svc.matmulInt8(x, w)).acc, matmulInt8Reference(x, w).acc)
        await svc.releaseWeights(h)
        await assert.rejects(svc.matmulInt8(x, h), { _tag: 'InvalidInput' })

        const shape = { heads: 3, headDim: 8, capacity: 4 }
        const cache = await svc.createKvCache(shape)
        const i8 = (len: number): Int8Array => Int8Array.from({ length: len }, () => Math.floor(next() * 256) - 128)
        const sc = (len: number): Float32Array => new Float32Array(len).fill(0.05)
        const st = { tokens: 2, q: i8(48), qScale: sc(6), k: i8(48), kScale: sc(6), v: i8(48), vScale: sc(6), headMask: [true, false, true] }
        const r = await svc.attentionStep(cache, st)
        assert.deepEqual(r.activeHeads, [0, 2])
        assert.equal(r.work[1], 0)
        assert.ok((r.work[0] as number) > 0)
        assert.equal(await svc.kvCacheLength(cache), 2)
        await svc.truncateKvCache(cache, 1)
        assert.equal(await svc.kvCacheLength(cache), 1)
        await assert.rejects(svc.truncateKvCache(cache, 3), { _tag: 'InvalidInput' })
        await svc.resetKvCache(cache)
        assert.equal(await svc.kvCacheLength(cache), 0)
        await svc.releaseKvCache(cache)

        const xs = Float32Array.from([0, 1, 2, 3, 5, 5, 5, 5])
        const sq = await svc.squeeze(xs, 2, 4, { levels: 4 })
        assert.deepEqual(sq.codes, squeezeReference(xs, 2, 4, { levels: 4 }).codes)
      } finally {
        svc.destroy()
      }
    })
  }
})
