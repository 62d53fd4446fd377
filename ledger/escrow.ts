/**
 * Spending accounts (whitepaper §3.5.1: "payments of $BASED can be facilitated through spending accounts that
 * authorize $BASED allocations for activities like prompt submissions … on behalf of users"), executed inside
 * apply.ts like every other transaction body. docs/LEDGER.md "Spending accounts" has the whole design; in short:
 *
 * - A Brain owner sets a price per 1,000 compute units (`setBrain queryPrice`; a compute unit is one ciphertext ×
 *   plaintext product, what a miner's receipt counts).
 * - A payer moves $BASED into a spending account on that Brain (`escrowOpen`, also a top-up), then authorizes each
 *   session it runs (`escrowAuthorize`: the SHA-256 of the session id, an allowance in compute units, the most it
 *   accepts to pay per 1,000 units). The tab records the price at that moment, so a later price change does not
 *   touch a session already authorized.
 * - A miner checks the tab and the account on the ledger before any work (actors/miner-escrow.ts) and signs a
 *   receipt for each answered request. `escrowSettle` (anyone may submit it) pays the receipts of one session from
 *   the account: each signature is verified under the miner's compute key, which must be a miner registered on the
 *   Brain; each receipt's hash is recorded (`z:`), so a receipt is paid once; the units must fit the tab's allowance
 *   and the amount the balance. Amount for a session = ⌈units × price / 1000⌉, charged incrementally as
 *   cost(settled + new) − cost(settled), so batching never changes the total.
 * - The amount is split by largest remainder: `queryMinerBps` (70 %) to the personal key that registered the
 *   miner, `queryValidatorBps` (10 %) to the Brain's permitted validators by pool stake (none permitted: to the
 *   owner), the rest (20 %) to the Brain's `rewardTo`. Each recipient's running total is kept per uid (`g:`), shown
 *   by the metagraph.
 * - Withdrawal: `escrowClose` announces it; after `escrowWithdrawDelay` blocks `escrowWithdraw` returns the
 *   balance. While closing, settlements still run (miners have the delay to claim work already done); top-ups and
 *   new sessions are refused (`EscrowClosing`), and miners refuse new work on it.
 *
 * Supply: the balances of spending accounts are part of the held supply (audit.ts); every transfer here moves an
 * amount from one holder to another, nothing is created or lost.
 */
import { toHex } from './codec.ts'
import {
  EscrowClosing, EscrowInsufficient, EscrowLocked, InvalidAmount, InvalidReceipt, PermissionDenied, QueryPriceAboveMax,
  ReceiptAlreadySettled, UnknownBrain, UnknownEscrow, UnknownParticipant,
} from './errors.ts'
import { sha256, verify } from './keys.ts'
import { activeMask, splitProportional } from './math.ts'
import type { Params } from './params.ts'
import type { Escrow } from './records.ts'
import type { State } from './state.ts'
import type { TxBody } from './tx.ts'
import { receiptSigningBytes } from '../protocol/fhe-messages.ts'

/** Most sessions open at once on one spending account (each is a tab; exhausted and withdrawn tabs are deleted). */
export const MAX_OPEN_TABS = 1024
/** Compute units per price unit: prices are per 1,000 units. */
export const UNITS_PER_PRICE = 1000n

const utf8 = new TextEncoder()

/** The key of a session's tab: SHA-256 of the session id's UTF-8 bytes, hex. */
export function sessionHash(session: string): string {
  return toHex(sha256(utf8.encode(session)))
}

/** $BASED base units for `units` compute units at `price` per 1,000 (rounded up). */
export function queryCost(units: bigint, price: bigint): bigint {
  return (units * price + UNITS_PER_PRICE - 1n) / UNITS_PER_PRICE
}

/** What settling `units` more on a tab that has settled `settled` costs (batching never changes a session's total). */
export function settlementAmount(settled: bigint, units: bigint, price: bigint): bigint {
  return queryCost(settled + units, price) - queryCost(settled, price)
}

