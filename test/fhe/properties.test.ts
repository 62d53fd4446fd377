import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { decrypt } from '../../fhe/decrypt.ts'
import { decodeSigned, encodeIntegers } from '../../fhe/encoder.ts'
import { encryptSymmetric } from '../../fhe/encrypt.ts'
import * as ev from '../../fhe/evaluate.ts'
import { deserializeCiphertext, deserializePartial, serializeCiphertext, serializePartial } from '../../fhe/serialize.ts'
import { evaluateLinear, encryptActivations, planLinear, prepareLinear } from '../../fhe/linear.ts'
import { seededRandom } from '../../fhe/rng.ts'
import { centredMod, fixture } from './helpers.ts'

const seed = 20261125

describe('properties (fast-check, fixed seed)', () => {
  const { ctx, kg } = fixture('bfv4096')
  const sk = kg.secretKey
  const rng = seededRandom('properties')

  test('encrypt → add → decrypt is the sum mod t for arbitrary vectors', () => {
    const t = ctx.t
    const vec = fc.array(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), { minLength: 1, maxLength: 32 })
    fc.assert(
      fc.property(vec, vec, (a, b) => {
        const ca = encryptSymmetric(ctx, sk, encodeIntegers(ctx, a), rng)
        const cb = encryptSymmetric(ctx, sk, encodeIntegers(ctx, b), rng)
        const got = [...decodeSigned(ctx, decrypt(ctx, sk, ev.add(ctx, ca, cb)), 32)]
        const want = Array.from({ length: 32 }, (_, i) => centredMod((a[i] ?? 0) + (b[i] ?? 0), t))
        assert.deepEqual(got, want)
      }),
      { seed, numRuns: 15 },
    )
  })

  test('any corruption or truncation of a ciphertext is a CiphertextDecodeError, never a ciphertext', () => {
    const bytes = serializeCiphertext(ctx, encryptSymmetric(ctx, sk, encodeIntegers(ctx, [1, 2, 3]), rng))
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), pos: fc.nat({ max: bytes.length - 1 }), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('cut' as const), len: fc.nat({ max: bytes.length - 1 }) }),
    )
    fc.assert(
      fc.property(mutation, (m) => {
        let bad: Uint8Array
        if (m.kind === 'flip') {
          bad = bytes.slice()
          bad[m.pos] = (bad[m.pos] as number) ^ (1 << m.bit)
        } else bad = bytes.slice(0, m.len)
        try {
          deserializeCiphertext(ctx, bad)
        } catch (e) {
          assert.equal((e as { _tag: string })._tag, 'CiphertextDecodeError')
          return
        }
        assert.fail(`accepted a mutated ciphertext: ${JSON.stringify(m)}`)
      }),
      { seed, numRuns: 200 },
    )
  })

  test('any corruption of a linear-layer result is a CiphertextDecodeError, never a wrong y', () => {
    const lin = fixture('bfv4096Linear')
    const plan = planLinear(lin.ctx, { dIn: 8, dOut: 4, tokens: 1 })
    const prepared = prepareLinear(lin.ctx, plan, Int8Array.from({ length: 32 }, (_, i) => i - 16))
    const inputs = encryptActivations(lin.ctx, lin.kg.secretKey, plan, Int8Array.from({ length: 8 }, (_, i) => 3 * i - 12))
    const [result] = evaluateLinear(lin.ctx, prepared, inputs).map((p) => serializePartial(lin.ctx, p))
    const bytes = result as Uint8Array
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (pos, x) => {
        const bad = bytes.slice()
        bad[pos] = (bad[pos] as number) ^ x
        assert.throws(() => deserializePartial(lin.ctx, bad), (e: { _tag?: string }) => e._tag === 'CiphertextDecodeError')
      }),
      { seed, numRuns: 100 },
    )
  })
})
