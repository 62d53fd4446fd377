import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { KernelService } from '../../kernels/service.ts'
import { fastBaseConvert, makeBaseConvTables } from '../../kernels/rns/reference.ts'
import { gpuForTests } from './gpu-support.ts'
import { PRIMES_31, randomResidues, rng } from './support.ts'

const gpu = await gpuForTests()
after(() => gpu.rt?.destroy())

describe('KernelService', () => {
  test('reference backend (no GPU) is flagged slow and computes the same results', async () => {
    const lines: string[] = []
    const svc = await KernelService.create({ forceReference: true, log: (l) => lines.push(l) })
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
