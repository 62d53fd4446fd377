/**
 * Spending accounts (whitepaper §3.5.1, ledger/escrow.ts) on the ledger itself: price, open, authorize, settle on
 * the miner's signed receipts (shares to miner / permitted validators / owner, exact), replay and forgery refused,
 * allowance and balance limits, the price fixed per session, the withdrawal delay, every block's supply audited
 * (the fixture's `block` does it) and a follower replaying every block to the same state root.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  Ledger, MemoryStore, auditSupply, blockHash, bytesEqual, decodeBlock, sha256, sign, testKeyPair, toHex, tokens, type KeyPair, type TxBody,
} from 'basedai/ledger'
import { queryCost, sessionHash, settlementAmount } from '../../ledger/escrow.ts'
import { metagraphOf, escrowsOf, sessionTabOf } from '../../ledger/queries.ts'
import { receiptSigningBytes } from '../../protocol/index.ts'
import { EMPTY, fixture, run, type Fixture } from './helpers.ts'

const T = { timeout: 60_000 }
const BRAIN = 7
const PRICE = tokens(1) // 1 $BASED per 1,000 compute units
const DELAY = 5
const minerCk = testKeyPair('bob-compute')
const carolCk = testKeyPair('carol-compute')
const frankCk = testKeyPair('frank-compute')

/** A receipt as the miner signs it (protocol/fhe-messages.ts), in the form an escrowSettle carries. */
function receipt(key: KeyPair, session: string, units: number, seed: number): { units: number; request: Uint8Array; signature: Uint8Array } {
  const request = sha256(new TextEncoder().encode(`request ${seed}`))
  const signature = sign(key.secretKey, receiptSigningBytes({ session, units, request: toHex(request), computeKey: toHex(key.publicKey) }))
  return { units, request, signature }
}
const settle = (session: string, key: KeyPair, receipts: ReturnType<typeof receipt>[]): TxBody => ({ kind: 'escrowSettle', brain: BRAIN, session, computeKey: key.publicKey, receipts })
const authorize = (session: string, maxUnits: bigint, maxPrice = PRICE): TxBody => ({ kind: 'escrowAuthorize', brain: BRAIN, sessionHash: Buffer.from(sessionHash(session), 'hex'), maxUnits, maxPrice })

/** One tx in its own block; returns the failure tag ('' when applied). */
function one(f: Fixture, who: string, body: TxBody): string {
  const r = f.block([f.tx(who, body)])
  return r.failed[0]?.error._tag ?? ''
}

/** Alice owns Brain 7 (price set), bob's compute key mines on it, carol's validates with stake (permit), dave pays. */
function setup(): Fixture {
  const f = fixture({ params: { tempo: 100_000, escrowWithdrawDelay: DELAY } })
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(10_000) }],
    ['bob', { kind: 'register', brain: BRAIN, computeKey: minerCk.publicKey, role: 'miner', maxFee: tokens(1000) }],
    ['carol', { kind: 'register', brain: BRAIN, computeKey: carolCk.publicKey, role: 'validator', maxFee: tokens(1000) }],
    ['carol', { kind: 'addStake', brain: BRAIN, target: carolCk.publicKey, amount: tokens(100) }],
    ['alice', { kind: 'setBrain', brain: BRAIN, setting: 'queryPrice', text: '', key: EMPTY, value: PRICE }],
  )
  return f
}

