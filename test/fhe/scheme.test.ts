import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Effect, Exit } from 'effect'
import { createFheContext, makeFheContext } from '../../fhe/context.ts'
import { decrypt, noiseBudget } from '../../fhe/decrypt.ts'
import { decodeSigned, encodeIntegers } from '../../fhe/encoder.ts'
import { encryptPublic, encryptSymmetric } from '../../fhe/encrypt.ts'
import * as ev from '../../fhe/evaluate.ts'
import { presets, PRIMES_31 } from '../../fhe/presets.ts'
import { createKeyGenerator } from '../../fhe/keygen.ts'
import { seededRandom } from '../../fhe/rng.ts'
import { centredMod, fixture, negacyclicMod, randomInts } from './helpers.ts'

function tagOf(f: () => unknown): { _tag?: string; reason?: string } {
  try {
    f()
  } catch (e) {
    return e as { _tag?: string; reason?: string }
  }
  assert.fail('expected a throw')
}

describe('params and context', () => {
  test('presets build and stay inside the 128-bit table', () => {
    for (const p of Object.values(presets)) {
      const ctx = createFheContext(p)
      assert.ok(ctx.logQ <= ctx.maxLogQ)
      assert.equal(ctx.paramsId.length, 32)
    }
  })

  test('paramsId is a hash of the canonical encoding: equal params equal id, any change a new id', () => {
    const a = createFheContext(presets.bfv4096).paramsId
    const b = createFheContext({ ...presets.bfv4096, coeffModulus: [...presets.bfv4096.coeffModulus] }).paramsId
    assert.equal(a, b)
    assert.notEqual(a, createFheContext({ ...presets.bfv4096, plainModulus: 65539 }).paramsId)
    assert.notEqual(a, createFheContext({ ...presets.bfv4096, errorDistribution: { kind: 'cbd', eta: 20 } }).paramsId)
  })

  test('insecure parameters are refused with the limit named', () => {
    const e = tagOf(() => createFheContext({ ...presets.bfv4096, coeffModulus: PRIMES_31.slice(0, 4) })) as {
      _tag: string
      reason: string
      maxLogQ: number
      logQ: number
    }
    assert.equal(e._tag, 'InvalidParams')
    assert.equal(e.reason, 'insecure')
    assert.equal(e.maxLogQ, 109)
    assert.ok(e.logQ > 109)
    const e2 = tagOf(() => createFheContext({ ...presets.bfv8192, coeffModulus: PRIMES_31.slice(0, 8) })) as { reason: string; maxLogQ: number }
    assert.equal(e2.reason, 'insecure')
    assert.equal(e2.maxLogQ, 218)
    // N = 1024 allows 27 bits: a single 31-bit prime is already too much.
    const e3 = tagOf(() => createFheContext({ ...presets.bfv4096, polyModulusDegree: 1024, coeffModulus: [PRIMES_31[0]] })) as {
      reason: string
      maxLogQ: number
    }
    assert.equal(e3.reason, 'insecure')
    assert.equal(e3.maxLogQ, 27)
  })

  test('each malformed field has its own reason', () => {
    const cases: Array<[unknown, string]> = [
      [{ ...presets.bfv4096, polyModulusDegree: 3000 }, 'poly_modulus_degree_not_power_of_two'],
      [{ ...presets.bfv4096, polyModulusDegree: 512 }, 'poly_modulus_degree_out_of_range'],
      [{ ...presets.bfv4096, coeffModulus: [] }, 'coeff_modulus_empty'],
      [{ ...presets.bfv4096, coeffModulus: [2147352577, 2147352577] }, 'coeff_modulus_not_distinct'],
      [{ ...presets.bfv4096, coeffModulus: [2147352579] }, 'coeff_modulus_not_prime'],
      [{ ...presets.bfv4096, coeffModulus: [2147483647] }, 'coeff_modulus_not_ntt_friendly'],
      [{ ...presets.bfv4096, coeffModulus: [4294967291] }, 'coeff_modulus_too_large_bits'],
      [{ ...presets.bfv4096, plainModulus: 2 ** 30 }, 'plain_modulus_too_large'],
      [{ ...presets.bfv4096, plainModulus: 1 }, 'schema'],
      [{ ...presets.bfv4096, scheme: 'ckks' }, 'schema'],
      [{ ...presets.bfv4096, errorDistribution: { kind: 'cbd', eta: 0 } }, 'schema'],
      ['not params', 'schema'],
    ]
    for (const [input, reason] of cases) {
      const e = tagOf(() => createFheContext(input))
      assert.equal(e._tag, 'InvalidParams', reason)
      assert.equal(e.reason, reason)
    }
  })

  test('makeFheContext is an Effect failing with InvalidParams', () => {
    const exit = Effect.runSyncExit(makeFheContext({ ...presets.bfv4096, coeffModulus: PRIMES_31.slice(0, 5) }))
    assert.ok(Exit.isFailure(exit))
    const ok = Effect.runSync(makeFheContext(presets.bfv4096))
    assert.equal(ok.n, 4096)
  })
})

