/**
 * noiseBudget reports whole bits, floored (as SEAL does): a ciphertext whose noise lies within a factor two of what
 * decryption tolerates reads 0, and every ciphertext that reads ≥ 1 decrypts correctly.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { decrypt, noiseBudget } from '../../fhe/decrypt.ts'
import { decodeSigned, encodeIntegers } from '../../fhe/encoder.ts'
import { encryptPublic, encryptSymmetric } from '../../fhe/encrypt.ts'
import * as ev from '../../fhe/evaluate.ts'
import type { Ciphertext } from '../../fhe/types.ts'
import { fixture } from './helpers.ts'

describe('noise budget: whole bits, 0 where decryption may fail', () => {
  const { ctx, kg, pk, rlk } = fixture('bfv4096')
  const sk = kg.secretKey
  const Q = ctx.levelData[ctx.levels - 1]?.Q ?? 0n
  const T = BigInt(ctx.t)

  /** (Margins of 2^60 ≈ Q·2^−17/t keep clear of the decryptor's ~2^−40 rounding precision.) An encryption of 0 with E added to coefficient 0 of c0 (so its noise there is E plus the fresh noise). */
  const withNoise = (E: bigint): Ciphertext => {
    const ct = encryptSymmetric(ctx, sk, encodeIntegers(ctx, [0]))
    const c0 = ct.polys[0]
    assert.ok(c0)
    const data = c0.data.slice()
    ctx.base.moduli.forEach((q, i) => {
      const e = Number(((E % BigInt(q)) + BigInt(q)) % BigInt(q))
      data[i * ctx.n] = ((data[i * ctx.n] as number) + e) % q
    })
    return { ...ct, seed: undefined, polys: [{ ...c0, data }, ...ct.polys.slice(1)] }
  }

  test('the boundary: noise past Q/2t decrypts wrongly and reads 0; just inside it still reads 0; Q/8t reads ≥ 1', () => {
    const limit = Q / (2n * T)
    const outside = withNoise(limit + 2n ** 60n)
    assert.notEqual(decrypt(ctx, sk, outside).coeffs[0], 0, 'noise past the limit must break decryption')
    assert.equal(noiseBudget(ctx, sk, outside), 0)
    const inside = withNoise(limit - 2n ** 60n)
    assert.equal(decrypt(ctx, sk, inside).coeffs[0], 0)
    assert.equal(noiseBudget(ctx, sk, inside), 0, 'within a factor two of the limit: may fail, reads 0')
    const safe = withNoise(Q / (8n * T))
    const b = noiseBudget(ctx, sk, safe)
    assert.ok(b >= 1 && b <= 2, `budget ${b} for noise Q/8t`)
    assert.equal(decrypt(ctx, sk, safe).coeffs[0], 0)
    for (const c of [outside, inside, safe]) assert.ok(Number.isInteger(noiseBudget(ctx, sk, c)))
  })

  test('three chained relinearize(multiply(c, fresh)) at bfv4096: whole bits, correct while ≥ 1, the last reads 0', () => {
    const fresh = encryptPublic(ctx, pk, encodeIntegers(ctx, [3]))
    let c = fresh
    let want = 3
    const budgets: number[] = []
    const correct: boolean[] = []
    for (let i = 0; i < 3; i++) {
      c = ev.relinearize(ctx, ev.multiply(ctx, c, encryptPublic(ctx, pk, encodeIntegers(ctx, [3]))), rlk)
      want *= 3
      const b = noiseBudget(ctx, sk, c)
      budgets.push(b)
      assert.ok(Number.isInteger(b), `budget ${b} is whole bits`)
      const got = decodeSigned(ctx, decrypt(ctx, sk, c), 4)
      const ok = got[0] === want && got[1] === 0 && got[2] === 0 && got[3] === 0
      correct.push(ok)
      if (b >= 1) assert.ok(ok, `budget ${b} but decryption wrong at step ${i + 1}`)
    }
    assert.ok((budgets[0] as number) > (budgets[1] as number), `budgets ${budgets.join(', ')}`)
    assert.equal(budgets[2], 0, `budgets ${budgets.join(', ')}`)
  })
})
