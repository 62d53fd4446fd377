/**
 * Each signature verified once per node, no check weakened: the mempool's cache of verified signatures (keyed by
 * transaction hash and signature bytes), what a consensus node's proposal, validation and commit ask of it, the
 * mempool kept incremental after a block from another proposer, and the transaction gossip batches.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Ledger, MemoryStore, decodeTx, defaultParams, signTx, testKeyPair, tokens, toHex, withMinFee, type GenesisConfig, type PreparedTx } from 'basedai/ledger'
import { Mempool, VerifiedSignatures } from '../../ledger/mempool.ts'
import { MAX_TX_BATCH, TxBatcher, decodeTxGossip, encodeTxBatch } from '../../bft/tx-gossip.ts'
import { MalformedBftMessage } from '../../bft/wire.ts'

const CHAIN = 'verified-once'
const users = [0, 1, 2, 3].map((i) => testKeyPair(`vo-user-${i}`))
const sink = testKeyPair('vo-sink')
const proposer = testKeyPair('vo-proposer')
const genesis: GenesisConfig = {
  params: defaultParams({ chainId: CHAIN, blockTimeMs: 100 }),
  time: 1_700_000_000_000,
  accounts: users.map((u) => ({ publicKey: u.publicKey, based: tokens(1000) })),
}
const p = genesis.params

function transfer(from: number, nonce: bigint, amount = tokens(1), to = sink.publicKey): PreparedTx {
  const k = users[from]!
  return signTx(withMinFee({ chainId: CHAIN, from: k.publicKey, nonce, body: { kind: 'transfer', to, amount } }, p.baseFee, p.byteFee), k.secretKey)
}

/** The same transaction (same payload, same hash) with one signature byte flipped. */
function badlySigned(t: PreparedTx): PreparedTx {
  const bytes = t.bytes.slice()
  bytes[bytes.length - 1]! ^= 1
  const d = decodeTx(bytes)
  assert.deepEqual(d.hash, t.hash, 'the hash covers the payload, not the signature')
  return d
}

const node = (): { ledger: Ledger; pool: Mempool } => {
  const ledger = Ledger.open({ store: new MemoryStore(), genesis })
  return { ledger, pool: new Mempool(ledger, proposer.publicKey) }
}
const tagOf = (e: unknown): string => (e as { _tag?: string })._tag ?? ''

test('a block with a badly signed transaction is rejected, even when the same payload was verified with its real signature', () => {
  const a = node()
  const b = node()
  const good = [transfer(0, 0n), transfer(1, 0n)]
  for (const t of good) {
    a.pool.admit(t.bytes)
    b.pool.admit(t.bytes)
  }
  assert.equal(b.pool.verified.size, 2, 'admission verified and remembered both signatures')
  const forged = badlySigned(transfer(2, 0n))
  // a Byzantine proposer claims its transactions verified: it can build such a block
  const byz = a.ledger.proposeBlock([...good, forged], { time: a.ledger.nextBlockTime(), proposer: proposer.publicKey, verified: [true, true, true] })
  assert.equal(byz.included, 3)
  assert.throws(() => b.ledger.validateBlock(byz.block, { verified: (t) => b.pool.verified.has(t) }),
    (e: unknown) => tagOf(e) === 'InvalidBlock' && /tx 2 rejected: BadSignature/.test((e as { reason: string }).reason))

  // the payload of an admitted transaction carried with another signature: the cache does not vouch for it
  const copy = badlySigned(good[0]!)
  assert.equal(b.pool.verified.has(copy), false)
  const byz2 = a.ledger.proposeBlock([copy, good[1]!], { time: a.ledger.nextBlockTime(), proposer: proposer.publicKey, verified: [true, true] })
  assert.throws(() => b.ledger.validateBlock(byz2.block, { verified: (t) => b.pool.verified.has(t) }),
    (e: unknown) => tagOf(e) === 'InvalidBlock' && /tx 0 rejected: BadSignature/.test((e as { reason: string }).reason))
  // and admission refuses it too (verified, not trusted)
  const c = node()
  assert.throws(() => c.pool.admit(copy.bytes), (e: unknown) => tagOf(e) === 'BadSignature')
  assert.equal(c.pool.verified.size, 0)

  // the honest block validates with no signature checked again: every transaction answered by the cache
  const honest = a.ledger.proposeBlock(a.pool.peek(), { time: a.ledger.nextBlockTime(), proposer: proposer.publicKey, verified: a.pool.peek().map((t) => a.pool.verified.has(t)) })
  const hits = b.pool.verified.hits
  const v = b.ledger.validateBlock(honest.block, { verified: (t) => b.pool.verified.has(t) })
  assert.equal(b.pool.verified.hits - hits, 2)
  assert.deepEqual(v.block.header.stateRoot, honest.block.header.stateRoot)
})

