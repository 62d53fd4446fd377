/**
 * Admission before inclusion (ledger/mempool.ts) and the cost of a transaction that fails in its block
 * (apply.ts executeTx): refused transactions are refused at once with their typed reason, admitted ones land, a
 * failed body is included with its fee and nonce charged, and supply is conserved throughout.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ActorSystem } from '../../supervisor/index.ts'
import type { ActorRef } from '../../actors/index.ts'
import {
  InvalidAmount, LmdbStore, auditSupply, createWallet, decodeBlock, defaultParams, signTx, testKeyPair, toAddress, toHex, tokens,
  withMinFee, type KeyPair, type PreparedTx, type TxBody,
} from '../../ledger/index.ts'
import { Mempool, ReceiptLog } from '../../ledger/mempool.ts'
import { mulberry32 } from '../../model/weights.ts'
import { assertSupply, fixture } from './helpers.ts'

import { LedgerRejection } from '../../protocol/index.ts'

const actorModule = new URL('../../actors/ledger-shard.ts', import.meta.url).href
const CHAIN = 'basedai-dev'
const P = defaultParams({ chainId: CHAIN })

function tx(k: KeyPair, nonce: bigint, body: TxBody, o: { fee?: bigint; chainId?: string } = {}): PreparedTx {
  const u = withMinFee({ chainId: o.chainId ?? CHAIN, from: k.publicKey, nonce, body }, P.baseFee, P.byteFee)
  return signTx(o.fee !== undefined ? { ...u, fee: o.fee } : u, k.secretKey)
}

/** The LedgerRejection reason of a refused ask (it must cross as that class), or 'accepted'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'accepted'
  } catch (e) {
    assert.ok(e instanceof LedgerRejection, `expected a LedgerRejection, got ${String((e as { _tag?: string })._tag)}`)
    return e.reason
  }
}

/** Each test takes under 3 s on this loaded 2-core machine; the limit is far below the runner's 300 s. */
const T = { timeout: 30_000 }

async function withLedger(
  t: TestContext, names: string[], extra: Record<string, unknown>, body: (ledger: ActorRef, keys: Record<string, KeyPair>) => Promise<void>,
): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-admission-'))
  const keys: Record<string, KeyPair> = {}
  for (const n of names) {
    keys[n] = testKeyPair(`admission-${n}`)
    createWallet(dataDir, n, 'password1', { scryptN: 1 << 10, keys: { personal: keys[n], compute: testKeyPair(`admission-${n}-compute`) } })
  }
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    flags: { intensity: 5 },
    children: [{ kind: 'actor', id: 'ledger', behaviour: { module: actorModule }, args: { dataDir, shards: 2, autoBlocks: false, ...extra } }],
  })
  // Runs even when the test times out (the finally below would wait for the hung ask).
  t.after(async () => {
    await sys.shutdown()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })
  try {
    await body(sys.ref('/root/ledger'), keys)
  } finally {
    await sys.shutdown()
  }
  const store = LmdbStore.open({ path: path.join(dataDir, 'ledger'), shards: 2 })
  let audit: ReturnType<typeof auditSupply>
  try {
    audit = auditSupply(store)
  } finally {
    await store.close()
  }
  assert.ok(audit.ok, `supply audit ${JSON.stringify(audit, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`)
}