test('a query paid from a spending account: shares, receipts once, limits, price fixed per session, supply', T, () => {
  const f = setup()
  assert.equal(metagraphOf(f.ledger, BRAIN)?.brain.queryPrice, String(PRICE))
  const S = 'aa'.repeat(16)
  // Nothing to charge before an account exists.
  assert.equal(one(f, 'dave', authorize(S, 5000n)), 'UnknownEscrow')
  const daveBefore = f.based('dave')
  assert.equal(one(f, 'dave', { kind: 'escrowOpen', brain: BRAIN, amount: tokens(10) }), '')
  assert.equal(one(f, 'dave', { kind: 'escrowOpen', brain: BRAIN, amount: 0n }), 'InvalidAmount')
  assert.equal(one(f, 'dave', { kind: 'escrowOpen', brain: 99, amount: tokens(1) }), 'UnknownBrain')
  assert.equal(auditSupply(f.store).escrowed, tokens(10))
  // The payer caps the price it accepts: above it the authorization fails.
  assert.equal(one(f, 'dave', authorize(S, 5000n, PRICE - 1n)), 'QueryPriceAboveMax')
  assert.equal(one(f, 'dave', authorize(S, 5000n)), '')
  assert.equal(one(f, 'dave', authorize(S, 10n)), 'PermissionDenied') // a session id is single-use
  assert.deepEqual(escrowsOf(f.ledger, f.keys.dave!.publicKey).escrows, [{ brain: BRAIN, balance: String(tokens(10)), unlockAt: 0, openSessions: 1, queryPrice: String(PRICE) }])
  const feesAndOpen = daveBefore - f.based('dave') - tokens(10)
  assert.ok(feesAndOpen > 0n && feesAndOpen < tokens(1) / 100n, 'only fees besides the 10 $BASED moved')

  // The owner raises the price after the session was authorized: the session still pays the price it was opened at.
  assert.equal(one(f, 'alice', { kind: 'setBrain', brain: BRAIN, setting: 'queryPrice', text: '', key: EMPTY, value: PRICE * 3n }), '')

  // Settle two receipts (1500 + 1000 units). The owner submits it here (anyone may: the fee is the submitter's).
  const before = { bob: f.based('bob'), carol: f.based('carol'), alice: f.based('alice'), dave: f.based('dave') }
  const r1 = receipt(minerCk, S, 1500, 1)
  const r2 = receipt(minerCk, S, 1000, 2)
  const st = f.tx('alice', settle(S, minerCk, [r1, r2]))
  assert.deepEqual(f.block([st]).failed, [])
  // 2500 units at 1 $BASED / 1000 = 2.5 $BASED: 70 % miner 1.75, 10 % permitted validators 0.25, 20 % owner 0.5.
  assert.equal(f.based('bob') - before.bob, tokens(175) / 100n)
  assert.equal(f.based('carol') - before.carol, tokens(25) / 100n)
  assert.equal(f.based('alice') - before.alice, tokens(1) / 2n - st.tx.fee)
  assert.equal(f.based('dave'), before.dave, 'the payer is charged from the account, not its balance')
  const tab = sessionTabOf(f.ledger, sessionHash(S))
  assert.deepEqual([tab?.settledUnits, tab?.maxUnits, tab?.price, tab?.balance], ['2500', '5000', String(PRICE), String(tokens(10) - tokens(25) / 10n)])
  const m = metagraphOf(f.ledger, BRAIN)
  assert.deepEqual(m?.rows.map((r) => [r.role, r.queryEarned]), [['miner', String(tokens(175) / 100n)], ['validator', String(tokens(25) / 100n)]])
  assert.equal(m?.brain.ownerQueryEarned, String(tokens(1) / 2n))

  // Replays and forgeries fail in the block and move nothing.
  const esc = (): string | undefined => escrowsOf(f.ledger, f.keys.dave!.publicKey).escrows[0]?.balance
  const held = esc()
  assert.equal(one(f, 'bob', settle(S, minerCk, [r1])), 'ReceiptAlreadySettled')
  const r3 = receipt(minerCk, S, 100, 3)
  assert.equal(one(f, 'bob', settle(S, minerCk, [r3, r3])), 'ReceiptAlreadySettled') // twice in one settlement
  const forged = { ...r3, units: 101 }
  assert.equal(one(f, 'bob', settle(S, minerCk, [forged])), 'InvalidReceipt') // units changed after signing
  assert.equal(one(f, 'bob', settle(S, minerCk, [receipt(minerCk, S, 0, 4)])), 'InvalidReceipt')
  assert.equal(one(f, 'bob', settle(S, frankCk, [receipt(frankCk, S, 10, 5)])), 'UnknownParticipant') // not a miner of the Brain
  assert.equal(one(f, 'carol', settle(S, carolCk, [receipt(carolCk, S, 10, 6)])), 'UnknownParticipant') // a validator is not a miner
  assert.equal(one(f, 'bob', settle('bb'.repeat(16), minerCk, [receipt(minerCk, 'bb'.repeat(16), 10, 7)])), 'UnknownEscrow') // no tab
  // The allowance: 2500 settled of 5000, 2501 more is over it.
  assert.equal(one(f, 'bob', settle(S, minerCk, [receipt(minerCk, S, 2501, 8)])), 'EscrowInsufficient')
  assert.equal(esc(), held)

  // The balance: a second session with a large allowance cannot take more than the account holds (7.5 $BASED).
  const S2 = 'cc'.repeat(16)
  assert.equal(one(f, 'dave', authorize(S2, 1_000_000n, PRICE * 3n)), '')
  assert.equal(sessionTabOf(f.ledger, sessionHash(S2))?.price, String(PRICE * 3n), 'a new session pays the new price')
  assert.equal(one(f, 'bob', settle(S2, minerCk, [receipt(minerCk, S2, 2501, 9)])), 'EscrowInsufficient') // 7.503 > 7.5
  assert.equal(one(f, 'bob', settle(S2, minerCk, [receipt(minerCk, S2, 2500, 9)])), '') // exactly 7.5
  assert.equal(esc(), '0')
  assert.equal(auditSupply(f.store).escrowed, 0n)

  // A follower replays every block (failed settlements included) to the same roots.
  const follower = Ledger.open({ store: new MemoryStore(), genesis: f.genesis })
  for (let h = 1; h <= f.ledger.head().height; h++) {
    const b = decodeBlock(f.store.block(h)!)
    follower.applyBlock(b)
    assert.ok(bytesEqual(follower.head().stateRoot, b.header.stateRoot))
  }
  assert.ok(bytesEqual(follower.head().hash, blockHash(decodeBlock(f.store.block(f.ledger.head().height)!).header)))
})

