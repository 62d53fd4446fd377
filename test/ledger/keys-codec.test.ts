import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  decodeTx, fromAddress, signTx, testKeyPair, toAddress, verify, generateKeyPair, parseAmount, formatAmount, UNIT,
  TX_KINDS, GOVERNABLE, BRAIN_SETTINGS, type TxBody, type UnsignedTx,
} from 'basedai/ledger'
import { Reader, Writer } from '../../ledger/codec.ts'

/** Each suite takes under 2 s on this loaded 2-core machine; the limit is far below the runner's 300 s. */
const T = { timeout: 30_000 }

describe('keys and addresses', T, () => {
  test('SS58 round trip, checksum and prefix are checked', () => {
    const k = testKeyPair('a')
    const addr = toAddress(k.publicKey)
    assert.deepEqual(fromAddress(addr), k.publicKey)
    const bad = addr.slice(0, -1) + (addr.endsWith('1') ? '2' : '1')
    assert.throws(() => fromAddress(bad), (e: { _tag: string }) => e._tag === 'InvalidAddress')
    assert.throws(() => fromAddress(toAddress(k.publicKey, 42)), (e: { _tag: string }) => e._tag === 'InvalidAddress')
    assert.throws(() => fromAddress('0OIl'), (e: { _tag: string }) => e._tag === 'InvalidAddress')
  })
  test('ed25519 sign/verify; tampering fails', () => {
    const k = generateKeyPair()
    const msg = new TextEncoder().encode('hello')
    const t = signTx({ chainId: 'c', from: k.publicKey, nonce: 0n, fee: 1n, body: { kind: 'acquireBrainStake' } }, k.secretKey)
    assert.ok(verify(k.publicKey, t.payload, t.tx.sig))
    assert.ok(!verify(k.publicKey, msg, t.tx.sig))
    assert.ok(!verify(new Uint8Array(31), msg, t.tx.sig))
  })
  test('amounts parse and format exactly', () => {
    assert.equal(parseAmount('1.5'), 1_500_000_000n)
    assert.equal(parseAmount('100'), 100n * UNIT)
    assert.equal(formatAmount(1_000_000_001n), '1.000000001')
    assert.throws(() => parseAmount('1.0000000001'))
    assert.throws(() => parseAmount('-1'))
  })
})