test('after a block from another proposer: its transactions leave the queue, touched lanes are re-checked, untouched ones kept', () => {
  const a = node()
  const b = node()
  // user 0: five queued at b; user 1: two queued at b; user 3 only at b
  for (let n = 0n; n < 5n; n++) b.pool.admit(transfer(0, n).bytes)
  b.pool.admit(transfer(1, 0n).bytes)
  b.pool.admit(transfer(1, 1n).bytes)
  b.pool.admit(transfer(3, 0n).bytes)
  assert.equal(b.pool.size, 8)
  // a's block: user 0's first two (the same transactions), and a different transaction of user 1 with nonce 0
  // (a double spend of b's queued one, which must leave; b's user-1 nonce 1 still follows and stays)
  const inBlock = [transfer(0, 0n), transfer(0, 1n), transfer(1, 0n, tokens(2))]
  const prop = a.ledger.proposeBlock(inBlock, { time: a.ledger.nextBlockTime(), proposer: proposer.publicKey })
  assert.equal(prop.included, 3)
  const v = b.ledger.validateBlock(prop.block, { verified: (t) => b.pool.verified.has(t) })
  const paramsBefore = b.ledger.params()
  b.ledger.commitBlock(v)
  const included = new Set(v.receipts.map((r) => toHex(r.hash)))
  const hitsBefore = b.pool.verified.hits
  const dropped = b.pool.afterCommit(included, v.writes, b.ledger.params() !== paramsBefore)
  assert.deepEqual(dropped.map((d) => `${tagOf(d.error)}:${d.tx.tx.nonce}`), ['BadNonce:0'], "user 1's queued nonce 0 was spent by another transaction")
  assert.equal(b.pool.size, 5, "user 0's last three, user 1's nonce 1 and user 3's stay")
  const short = (u: number, n: bigint): string => `${toHex(users[u]!.publicKey).slice(0, 6)}:${n}`
  assert.deepEqual(b.pool.peek().map((t) => `${toHex(t.tx.from).slice(0, 6)}:${t.tx.nonce}`), [short(0, 2n), short(0, 3n), short(0, 4n), short(1, 1n), short(3, 0n)])
  assert.equal(b.pool.verified.hits, hitsBefore, 're-checking the lanes verified no signature (nor asked the cache)')
  assert.equal(b.pool.nextNonce(users[0]!.publicKey), 5n)
  assert.equal(b.pool.nextNonce(users[1]!.publicKey), 2n, "user 1's lane rebuilt over the new state")
  assert.equal(b.pool.nextNonce(users[3]!.publicKey), 1n, "user 3's untouched lane kept")
  // the queue still makes a valid block, and a later transaction of each sender is admitted in sequence
  b.pool.admit(transfer(1, 2n).bytes)
  b.pool.admit(transfer(3, 1n).bytes)
  const next = b.ledger.proposeBlock(b.pool.peek(), { time: b.ledger.nextBlockTime(), proposer: proposer.publicKey, verified: b.pool.peek().map((t) => b.pool.verified.has(t)) })
  assert.equal(next.included, 7)
  assert.equal(next.rejected.length, 0)
  a.ledger.commitBlock(prop)
  const w = a.ledger.validateBlock(next.block)
  a.ledger.commitBlock(w)
  b.ledger.commitBlock(next)
  assert.deepEqual(a.ledger.head(), b.ledger.head(), 'both nodes agree on the state')
})

test('a lane whose first transactions the block applied, and nothing else of its account, is kept without re-execution', () => {
  const a = node()
  const b = node()
  for (let n = 0n; n < 6n; n++) b.pool.admit(transfer(0, n).bytes)
  for (let n = 0n; n < 3n; n++) b.pool.admit(transfer(1, n).bytes)
  // another proposer's block: user 0's first four (the same transactions) and user 1's first one
  const prop = a.ledger.proposeBlock([0n, 1n, 2n, 3n].map((n) => transfer(0, n)).concat([transfer(1, 0n)]), { time: a.ledger.nextBlockTime(), proposer: proposer.publicKey })
  const v = b.ledger.validateBlock(prop.block)
  b.ledger.commitBlock(v)
  const dropped = b.pool.afterCommit(new Set(v.receipts.map((r) => toHex(r.hash))), v.writes, false)
  assert.deepEqual(dropped, [])
  assert.equal(b.pool.lastRechecked, 0, 'both lanes kept: the block left each account as the lane had it after its prefix')
  assert.equal(b.pool.size, 4)
  assert.equal(b.pool.nextNonce(users[0]!.publicKey), 6n)
  b.pool.admit(transfer(0, 6n).bytes)
  b.pool.admit(transfer(1, 3n).bytes)
  // the kept lanes are right: the queue makes a block another node accepts
  a.ledger.commitBlock(prop)
  const next = b.ledger.proposeBlock(b.pool.peek(), { time: b.ledger.nextBlockTime(), proposer: proposer.publicKey, verified: b.pool.peek().map((t) => b.pool.verified.has(t)) })
  assert.equal(next.included, 6)
  a.ledger.commitBlock(a.ledger.validateBlock(next.block))
  // a block whose transfer to user 1 comes from elsewhere (its account is not what its lane expects): re-executed
  const c = node()
  for (let n = 0n; n < 3n; n++) c.pool.admit(transfer(1, n).bytes)
  const gift = c.ledger.proposeBlock([transfer(1, 0n), transfer(2, 0n, tokens(3), users[1]!.publicKey)], { time: c.ledger.nextBlockTime(), proposer: proposer.publicKey })
  c.ledger.commitBlock(gift)
  c.pool.afterCommit(new Set(gift.receipts.map((r) => toHex(r.hash))), gift.writes, false)
  assert.equal(c.pool.lastRechecked, 2, "user 1's last two re-checked over its new balance")
  assert.equal(c.pool.size, 2)
})

