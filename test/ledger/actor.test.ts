import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ActorSystem } from '../../supervisor/index.ts'
import { LedgerRejection } from '../../protocol/index.ts'
import { rejectedWith } from '../support/rejection.ts'
import { LmdbStore, auditSupply, createWallet, defaultParams, listWallets, signTx, testKeyPair, toHex, tokens, walletTransfer, withMinFee } from '../../ledger/index.ts'

const actor = new URL('../../actors/ledger-shard.ts', import.meta.url).href

// The test takes ~2.5 s on this loaded 2-core machine; its limit is far below the runner's 300 s. t.after shuts the
// system down (and removes the data dir) even when the test times out, which a finally alone would not.
test('ledger actor: dev genesis, SubmitTx checks, blocks on ProduceBlock, supply conserved, state survives a restart', { timeout: 30_000 }, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-ledger-actor-'))
  createWallet(dataDir, 'alice', 'password1')
  createWallet(dataDir, 'bob', 'password1')
  const [alice, bob] = ['alice', 'bob'].map((n) => listWallets(dataDir).find((w) => w.name === n)?.personal as string)
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    flags: { intensity: 5 },
    children: [{ kind: 'actor', id: 'ledger', behaviour: { module: actor }, args: { dataDir, shards: 3, autoBlocks: false }, faults: true }],
  })
  t.after(async () => {
    await sys.shutdown()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })
  try {
    const ledger = sys.ref('/root/ledger')
    const head = await ledger.ask({ _tag: 'GetHead' })
    assert.equal(head.chainId, 'basedai-dev')
    assert.equal((await ledger.ask({ _tag: 'GetAccount', address: alice })).based, String(tokens(1000)))
    const params = defaultParams({ chainId: head.chainId })
    const view = async (): Promise<{ nonce: () => bigint; params: () => typeof params }> => {
      const a = await ledger.ask({ _tag: 'GetAccount', address: alice })
      return { nonce: () => BigInt(a.nextNonce), params: () => params }
    }
    const t1 = walletTransfer(dataDir, 'alice', 'password1', await view(), bob, '12.5')
    assert.equal((await ledger.ask({ _tag: 'SubmitTx', tx: t1.bytes })).nonce, '0')
    const t2 = walletTransfer(dataDir, 'alice', 'password1', await view(), bob, '1')
    assert.equal((await ledger.ask({ _tag: 'SubmitTx', tx: t2.bytes })).mempool, 2)

    // Bad input: each a typed error, nothing queued.
    const replay = ledger.ask({ _tag: 'SubmitTx', tx: t1.bytes })
    await assert.rejects(replay, rejectedWith(LedgerRejection, 'BadNonce'))
    const forged = t2.bytes.slice()
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1
    await assert.rejects(ledger.ask({ _tag: 'SubmitTx', tx: forged }), rejectedWith(LedgerRejection, 'BadSignature'))
    await assert.rejects(ledger.ask({ _tag: 'SubmitTx', tx: new Uint8Array([1, 2, 3]) }), rejectedWith(LedgerRejection, 'MalformedTx'))
    const stranger = testKeyPair('stranger')
    const otherChain = signTx(withMinFee({ chainId: 'elsewhere', from: stranger.publicKey, nonce: 0n, body: { kind: 'transfer', to: stranger.publicKey, amount: 1n } }, params.baseFee, params.byteFee), stranger.secretKey)
    await assert.rejects(ledger.ask({ _tag: 'SubmitTx', tx: otherChain.bytes }), rejectedWith(LedgerRejection, 'WrongChain'))
    await assert.rejects(ledger.ask({ _tag: 'GetAccount', address: 'not-an-address' }), rejectedWith(LedgerRejection, 'InvalidAddress'))
    // Queries refuse with their typed reasons too (no string tags): unknown Brain, participant, block, session.
    await assert.rejects(ledger.ask({ _tag: 'GetMetagraph', brain: 999 }), rejectedWith(LedgerRejection, 'UnknownBrain'))
    await assert.rejects(ledger.ask({ _tag: 'GetParticipant', brain: 1, computeKey: '00'.repeat(32) }), rejectedWith(LedgerRejection, 'UnknownParticipant'))
    await assert.rejects(ledger.ask({ _tag: 'GetBlock', height: 99 }), rejectedWith(LedgerRejection, 'UnknownBlock'))
    await assert.rejects(ledger.ask({ _tag: 'GetSessionTab', sessionHash: 'ab'.repeat(32) }), rejectedWith(LedgerRejection, 'UnknownEscrow'))
    // Status comes from the runtime with the ledger's fields (height, mempool, chain id).
    const st = await ledger.ask({ _tag: 'GetStatus' })
    assert.deepEqual([st.role, st.detail.height, st.detail.mempool, st.detail.chainId], ['ledger', 0, 2, 'basedai-dev'])

    const block = await ledger.ask({ _tag: 'ProduceBlock' })
    assert.deepEqual([block.height, block.included, block.rejected], [1, 2, 0])
    const b = await ledger.ask({ _tag: 'GetAccount', address: bob })
    assert.equal(b.based, String(tokens(1000) + tokens(13) + tokens(1) / 2n))
    const a = await ledger.ask({ _tag: 'GetAccount', address: alice })
    assert.equal(a.nonce, '2')
    assert.equal(BigInt(a.based), tokens(1000) - tokens(13) - tokens(1) / 2n - t1.tx.fee - t2.tx.fee)

    // A crash of the actor: the supervisor restarts it and the committed state is still there (same head, same
    // state root as recorded before the crash; the restarted actor rebuilds the root from LMDB and checks it).
    const before = await ledger.ask({ _tag: 'GetHead' })
    await assert.rejects(ledger.ask({ _tag: 'Fault', mode: 'throw' }), { _tag: 'ActorCrashed' })
    const after = await ledger.ask({ _tag: 'GetHead' }, { timeoutMs: 10_000 })
    assert.equal(after.height, 1)
    assert.equal(after.hash, before.hash)
    assert.equal(after.stateRoot, before.stateRoot)
    assert.equal((await ledger.ask({ _tag: 'GetAccount', address: bob })).based, b.based)
    // Receipts are read back from the data dir: the restarted actor still knows where t1 and t2 landed.
    for (const t of [t1, t2]) {
      const s = await ledger.ask({ _tag: 'GetTxStatus', hash: toHex(t.hash) })
      assert.deepEqual([s.status, s.height], ['included', 1])
    }
  } finally {
    await sys.shutdown()
  }
  const store = LmdbStore.open({ path: path.join(dataDir, 'ledger'), shards: 3 })
  try {
    assert.ok(auditSupply(store).ok, 'total supply = genesis + emitted − burned after the blocks')
  } finally {
    await store.close()
  }
})
