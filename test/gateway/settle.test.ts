import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ActorSystem } from '../../supervisor/index.ts'
import { EncryptedSession, settleComputeUnits, DEV_PRICE_PER_UNIT } from '../../gateway/index.ts'
import { LmdbStore, auditSupply, devKeys, testKeyPair, toAddress, toHex } from '../../ledger/index.ts'
import { forwardAsync, loadShippedModel } from '../../model/index.ts'

const url = (p: string): string => new URL(p, import.meta.url).href

// The test takes ~8 s on this loaded 2-core machine; its limit is far below the runner's 300 s. t.after shuts the
// system down (and removes the data dir) even when the test times out, which a finally alone would not.
test('a session pays its miner\'s registered owner for the compute units it used; supply conserved', { timeout: 30_000 }, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-settle-'))
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      { kind: 'actor', id: 'ledger', behaviour: { module: url('../../actors/ledger-shard.ts') }, args: { dataDir, shards: 2, autoBlocks: false, dev: { brains: 1, miners: 1, validators: 0 } } },
      { kind: 'actor', id: 'miner-1', behaviour: { module: url('../../actors/miner.ts') }, placement: 'worker', args: { dev: 1 } },
    ],
  })
  t.after(async () => {
    await sys.shutdown()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })
  try {
    const ledger = sys.ref('/root/ledger')
    const miner = sys.ref('/root/miner-1')
    const { model, tokenizer } = loadShippedModel()
    const session = new EncryptedSession({ model, modelId: 'factbook-gpt', ask: (m) => miner.ask(m, { timeoutMs: 120_000 }) })
    await forwardAsync(model, tokenizer.encode('The economy'), { linear: session.linear, lastOnly: true })
    assert.equal(session.stats.products, 8)
    // What the session pays for is the sum of the miner's signed counts (billing.test.ts checks them by hand).
    assert.equal(session.receipts.length, 8)
    assert.equal(session.stats.computeUnits, session.receipts.reduce((n, r) => n + r.units, 0))
    const computeKey = (await miner.ask({ _tag: 'GetStatus' })).detail.computeKey
    assert.equal(computeKey, toHex(devKeys.minerCompute(1).publicKey))

    const payer = devKeys.owner()
    const balance = async (address: string): Promise<bigint> => BigInt((await ledger.ask({ _tag: 'GetAccount', address })).based)
    const minerOwner = toAddress(devKeys.miner(1).publicKey)
    const [ownerBefore, payerBefore] = [await balance(minerOwner), await balance(toAddress(payer.publicKey))]
    const s = await settleComputeUnits((m) => ledger.ask(m), payer, String(computeKey), session.stats.computeUnits)
    assert.equal(s.to, minerOwner, 'paid to the account that registered the miner')
    assert.equal(s.amount, BigInt(session.stats.computeUnits) * DEV_PRICE_PER_UNIT)
    const block = await ledger.ask({ _tag: 'ProduceBlock' })
    assert.equal(block.included, 1)
    assert.equal((await balance(minerOwner)) - ownerBefore, s.amount)
    assert.ok(payerBefore - (await balance(toAddress(payer.publicKey))) > s.amount, 'payer paid the amount and a fee')

    await assert.rejects(settleComputeUnits((m) => ledger.ask(m), payer, toHex(testKeyPair('nobody').publicKey), 5), (e: unknown) => (e as { tag?: string }).tag === 'UnknownMiner')
    await assert.rejects(settleComputeUnits((m) => ledger.ask(m), payer, String(computeKey), 0), (e: unknown) => (e as { tag?: string }).tag === 'NothingToPay')
  } finally {
    await sys.shutdown()
  }
  const store = LmdbStore.open({ path: path.join(dataDir, 'ledger'), shards: 2 })
  try {
    assert.ok(auditSupply(store).ok)
  } finally {
    await store.close()
  }
})
