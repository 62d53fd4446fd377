import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PeerBindings, InvalidPeerBinding, decodeBinding, encodeBinding, signBinding, verifyBinding, type SignedPeerBinding } from '../../bft/binding.ts'
import { MalformedBftMessage, decodeWire, encodeWire, signVote } from '../../bft/wire.ts'
import { testKeyPair, toHex } from 'basedai/ledger'

const A = testKeyPair('binding-a')
const B = testKeyPair('binding-b')
const PEER_A = '12D3KooWGBfKqTqgRe7ydAn6yT4T7qHvY1P8nB4Zt3o5pGdQ1abc'
const PEER_B = '12D3KooWLrZ6nXjW3fVb1vR2kE8sQpT9uYh4cM7aD5gH2jK9xyz'
const T = 1_700_000_000_000
const reason = (e: unknown): string => (e instanceof InvalidPeerBinding ? e.reason : `not InvalidPeerBinding: ${String(e)}`)
const rejects = (f: () => unknown, r: string): void => {
  let got = 'accepted'
  try {
    f()
  } catch (e) {
    got = reason(e)
  }
  assert.equal(got, r)
}

describe('peer binding record', () => {
  test('signs, encodes, decodes and verifies', () => {
    const s = signBinding('chain-x', PEER_A, A, T)
    assert.equal(s.binding.validator, toHex(A.publicKey))
    assert.ok(verifyBinding(s))
    const back = decodeBinding(encodeBinding(s))
    assert.deepEqual(back.binding, s.binding)
    assert.ok(verifyBinding(back))
    const w = decodeWire(encodeWire({ type: 'binding', signed: s }))
    assert.equal(w.type, 'binding')
    if (w.type === 'binding') assert.ok(verifyBinding(w.signed))
  })

  test('any tampered field or signature byte fails verification', () => {
    const s = signBinding('chain-x', PEER_A, A, T)
    const variants: SignedPeerBinding[] = [
      { ...s, binding: { ...s.binding, peerId: PEER_B } },
      { ...s, binding: { ...s.binding, chainId: 'chain-y' } },
      { ...s, binding: { ...s.binding, issuedAt: T + 1 } },
      { ...s, binding: { ...s.binding, validator: toHex(B.publicKey) } },
      { ...s, signature: s.signature.map((x, i) => (i === 10 ? x ^ 0x40 : x)) },
    ]
    for (const v of variants) assert.equal(verifyBinding(v), false)
    // a byte flipped in the encoded record: either undecodable or not verifying
    const bytes = encodeBinding(s)
    for (let i = 0; i < bytes.length; i++) {
      const t = bytes.slice()
      t[i] = (t[i] as number) ^ 1
      try {
        assert.equal(verifyBinding(decodeBinding(t)), false, `byte ${i}`)
      } catch (e) {
        assert.ok(e instanceof MalformedBftMessage, `byte ${i}: ${String(e)}`)
      }
    }
  })

  test('malformed records are typed errors', () => {
    assert.throws(() => decodeBinding(new Uint8Array([1, 2, 3])), MalformedBftMessage)
    assert.throws(() => signBinding('c', 'not a peer id!', A, T), MalformedBftMessage)
    assert.throws(() => signBinding('c', PEER_A, A, -1), MalformedBftMessage)
    const extra = new Uint8Array([...encodeBinding(signBinding('c', PEER_A, A, T)), 0])
    assert.throws(() => decodeBinding(extra), MalformedBftMessage)
  })

  test('a relay carries only a proposal or a vote', () => {
    const v = signVote('chain-x', { type: 'prevote', height: 3, round: 0, value: null, from: toHex(A.publicKey) }, A.secretKey)
    const back = decodeWire(encodeWire({ type: 'relay', message: { type: 'vote', signed: v } }))
    assert.equal(back.type, 'relay')
    const bad = encodeWire({ type: 'relay', message: { type: 'vote', signed: v } })
    // rewrite the inner kind byte (vote = 2) to evidence (4): a relay of evidence is refused
    const inner = bad.indexOf(2, 1)
    const t = bad.slice()
    t[inner] = 4
    assert.throws(() => decodeWire(t), MalformedBftMessage)
  })
})

describe('PeerBindings', () => {
  const make = (eligible?: (v: string) => boolean): PeerBindings => new PeerBindings({ chainId: 'chain-x', now: () => T, ...(eligible ? { eligible } : {}) })

  test('binds a peer that published its own record; check says ok / impersonation / unbound', () => {
    const b = make()
    assert.equal(b.accept(signBinding('chain-x', PEER_A, A, T), PEER_A), true)
    assert.equal(b.accept(signBinding('chain-x', PEER_A, A, T), PEER_A), false, 'the same record again changes nothing')
    assert.equal(b.validatorOf(PEER_A), toHex(A.publicKey))
    assert.equal(b.peerOf(toHex(A.publicKey)), PEER_A)
    assert.equal(b.check(PEER_A, toHex(A.publicKey)), 'ok')
    assert.equal(b.check(PEER_A, toHex(B.publicKey)), 'impersonation')
    assert.equal(b.check(PEER_B, toHex(A.publicKey)), 'unbound')
  })

  test('refuses a record of another chain, carried by another peer, forged, from the future, stale, or of a non-validator', () => {
    const b = make((v) => v !== toHex(B.publicKey))
    rejects(() => b.accept(signBinding('chain-y', PEER_A, A, T), PEER_A), 'wrong_chain')
    rejects(() => b.accept(signBinding('chain-x', PEER_A, A, T), PEER_B), 'wrong_peer')
    const s = signBinding('chain-x', PEER_A, A, T)
    rejects(() => b.accept({ ...s, signature: s.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) }, PEER_A), 'bad_signature')
    // signed by B's key but claiming A's key
    const forged = signBinding('chain-x', PEER_A, B, T)
    rejects(() => b.accept({ ...forged, binding: { ...forged.binding, validator: toHex(A.publicKey) } }, PEER_A), 'bad_signature')
    rejects(() => b.accept(signBinding('chain-x', PEER_A, A, T + 61_000), PEER_A), 'from_future')
    rejects(() => b.accept(signBinding('chain-x', PEER_B, B, T), PEER_B), 'not_validator')
    assert.equal(b.size, 0, 'nothing bound by refused records')
    b.accept(signBinding('chain-x', PEER_A, A, T), PEER_A)
    rejects(() => b.accept(signBinding('chain-x', PEER_B, A, T - 1), PEER_B), 'stale')
    rejects(() => b.accept(signBinding('chain-x', PEER_B, A, T), PEER_B), 'stale')
    assert.equal(b.validatorOf(PEER_B), undefined)
  })

  test('a later record moves the validator to its new peer and unbinds the old one', () => {
    const b = make()
    b.accept(signBinding('chain-x', PEER_A, A, T), PEER_A)
    b.accept(signBinding('chain-x', PEER_B, A, T + 5), PEER_B)
    assert.equal(b.check(PEER_A, toHex(A.publicKey)), 'unbound')
    assert.equal(b.check(PEER_B, toHex(A.publicKey)), 'ok')
    // the peer now binds another key it holds: the earlier validator loses it
    b.accept(signBinding('chain-x', PEER_B, B, T + 6), PEER_B)
    assert.equal(b.check(PEER_B, toHex(B.publicKey)), 'ok')
    assert.equal(b.peerOf(toHex(A.publicKey)), undefined)
    assert.equal(b.size, 1)
  })
})
