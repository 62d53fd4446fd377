/**
 * The device-resident BFV multiply + relinearize (kernels/rns/bfv.wgsl on lavapipe or a GPU):
 * - its two exact stages against BigInt on edge inputs: the lift (0, 1, Q − 1, (Q ± 1)/2 and neighbours) and the
 *   scale-and-round (t·x/Q within a few 1/Q of a half-integer; round(t·x/Q) landing on (P ± 1)/2, the centring edge);
 * - whole batches: the device's words equal basedai/fhe's CPU `multiplyRelin` (wasm SIMD) and the TypeScript mirror
 *   `bfvMulRelinReference` byte for byte, several random pairs in one submission, and they decrypt to the product.
 * Skipped (loudly) only when no WebGPU adapter exists; CI=true makes a missing adapter fail.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { NttKernels } from '../../kernels/ntt/gpu.ts'
import { BfvKernels } from '../../kernels/rns/bfv-gpu.ts'
import { bfvMulRelinReference, makeBfvMulTables, type BfvMulSpec } from '../../kernels/rns/bfv.ts'
import { decrypt } from '../../fhe/decrypt.ts'
import { decodeSigned, encodeIntegers } from '../../fhe/encoder.ts'
import { encryptPublic } from '../../fhe/encrypt.ts'
import * as ev from '../../fhe/evaluate.ts'
import { limbsOf, type RnsPoly } from '../../fhe/poly.ts'
import type { Ciphertext, RelinKeys } from '../../fhe/types.ts'
import type { FheContext } from '../../fhe/context.ts'
import { bigInvMod } from '../../numeric/index.ts'
import { fixture, mod, negacyclicMod, prng, prod, randomBig, randomInts, residues } from '../fhe/helpers.ts'
import { gpuForTests, need } from './gpu-support.ts'

const gpu = await gpuForTests()
after(() => gpu.rt?.destroy())

const centred = (x: bigint, M: bigint): bigint => (x > M / 2n ? x - M : x)

function specOf(ctx: FheContext, k: number): BfvMulSpec {
  return { n: ctx.n, q: ctx.base.moduli.slice(0, k), p: ctx.mulData(k).pBase.moduli, t: ctx.t }
}

export function packOperands(pairs: ReadonlyArray<readonly [Ciphertext, Ciphertext]>): Uint32Array {
  const polys = pairs.flatMap(([a, b]) => [...a.polys, ...b.polys])
  const size = (polys[0] as RnsPoly).data.length
  const out = new Uint32Array(polys.length * size)
  polys.forEach((p, i) => out.set(p.data, i * size))
  return out
}

export function packKeys(rlk: RelinKeys, k: number): Uint32Array {
  const polys = [...rlk.b.slice(0, k), ...rlk.a.slice(0, k)].map((p) => limbsOf(p, k).data)
  const size = (polys[0] as Uint32Array).length
  const out = new Uint32Array(polys.length * size)
  polys.forEach((p, i) => out.set(p.subarray(0, size), i * size))
  return out
}

describe('device-resident BFV multiply + relinearize', { skip: gpu.skip }, () => {
  const kernels = () => {
    const rt = need(gpu)
    return new BfvKernels(rt, new NttKernels(rt))
  }
  let bk: BfvKernels | undefined
  const get = () => (bk ??= kernels())

  test('lift and scale stages are exact against BigInt on edge and random inputs (bfv4096, bfv8192 top level)', async () => {
    for (const preset of ['bfv4096', 'bfv8192'] as const) {
      const { ctx } = fixture(preset)
      const k = ctx.levels
      const spec = specOf(ctx, k)
      const n = ctx.n
      const Q = prod(spec.q)
      const P = prod(spec.p)
      const T = BigInt(spec.t)
      const r = prng(7)
      const h = (Q - 1n) / 2n
      const liftEdges = [0n, 1n, Q - 1n, Q - 2n, h, h + 1n, h - 1n, h + 2n, h - 2n]
      const xs = Array.from({ length: n }, (_, c) => (c < liftEdges.length ? (liftEdges[c] as bigint) : randomBig(r, Q)))
      const lifted = await get().stage('lift', spec, residues(xs, spec.q, n))
      assert.deepEqual(lifted, residues(xs.map((x) => centred(x, Q)), [...spec.q, ...spec.p], n), `${preset} lift`)

      const tInv = bigInvMod(T, Q)
      const hp = (P - 1n) / 2n
      const sx = Array.from({ length: n }, (_, c) => {
        if (c < 128) return mod(tInv * (h + BigInt((c % 7) - 3)), Q) + Q * randomBig(r, P) // t·x/Q next to a half-integer
        if (c < 160) {
          // round(t·x/Q) = (P ± 1)/2 + j·P: the P → Q conversion's centring edge
          const R = (c % 2 === 0 ? hp : hp + 1n) + BigInt(c % 5) * P
          return (R * Q + T - 1n) / T + BigInt(c % 3)
        }
        return randomBig(r, Q * P)
      })
      const scaled = await get().stage('scale', spec, residues(sx, [...spec.q, ...spec.p], n))
      const want = sx.map((x) => centred(mod((2n * T * x + Q) / (2n * Q), P), P))
      assert.deepEqual(scaled, residues(want, spec.q, n), `${preset} scale`)
    }
  })

  for (const [preset, B] of [['bfv4096', 5], ['bfv8192', 2]] as const) {
    test(`${preset}: ${B} random pairs in one submission equal the CPU multiplyRelin byte for byte and decrypt right`, async () => {
      const { ctx, pk, rlk, kg } = fixture(preset)
      const k = ctx.levels
      const spec = specOf(ctx, k)
      const vals = Array.from({ length: 2 * B }, (_, i) => randomInts(32, -300, 300, 100 + i))
      const cts = vals.map((v) => encryptPublic(ctx, pk, encodeIntegers(ctx, v)))
      const pairs = Array.from({ length: B }, (_, i) => [cts[2 * i], cts[2 * i + 1]] as const) as Array<readonly [Ciphertext, Ciphertext]>
      const before = get().submissions
      const got = await get().mulRelin(spec, packOperands(pairs), get().uploadKeys(spec, packKeys(rlk, k)))
      assert.equal(get().submissions - before, 1, 'one submission for the whole batch')
      const size = k * ctx.n
      const mirror = bfvMulRelinReference(makeBfvMulTables(spec), packOperands(pairs), packKeys(rlk, k))
      assert.deepEqual(got, mirror, 'device = TypeScript mirror')
      pairs.forEach(([a, b], i) => {
        const cpu = ev.multiplyRelin(ctx, a, b, rlk)
        cpu.polys.forEach((p, h) => assert.deepEqual(got.subarray((2 * i + h) * size, (2 * i + h + 1) * size), p.data, `pair ${i} poly ${h}`))
        const res: Ciphertext = { paramsId: ctx.paramsId, level: k, polys: [0, 1].map((h) => ({ n: ctx.n, k, data: got.slice((2 * i + h) * size, (2 * i + h + 1) * size) })) }
        const want = negacyclicMod(vals[2 * i] as number[], vals[2 * i + 1] as number[], ctx.n, ctx.t).slice(0, 63)
        assert.deepEqual(Array.from(decodeSigned(ctx, decrypt(ctx, kg.secretKey, res))).slice(0, 63), want, `pair ${i} decrypts`)
      })
    })
  }
})

describe('bfvMulRelin on the reference path (no device needed)', () => {
  test('KernelService without a device: words equal the CPU multiplyRelin; bad input is a typed InvalidInput', async () => {
    const { KernelService } = await import('../../kernels/service.ts')
    const svc = await KernelService.create({ forceReference: true })
    try {
      const { ctx, pk, rlk } = fixture('bfv4096')
      const k = ctx.levels
      const spec = specOf(ctx, k)
      const a = encryptPublic(ctx, pk, encodeIntegers(ctx, randomInts(16, -99, 99, 41)))
      const b = encryptPublic(ctx, pk, encodeIntegers(ctx, randomInts(16, -99, 99, 42)))
      const keys = await svc.uploadBfvKeys(ctx.n, spec.q, packKeys(rlk, k))
      const got = await svc.bfvMulRelin(spec, packOperands([[a, b]]), keys)
      const cpu = ev.multiplyRelin(ctx, a, b, rlk)
      assert.deepEqual(got, Uint32Array.from([...cpu.polys[0]!.data, ...cpu.polys[1]!.data]))
      await assert.rejects(svc.bfvMulRelin(spec, new Uint32Array(5), keys), { _tag: 'InvalidInput', reason: 'length_mismatch' })
      const tooBig = packOperands([[a, b]])
      tooBig[0] = spec.q[0] as number
      await assert.rejects(svc.bfvMulRelin(spec, tooBig, keys), { _tag: 'InvalidInput', reason: 'coefficient_out_of_range' })
      await assert.rejects(svc.bfvMulRelin({ ...spec, t: 1 }, packOperands([[a, b]]), keys), { _tag: 'InvalidInput', reason: 'bad_argument' })
      await assert.rejects(svc.uploadBfvKeys(ctx.n, spec.q, new Uint32Array(3)), { _tag: 'InvalidInput', reason: 'length_mismatch' })
      await svc.releaseBfvKeys(keys)
      await assert.rejects(svc.bfvMulRelin(spec, packOperands([[a, b]]), keys), { _tag: 'InvalidInput', reason: 'bad_argument' })
    } finally {
      svc.destroy()
    }
  })
})