test('a lane whose sender received a transfer in the block is re-checked (its balance grew)', () => {
  const b = node()
  // user 2 spends nearly everything it has; a transfer to it in the block lets a further one pass after the block
  const fee = withMinFee({ chainId: CHAIN, from: users[2]!.publicKey, nonce: 0n, body: { kind: 'transfer', to: sink.publicKey, amount: tokens(1) } }, p.baseFee, p.byteFee).fee
  b.pool.admit(transfer(2, 0n, tokens(1000) - 2n * fee - 10n).bytes)
  assert.throws(() => b.pool.admit(transfer(2, 1n, tokens(5)).bytes), (e: unknown) => tagOf(e) === 'InsufficientFunds')
  const gift = transfer(0, 0n, tokens(100), users[2]!.publicKey)
  const prop = b.ledger.proposeBlock([gift], { time: b.ledger.nextBlockTime(), proposer: proposer.publicKey })
  const paramsBefore = b.ledger.params()
  b.ledger.commitBlock(prop)
  b.pool.afterCommit(new Set([toHex(gift.hash)]), prop.writes, b.ledger.params() !== paramsBefore)
  assert.equal(b.pool.size, 1)
  b.pool.admit(transfer(2, 1n, tokens(5)).bytes)
  assert.equal(b.pool.size, 2)
})

test('the cache of verified signatures is bounded and forgets the oldest first', () => {
  const c = new VerifiedSignatures(3)
  const txs = [0n, 1n, 2n, 3n].map((n) => transfer(0, n))
  for (const t of txs) c.add(t)
  assert.equal(c.size, 3)
  assert.equal(c.has(txs[0]!), false)
  assert.equal(c.has(txs[3]!), true)
  c.forget(toHex(txs[3]!.hash))
  assert.equal(c.has(txs[3]!), false)
})

test('transaction gossip: batches round-trip, a single transaction is still understood, bad batches are MalformedBftMessage', async () => {
  const txs = [0n, 1n, 2n].map((n) => transfer(1, n).bytes)
  assert.deepEqual(decodeTxGossip(encodeTxBatch(txs)), txs)
  assert.deepEqual(decodeTxGossip(txs[0]!), [txs[0]!])
  assert.deepEqual(decodeTxGossip(encodeTxBatch([])), [])
  const bad = (b: Uint8Array): boolean => {
    try {
      decodeTxGossip(b)
      return false
    } catch (e) {
      return e instanceof MalformedBftMessage
    }
  }
  const batch = encodeTxBatch(txs)
  assert.ok(bad(batch.subarray(0, batch.length - 1)), 'truncated')
  assert.ok(bad(new Uint8Array([...batch, 0])), 'trailing byte')
  assert.ok(bad(new Uint8Array([9, 9, 9])), 'unknown kind')
  assert.ok(bad(new Uint8Array([0x7b, 0xff, 0xff, 0x03])), 'count above the limit')
  assert.throws(() => encodeTxBatch(Array.from({ length: MAX_TX_BATCH + 1 }, () => txs[0]!)), RangeError)
  // the batcher: a full batch at once, the rest after its delay
  const sent: Uint8Array[][] = []
  const b = new TxBatcher((m) => sent.push(decodeTxGossip(m)), { delayMs: 5, maxCount: 2 })
  for (const t of txs) b.add(t)
  assert.equal(sent.length, 1)
  await new Promise((r) => setTimeout(r, 30))
  assert.deepEqual(sent, [[txs[0], txs[1]], [txs[2]]])
})