test('a failed body is included: fee paid, nonce consumed, nothing else applied; later txs of the sender still run', T, () => {
  const f = fixture()
  const to = f.keys.bob!.publicKey
  const [a0, b0] = [f.based('alice'), f.based('bob')]
  const zero = f.tx('alice', { kind: 'transfer', to, amount: 0n })
  const one = f.tx('alice', { kind: 'transfer', to, amount: 1n }, { nonceOffset: 1n })
  const two = f.tx('alice', { kind: 'transfer', to, amount: 2n }, { nonceOffset: 2n })
  const r = f.block([zero, one, two], { allowReject: true }) // f.block audits supply
  assert.deepEqual(r.rejected, [])
  assert.equal(r.included, 3)
  assert.deepEqual(r.failed.map((x) => [x.index, x.error._tag]), [[0, 'InvalidAmount']])
  assert.deepEqual(r.receipts.map((x) => [toHex(x.hash), x.error?._tag]), [[toHex(zero.hash), 'InvalidAmount'], [toHex(one.hash), undefined], [toHex(two.hash), undefined]])
  assert.equal(f.ledger.nonce(f.keys.alice!.publicKey), 3n)
  assert.equal(f.based('alice'), a0 - 3n - zero.tx.fee - one.tx.fee - two.tx.fee)
  assert.equal(f.based('bob'), b0 + 3n)
  // A follower (same genesis) replays the block, failed transaction included, to the same state root.
  const block = decodeBlock(f.store.block(1)!)
  assert.equal(block.txs.length, 3)
  const fresh = fixture()
  fresh.ledger.applyBlock(block)
  assert.equal(toHex(fresh.ledger.head().stateRoot), toHex(f.ledger.head().stateRoot))
  assertSupply(fresh.store)
})

test('mempool lanes: two burns racing for one price both pass admission; the second fails in the block, charged', T, () => {
  const f = fixture()
  const proposer = f.keys.proposer!.publicKey
  const pool = new Mempool(f.ledger, proposer)
  const price = f.params.burnBaseCost
  const a = pool.admit(f.tx('alice', { kind: 'acquireBrainBurn', maxCost: price }).bytes)
  const b = pool.admit(f.tx('bob', { kind: 'acquireBrainBurn', maxCost: price }).bytes)
  // Same sender twice: its lane already holds the first burn, so the second is checked at the next price.
  assert.throws(() => pool.admit(f.tx('alice', { kind: 'acquireBrainBurn', maxCost: price }, { nonceOffset: 1n }).bytes), { _tag: 'BurnPriceAboveMax' })
  assert.equal(pool.nextNonce(f.keys.alice!.publicKey), 1n)
  const pepeBob = f.pepe('bob')
  const r = f.block(pool.take(), { allowReject: true })
  assert.equal(pool.afterBlock().length, 0)
  assert.equal(r.included, 2)
  assert.deepEqual(r.failed.map((x) => [x.index, x.error._tag]), [[1, 'BurnPriceAboveMax']])
  assert.equal(toHex(r.receipts[1]!.hash), toHex(b.hash))
  assert.equal(toHex(r.receipts[0]!.hash), toHex(a.hash))
  assert.equal(f.ledger.nonce(f.keys.bob!.publicKey), 1n)
  assert.equal(f.pepe('bob'), pepeBob, 'failed burn: no Pepecoin burned')
  assert.equal(pool.size, 0)
})

test('mempool: queued transactions that governance made unchargeable (fee rule raised) are dropped with their reasons', T, () => {
  const f = fixture({ params: { votingPeriod: 2 } })
  const pool = new Mempool(f.ledger, f.keys.proposer!.publicKey)
  f.block([f.tx('foundation', { kind: 'propose', param: 'baseFee', value: 1_000_000n })])
  const to = f.keys.bob!.publicKey
  const first = pool.admit(f.tx('alice', { kind: 'transfer', to, amount: 1n }).bytes)
  // Pays the new rule too, but once `first` is gone its nonce is a gap.
  const second = pool.admit(f.tx('alice', { kind: 'transfer', to, amount: 2n }, { nonceOffset: 1n, fee: 2_000_000n }).bytes)
  const other = pool.admit(f.tx('carol', { kind: 'transfer', to, amount: 3n }, { fee: 2_000_000n }).bytes)
  const dropped: Array<[string, string]> = []
  for (let i = 0; i < 4 && f.ledger.params().baseFee !== 1_000_000n; i++) {
    f.advance(1) // blocks without the pool's transactions, until the proposal passes
    for (const d of pool.afterBlock()) dropped.push([toHex(d.tx.hash), d.error._tag])
  }
  assert.equal(f.ledger.params().baseFee, 1_000_000n, 'the fee proposal passed')
  assert.deepEqual(dropped, [[toHex(first.hash), 'FeeTooLow'], [toHex(second.hash), 'BadNonce']])
  // The rest of the queue is intact, and a transaction that still pays the rule lands.
  assert.equal(pool.size, 1)
  assert.equal(pool.nextNonce(f.keys.alice!.publicKey), 0n)
  const r = f.block(pool.take())
  assert.equal(r.included, 1)
  assert.equal(toHex(r.receipts[0]!.hash), toHex(other.hash))
})

