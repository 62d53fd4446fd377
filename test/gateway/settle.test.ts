/**
 * Paying for encrypted work from a spending account, through the actors (ledger writer + a worker-thread miner that
 * reaches it through its WorkerCell): the miner refuses before any work a session nobody pays for on a priced Brain, one the account
 * cannot cover, one beyond its allowance and one whose account is closing (each a typed MinerRejection, its product
 * counter unchanged); a paid session's receipts settle from the account to the miner's owner, the Brain's validator
 * and its owner by the documented shares; the same receipts again are refused; supply conserved.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ActorSystem } from '../../supervisor/index.ts'
import { EncryptedSession, authorizeSession, minerBrain, settleReceipts } from '../../gateway/index.ts'
import {
  LmdbStore, auditSupply, createWallet, devKeys, signTx, toAddress, toHex, tokens, unlockWallet, withMinFee, type KeyPair, type TxBody,
} from '../../ledger/index.ts'
import { forwardAsync, loadShippedModel } from '../../model/index.ts'
import { LedgerRejection, MinerRejection, type Message, type ReplyFor } from '../../protocol/index.ts'
import { rejectedWith } from '../support/rejection.ts'

const url = (p: string): string => new URL(p, import.meta.url).href
const PRICE = tokens(1) // per 1,000 compute units: 1,000,000 base units per unit

// 7–20 s on this loaded 2-core machine (five sessions' key generation, one paid forward pass); far below the limit.
test('spending account: refused before work when it cannot pay; paid sessions settle by shares; no replay; supply', { timeout: 240_000 }, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-settle-'))
  createWallet(dataDir, 'user', 'password1', { scryptN: 1024 })
  const user = unlockWallet(dataDir, 'user', 'password1').personal
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      {
        kind: 'supervisor', id: 'ledger', children: [
          { kind: 'actor', id: 'writer', behaviour: { module: url('../../actors/ledger-shard.ts') }, args: { dataDir, shards: 2, autoBlocks: false, dev: { brains: 1, miners: 1, validators: 1 } } },
        ],
      },
      { kind: 'actor', id: 'miner-1', behaviour: { module: url('../../actors/miner.ts') }, placement: 'worker', args: { dev: 1 } },
    ],
  })
  t.after(async () => {
    await sys.shutdown()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })
  const ledger = sys.ref('/root/ledger/writer')
  const miner = sys.ref('/root/miner-1')
  const l = <Q extends Message>(m: Q): Promise<ReplyFor<Q>> => ledger.ask(m)
  const block = async (): Promise<void> => {
    await ledger.ask({ _tag: 'ProduceBlock' })
  }
  const send = async (key: KeyPair, body: TxBody): Promise<bigint> => {
    const head = await ledger.ask({ _tag: 'GetHead' })
    const nonce = BigInt((await ledger.ask({ _tag: 'GetAccount', address: toAddress(key.publicKey) })).nextNonce)
    const tx = signTx(withMinFee({ chainId: head.chainId, from: key.publicKey, nonce, body }, BigInt(head.baseFee), BigInt(head.byteFee)), key.secretKey)
    await ledger.ask({ _tag: 'SubmitTx', tx: tx.bytes })
    await block()
    const s = await ledger.ask({ _tag: 'GetTxStatus', hash: toHex(tx.hash) })
    assert.equal(s.status, 'included', `${body.kind}: ${s.status} ${s.reason ?? ''}`)
    return tx.tx.fee
  }
  const balance = async (k: KeyPair): Promise<bigint> => BigInt((await ledger.ask({ _tag: 'GetAccount', address: toAddress(k.publicKey) })).based)
  const { model, tokenizer } = loadShippedModel()
  const tokens2 = tokenizer.encode('The economy')
  const newSession = (): EncryptedSession => new EncryptedSession({ model, modelId: 'factbook-gpt', ask: (m) => miner.ask(m, { timeoutMs: 120_000 }) })
  const products = async (): Promise<unknown> => (await miner.ask({ _tag: 'GetStatus' })).detail.encryptedProducts

  const brain = await minerBrain(l, toHex(devKeys.minerCompute(1).publicKey))
  await send(devKeys.owner(), { kind: 'setBrain', brain, setting: 'queryPrice', text: '', key: new Uint8Array(0), value: PRICE })

  // 1. No spending account pays for the session: refused before any work.
  const free = newSession()
  await assert.rejects(forwardAsync(model, tokens2, { linear: free.linear, lastOnly: true }), rejectedWith(MinerRejection, 'EscrowRequired'))
  assert.equal(free.stats.products, 0)
  assert.equal(await products(), 0)

  // 2. An account that cannot cover the first product (10 base units).
  await send(user, { kind: 'escrowOpen', brain, amount: 10n })
  const poor = newSession()
  await authorizeSession(l, user, { brain, session: poor.sessionId, maxUnits: 100_000n })
  await block()
  await assert.rejects(forwardAsync(model, tokens2, { linear: poor.linear, lastOnly: true }), rejectedWith(MinerRejection, 'EscrowInsufficient'))
  assert.equal(await products(), 0)

  // 3. Topped up; a session with an allowance below the first product's units is refused too.
  await send(user, { kind: 'escrowOpen', brain, amount: tokens(20) })
  const capped = newSession()
  await authorizeSession(l, user, { brain, session: capped.sessionId, maxUnits: 1n })
  await block()
  await assert.rejects(forwardAsync(model, tokens2, { linear: capped.linear, lastOnly: true }), rejectedWith(MinerRejection, 'EscrowInsufficient'))
  assert.equal(await products(), 0)

  // 4. Paid: the work is done, the miner's owner collects on the signed receipts (it submits the settlement).
  const paid = newSession()
  await authorizeSession(l, user, { brain, session: paid.sessionId, maxUnits: 100_000n })
  await block()
  await forwardAsync(model, tokens2, { linear: paid.linear, lastOnly: true })
  assert.equal(paid.stats.products, 8)
  const units = paid.stats.computeUnits
  const amount = BigInt(units) * PRICE / 1000n
  const before = { miner: await balance(devKeys.miner(1)), validator: await balance(devKeys.validator(1)), owner: await balance(devKeys.owner()), user: await balance(user) }
  const s = await settleReceipts(l, devKeys.miner(1), paid.receipts)
  assert.deepEqual([s.units, s.amount, s.brain], [units, amount, brain])
  await block()
  assert.equal((await ledger.ask({ _tag: 'GetTxStatus', hash: s.txs[0] as string })).status, 'included')
  const minerGain = (await balance(devKeys.miner(1))) - before.miner
  assert.ok(minerGain < (amount * 7n) / 10n && minerGain > (amount * 7n) / 10n - tokens(1) / 100n, 'miner owner: 70 % less its settlement fee')
  assert.equal((await balance(devKeys.validator(1))) - before.validator, amount / 10n, 'the permitted validator: 10 %')
  assert.equal((await balance(devKeys.owner())) - before.owner, (amount * 2n) / 10n, 'the Brain owner: 20 %')
  assert.equal(await balance(user), before.user, 'the user pays from the account, not the balance')
  const acct = (await ledger.ask({ _tag: 'GetEscrows', address: toAddress(user.publicKey) })).escrows[0]
  assert.equal(acct?.balance, String(tokens(20) + 10n - amount))
  const m = await ledger.ask({ _tag: 'GetMetagraph', brain })
  assert.equal(m.rows.find((r) => r.role === 'miner')?.queryEarned, String((amount * 7n) / 10n))
  // The same receipts again: refused at admission, nothing charged.
  await assert.rejects(settleReceipts(l, devKeys.miner(1), paid.receipts), rejectedWith(LedgerRejection, 'ReceiptAlreadySettled'))

  // 5. A withdrawal announced: the miner takes no new work on the account (its sessions still settle).
  const late = newSession()
  await authorizeSession(l, user, { brain, session: late.sessionId, maxUnits: 100_000n })
  await block()
  await send(user, { kind: 'escrowClose', brain })
  const done = await products()
  await assert.rejects(forwardAsync(model, tokens2, { linear: late.linear, lastOnly: true }), rejectedWith(MinerRejection, 'EscrowClosing'))
  assert.equal(await products(), done)

  await sys.shutdown()
  const store = LmdbStore.open({ path: path.join(dataDir, 'ledger'), shards: 2 })
  try {
    const a = auditSupply(store)
    assert.ok(a.ok)
    assert.equal(a.escrowed, tokens(20) + 10n - amount)
  } finally {
    await store.close()
  }
})