test('withdrawal: announced, refused before the delay, settlements go on meanwhile, then the balance returns', T, () => {
  const f = setup()
  const S = 'dd'.repeat(16)
  assert.equal(one(f, 'dave', { kind: 'escrowOpen', brain: BRAIN, amount: tokens(4) }), '')
  assert.equal(one(f, 'dave', { kind: 'escrowOpen', brain: BRAIN, amount: tokens(1) }), '') // a top-up
  assert.equal(one(f, 'dave', authorize(S, 3000n)), '')
  assert.equal(one(f, 'dave', { kind: 'escrowWithdraw', brain: BRAIN }), 'EscrowLocked') // never announced
  assert.equal(one(f, 'dave', { kind: 'escrowClose', brain: BRAIN }), '')
  const closedAt = f.ledger.head().height
  assert.equal(escrowsOf(f.ledger, f.keys.dave!.publicKey).escrows[0]?.unlockAt, closedAt + DELAY)
  assert.equal(one(f, 'dave', { kind: 'escrowClose', brain: BRAIN }), 'EscrowClosing')
  assert.equal(one(f, 'dave', { kind: 'escrowOpen', brain: BRAIN, amount: tokens(1) }), 'EscrowClosing')
  assert.equal(one(f, 'dave', authorize('ee'.repeat(16), 10n)), 'EscrowClosing')
  // The miner still collects for work already done during the delay.
  assert.equal(one(f, 'bob', settle(S, minerCk, [receipt(minerCk, S, 2000, 1)])), '')
  while (f.ledger.head().height + 1 < closedAt + DELAY) assert.equal(one(f, 'dave', { kind: 'escrowWithdraw', brain: BRAIN }), 'EscrowLocked')
  const before = f.based('dave')
  const tx = f.tx('dave', { kind: 'escrowWithdraw', brain: BRAIN })
  assert.equal(f.block([tx]).failed.length, 0)
  assert.equal(f.based('dave'), before - tx.tx.fee + tokens(3), '5 − 2 settled = 3 $BASED back')
  assert.deepEqual(escrowsOf(f.ledger, f.keys.dave!.publicKey).escrows, [])
  assert.equal(sessionTabOf(f.ledger, sessionHash(S)), undefined, 'its sessions are gone with it')
  assert.equal(one(f, 'bob', settle(S, minerCk, [receipt(minerCk, S, 10, 2)])), 'UnknownEscrow')
  assert.equal(one(f, 'dave', { kind: 'escrowWithdraw', brain: BRAIN }), 'UnknownEscrow')
  assert.equal(auditSupply(f.store).escrowed, 0n)
})