test('receipt log: bounded (oldest forgotten), persisted as JSON lines, unreadable lines skipped, compacted on open', T, (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-receipts-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'receipts.jsonl')
  const h = (i: number): string => i.toString(16).padStart(64, '0')
  const log = new ReceiptLog(4, file)
  const err = new InvalidAmount({ field: 'amount', reason: 'must be positive' })
  log.record([[h(1), { status: 'included', height: 3 }], [h(2), { status: 'failed', height: 3, error: err }]])
  log.record([[h(3), { status: 'dropped', error: err }]])
  fs.appendFileSync(file, 'not json\n{"h":"zz","s":"included"}\n')
  for (let i = 4; i <= 6; i++) log.record([[h(i), { status: 'included', height: i }]])
  assert.equal(log.size, 4)
  assert.equal(log.get(h(2)), undefined, 'oldest forgotten')
  const back = new ReceiptLog(4, file)
  assert.equal(back.size, 4)
  assert.deepEqual(back.get(h(3)), { status: 'dropped', reason: 'InvalidAmount', detail: JSON.stringify({ field: 'amount', reason: 'must be positive' }) })
  assert.deepEqual(back.get(h(6)), { status: 'included', height: 6 })
  assert.equal(back.get(h(1)), undefined)
  // 8 lines > 2 × 4: rewritten to the 4 kept.
  assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 4)
  assert.deepEqual(new ReceiptLog(4, file).get(h(5)), { status: 'included', height: 5 })
})