describe('encrypt / decrypt / arithmetic (bfv4096, t = 65537)', () => {
  const { ctx, kg, pk, rlk } = fixture('bfv4096')
  const sk = kg.secretKey
  const rng = seededRandom('scheme-test')
  const t = ctx.t
  const a = randomInts(ctx.n, -(t - 1) / 2, (t - 1) / 2, 1)
  const b = randomInts(ctx.n, -(t - 1) / 2, (t - 1) / 2, 2)
  const ca = encryptPublic(ctx, pk, encodeIntegers(ctx, a), rng)
  const cb = encryptSymmetric(ctx, sk, encodeIntegers(ctx, b), rng)

  test('round trips (public and secret key)', () => {
    assert.deepEqual([...decodeSigned(ctx, decrypt(ctx, sk, ca))], a)
    assert.deepEqual([...decodeSigned(ctx, decrypt(ctx, sk, cb))], b)
  })

  test('two encryptions of the same message differ', () => {
    const pt = encodeIntegers(ctx, a)
    const x = encryptPublic(ctx, pk, pt)
    const y = encryptPublic(ctx, pk, pt)
    assert.notDeepEqual(x.polys[0]?.data, y.polys[0]?.data)
    const u = encryptSymmetric(ctx, sk, pt)
    const v = encryptSymmetric(ctx, sk, pt)
    assert.notDeepEqual(u.polys[1]?.data, v.polys[1]?.data)
    assert.deepEqual(decrypt(ctx, sk, x).coeffs, decrypt(ctx, sk, y).coeffs)
  })

  test('add, sub, negate, addPlain, subPlain', () => {
    const dec = (c: ReturnType<typeof ev.add>) => [...decodeSigned(ctx, decrypt(ctx, sk, c))]
    assert.deepEqual(dec(ev.add(ctx, ca, cb)), a.map((x, i) => centredMod(x + (b[i] as number), t)))
    assert.deepEqual(dec(ev.sub(ctx, ca, cb)), a.map((x, i) => centredMod(x - (b[i] as number), t)))
    assert.deepEqual(dec(ev.negate(ctx, ca)), a.map((x) => centredMod(-x, t)))
    assert.deepEqual(dec(ev.addPlain(ctx, ca, encodeIntegers(ctx, b))), a.map((x, i) => centredMod(x + (b[i] as number), t)))
    assert.deepEqual(dec(ev.subPlain(ctx, ca, encodeIntegers(ctx, b))), a.map((x, i) => centredMod(x - (b[i] as number), t)))
  })

  test('plaintext multiply equals the negacyclic product mod t', () => {
    const w = randomInts(64, -128, 127, 3)
    const prod = ev.multiplyPlain(ctx, ca, encodeIntegers(ctx, w))
    assert.deepEqual([...decodeSigned(ctx, decrypt(ctx, sk, prod))], negacyclicMod(a, w, ctx.n, t))
  })

  test('ciphertext multiply + relinearize equals the negacyclic product mod t', () => {
    const small = randomInts(ctx.n, -300, 300, 4)
    const cs = encryptPublic(ctx, pk, encodeIntegers(ctx, small), rng)
    const expect = negacyclicMod(a, small, ctx.n, t)
    const m3 = ev.multiply(ctx, ca, cs)
    assert.equal(m3.polys.length, 3)
    assert.deepEqual([...decodeSigned(ctx, decrypt(ctx, sk, m3))], expect)
    const m = ev.relinearize(ctx, m3, rlk)
    assert.equal(m.polys.length, 2)
    assert.deepEqual([...decodeSigned(ctx, decrypt(ctx, sk, m))], expect)
    const sw = ev.modSwitchToNext(ctx, m)
    assert.equal(sw.level, ctx.levels - 1)
    assert.deepEqual([...decodeSigned(ctx, decrypt(ctx, sk, sw))], expect)
  })

  test('noise budget decreases as predicted', () => {
    const fresh = noiseBudget(ctx, sk, ca)
    // Fresh public-key noise ≈ ‖e·u + e1 + e2·s‖ ≲ 2^12 at N = 4096: budget ≈ log2(q/2t) − 12 ≈ 63 − 12.
    const ideal = ctx.logQ - Math.log2(2 * t)
    assert.ok(fresh > ideal - 16 && fresh < ideal - 4, `fresh budget ${fresh}, ideal ${ideal}`)
    // Adding two ciphertexts at most doubles the noise: ≤ 1 bit (plus rounding).
    const sum = noiseBudget(ctx, sk, ev.add(ctx, ca, ca))
    assert.ok(sum <= fresh + 0.01 && sum >= fresh - 1.1, `add: ${fresh} → ${sum}`)
    // A plaintext of one coefficient c scales the noise by |c|: log2|c| bits.
    const c = 1000
    const scaled = noiseBudget(ctx, sk, ev.multiplyPlain(ctx, ca, encodeIntegers(ctx, [c])))
    assert.ok(Math.abs(fresh - Math.log2(c) - scaled) < 1.0, `×${c}: ${fresh} → ${scaled}`)
    // A ct×ct product costs about log2(t·N) + a few bits (HPS bound t·N·‖s‖·‖e‖-type growth).
    const m = ev.multiplyRelin(ctx, ca, ca, rlk)
    const after = noiseBudget(ctx, sk, m)
    const cost = fresh - after
    assert.ok(cost > Math.log2(t) && cost < Math.log2(t * ctx.n) + 12, `ct×ct cost ${cost} bits`)
    // Budget exhaustion: one more product exceeds what is left; the budget reported is then ~0 (random noise).
    let x = m
    let budget = after
    for (let i = 0; i < 4 && budget >= 0.5; i++) {
      x = ev.multiplyRelin(ctx, x, x, rlk)
      const next = noiseBudget(ctx, sk, x)
      assert.ok(next < budget, 'every product consumes budget')
      budget = next
    }
    assert.ok(budget < 0.5, `budget ${budget} after repeated squaring`)
  })

  test('mismatched contexts and levels give typed errors', () => {
    const other = fixture('bfv4096Linear')
    const e = tagOf(() => ev.add(ctx, ca, encryptSymmetric(other.ctx, other.kg.secretKey, encodeIntegers(other.ctx, [1]))))
    assert.equal(e._tag, 'ParamsMismatch')
    const low = ev.modSwitchToNext(ctx, cb)
    const e2 = tagOf(() => ev.add(ctx, ca, low))
    assert.equal(e2._tag, 'InvalidOperand')
    assert.equal(e2.reason, 'level_mismatch')
    const e3 = tagOf(() => decrypt(other.ctx, other.kg.secretKey, ca))
    assert.equal(e3._tag, 'ParamsMismatch')
    const e4 = tagOf(() => ev.modSwitchTo(ctx, ev.modSwitchTo(ctx, ca, 1), 0))
    assert.equal(e4._tag, 'InvalidOperand')
    const e5 = tagOf(() => encodeIntegers(ctx, new Array<number>(ctx.n + 1).fill(0)))
    assert.equal(e5._tag, 'InvalidOperand')
  })
})