test('no permitted validator: its share goes to the owner; a free Brain charges nothing', T, () => {
  const f = fixture({ params: { tempo: 100_000 } })
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(10_000) }],
    ['bob', { kind: 'register', brain: BRAIN, computeKey: minerCk.publicKey, role: 'miner', maxFee: tokens(1000) }],
    ['alice', { kind: 'setBrain', brain: BRAIN, setting: 'queryPrice', text: '', key: EMPTY, value: 7n }],
    ['dave', { kind: 'escrowOpen', brain: BRAIN, amount: 1000n }],
  )
  const S = 'ab'.repeat(16)
  assert.equal(one(f, 'dave', authorize(S, 10_000n, 7n)), '')
  const alice = f.based('alice')
  const bob = f.based('bob')
  assert.equal(one(f, 'dave', settle(S, minerCk, [receipt(minerCk, S, 999, 1)])), '') // ⌈999·7/1000⌉ = 7 base units
  assert.equal(f.based('bob') - bob, 5n) // 70 % of 7 by largest remainder: 4.9 → 5
  assert.equal(f.based('alice') - alice, 2n) // 0.7 + 1.4 → 2 (validators' share to the owner)
  assert.equal(escrowsOf(f.ledger, f.keys.dave!.publicKey).escrows[0]?.balance, '993')
  // Free: price 0 — a tab still records units, nothing moves.
  run(f, ['alice', { kind: 'setBrain', brain: BRAIN, setting: 'queryPrice', text: '', key: EMPTY, value: 0n }])
  const S2 = 'cd'.repeat(16)
  assert.equal(one(f, 'dave', authorize(S2, 10_000n, 0n)), '')
  assert.equal(one(f, 'dave', settle(S2, minerCk, [receipt(minerCk, S2, 500, 2)])), '')
  assert.equal(escrowsOf(f.ledger, f.keys.dave!.publicKey).escrows[0]?.balance, '993')
})

test('a session costs ⌈units × price / 1000⌉ however its receipts are batched', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }), fc.bigInt({ min: 0n, max: 10n ** 12n }), (parts, price) => {
    let settled = 0n
    let paid = 0n
    for (const u of parts) {
      paid += settlementAmount(settled, BigInt(u), price)
      settled += BigInt(u)
    }
    assert.equal(paid, queryCost(settled, price))
    assert.equal(paid, (settled * price + 999n) / 1000n)
  }), { seed: 14, numRuns: 300 })
})

