/**
 * The bytes of a compute receipt: the request digest changes with every field of the request, a receipt signed by a
 * miner verifies only unchanged, and the reply schema refuses a reply without a well-formed receipt.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Either } from 'effect'
import { sign, testKeyPair, toHex, verify } from '../../ledger/index.ts'
import { decodeFrame, encodeFrame, encryptedLinearDigest, PROTOCOL_VERSION, receiptSigningBytes, type EncryptedLinear } from '../../protocol/index.ts'

const req: typeof EncryptedLinear.Type = {
  _tag: 'EncryptedLinear',
  session: '00112233445566778899aabbccddeeff',
  model: 'factbook-gpt',
  layer: 1,
  site: 'fc',
  preset: 'bfv4096Linear',
  plan: { dIn: 64, dOut: 256, tokens: 2, ni: 16, mt: 2, no: 128 },
  inputs: [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5)],
}

test('the request digest depends on every field, the inputs\' bytes, order and boundaries', () => {
  const d = toHex(encryptedLinearDigest(req))
  assert.equal(d, toHex(encryptedLinearDigest({ ...req, inputs: req.inputs.map((u) => u.slice()) })), 'a function of the content')
  const variants: Array<typeof EncryptedLinear.Type> = [
    { ...req, session: undefined },
    { ...req, session: '00112233445566778899aabbccddeefe' },
    { ...req, model: 'factbook-gpt2' },
    { ...req, layer: 0 },
    { ...req, site: 'fcProj' },
    { ...req, preset: 'bfv8192Linear' },
    ...(['dIn', 'dOut', 'tokens', 'ni', 'mt', 'no'] as const).map((k) => ({ ...req, plan: { ...req.plan, [k]: req.plan[k] + 1 } })),
    { ...req, inputs: [req.inputs[1]!, req.inputs[0]!] },
    { ...req, inputs: [Uint8Array.of(1, 2), Uint8Array.of(3, 4, 5)] },
    { ...req, inputs: [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 6)] },
    { ...req, inputs: [req.inputs[0]!] },
  ]
  const seen = new Set([d])
  for (const v of variants) seen.add(toHex(encryptedLinearDigest(v)))
  assert.equal(seen.size, variants.length + 1)
})

test('a signed receipt verifies only as signed, and a reply frame needs a well-formed receipt', () => {
  const key = testKeyPair('receipt-miner')
  const unsigned = { session: req.session!, units: 12, request: toHex(encryptedLinearDigest(req)), computeKey: toHex(key.publicKey) }
  const signature = sign(key.secretKey, receiptSigningBytes(unsigned))
  assert.ok(verify(key.publicKey, receiptSigningBytes(unsigned), signature))
  for (const changed of [{ ...unsigned, units: 13 }, { ...unsigned, session: '' }, { ...unsigned, request: '0'.repeat(64) }, { ...unsigned, computeKey: toHex(testKeyPair('other').publicKey) }]) {
    assert.equal(verify(key.publicKey, receiptSigningBytes(changed), signature), false)
  }
  const receipt = { ...unsigned, signature: toHex(signature) }
  const frame = (body: unknown): Uint8Array => encodeFrame({ _tag: 'Reply', v: PROTOCOL_VERSION, id: 1, body } as Parameters<typeof encodeFrame>[0])
  const reply = { _tag: 'EncryptedLinearReply', outputs: [Uint8Array.of(9)], minerMs: 1.5 }
  assert.ok(Either.isRight(decodeFrame(frame({ ...reply, receipt }))))
  assert.ok(Either.isLeft(decodeFrame(frame(reply))), 'no receipt')
  assert.ok(Either.isLeft(decodeFrame(frame({ ...reply, receipt: { ...receipt, signature: receipt.signature.slice(2) } }))), 'short signature')
  assert.ok(Either.isLeft(decodeFrame(frame({ ...reply, receipt: { ...receipt, units: -1 } }))), 'negative units')
  assert.ok(Either.isLeft(decodeFrame(frame({ ...reply, receipt: { ...receipt, request: receipt.request.toUpperCase() } }))), 'not lower-case hex')
})