describe('deeper circuit (bfv8192)', () => {
  test('two ct×ct levels with modulus switching stay exact', () => {
    const { ctx, kg, pk, rlk } = fixture('bfv8192')
    const sk = kg.secretKey
    const x = randomInts(8, -20, 20, 9)
    const y = randomInts(8, -20, 20, 10)
    const cx = encryptPublic(ctx, pk, encodeIntegers(ctx, x))
    const cy = encryptPublic(ctx, pk, encodeIntegers(ctx, y))
    const xy = ev.modSwitchToNext(ctx, ev.multiplyRelin(ctx, cx, cy, rlk))
    const xyy = ev.multiplyRelin(ctx, xy, ev.modSwitchToNext(ctx, cy), rlk)
    const xpoly = [...x, ...new Array<number>(ctx.n - 8).fill(0)]
    const expect = negacyclicMod(negacyclicMod(xpoly, y, ctx.n, ctx.t), y, ctx.n, ctx.t)
    assert.deepEqual([...decodeSigned(ctx, decrypt(ctx, sk, xyy))], expect)
    assert.ok(noiseBudget(ctx, sk, xyy) > 60)
  })
})

describe('custom parameters with primes of very different sizes', () => {
  test('N = 4096, q = two 31-bit primes × 40961, t = 17: arithmetic, ct×ct and mod switching stay exact', () => {
    const ctx = createFheContext({
      scheme: 'bfv',
      polyModulusDegree: 4096,
      coeffModulus: [PRIMES_31[0], PRIMES_31[1], 40961],
      plainModulus: 17,
      errorDistribution: { kind: 'cbd', eta: 21 },
    })
    assert.ok(ctx.logQ <= 109)
    const kg = createKeyGenerator(ctx, seededRandom('mixed'))
    const pk = kg.createPublicKey()
    const rlk = kg.createRelinKeys()
    const rng = seededRandom('mixed-enc')
    const a = randomInts(ctx.n, -8, 8, 31)
    const b = randomInts(12, -8, 8, 32)
    const ca = encryptPublic(ctx, pk, encodeIntegers(ctx, a), rng)
    const cb = encryptSymmetric(ctx, kg.secretKey, encodeIntegers(ctx, b), rng)
    const dec = (c: Parameters<typeof decrypt>[2]) => [...decodeSigned(ctx, decrypt(ctx, kg.secretKey, c))]
    assert.deepEqual(dec(ev.add(ctx, ca, cb)), a.map((x, i) => centredMod(x + (b[i] ?? 0), 17)))
    const m = ev.multiplyRelin(ctx, ca, cb, rlk)
    const expect = negacyclicMod(a, b, ctx.n, 17)
    assert.deepEqual(dec(m), expect)
    assert.ok(noiseBudget(ctx, kg.secretKey, m) > 10)
    const low = ev.modSwitchToNext(ctx, m) // drops the small prime
    assert.deepEqual(dec(low), expect)
    assert.deepEqual(dec(ev.multiplyRelin(ctx, low, ev.modSwitchToNext(ctx, cb), rlk)), negacyclicMod(expect, b, ctx.n, 17))
  })
})