type EscrowBody = Extract<TxBody, { kind: 'escrowOpen' | 'escrowAuthorize' | 'escrowClose' | 'escrowWithdraw' | 'escrowSettle' }>

function account(st: State, payerHex: string, brain: number, session = ''): Escrow {
  const e = st.escrow(payerHex, brain)
  if (!e) throw new UnknownEscrow({ payer: payerHex, brain, session })
  return e
}

/** Executes one escrow transaction body (apply.ts); throws a typed error, leaving the caller's overlay to discard. */
export function execEscrow(st: State, from: Uint8Array, fromHex: string, b: EscrowBody, height: number, p: Params): void {
  switch (b.kind) {
    case 'escrowOpen': {
      if (b.amount <= 0n) throw new InvalidAmount({ field: 'amount', reason: 'must be positive' })
      if (!st.brain(b.brain)) throw new UnknownBrain({ brain: b.brain })
      const e = st.escrow(fromHex, b.brain) ?? { balance: 0n, unlockAt: 0, tabs: [] }
      if (e.unlockAt !== 0) throw new EscrowClosing({ brain: b.brain, unlockAt: e.unlockAt })
      st.debit(fromHex, 'based', b.amount)
      e.balance += b.amount
      st.setEscrow(fromHex, b.brain, e)
      return
    }
    case 'escrowAuthorize': {
      const brain = st.brain(b.brain)
      if (!brain) throw new UnknownBrain({ brain: b.brain })
      const e = account(st, fromHex, b.brain)
      if (e.unlockAt !== 0) throw new EscrowClosing({ brain: b.brain, unlockAt: e.unlockAt })
      if (b.maxUnits <= 0n) throw new InvalidAmount({ field: 'maxUnits', reason: 'must be positive' })
      if (brain.queryPrice > b.maxPrice) throw new QueryPriceAboveMax({ price: String(brain.queryPrice), maxPrice: String(b.maxPrice) })
      const h = toHex(b.sessionHash)
      if (st.tab(h)) throw new PermissionDenied({ reason: 'this session is already authorized (session ids are single-use)' })
      if (e.tabs.length >= MAX_OPEN_TABS) throw new PermissionDenied({ reason: `at most ${MAX_OPEN_TABS} open sessions per spending account` })
      st.setTab(h, { payer: from, brain: b.brain, maxUnits: b.maxUnits, price: brain.queryPrice, settledUnits: 0n })
      e.tabs.push(b.sessionHash)
      st.setEscrow(fromHex, b.brain, e)
      return
    }
    case 'escrowClose': {
      const e = account(st, fromHex, b.brain)
      if (e.unlockAt !== 0) throw new EscrowClosing({ brain: b.brain, unlockAt: e.unlockAt })
      e.unlockAt = height + p.escrowWithdrawDelay
      st.setEscrow(fromHex, b.brain, e)
      return
    }
    case 'escrowWithdraw': {
      const e = account(st, fromHex, b.brain)
      if (e.unlockAt === 0 || height < e.unlockAt) throw new EscrowLocked({ brain: b.brain, unlockAt: e.unlockAt, height })
      for (const t of e.tabs) st.setTab(toHex(t), undefined)
      st.credit(fromHex, 'based', e.balance)
      st.setEscrow(fromHex, b.brain, undefined)
      return
    }
    case 'escrowSettle':
      settle(st, b, p)
      return
  }
}

