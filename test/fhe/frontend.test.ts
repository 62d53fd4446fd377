/**
 * The SEAL-shaped front end (fhe/frontend.ts): its roles give exactly the words of the free functions they wrap,
 * whichever backend is injected, and the linear-layer planner's miner half is bit-identical with and without an
 * accelerator.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { asyncPolyBackend } from '../../fhe/async.ts'
import { decrypt } from '../../fhe/decrypt.ts'
import { encodeIntegers } from '../../fhe/encoder.ts'
import { encryptPublic } from '../../fhe/encrypt.ts'
import * as ev from '../../fhe/evaluate.ts'
import { Bfv } from '../../fhe/frontend.ts'
import { evaluateLinear, linearPlain } from '../../fhe/linear.ts'
import { cpuBackend } from '../../fhe/poly.ts'
import { seededRandom } from '../../fhe/rng.ts'
import { deserializePartial, serializeCiphertext, serializePartial } from '../../fhe/serialize.ts'
import { fixture, negacyclicMod, randomInts } from './helpers.ts'

describe('Bfv front end', () => {
  test('encryptor / evaluator / decryptor give the free functions\' words; multiplyRelin decrypts to the negacyclic product', async () => {
    const { ctx, kg, pk, rlk } = fixture('bfv4096')
    const xs = randomInts(32, -300, 300, 1)
    const ys = randomInts(32, -300, 300, 2)
    const plain = Bfv.create(ctx)
    const accel = Bfv.create(ctx, { accelerator: asyncPolyBackend(cpuBackend) })
    assert.equal(plain.backendName, ctx.backend.name)
    assert.equal(accel.backendName, cpuBackend.name)
    const coder = plain.encoder()
    const a = plain.encryptor(pk, seededRandom('a')).encrypt(coder.encode(xs))
    assert.deepEqual(serializeCiphertext(ctx, a), serializeCiphertext(ctx, encryptPublic(ctx, pk, encodeIntegers(ctx, xs), seededRandom('a'))))
    const b = plain.encryptor(kg.secretKey, seededRandom('b')).encrypt(coder.encode(ys))
    const ref = ev.multiplyRelin(ctx, a, b, rlk)
    for (const bfv of [plain, accel]) {
      const got = await bfv.evaluator().multiplyRelin(a, b, rlk)
      got.polys.forEach((p, i) => assert.deepEqual(p.data, ref.polys[i]?.data, bfv.backendName))
    }
    const dec = plain.decryptor(kg.secretKey)
    assert.deepEqual([...coder.decode(dec.decrypt(ref), ctx.n)], negacyclicMod(xs, ys, ctx.n, ctx.t))
    assert.deepEqual(dec.decrypt(ref).coeffs, decrypt(ctx, kg.secretKey, ref).coeffs)
    assert.ok(Number.isInteger(dec.noiseBudget(ref)) && dec.noiseBudget(ref) > 0)
    // The module doc's example: coefficient encoding, so a product is the polynomial product.
    const e = plain.encryptor(pk).encrypt(coder.encode([1, -2, 3]))
    assert.deepEqual([...coder.decode(dec.decrypt(await accel.evaluator().multiplyRelin(e, e, rlk)), 5)], [1, -4, 10, -12, 9])
  })

  test('LinearPlanner: evaluate (with and without an accelerator) = evaluateLinear; evaluateSerialized caches and decrypts to W·x', async () => {
    const { ctx, kg } = fixture('bfv4096Linear')
    const shape = { dIn: 40, dOut: 24, tokens: 2 }
    const w = Int8Array.from(randomInts(40 * 24, -128, 127, 3))
    const x = Int8Array.from(randomInts(80, -128, 127, 4))
    const planner = Bfv.create(ctx).linearPlanner()
    const plan = planner.plan(shape)
    const inputs = planner.encryptInputs(kg.secretKey, plan, x, seededRandom('x'))
    const prepared = planner.prepare(plan, w)
    const ref = evaluateLinear(ctx, prepared, inputs).map((p) => serializePartial(ctx, p))
    for (const p of [planner, Bfv.create(ctx, { accelerator: asyncPolyBackend(cpuBackend) }).linearPlanner()]) {
      assert.deepEqual((await p.evaluate(prepared, inputs)).map((o) => serializePartial(ctx, o)), ref)
    }
    const cache = new Map()
    const first = await planner.evaluateSerialized(plan, w, inputs.map((c) => serializeCiphertext(ctx, c)), cache)
    const second = await planner.evaluateSerialized(plan, w, inputs.map((c) => serializeCiphertext(ctx, c)), cache)
    assert.deepEqual(first.outputs, ref)
    assert.equal(cache.size, 1)
    assert.equal(second.prepareMs, 0)
    const y = planner.decrypt(kg.secretKey, plan, first.outputs.map((b) => deserializePartial(ctx, b)))
    assert.deepEqual(y, linearPlain(w, x, shape))
  })

  test('bad parameters are a typed InvalidParams', () => {
    assert.throws(() => Bfv.create({ scheme: 'bfv', polyModulusDegree: 1000, coeffModulus: [12289], plainModulus: 17, errorDistribution: { kind: 'cbd', eta: 10 } }), (e: unknown) => (e as { _tag?: string })._tag === 'InvalidParams')
  })
})