test('ledger actor: a stream of good and bad transactions from several wallets — every bad one refused with its reason, every good one lands, supply conserved', T, async (t) => {
  const names = ['w0', 'w1', 'w2', 'w3']
  await withLedger(t, names, {}, async (ledger, keys) => {
    const ghost = testKeyPair('admission-ghost')
    const rand = mulberry32(16)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
    const next = new Map<string, bigint>(names.map((n) => [n, 0n]))
    const good: Array<{ hash: string; from: string; to: string; amount: bigint; fee: bigint }> = []
    const refused: Array<{ hash: string; expected: string }> = []
    let fees = 0n
    const kinds = ['good', 'good', 'zero', 'broke', 'fee', 'gap', 'replay', 'sig', 'chain', 'ghost', 'garbage', 'pepe'] as const
    const seen = new Set<string>()
    for (let i = 0; i < 90; i++) {
      const from = pick(names)
      const to = pick(names.filter((n) => n !== from))
      const k = keys[from]!
      const n = next.get(from)!
      const amount = tokens(1) + BigInt(Math.floor(rand() * 4)) * tokens(1)
      const kind = i < 24 ? kinds[i % kinds.length]! : pick(kinds)
      seen.add(kind)
      const transfer = (amt: bigint): TxBody => ({ kind: 'transfer', to: keys[to]!.publicKey, amount: amt })
      let t: PreparedTx | Uint8Array
      let expected: string
      switch (kind) {
        case 'good':
          t = tx(k, n, transfer(amount))
          expected = 'accepted'
          break
        case 'zero':
          t = tx(k, n, transfer(0n))
          expected = 'InvalidAmount'
          break
        case 'broke': // more than every wallet holds together
          t = tx(k, n, transfer(tokens(4001)))
          expected = 'InsufficientFunds'
          break
        case 'fee':
          t = tx(k, n, transfer(amount), { fee: P.baseFee })
          expected = 'FeeTooLow'
          break
        case 'gap':
          t = tx(k, n + 3n, transfer(amount))
          expected = 'BadNonce'
          break
        case 'replay':
          t = tx(k, n === 0n ? n + 1n : n - 1n, transfer(amount))
          expected = 'BadNonce'
          break
        case 'sig': {
          const b = tx(k, n, transfer(amount)).bytes.slice()
          b[b.length - 3] = (b[b.length - 3] as number) ^ 0x40
          t = b
          expected = 'BadSignature'
          break
        }
        case 'chain':
          t = tx(k, n, transfer(amount), { chainId: 'another-chain' })
          expected = 'WrongChain'
          break
        case 'ghost':
          t = tx(ghost, 0n, transfer(amount))
          expected = 'UnknownAccount'
          break
        case 'garbage':
          t = new Uint8Array([1, 2, 3, Math.floor(rand() * 256)])
          expected = 'MalformedTx'
          break
        case 'pepe':
          t = tx(k, n, { kind: 'transferPepe', to: keys[to]!.publicKey, amount: tokens(200_001) })
          expected = 'InsufficientFunds'
          break
      }
      const bytes = t instanceof Uint8Array ? t : t.bytes
      const got = await outcome(ledger.ask({ _tag: 'SubmitTx', tx: bytes }))
      assert.equal(got, expected, `submission ${i} (${kind} from ${from})`)
      if (got === 'accepted' && !(t instanceof Uint8Array)) {
        good.push({ hash: toHex(t.hash), from, to, amount: (t.tx.body as { amount: bigint }).amount, fee: t.tx.fee })
        next.set(from, n + 1n)
        fees += t.tx.fee
      } else if (!(t instanceof Uint8Array)) refused.push({ hash: toHex(t.hash), expected })
      // A block now and then, so some lanes are rebuilt over new state with nothing queued, others mid-stream.
      if (i % 13 === 12) await ledger.ask({ _tag: 'ProduceBlock' })
    }
    assert.ok(seen.size === new Set(kinds).size, `every kind exercised: ${[...seen].join(',')}`)
    // Pending counts: a sender's queued spend is counted, so a second large transfer is refused, a small one is not.
    {
      await ledger.ask({ _tag: 'ProduceBlock' })
      const k = keys.w0!
      const n = next.get('w0')!
      const committed = BigInt((await ledger.ask({ _tag: 'GetAccount', address: toAddress(k.publicKey) })).based)
      const half = committed / 2n + tokens(1)
      const first = tx(k, n, { kind: 'transfer', to: keys.w1!.publicKey, amount: half })
      assert.equal(await outcome(ledger.ask({ _tag: 'SubmitTx', tx: first.bytes })), 'accepted')
      const second = tx(k, n + 1n, { kind: 'transfer', to: keys.w1!.publicKey, amount: half })
      assert.equal(await outcome(ledger.ask({ _tag: 'SubmitTx', tx: second.bytes })), 'InsufficientFunds')
      const small = tx(k, n + 1n, { kind: 'transfer', to: keys.w1!.publicKey, amount: tokens(1) })
      assert.equal(await outcome(ledger.ask({ _tag: 'SubmitTx', tx: small.bytes })), 'accepted')
      const acct = await ledger.ask({ _tag: 'GetAccount', address: toAddress(k.publicKey) })
      assert.equal(acct.nextNonce, String(n + 2n))
      assert.equal((await ledger.ask({ _tag: 'GetTxStatus', hash: toHex(first.hash) })).status, 'pending')
      for (const [t, amt] of [[first, half], [small, tokens(1)]] as const) {
        good.push({ hash: toHex(t.hash), from: 'w0', to: 'w1', amount: amt, fee: t.tx.fee })
        fees += t.tx.fee
      }
      refused.push({ hash: toHex(second.hash), expected: 'InsufficientFunds' })
    }
    const last = await ledger.ask({ _tag: 'ProduceBlock' })
    assert.equal(last.rejected, 0)
    // Every good one landed (included, not failed); every refused one is unknown to the ledger.
    for (const g of good) {
      const s = await ledger.ask({ _tag: 'GetTxStatus', hash: g.hash })
      assert.equal(s.status, 'included', g.hash)
      assert.ok(s.height !== undefined && s.height >= 1 && s.height <= last.height)
    }
    for (const r of refused) assert.equal((await ledger.ask({ _tag: 'GetTxStatus', hash: r.hash })).status, 'unknown')
    // Balances: exactly the good transfers moved money (the proposer is not one of the wallets).
    const want = new Map<string, bigint>(names.map((n) => [n, tokens(1000)]))
    for (const g of good) {
      want.set(g.from, want.get(g.from)! - g.amount - g.fee)
      want.set(g.to, want.get(g.to)! + g.amount)
    }
    for (const n of names) {
      const a = await ledger.ask({ _tag: 'GetAccount', address: toAddress(keys[n]!.publicKey) })
      assert.equal(a.based, String(want.get(n)), n)
      assert.equal(a.nonce, String(good.filter((g) => g.from === n).length), `${n} nonce`)
    }
    const proposer = await ledger.ask({ _tag: 'GetAccount', address: toAddress(testKeyPair('basedai-dev-proposer').publicKey) })
    assert.equal(BigInt(proposer.based), fees)
    assert.equal((await ledger.ask({ _tag: 'GetHead' })).mempool, 0)
  })
})

