import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createBfvBackend, decodeFheTaskConfig, type FheBackend } from '../../fhe/backend.ts'
import { linearPlain } from '../../fhe/linear.ts'
import { createTfheBackend } from '../../fhe/tfhe.ts'
import { randomInts } from './helpers.ts'

function tagOf(f: () => unknown): { _tag?: string; reason?: string } {
  try {
    f()
  } catch (e) {
    return e as { _tag?: string }
  }
  assert.fail('expected a throw')
}

describe('FheBackend', () => {
  test('task configs name a backend; anything else is refused', () => {
    assert.equal(decodeFheTaskConfig({ backend: 'bfv', preset: 'bfv4096Linear' }).backend, 'bfv')
    assert.equal(tagOf(() => decodeFheTaskConfig({ backend: 'ckks' }))._tag, 'InvalidParams')
  })

  test('bfv: client encrypts, miner evaluates on bytes, client decrypts', () => {
    const be: FheBackend = createBfvBackend('bfv4096Linear')
    const keys = be.keygen()
    const a = Int32Array.from(randomInts(16, -1000, 1000, 1))
    const b = Int32Array.from(randomInts(16, -1000, 1000, 2))
    const ca = be.encrypt(keys, a)
    const cb = be.encrypt(keys, b)
    assert.deepEqual([...be.decrypt(keys, be.add(ca, cb), 16)], [...a].map((x, i) => x + (b[i] as number)))
    assert.deepEqual([...be.decrypt(keys, be.sub(ca, cb), 16)], [...a].map((x, i) => x - (b[i] as number)))
    assert.deepEqual([...be.decrypt(keys, be.negate(ca), 16)], [...a].map((x) => -x))
    assert.deepEqual([...be.decrypt(keys, be.multiplyPlain(ca, Int32Array.of(3)), 16)], [...a].map((x) => 3 * x))
    const prod = be.decrypt(keys, be.multiply(ca, be.encrypt(keys, Int32Array.of(-7)), keys.evaluationKeys), 16)
    assert.deepEqual([...prod], [...a].map((x) => -7 * x))
    const shape = { dIn: 48, dOut: 20, tokens: 2 }
    const w = Int8Array.from(randomInts(48 * 20, -128, 127, 3))
    const x = Int8Array.from(randomInts(96, -128, 127, 4))
    const plan = be.planLinear(shape)
    const layer = be.prepareLinear(plan, w)
    const y = be.decryptLinearOutput(keys, plan, be.evaluateLinear(layer, be.encryptLinearInput(keys, plan, x)))
    assert.deepEqual(y, linearPlain(w, x, shape))
  })

  test('tfhe: real client-side keygen/encrypt/decrypt; every evaluation is refused, never faked', async () => {
    const be = await createTfheBackend()
    assert.equal(be.canEvaluate, false)
    const keys = be.keygen()
    const v = Int32Array.of(-123456, 0, 77)
    const ct = be.encrypt(keys, v)
    assert.deepEqual(be.decrypt(keys, ct, 3), v)
    for (const f of [() => be.add(ct, ct), () => be.multiplyPlain(ct, v), () => be.multiply(ct, ct, keys.evaluationKeys)]) {
      const e = tagOf(f)
      assert.equal(e._tag, 'BackendUnsupported')
    }
    assert.equal(tagOf(() => be.planLinear({ dIn: 4, dOut: 4, tokens: 1 }))._tag, 'BackendUnsupported')
  })
})
