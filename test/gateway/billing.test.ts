/**
 * Billing: the compute units a session pays for are the ciphertext × plaintext products of the shipped model, counted
 * here by hand from its shapes and the packing rule, and the miner's own signed receipts state the same count.
 *
 * The count by hand (model/weights/config.json: nLayer = 2, nEmbd d = 64, nHead = 4, nCtx = 64; preset bfv4096Linear:
 * N = 4096 coefficients per ciphertext):
 * - Each layer has four dense products of T tokens: attn d → 3d (64 → 192), proj d → d (64 → 64), fc d → 4d
 *   (64 → 256), fcProj 4d → d (256 → 64). Heads do not change the count: attention's products Q·Kᵀ and softmax·V are
 *   computed by the client, in plaintext; only these four go to the miner.
 * - Packing rule (fhe/linear.ts, docs/FHE.md "Encoding (Cheetah)"): one ct × pt product computes n_o·m_t inner
 *   products of length n_i with n_i·m_t·n_o ≤ N, so a d_in → d_out product of T tokens needs at least
 *   d_in·d_out·T / N of them, exactly that many when the factors tile the shape (all powers of two here).
 * - T = 8: attn 64·192·8/4096 = 24, proj 64·64·8/4096 = 8, fc 64·256·8/4096 = 32, fcProj 256·64·8/4096 = 32:
 *   96 per layer, 192 for the 2 layers.
 * - T = 2: attn 6, proj 2, fc 8, fcProj 8: 24 per layer, 48 for the 2 layers.
 * - Both passes: 192 + 48 = 240 units; at a Brain price of 1 $BASED per 1,000 units (1_000_000 base units per unit)
 *   that is 240_000_000, paid from the payer's spending account: 70 % to the miner's owner, the rest to the Brain's
 *   owner (this dev network has no validator, so their 10 % goes to the owner too).
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ActorSystem } from '../../supervisor/index.ts'
import { EncryptedSession, authorizeSession, minerBrain, settleReceipts, type AskMiner, type LedgerAsk } from '../../gateway/index.ts'
import { auditSupply, devKeys, LmdbStore, signTx, toAddress, toHex, tokens, withMinFee, type TxBody, type KeyPair } from '../../ledger/index.ts'
import { forwardAsync, loadShippedModel } from '../../model/index.ts'
import type { ComputeReceipt } from '../../protocol/index.ts'

const url = (p: string): string => new URL(p, import.meta.url).href
const bad = url('../support/bad-miners.ts')
const { model, tokenizer } = loadShippedModel()
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-billing-'))
let sys: ActorSystem

/** Units per site for T = 8 and T = 2 (see the derivation above), in the order the forward pass calls them. */
const PER_SITE = { 8: { attn: 24, proj: 8, fc: 32, fcProj: 32 }, 2: { attn: 6, proj: 2, fc: 8, fcProj: 8 } } as const
const UNITS_T8 = 192
const UNITS_T2 = 48
const UNITS = 240
const AMOUNT = 240_000_000n

/** Each test takes under 4 s on this loaded 2-core machine; the limit (tests and hooks) is far below the runner's 300 s. */
const T = { timeout: 30_000 }