test('ledger actor: a tx that passes admission and fails in its block reports failed with the typed reason; block size cap keeps nonce order; MempoolFull', T, async (t) => {
  await withLedger(t, ['alice', 'bob'], { maxBlockTxs: 2, maxMempool: 4 }, async (ledger, keys) => {
    const price = P.burnBaseCost
    const a = tx(keys.alice!, 0n, { kind: 'acquireBrainBurn', maxCost: price })
    const b = tx(keys.bob!, 0n, { kind: 'acquireBrainBurn', maxCost: price })
    assert.equal(await outcome(ledger.ask({ _tag: 'SubmitTx', tx: a.bytes })), 'accepted')
    assert.equal(await outcome(ledger.ask({ _tag: 'SubmitTx', tx: b.bytes })), 'accepted')
    const block = await ledger.ask({ _tag: 'ProduceBlock' })
    assert.deepEqual([block.included, block.rejected], [2, 0])
    const sa = await ledger.ask({ _tag: 'GetTxStatus', hash: toHex(a.hash) })
    assert.deepEqual([sa.status, sa.height], ['included', block.height])
    const sb = await ledger.ask({ _tag: 'GetTxStatus', hash: toHex(b.hash) })
    assert.deepEqual([sb.status, sb.height, sb.reason], ['failed', block.height, 'BurnPriceAboveMax'])
    const bob = await ledger.ask({ _tag: 'GetAccount', address: toAddress(keys.bob!.publicKey) })
    assert.equal(bob.nonce, '1')
    assert.equal(BigInt(bob.based), tokens(1000) - b.tx.fee)
    assert.equal(bob.pepe, String(tokens(200_000)))

    // Block cap 2, mempool cap 4: five transfers from alice → the fifth refused MempoolFull; blocks take 2, 2.
    const ts = [1n, 2n, 3n, 4n].map((n) => tx(keys.alice!, n, { kind: 'transfer', to: keys.bob!.publicKey, amount: n }))
    for (const t of ts) assert.equal(await outcome(ledger.ask({ _tag: 'SubmitTx', tx: t.bytes })), 'accepted')
    const fifth = tx(keys.alice!, 5n, { kind: 'transfer', to: keys.bob!.publicKey, amount: 5n })
    assert.equal(await outcome(ledger.ask({ _tag: 'SubmitTx', tx: fifth.bytes })), 'MempoolFull')
    const b1 = await ledger.ask({ _tag: 'ProduceBlock' })
    assert.equal(b1.included, 2)
    assert.equal((await ledger.ask({ _tag: 'GetTxStatus', hash: toHex(ts[2]!.hash) })).status, 'pending')
    assert.equal(await outcome(ledger.ask({ _tag: 'SubmitTx', tx: fifth.bytes })), 'accepted')
    const b2 = await ledger.ask({ _tag: 'ProduceBlock' })
    const b3 = await ledger.ask({ _tag: 'ProduceBlock' })
    assert.deepEqual([b2.included, b3.included], [2, 1])
    const heights = await Promise.all([...ts, fifth].map(async (t) => (await ledger.ask({ _tag: 'GetTxStatus', hash: toHex(t.hash) })).height))
    assert.deepEqual(heights, [b1.height, b1.height, b2.height, b2.height, b3.height])
    const alice = await ledger.ask({ _tag: 'GetAccount', address: toAddress(keys.alice!.publicKey) })
    assert.equal(alice.nonce, '6')
  })
})
