import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { KernelService } from '../../kernels/service.ts'
import { asyncPolyBackend, evaluateLinearFullAsync, kernelPolyBackend, multiplyAsync, multiplyRelinManyAsync, relinearizeAsync } from '../../fhe/async.ts'
import { decrypt } from '../../fhe/decrypt.ts'
import { decodeSigned, encodeIntegers } from '../../fhe/encoder.ts'
import { encryptPublic } from '../../fhe/encrypt.ts'
import * as ev from '../../fhe/evaluate.ts'
import { encryptActivations, evaluateLinearFull, planLinear, prepareLinear } from '../../fhe/linear.ts'
import { fixture, randomInts } from './helpers.ts'

describe('AsyncPolyBackend: batched (GPU-ready) paths are bit-identical to the synchronous ones', async () => {
  const service = await KernelService.create({ log: (line) => process.stderr.write(`${line}\n`) })
  after(() => service.destroy())
  const backends = [asyncPolyBackend(fixture('bfv4096').ctx.backend), kernelPolyBackend(service)]

  for (const abe of backends) {
    test(`multiply + relinearize via ${abe.name}`, async () => {
      const { ctx, pk, rlk, kg } = fixture('bfv4096')
      const a = encryptPublic(ctx, pk, encodeIntegers(ctx, randomInts(64, -500, 500, 11)))
      const b = encryptPublic(ctx, pk, encodeIntegers(ctx, randomInts(64, -500, 500, 12)))
      const m3 = await multiplyAsync(ctx, a, b, abe)
      const ref3 = ev.multiply(ctx, a, b)
      m3.polys.forEach((p, i) => assert.deepEqual(p.data, ref3.polys[i]?.data))
      const m = await relinearizeAsync(ctx, m3, rlk, abe)
      const ref = ev.relinearize(ctx, ref3, rlk)
      m.polys.forEach((p, i) => assert.deepEqual(p.data, ref.polys[i]?.data))
      assert.deepEqual(decodeSigned(ctx, decrypt(ctx, kg.secretKey, m)), decodeSigned(ctx, decrypt(ctx, kg.secretKey, ref)))
    })

    test(`many multiply + relinearize in one set of batches via ${abe.name} (mixed levels)`, async () => {
      const { ctx, pk, rlk } = fixture('bfv4096')
      const enc = (seed: number) => encryptPublic(ctx, pk, encodeIntegers(ctx, randomInts(16, -50, 50, seed)))
      const low = (c: ReturnType<typeof enc>) => ev.modSwitchToNext(ctx, c)
      const pairs = [[enc(21), enc(22)], [enc(23), enc(24)], [low(enc(25)), low(enc(26))]] as const
      const got = await multiplyRelinManyAsync(ctx, pairs, rlk, abe)
      assert.equal(got.length, 3)
      got.forEach((c, i) => {
        const [a, b] = pairs[i]!
        const ref = ev.multiplyRelin(ctx, a, b, rlk)
        assert.equal(c.level, ref.level)
        c.polys.forEach((p, j) => assert.deepEqual(p.data, ref.polys[j]?.data, `pair ${i} poly ${j}`))
      })
    })

    test(`linear layer via ${abe.name}`, async () => {
      const { ctx, kg } = fixture('bfv4096Linear')
      const shape = { dIn: 40, dOut: 24, tokens: 2 }
      const plan = planLinear(ctx, shape)
      const prepared = prepareLinear(ctx, plan, Int8Array.from(randomInts(40 * 24, -128, 127, 13)))
      const inputs = encryptActivations(ctx, kg.secretKey, plan, Int8Array.from(randomInts(80, -128, 127, 14)))
      const got = await evaluateLinearFullAsync(ctx, prepared, inputs, abe)
      const ref = evaluateLinearFull(ctx, prepared, inputs)
      got.forEach((c, i) => c.polys.forEach((p, j) => assert.deepEqual(p.data, ref[i]?.polys[j]?.data)))
    })
  }
})