before(async () => {
  sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      { kind: 'actor', id: 'ledger', behaviour: { module: url('../../actors/ledger-shard.ts') }, args: { dataDir, shards: 2, autoBlocks: false, dev: { brains: 1, miners: 1, validators: 0 } } },
      { kind: 'actor', id: 'miner-1', behaviour: { module: url('../../actors/miner.ts') }, args: { dev: 1 } },
      { kind: 'actor', id: 'inflating', behaviour: { module: bad, export: 'inflatingMiner' } },
      { kind: 'actor', id: 'replaying', behaviour: { module: bad, export: 'replayingMiner' } },
    ],
  })
}, T)
after(async () => {
  await sys.shutdown()
  const store = LmdbStore.open({ path: path.join(dataDir, 'ledger'), shards: 2 })
  try {
    assert.ok(auditSupply(store).ok)
  } finally {
    await store.close()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}, T)

const ask = (id: string): AskMiner => {
  const ref = sys.ref(`/root/${id}`)
  return (m) => ref.ask(m, { timeoutMs: 120_000 })
}
const prompt = (n: number): number[] => {
  const t = tokenizer.encode('The economy of France is one of the largest in the world and')
  assert.ok(t.length >= n)
  return t.slice(0, n)
}
const isRejected = (reason: string) => (e: unknown): boolean =>
  (e as { _tag?: string })._tag === 'ReceiptRejected' && (e as { reason?: string }).reason === reason

test('compute units of the shipped model equal the hand count; the miner signs the same count; settlement pays on it', T, async () => {
  const session = new EncryptedSession({ model, modelId: 'factbook-gpt', ask: ask('miner-1'), minerKey: toHex(devKeys.minerCompute(1).publicKey) })
  await forwardAsync(model, prompt(8), { linear: session.linear, lastOnly: true })
  assert.equal(session.stats.computeUnits, UNITS_T8)
  const sites = ['attn', 'proj', 'fc', 'fcProj'] as const
  assert.deepEqual(session.receipts.map((r) => r.units), [0, 1].flatMap(() => sites.map((s) => PER_SITE[8][s])))
  await forwardAsync(model, prompt(2), { linear: session.linear, lastOnly: true })
  assert.deepEqual(session.receipts.slice(8).map((r) => r.units), [0, 1].flatMap(() => sites.map((s) => PER_SITE[2][s])))
  assert.equal(session.stats.computeUnits - UNITS_T8, UNITS_T2)
  assert.equal(session.stats.products, 16)

  // The miner's own signed count, receipt by receipt: signed by its registered compute key, for this session.
  const signed = session.receipts.reduce((s, r) => s + r.units, 0)
  assert.equal(signed, UNITS)
  assert.ok(session.receipts.every((r) => r.computeKey === toHex(devKeys.minerCompute(1).publicKey) && r.session === session.sessionId))
  assert.equal(new Set(session.receipts.map((r) => r.request)).size, 16, 'one receipt per request')

  const ledger = sys.ref('/root/ledger')
  const l: LedgerAsk = (m) => ledger.ask(m)
  const send = async (key: KeyPair, body: TxBody): Promise<void> => {
    const head = await ledger.ask({ _tag: 'GetHead' })
    const nonce = BigInt((await ledger.ask({ _tag: 'GetAccount', address: toAddress(key.publicKey) })).nextNonce)
    await ledger.ask({ _tag: 'SubmitTx', tx: signTx(withMinFee({ chainId: head.chainId, from: key.publicKey, nonce, body }, BigInt(head.baseFee), BigInt(head.byteFee)), key.secretKey).bytes })
  }
  const balance = async (address: string): Promise<bigint> => BigInt((await ledger.ask({ _tag: 'GetAccount', address })).based)
  // The Brain owner prices queries at 1 $BASED per 1,000 units and pays for this session from a spending account.
  const brain = await minerBrain(l, toHex(devKeys.minerCompute(1).publicKey))
  const payer = devKeys.owner()
  await send(payer, { kind: 'setBrain', brain, setting: 'queryPrice', text: '', key: new Uint8Array(0), value: tokens(1) })
  await send(payer, { kind: 'escrowOpen', brain, amount: tokens(1) })
  await authorizeSession(l, payer, { brain, session: session.sessionId, maxUnits: BigInt(UNITS), maxPrice: tokens(1) })
  await ledger.ask({ _tag: 'ProduceBlock' })
  const owner = toAddress(devKeys.miner(1).publicKey)
  const [minerBefore, ownerBefore] = [await balance(owner), await balance(toAddress(payer.publicKey))]
  const s = await settleReceipts(l, payer, session.receipts)
  assert.equal(s.units, UNITS)
  assert.equal(s.amount, AMOUNT)
  assert.equal((await ledger.ask({ _tag: 'ProduceBlock' })).included, 1)
  assert.equal((await balance(owner)) - minerBefore, (AMOUNT * 7n) / 10n)
  const settleFee = ownerBefore + (AMOUNT * 3n) / 10n - (await balance(toAddress(payer.publicKey)))
  assert.ok(settleFee > 0n && settleFee < tokens(1) / 100n, 'the Brain owner got 30 % and paid the settlement fee')
  assert.equal((await ledger.ask({ _tag: 'GetEscrows', address: toAddress(payer.publicKey) })).escrows[0]?.balance, String(tokens(1) - AMOUNT))

  // A receipt edited after signing (one more unit) is refused by settlement.
  const forged: ComputeReceipt[] = session.receipts.map((r, i) => (i === 3 ? { ...r, units: r.units + 1 } : r))
  await assert.rejects(settleReceipts(l, payer, forged), isRejected('signature'))
  await assert.rejects(settleReceipts(l, payer, []), isRejected('empty'))
})

test('a miner that signs more units than the plan needs, or replays an old receipt, is refused', T, async () => {
  const tokens = prompt(2)
  const inflating = new EncryptedSession({ model, modelId: 'factbook-gpt', ask: ask('inflating') })
  await assert.rejects(forwardAsync(model, tokens, { linear: inflating.linear, lastOnly: true }), isRejected('units'))
  assert.equal(inflating.stats.computeUnits, 0)
  const replaying = new EncryptedSession({ model, modelId: 'factbook-gpt', ask: ask('replaying') })
  await assert.rejects(forwardAsync(model, tokens, { linear: replaying.linear, lastOnly: true }), isRejected('request'))
  assert.equal(replaying.stats.computeUnits, PER_SITE[2].attn, 'only the first (genuine) receipt counted')
  // Pinned to the registered miner's key, a session refuses receipts signed by any other key.
  const pinned = new EncryptedSession({ model, modelId: 'factbook-gpt', ask: ask('inflating'), minerKey: toHex(devKeys.minerCompute(1).publicKey) })
  await assert.rejects(forwardAsync(model, tokens, { linear: pinned.linear, lastOnly: true }), isRejected('key'))
})