test('random escrow traffic: every account balance equals deposits − settlements − withdrawals, supply after every block, replay', T, () => {
  const minerKeys = [testKeyPair('prop-miner-7'), testKeyPair('prop-miner-8')]
  const applied = new Map<string, number>()
  const failures = new Map<string, number>()
  const sessionOf = (payer: number, brain: number, s: number): string => toHex(sha256(new TextEncoder().encode(`session ${payer} ${brain} ${s}`))).slice(0, 32)
  fc.assert(fc.property(fc.array(fc.array(fc.record({
    op: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.constant(1) }, { weight: 6, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.constant(3) },
      { weight: 2, arbitrary: fc.constant(4) }, { weight: 1, arbitrary: fc.constant(5) }),
    payer: fc.nat({ max: 1 }), brain: fc.nat({ max: 1 }), s: fc.nat({ max: 1 }),
    amount: fc.bigInt({ min: 1n, max: tokens(3) }), units: fc.integer({ min: 1, max: 3000 }), flag: fc.nat({ max: 5 }),
  }), { minLength: 3, maxLength: 6 }), { minLength: 15, maxLength: 30 }), (blocks) => {
    const f = fixture({ params: { tempo: 100_000, escrowWithdrawDelay: 3 } })
    run(f,
      ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(10_000) }],
      ['bob', { kind: 'acquireBrainBurn', maxCost: tokens(10_000) }],
      ['bob', { kind: 'register', brain: 7, computeKey: minerKeys[0]!.publicKey, role: 'miner', maxFee: tokens(1000) }],
      ['carol', { kind: 'register', brain: 8, computeKey: minerKeys[1]!.publicKey, role: 'miner', maxFee: tokens(1000) }],
      ['alice', { kind: 'register', brain: 7, computeKey: carolCk.publicKey, role: 'validator', maxFee: tokens(1000) }],
      ['alice', { kind: 'addStake', brain: 7, target: carolCk.publicKey, amount: tokens(10) }],
    )
    const payers = ['dave', 'erin'] as const
    // erin is funded here (the fixture's default accounts do not include her).
    run(f, ['dave', { kind: 'transfer', to: f.keys.erin!.publicKey, amount: tokens(50) }])
    const model = new Map<string, bigint>() // `${payer}:${brain}` → balance
    const tabs = new Map<string, { key: string; maxUnits: bigint; price: bigint; settled: bigint }>()
    const price = new Map<number, bigint>([[7, 0n], [8, 0n]])
    let seq = 0
    let lastSettle: Extract<TxBody, { kind: 'escrowSettle' }> | undefined
    for (const acts of blocks) {
      const used = new Set<string>()
      const txs: Array<{ tx: ReturnType<Fixture['tx']>; effect: () => void }> = []
      for (const a of acts) {
        const brain = 7 + a.brain
        const payer = payers[a.payer]!
        const key = `${payer}:${brain}`
        const session = sessionOf(a.payer, brain, a.s)
        const h = sessionHash(session)
        let who: string = payer
        let body: TxBody
        let effect: () => void
        switch (a.op) {
          case 0:
            body = { kind: 'escrowOpen', brain, amount: a.amount }
            effect = () => model.set(key, (model.get(key) ?? 0n) + a.amount)
            break
          case 1: {
            const maxUnits = BigInt(a.units * (1 + a.flag))
            body = { kind: 'escrowAuthorize', brain, sessionHash: Buffer.from(h, 'hex'), maxUnits, maxPrice: a.flag === 0 ? 0n : tokens(1) }
            effect = () => tabs.set(h, { key, maxUnits, price: price.get(brain)!, settled: 0n })
            break
          }
          case 2: {
            // Mostly a fresh receipt of the Brain's own miner; sometimes the other Brain's miner (not a miner here), or
            // the last settlement again (a replay).
            const replay = a.flag === 4 && lastSettle !== undefined
            const mk = minerKeys[a.flag === 5 ? 1 - a.brain : a.brain]!
            const sb = replay && lastSettle ? lastSettle : { kind: 'escrowSettle' as const, brain, session, computeKey: mk.publicKey, receipts: [receipt(mk, session, a.units, ++seq)] }
            lastSettle = sb
            const th = sessionHash(sb.session)
            const units = BigInt(sb.receipts[0]!.units)
            who = a.payer === 0 ? 'bob' : 'carol'
            body = sb
            effect = () => {
              const t = tabs.get(th)!
              const amount = settlementAmount(t.settled, units, t.price)
              model.set(t.key, model.get(t.key)! - amount)
              t.settled += units
              if (t.settled === t.maxUnits) tabs.delete(th)
            }
            break
          }
          case 3:
            body = { kind: 'escrowClose', brain }
            effect = () => undefined
            break
          case 4:
            body = { kind: 'escrowWithdraw', brain }
            effect = () => {
              model.delete(key)
              for (const [th, t] of tabs) if (t.key === key) tabs.delete(th)
            }
            break
          default: {
            const p = a.amount % 3n === 0n ? 0n : a.amount / 1000n
            who = brain === 7 ? 'alice' : 'bob'
            body = { kind: 'setBrain', brain, setting: 'queryPrice', text: '', key: EMPTY, value: p }
            effect = () => price.set(brain, p)
          }
        }
        if (used.has(who)) continue
        used.add(who)
        txs.push({ tx: f.tx(who, body), effect })
      }
      const r = f.block(txs.map((x) => x.tx), { allowReject: true }) // audits supply
      const byHash = new Map(txs.map((x) => [toHex(x.tx.hash), x]))
      for (const rc of r.receipts) {
        const x = byHash.get(toHex(rc.hash))!
        const kind = x.tx.tx.body.kind
        if (rc.error) failures.set(rc.error._tag, (failures.get(rc.error._tag) ?? 0) + 1)
        else {
          applied.set(kind, (applied.get(kind) ?? 0) + 1)
          x.effect()
        }
      }
      for (const p of payers) {
        const got = new Map(escrowsOf(f.ledger, f.keys[p]!.publicKey).escrows.map((e) => [`${p}:${e.brain}`, BigInt(e.balance)]))
        for (const b of [7, 8]) assert.equal(got.get(`${p}:${b}`), model.get(`${p}:${b}`), `${p} on Brain ${b}`)
      }
      assert.equal(auditSupply(f.store).escrowed, [...model.values()].reduce((s, v) => s + v, 0n))
    }
    const follower = Ledger.open({ store: new MemoryStore(), genesis: f.genesis })
    for (let h = 1; h <= f.ledger.head().height; h++) follower.applyBlock(decodeBlock(f.store.block(h)!))
    assert.ok(bytesEqual(follower.head().stateRoot, f.ledger.head().stateRoot))
  }), { seed: 7, numRuns: 25 })
  // The generator must reach every path: each kind applied, and the typed failures of settlement and withdrawal.
  for (const k of ["escrowOpen", "escrowAuthorize", "escrowSettle", "escrowClose", "escrowWithdraw"]) assert.ok((applied.get(k) ?? 0) > 3, `${k} applied ${applied.get(k) ?? 0}: ${JSON.stringify([...applied])} ${JSON.stringify([...failures])}`)
  for (const tag of ['UnknownEscrow', 'EscrowInsufficient', 'EscrowLocked', 'EscrowClosing', 'ReceiptAlreadySettled', 'UnknownParticipant']) {
    assert.ok((failures.get(tag) ?? 0) > 0, `${tag} never failed: ${JSON.stringify([...failures])}`)
  }
})
