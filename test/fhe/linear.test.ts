import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { noiseBudget } from '../../fhe/decrypt.ts'
import {
  decryptLinear,
  encryptActivations,
  evaluateLinear,
  evaluateLinearFull,
  linearPlain,
  planLinear,
  prepareLinear,
  type LinearShape,
} from '../../fhe/linear.ts'
import { deserializeCiphertext, deserializePartial, serializeCiphertext, serializePartial } from '../../fhe/serialize.ts'
import { seededRandom } from '../../fhe/rng.ts'
import { fixture, prng } from './helpers.ts'

function int8s(count: number, seed: number): Int8Array {
  const r = prng(seed)
  const a = new Int8Array(count)
  for (let i = 0; i < count; i++) a[i] = Math.floor(r() * 256) - 128
  return a
}

describe('encrypted linear layers (bfv4096Linear, t = 2^28)', () => {
  const { ctx, kg } = fixture('bfv4096Linear')
  const sk = kg.secretKey
  const rng = seededRandom('linear-test')

  function run(shape: LinearShape, w: Int8Array, x: Int8Array, force?: { ni: number; mt: number; no: number }) {
    const plan = planLinear(ctx, shape, force ? { force } : {})
    const prepared = prepareLinear(ctx, plan, w)
    // Over the wire both ways, as a client and a miner would.
    const up = encryptActivations(ctx, sk, plan, x, rng).map((c) => deserializeCiphertext(ctx, serializeCiphertext(ctx, c)))
    const down = evaluateLinear(ctx, prepared, up).map((p) => deserializePartial(ctx, serializePartial(ctx, p)))
    return { plan, prepared, up, y: decryptLinear(ctx, sk, plan, down) }
  }

  test('small shapes, every packing, exact', () => {
    const shapes: Array<[LinearShape, { ni: number; mt: number; no: number } | undefined]> = [
      [{ dIn: 5, dOut: 3, tokens: 1 }, undefined],
      [{ dIn: 37, dOut: 19, tokens: 3 }, undefined],
      [{ dIn: 37, dOut: 19, tokens: 3 }, { ni: 16, mt: 2, no: 5 }],
      [{ dIn: 10, dOut: 7, tokens: 5 }, { ni: 1, mt: 4, no: 7 }],
      [{ dIn: 64, dOut: 64, tokens: 2 }, { ni: 64, mt: 1, no: 64 }],
    ]
    shapes.forEach(([shape, force], i) => {
      const w = int8s(shape.dOut * shape.dIn, 100 + i)
      const x = int8s(shape.tokens * shape.dIn, 200 + i)
      assert.deepEqual(run(shape, w, x, force).y, linearPlain(w, x, shape), JSON.stringify(shape))
    })
  })

  test('768×768 (GPT-2 attention projection), extreme values included, exact, budget left', () => {
    const shape = { dIn: 768, dOut: 768, tokens: 2 }
    const w = int8s(768 * 768, 1)
    const x = int8s(2 * 768, 2)
    // Row 0 of W and token 1 of x at −128 everywhere: the largest possible |y| = 768·16384.
    w.fill(-128, 0, 768)
    x.fill(-128, 768, 1536)
    const { plan, prepared, up, y } = run(shape, w, x)
    const ref = linearPlain(w, x, shape)
    assert.equal(ref[1 * 768 + 0], 768 * 16384)
    assert.deepEqual(y, ref)
    // The remaining budget is positive with margin, and no lower than the planner's worst-case bound.
    const full = evaluateLinearFull(ctx, prepared, up)
    const budgets = full.map((c) => noiseBudget(ctx, sk, c))
    const least = Math.min(...budgets)
    assert.ok(least >= plan.worstCaseBudgetBits, `measured ${least} < bound ${plan.worstCaseBudgetBits}`)
    assert.ok(least > 15, `remaining budget ${least}`)
    assert.ok(plan.outputLevel < ctx.levels, 'results are modulus-switched down before leaving the miner')
  })

  test('768×3072 (GPT-2 MLP up-projection), exact', () => {
    const shape = { dIn: 768, dOut: 3072, tokens: 1 }
    const w = int8s(768 * 3072, 3)
    const x = int8s(768, 4)
    assert.deepEqual(run(shape, w, x).y, linearPlain(w, x, shape))
  })

  test('t too small for exact int32 sums is refused, not wrapped', () => {
    const small = fixture('bfv4096').ctx
    try {
      planLinear(small, { dIn: 768, dOut: 8, tokens: 1 })
      assert.fail('expected a throw')
    } catch (e) {
      assert.equal((e as { _tag: string })._tag, 'InvalidOperand')
      assert.equal((e as { reason: string }).reason, 'value_out_of_range')
    }
  })

  test('the planner packs more outputs per ciphertext as tokens are batched', () => {
    const one = planLinear(ctx, { dIn: 768, dOut: 768, tokens: 1 })
    const many = planLinear(ctx, { dIn: 768, dOut: 768, tokens: 64 })
    assert.ok(many.bytesUp / 64 < one.bytesUp / 4)
    assert.ok(many.bytesDown / 64 < one.bytesDown / 4)
    assert.ok(one.ni * one.mt * one.no <= ctx.n && many.ni * many.mt * many.no <= ctx.n)
  })
})
