/**
 * Blocks, followers, LMDB persistence and cross-shard atomicity. Crash safety: crash-fault, crash-kill (every write
 * point of a commit, deterministic) and crash-sigkill (SIGKILL at measured times) tests.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  Ledger, LmdbStore, MemoryStore, StateKeys, auditSupply, equalPerformance, verifyStateProof, bytesEqual, computeStateRoot, decodeBlock, shardOf, toHex, tokens,
  type Block,
} from 'basedai/ledger'
import { PROPOSER, genesis, nextTxs } from './workload.ts'
import { fixture } from './helpers.ts'

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-test-'))
}

test('follower: tampered root, tampered tx list, wrong parent/height/time → InvalidBlock and no state change', () => {
  const f = fixture()
  const follower = Ledger.open({ store: new MemoryStore(), genesis: f.genesis, epochHook: equalPerformance })
  const r = f.block([f.tx('alice', { kind: 'transfer', to: f.keys.bob!.publicKey, amount: tokens(1) })])
  const good = r.block
  const head0 = follower.head()
  const root0 = toHex(follower.stateRoot())
  const bad: Array<[string, Block]> = [
    ['state root', { ...good, header: { ...good.header, stateRoot: new Uint8Array(32).fill(1) } }],
    ['tx root', { ...good, txs: [] }],
    ['parent', { ...good, header: { ...good.header, parentHash: new Uint8Array(32).fill(2) } }],
    ['height', { ...good, header: { ...good.header, height: 5 } }],
    ['time', { ...good, header: { ...good.header, time: good.header.time - 1 } }],
  ]
  for (const [what, b] of bad) {
    assert.throws(() => follower.applyBlock(b), (e: { _tag: string }) => e._tag === 'InvalidBlock', what)
    assert.deepEqual(follower.head(), head0, what)
    assert.equal(toHex(follower.stateRoot()), root0, what)
  }
  // A block carrying a tx the state machine rejects (a replay of the same tx twice) is invalid as a whole.
  const replayed: Block = { header: good.header, txs: [good.txs[0]!, good.txs[0]!] }
  assert.throws(() => follower.applyBlock(replayed), (e: { _tag: string }) => e._tag === 'InvalidBlock')
  assert.deepEqual(follower.head(), head0)
  follower.applyBlock(good)
  assert.equal(toHex(follower.head().hash), toHex(f.ledger.head().hash))
})

test('LMDB: state spread over K shard sub-databases; reopen recomputes the same root; K is fixed', async () => {
  const dir = tmpdir()
  const store = LmdbStore.open({ path: dir, shards: 4 })
  const ledger = Ledger.open({ store, genesis: genesis() })
  for (let i = 0; i < 15; i++) ledger.produceBlock(nextTxs(ledger), { time: ledger.nextBlockTime(), proposer: PROPOSER })
  const head = ledger.head()
  const counts = store.shards.map((db) => [...db.getKeys({})].length)
  assert.ok(counts.every((c) => c > 0), `every shard holds keys: ${counts}`)
  for (const [i, db] of store.shards.entries()) for (const k of db.getKeys({})) assert.equal(shardOf(k as string, 4), i)
  assert.ok(auditSupply(store).ok)
  await store.close()
  const reopened = LmdbStore.open({ path: dir })
  const again = Ledger.open({ store: reopened })
  assert.equal(again.head().height, 15)
  assert.ok(bytesEqual(again.head().stateRoot, head.stateRoot))
  assert.ok(bytesEqual(computeStateRoot(reopened.scan('')), head.stateRoot))
  await reopened.close()
  assert.throws(() => LmdbStore.open({ path: dir, shards: 8 }), (e: { _tag: string }) => e._tag === 'CorruptState')
  // Same genesis: accepted; a different genesis for an existing store: refused.
  const s2 = LmdbStore.open({ path: dir })
  assert.equal(Ledger.open({ store: s2, genesis: genesis() }).head().height, 15)
  assert.throws(() => Ledger.open({ store: s2, genesis: { ...genesis(), time: 1 } }), (e: { _tag: string }) => e._tag === 'CorruptState')
  await s2.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('cross-shard atomicity: a commit that fails after writing to two shards leaves both (and the head) untouched', async () => {
  const dir = tmpdir()
  const store = LmdbStore.open({ path: dir, shards: 4 })
  const ledger = Ledger.open({ store, genesis: genesis() })
  ledger.produceBlock(nextTxs(ledger, 4), { time: ledger.nextBlockTime(), proposer: PROPOSER })
  const head = ledger.head()
  // An account key and a Brain key in different shards, then a key LMDB refuses (too long) as the last write.
  const acct = store.scan('a:').find(([k]) => shardOf(k, 4) === 1)!
  const brainKey = 'b:7'
  assert.notEqual(shardOf(acct[0], 4), shardOf(brainKey, 4))
  const changes = new Map<string, Uint8Array | null>([
    [acct[0], new Uint8Array([1, 2, 3])],
    [brainKey, new Uint8Array([4, 5, 6])],
    [`a:${'f'.repeat(4000)}`, new Uint8Array([7])],
  ])
  assert.throws(() => store.commit(changes, { height: head.height + 1, bytes: new Uint8Array([0]) }, { ...head, height: head.height + 1 }))
  assert.deepEqual(store.get(acct[0]), acct[1])
  assert.equal(store.get(brainKey), undefined)
  assert.equal(store.block(head.height + 1), undefined)
  await store.close()
  const reopened = LmdbStore.open({ path: dir })
  assert.equal(reopened.head()!.height, head.height)
  assert.deepEqual(reopened.get(acct[0]), acct[1])
  assert.ok(bytesEqual(computeStateRoot(reopened.scan('')), head.stateRoot))
  await reopened.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('state proofs: a key\'s value verifies against the header\'s state root; a wrong value or root does not', () => {
  const f = fixture()
  f.block([f.tx('alice', { kind: 'transfer', to: f.keys.bob!.publicKey, amount: tokens(3) })])
  const key = StateKeys.account(toHex(f.keys.bob!.publicKey))
  const p = f.ledger.prove(key)!
  const root = decodeBlock(f.store.block(f.ledger.head().height)!).header.stateRoot
  assert.ok(verifyStateProof(root, key, p.value, p.proof))
  assert.ok(!verifyStateProof(root, key, new Uint8Array([...p.value, 0]), p.proof))
  assert.ok(!verifyStateProof(new Uint8Array(32), key, p.value, p.proof))
  assert.ok(!verifyStateProof(root, StateKeys.account(toHex(f.keys.carol!.publicKey)), p.value, p.proof))
  assert.equal(f.ledger.prove('a:missing'), undefined)
})

test('LMDB: a commit that deletes keys removes them from their shards, also after reopening', async () => {
  const dir = tmpdir()
  const store = LmdbStore.open({ path: dir, shards: 4 })
  const ledger = Ledger.open({ store, genesis: genesis() })
  ledger.produceBlock(nextTxs(ledger, 4), { time: ledger.nextBlockTime(), proposer: PROPOSER })
  const head = ledger.head()
  // Two keys in different shards (an account and a Brain record), deleted by the next commit; a third is kept.
  const gone = [store.scan('a:').find(([k]) => shardOf(k, 4) === 1)![0], 'b:7']
  const changes = new Map<string, Uint8Array | null>([[gone[1]!, new Uint8Array([9])]])
  store.commit(changes, { height: head.height + 1, bytes: new Uint8Array([0]) }, { ...head, height: head.height + 1 })
  assert.equal(toHex(store.get('b:7')!), '09')
  const before = store.scan('')
  const deletion = new Map<string, Uint8Array | null>(gone.map((k) => [k, null]))
  store.commit(deletion, { height: head.height + 2, bytes: new Uint8Array([1]) }, { ...head, height: head.height + 2 })
  const check = (s: LmdbStore): void => {
    for (const k of gone) {
      assert.equal(s.get(k), undefined, k)
      assert.equal(s.shards[shardOf(k, 4)]!.get(k), undefined, k)
    }
    assert.deepEqual(s.scan(''), before.filter(([k]) => !gone.includes(k)))
  }
  check(store)
  await store.close()
  const reopened = LmdbStore.open({ path: dir })
  assert.equal(reopened.head()!.height, head.height + 2)
  check(reopened)
  await reopened.close()
  fs.rmSync(dir, { recursive: true, force: true })
})