function settle(st: State, b: Extract<TxBody, { kind: 'escrowSettle' }>, p: Params): void {
  const h = sessionHash(b.session)
  const tab = st.tab(h)
  if (!tab || tab.brain !== b.brain) throw new UnknownEscrow({ payer: tab ? toHex(tab.payer) : '', brain: b.brain, session: b.session })
  const payerHex = toHex(tab.payer)
  const e = account(st, payerHex, b.brain, b.session)
  const brain = st.brain(b.brain)
  if (!brain) throw new UnknownBrain({ brain: b.brain })
  const ckHex = toHex(b.computeKey)
  const miner = st.participant(b.brain, ckHex)
  if (!miner || miner.role !== 'miner') throw new UnknownParticipant({ brain: b.brain, key: ckHex })
  let units = 0n
  const seen = new Set<string>()
  b.receipts.forEach((r, i) => {
    if (r.units === 0) throw new InvalidReceipt({ index: i, reason: 'a receipt of 0 units pays nothing' })
    const bytes = receiptSigningBytes({ session: b.session, units: r.units, request: toHex(r.request), computeKey: ckHex })
    if (!verify(b.computeKey, bytes, r.signature)) throw new InvalidReceipt({ index: i, reason: 'the signature does not verify under the miner\'s compute key' })
    const id = toHex(sha256(bytes))
    if (seen.has(id) || st.receiptSettled(id)) throw new ReceiptAlreadySettled({ receipt: id })
    seen.add(id)
    units += BigInt(r.units)
  })
  if (tab.settledUnits + units > tab.maxUnits)
    throw new EscrowInsufficient({ payer: payerHex, brain: b.brain, asset: 'units', needed: String(tab.settledUnits + units), available: String(tab.maxUnits) })
  const amount = settlementAmount(tab.settledUnits, units, tab.price)
  if (e.balance < amount) throw new EscrowInsufficient({ payer: payerHex, brain: b.brain, asset: 'based', needed: String(amount), available: String(e.balance) })
  for (const id of seen) st.markReceiptSettled(id)
  tab.settledUnits += units
  e.balance -= amount
  // A tab whose allowance is used up is done: delete it (its receipts stay recorded, so none can be paid twice).
  if (tab.settledUnits === tab.maxUnits) {
    st.setTab(h, undefined)
    e.tabs = e.tabs.filter((t) => toHex(t) !== h)
  } else st.setTab(h, tab)
  st.setEscrow(payerHex, b.brain, e)
  payShares(st, b.brain, ckHex, amount, p)
}

/** Splits a settlement: miner / permitted validators by pool stake / owner (see module doc). */
function payShares(st: State, brainId: number, minerKeyHex: string, amount: bigint, p: Params): void {
  if (amount === 0n) return
  const brain = st.brain(brainId)
  const miner = st.participant(brainId, minerKeyHex)
  if (!brain || !miner) return
  const ownerBps = BigInt(10_000 - p.queryMinerBps - p.queryValidatorBps)
  const [minerPart = 0n, validatorPart = 0n, ownerPartBase = 0n] = splitProportional(amount, [BigInt(p.queryMinerBps), BigInt(p.queryValidatorBps), ownerBps])
  let ownerPart = ownerPartBase
  st.credit(toHex(miner.owner), 'based', minerPart)
  st.addQueryEarnings(brainId, minerKeyHex, minerPart)
  const validators = st.members(brainId, 'validator').map((k) => ({ key: toHex(k), part: st.participant(brainId, toHex(k)) }))
  const stakes = validators.map((v) => v.part?.stake ?? 0n)
  const permit = activeMask(stakes, p.activeValidatorPercentile)
  const paid = validators.filter((_, i) => permit[i])
  if (paid.length === 0 || validatorPart === 0n) ownerPart += validatorPart
  else {
    const parts = splitProportional(validatorPart, paid.map((v) => v.part?.stake ?? 0n))
    paid.forEach((v, i) => {
      const x = parts[i] ?? 0n
      if (!v.part) return
      st.credit(toHex(v.part.owner), 'based', x)
      st.addQueryEarnings(brainId, v.key, x)
    })
  }
  st.credit(toHex(brain.rewardTo), 'based', ownerPart)
  st.addQueryEarnings(brainId, OWNER_EARNINGS, ownerPart)
}

/** The query-earnings entry of the Brain's owner (its `rewardTo`), beside one per uid's compute key. */
export const OWNER_EARNINGS = '-'
