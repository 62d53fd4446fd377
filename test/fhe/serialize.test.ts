import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { decrypt, decryptPartial } from '../../fhe/decrypt.ts'
import { decodeSigned, encodeIntegers } from '../../fhe/encoder.ts'
import { encryptPublic, encryptSymmetric } from '../../fhe/encrypt.ts'
import * as ev from '../../fhe/evaluate.ts'
import {
  deserializeCiphertext,
  deserializePartial,
  deserializePublicKey,
  deserializeRelinKeys,
  deserializeSecretKey,
  serializeCiphertext,
  serializePartial,
  serializePublicKey,
  serializeRelinKeys,
  serializeSecretKey,
} from '../../fhe/serialize.ts'
import { fixture, randomInts } from './helpers.ts'

function reasonOf(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    const x = e as { _tag?: string; reason?: string }
    assert.equal(x._tag, 'CiphertextDecodeError')
    return x.reason ?? ''
  }
  assert.fail('expected CiphertextDecodeError')
}

describe('serialization', () => {
  const { ctx, kg, pk, rlk } = fixture('bfv4096')
  const sk = kg.secretKey
  const msg = randomInts(ctx.n, -1000, 1000, 7)
  const ct = encryptPublic(ctx, pk, encodeIntegers(ctx, msg))
  const bytes = serializeCiphertext(ctx, ct)

  test('ciphertext round trip; seeded secret-key ciphertexts are half the size', () => {
    assert.deepEqual([...decodeSigned(ctx, decrypt(ctx, sk, deserializeCiphertext(ctx, bytes)))], msg)
    const sym = encryptSymmetric(ctx, sk, encodeIntegers(ctx, msg))
    const sb = serializeCiphertext(ctx, sym)
    assert.ok(sb.length < bytes.length / 2 + 100)
    const back = deserializeCiphertext(ctx, sb)
    assert.deepEqual(back.polys[1]?.data, sym.polys[1]?.data)
    assert.deepEqual([...decodeSigned(ctx, decrypt(ctx, sk, back))], msg)
    // A size-3 ciphertext and a lower level round-trip too.
    const m3 = ev.multiply(ctx, ct, ct)
    assert.deepEqual(deserializeCiphertext(ctx, serializeCiphertext(ctx, m3)).polys[2]?.data, m3.polys[2]?.data)
    const low = ev.modSwitchToNext(ctx, ct)
    assert.equal(deserializeCiphertext(ctx, serializeCiphertext(ctx, low)).level, ctx.levels - 1)
  })

  test('NTT-form (linear-layer) ciphertexts decrypt, round-trip and enter the evaluator', () => {
    const c = encryptSymmetric(ctx, sk, encodeIntegers(ctx, msg), undefined, { ntt: true })
    assert.equal(c.ntt, true)
    const back = deserializeCiphertext(ctx, serializeCiphertext(ctx, c))
    assert.equal(back.ntt, true)
    assert.deepEqual([...decodeSigned(ctx, decrypt(ctx, sk, back))], msg)
    const sum = ev.add(ctx, back, ct)
    assert.deepEqual([...decodeSigned(ctx, decrypt(ctx, sk, sum))], msg.map((v) => 2 * v))
  })

  test('keys round trip and still work', () => {
    const pk2 = deserializePublicKey(ctx, serializePublicKey(ctx, pk))
    const sk2 = deserializeSecretKey(ctx, serializeSecretKey(ctx, sk))
    const rlk2 = deserializeRelinKeys(ctx, serializeRelinKeys(ctx, rlk))
    assert.deepEqual(pk2.p1.data, pk.p1.data)
    const c = encryptPublic(ctx, pk2, encodeIntegers(ctx, [5, -6]))
    const sq = ev.multiplyRelin(ctx, c, c, rlk2)
    assert.deepEqual([...decodeSigned(ctx, decrypt(ctx, sk2, sq), 3)], [25, -60, 36])
  })

  test('truncated, extended, corrupted and mismatched bytes are refused with typed errors', () => {
    assert.equal(reasonOf(() => deserializeCiphertext(ctx, bytes.subarray(0, 10))), 'truncated')
    assert.equal(reasonOf(() => deserializeCiphertext(ctx, bytes.subarray(0, bytes.length - 1))), 'truncated')
    const longer = new Uint8Array(bytes.length + 4)
    longer.set(bytes)
    assert.equal(reasonOf(() => deserializeCiphertext(ctx, longer)), 'trailing_bytes')
    // Flip one bit anywhere in the body: the hash catches it.
    for (const pos of [40, 1000, bytes.length - 40]) {
      const bad = bytes.slice()
      bad[pos] = (bad[pos] as number) ^ 1
      assert.equal(reasonOf(() => deserializeCiphertext(ctx, bad)), 'checksum')
    }
    const badMagic = bytes.slice()
    badMagic[0] = 0
    assert.equal(reasonOf(() => deserializeCiphertext(ctx, badMagic)), 'bad_magic')
    const badVersion = bytes.slice()
    badVersion[4] = 9
    assert.equal(reasonOf(() => deserializeCiphertext(ctx, badVersion)), 'unsupported_version')
    assert.equal(reasonOf(() => deserializePublicKey(ctx, bytes)), 'wrong_kind')
    const other = fixture('bfv4096Linear').ctx
    assert.equal(reasonOf(() => deserializeCiphertext(other, bytes)), 'params_mismatch')
  })

  test('a well-hashed object with a coefficient ≥ q_i is still refused', async () => {
    const { createHash } = await import('node:crypto')
    const forged = Buffer.from(bytes)
    forged.writeUInt32LE(0xffffffff, 32) // first coefficient of c0, limb 0
    const end = forged.length - 32
    createHash('sha256').update(forged.subarray(0, end)).digest().copy(forged, end)
    assert.equal(reasonOf(() => deserializeCiphertext(ctx, new Uint8Array(forged))), 'coefficient_out_of_range')
    const badLevel = Buffer.from(bytes)
    badLevel.writeUInt8(9, 6)
    createHash('sha256').update(badLevel.subarray(0, end)).digest().copy(badLevel, end)
    assert.equal(reasonOf(() => deserializeCiphertext(ctx, new Uint8Array(badLevel))), 'bad_header')
  })

  test('partial ciphertexts decrypt the kept coefficients', () => {
    const low = ev.modSwitchTo(ctx, ct, 2)
    const indices = new Uint32Array([0, 5, 17, 4095])
    const n = ctx.n
    const c0 = new Uint32Array(2 * indices.length)
    for (let l = 0; l < 2; l++) indices.forEach((j, i) => (c0[l * indices.length + i] = low.polys[0]?.data[l * n + j] as number))
    const partial = { paramsId: ctx.paramsId, level: 2, indices, c0, c1: low.polys[1] as NonNullable<(typeof low.polys)[1]> }
    const back = deserializePartial(ctx, serializePartial(ctx, partial))
    const got = [...decryptPartial(ctx, sk, back)].map((v) => (v > ctx.t / 2 ? v - ctx.t : v))
    assert.deepEqual(got, [...indices].map((j) => msg[j]))
  })
})