describe('canonical codec', T, () => {
  test('varints: round trip, non-minimal rejected', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
      const b = new Writer().big(v).finish()
      const r = new Reader(b)
      assert.equal(r.big('x'), v)
      r.end()
    }), { seed: 1, numRuns: 300 })
    assert.throws(() => new Reader(new Uint8Array([0x80, 0x00])).big('x'), /non-canonical/)
    assert.throws(() => new Reader(new Uint8Array([0x81, 0x00])).uint('x'), /non-canonical/)
    assert.throws(() => new Reader(new Uint8Array([0x02])).bool('x'), /bool/)
  })

  const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 })
  const amount = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
  const id = fc.nat({ max: 5000 })
  const body: fc.Arbitrary<TxBody> = fc.oneof(
    fc.record({ kind: fc.constant('transfer' as const), to: key32, amount }),
    fc.record({ kind: fc.constant('transferPepe' as const), to: key32, amount }),
    fc.record({ kind: fc.constant('bridgeMint' as const), to: key32, amount, ref: key32 }),
    fc.record({ kind: fc.constant('acquireBrainBurn' as const), maxCost: amount }),
    fc.constant({ kind: 'acquireBrainStake' as const }),
    fc.record({ kind: fc.constant('deactivateBrain' as const), brain: id }),
    fc.record({ kind: fc.constant('transferBrain' as const), brain: id, to: key32 }),
    fc.record({
      kind: fc.constant('setBrain' as const), brain: id, setting: fc.constantFrom(...BRAIN_SETTINGS),
      text: fc.string({ maxLength: 40 }), key: fc.oneof(fc.constant(new Uint8Array(0)), key32), value: amount,
    }),
    fc.record({ kind: fc.constant('register' as const), brain: id, computeKey: key32, role: fc.constantFrom('miner' as const, 'validator' as const), maxFee: amount }),
    fc.record({ kind: fc.constant('addStake' as const), brain: id, target: fc.oneof(fc.constant(new Uint8Array(0)), key32), amount }),
    fc.record({ kind: fc.constant('removeStake' as const), brain: id, target: fc.oneof(fc.constant(new Uint8Array(0)), key32), amount }),
    fc.record({ kind: fc.constant('propose' as const), param: fc.constantFrom(...GOVERNABLE), value: amount }),
    fc.record({ kind: fc.constant('vote' as const), proposal: id, brain: id, approve: fc.boolean() }),
    fc.uniqueArray(fc.nat({ max: 3000 }), { maxLength: 20 }).chain((us) => {
      const uids = [...us].sort((a, b) => a - b)
      return fc.record({
        kind: fc.constant('setWeights' as const), brain: id, computeKey: key32, uids: fc.constant(uids),
        weights: fc.array(fc.nat({ max: 65_535 }), { minLength: uids.length, maxLength: uids.length }),
      })
    }),
    fc.record({ kind: fc.constant('commitForecast' as const), brain: id, computeKey: key32, originHeight: fc.nat(), commitment: key32 }),
    fc.record({
      kind: fc.constant('revealForecast' as const), brain: id, computeKey: key32, originHeight: fc.nat(),
      values: fc.array(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), { minLength: 1, maxLength: 30 }),
      salt: fc.uint8Array({ minLength: 16, maxLength: 64 }),
    }),
    fc.record({ kind: fc.constant('escrowOpen' as const), brain: id, amount }),
    fc.record({ kind: fc.constant('escrowAuthorize' as const), brain: id, sessionHash: key32, maxUnits: amount, maxPrice: amount }),
    fc.record({ kind: fc.constant('escrowClose' as const), brain: id }),
    fc.record({ kind: fc.constant('escrowWithdraw' as const), brain: id }),
    fc.record({
      kind: fc.constant('escrowSettle' as const), brain: id,
      session: fc.stringMatching(/^[0-9a-f]{16,64}$/), computeKey: key32,
      receipts: fc.array(fc.record({ units: fc.nat({ max: 1_000_000 }), request: key32, signature: fc.uint8Array({ minLength: 64, maxLength: 64 }) }).map((r) => ({ ...r })), { minLength: 1, maxLength: 5 }),
    }),
    fc.record({
      kind: fc.constant('serveMiner' as const), brain: id, computeKey: key32, peerId: fc.string({ maxLength: 60 }),
      addrs: fc.array(fc.string({ maxLength: 80 }), { maxLength: 8 }), actor: fc.string({ maxLength: 40 }), issuedAt: fc.nat(),
      computeSig: fc.uint8Array({ minLength: 64, maxLength: 64 }), peerSig: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    }),
  )

  test('every tx kind: decode(encode(tx)) = tx and re-encodes to the same bytes', () => {
    const k = testKeyPair('codec')
    const seen = new Set<string>()
    fc.assert(fc.property(body, amount, amount, (b, nonce, fee) => {
      const u: UnsignedTx = { chainId: 'c', from: k.publicKey, nonce, fee, body: b }
      const t = signTx(u, k.secretKey)
      const d = decodeTx(t.bytes)
      assert.deepEqual({ ...d.tx, body: { ...d.tx.body } }, { ...t.tx, body: { ...b } })
      assert.deepEqual(d.bytes, t.bytes)
      assert.deepEqual(d.hash, t.hash)
      seen.add(b.kind)
    }), { seed: 2, numRuns: 400 })
    assert.equal(seen.size, TX_KINDS.length)
  })

  test('malformed bytes: truncation, trailing bytes, unknown kind → MalformedTx', () => {
    const k = testKeyPair('codec')
    const t = signTx({ chainId: 'c', from: k.publicKey, nonce: 0n, fee: 1n, body: { kind: 'transfer', to: k.publicKey, amount: 5n } }, k.secretKey)
    const isMalformed = (e: { _tag: string }) => e._tag === 'MalformedTx'
    assert.throws(() => decodeTx(t.bytes.subarray(0, t.bytes.length - 1)), isMalformed)
    assert.throws(() => decodeTx(new Uint8Array([...t.bytes, 0])), isMalformed)
    const badKind = new Uint8Array(t.bytes)
    badKind[1 + 1 + 1 + 32 + 1 + 1] = 200 // version, len, 'c', from, nonce(0), fee(1) → kind byte
    assert.throws(() => decodeTx(badKind), isMalformed)
    const badVersion = new Uint8Array(t.bytes)
    badVersion[0] = 9
    assert.throws(() => decodeTx(badVersion), isMalformed)
  })
})

describe('parallel signature verification', T, () => {
  test('worker pool and libuv threadpool agree with inline verify, bad signatures included', async (t) => {
    const { SignatureVerifier, verifyTxsAsync } = await import('basedai/ledger')
    const k = testKeyPair('pv')
    const txs = Array.from({ length: 9 }, (_, i) => signTx({ chainId: 'c', from: k.publicKey, nonce: BigInt(i), fee: 1n, body: { kind: 'acquireBrainStake' } }, k.secretKey))
    const bad = [2, 5]
    for (const i of bad) txs[i] = { ...txs[i]!, payload: new Uint8Array([...txs[i]!.payload, 1]) }
    const want = txs.map((t) => verify(t.tx.from, t.payload, t.tx.sig))
    assert.deepEqual(want.map((x, i) => x || bad.includes(i)), txs.map(() => true))
    assert.deepEqual(await verifyTxsAsync(txs), want)
    const pool = SignatureVerifier.create(2)
    // Closed after the test whatever happens, a timeout included (a finally would wait for a hung verify).
    t.after(() => pool.close())
    await pool.ready()
    assert.deepEqual(await pool.verify(txs), want)
    assert.deepEqual(await pool.verify([]), [])
  })
})
