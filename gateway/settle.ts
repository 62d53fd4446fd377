/**
 * Paying for encrypted work from a spending account (whitepaper §3.5.1; ledger/escrow.ts, docs/LEDGER.md
 * "Spending accounts"). A session counts compute units — ciphertext × plaintext products — in the receipts its
 * miner signs (gateway/encrypted.ts checks each one); the ledger pays those receipts from the payer's spending
 * account on the Brain, at the Brain's price per 1,000 units as it was when the session was authorized, split
 * between the miner, the Brain's validators and its owner.
 *
 * - `minerBrains` / `minerBrain`: the Brains a miner's compute key is registered on (a session is paid on one of them).
 * - `authorizeSession`: signs `escrowAuthorize` for a session id (its SHA-256 goes on the ledger) with an allowance
 *   in units and the most the payer accepts per 1,000 units. A miner checks it before any work (actors/miner-escrow.ts).
 * - `settleReceipts`: signs `escrowSettle` transactions carrying the miner's receipts (≤ 256 per transaction). The
 *   counts paid are the miner's signed ones — the ledger verifies every signature again, records every receipt so
 *   none is paid twice, and refuses units beyond the allowance or an amount beyond the balance. Anyone may submit
 *   (the fee is the submitter's): the client after its session, or the miner's owner to collect.
 *
 * Errors: `ReceiptRejected` (gateway/errors.ts) for receipts that cannot be settled as given; the ledger's own
 * refusals arrive as `LedgerRejection` (e.g. UnknownEscrow, EscrowInsufficient, ReceiptAlreadySettled).
 */
import { fromHex, signTx, toAddress, verify, withMinFee, type KeyPair, type TxBody } from '../ledger/index.ts'
import { sessionHash, settlementAmount } from '../ledger/escrow.ts'
import { MAX_SETTLE_RECEIPTS } from '../ledger/tx.ts'
import { LedgerRejection, receiptSigningBytes, type ComputeReceipt, type Message, type ReplyFor } from '../protocol/index.ts'
import { ReceiptRejected } from './errors.ts'

/** How to reach the ledger actor: an ActorRef's `ask`, or the control endpoint's (`askControl`). */
export type LedgerAsk = <Q extends Message>(msg: Q) => Promise<ReplyFor<Q>>

export interface Settlement {
  /** Compute units paid (the sum of the receipts' signed counts). */
  readonly units: number
  /** $BASED base units the account pays for them (at the session's recorded price). */
  readonly amount: bigint
  readonly brain: number
  readonly session: string
  /** The miner's compute key (hex). */
  readonly computeKey: string
  /** Hashes of the escrowSettle transactions submitted (one per ≤ 256 receipts). */
  readonly txs: readonly string[]
}

/** Every Brain on which `computeKey` (hex) is registered as a miner, ascending. */
export async function minerBrains(l: LedgerAsk, computeKey: string): Promise<number[]> {
  const out: number[] = []
  for (const brain of (await l({ _tag: 'GetBrains' })).ids) {
    try {
      if ((await l({ _tag: 'GetParticipant', brain, computeKey })).role === 'miner') out.push(brain)
    } catch (e) {
      if (!(e instanceof LedgerRejection && e.reason === 'UnknownParticipant')) throw e
    }
  }
  return out
}

/** The first Brain on which `computeKey` (hex) is registered as a miner; LedgerRejection UnknownParticipant when none. */
export async function minerBrain(l: LedgerAsk, computeKey: string): Promise<number> {
  const [brain] = await minerBrains(l, computeKey)
  if (brain !== undefined) return brain
  throw new LedgerRejection({ actor: 'gateway', reason: 'UnknownParticipant', message: `compute key ${computeKey.slice(0, 16)}… is not registered as a miner`, detail: { key: computeKey } })
}

/** Signs `bodies` from `key` with consecutive nonces (queued transactions counted) and the minimum fee; submits them. */
async function submitAll(l: LedgerAsk, key: KeyPair, bodies: readonly TxBody[]): Promise<string[]> {
  const head = await l({ _tag: 'GetHead' })
  let nonce = BigInt((await l({ _tag: 'GetAccount', address: toAddress(key.publicKey) })).nextNonce)
  const out: string[] = []
  for (const body of bodies) {
    const tx = signTx(withMinFee({ chainId: head.chainId, from: key.publicKey, nonce: nonce++, body }, BigInt(head.baseFee), BigInt(head.byteFee)), key.secretKey)
    out.push((await l({ _tag: 'SubmitTx', tx: tx.bytes })).hash)
  }
  return out
}

/**
 * Authorizes `session` to be charged from the payer's spending account on `brain`, for at most `maxUnits` compute
 * units at a price ≤ `maxPrice` per 1,000 (default: the Brain's current price). Returns the transaction's hash
 * (admitted; included in the next block).
 */
export async function authorizeSession(
  l: LedgerAsk,
  payer: KeyPair,
  opts: { readonly brain: number; readonly session: string; readonly maxUnits: bigint; readonly maxPrice?: bigint },
): Promise<string> {
  const maxPrice = opts.maxPrice ?? BigInt((await l({ _tag: 'GetMetagraph', brain: opts.brain })).brain.queryPrice)
  const [hash] = await submitAll(l, payer, [{ kind: 'escrowAuthorize', brain: opts.brain, sessionHash: fromHex(sessionHash(opts.session)), maxUnits: opts.maxUnits, maxPrice }])
  return hash as string
}

/**
 * Pays a session's receipts from its payer's spending account (see the module doc). Every signature is checked here
 * first, all receipts must name one session and one compute key (`ReceiptRejected` otherwise), and the Brain is
 * the one the tab names. `submitter` signs and pays the fees.
 */
export async function settleReceipts(l: LedgerAsk, submitter: KeyPair, receipts: readonly ComputeReceipt[]): Promise<Settlement> {
  const first = receipts[0]
  if (!first) throw new ReceiptRejected({ reason: 'empty', detail: 'no receipts to settle' })
  let units = 0
  for (const r of receipts) {
    if (r.computeKey !== first.computeKey) throw new ReceiptRejected({ reason: 'key', detail: 'receipts signed by more than one compute key' })
    if (r.session !== first.session || r.session === '') throw new ReceiptRejected({ reason: 'session', detail: 'receipts of more than one session (or of none)' })
    const { signature, ...unsigned } = r
    if (!verify(fromHex(r.computeKey), receiptSigningBytes(unsigned), fromHex(signature))) {
      throw new ReceiptRejected({ reason: 'signature', detail: 'a receipt\'s signature does not verify' })
    }
    units += r.units
  }
  const tab = await l({ _tag: 'GetSessionTab', sessionHash: sessionHash(first.session) })
  const bodies: TxBody[] = []
  for (let i = 0; i < receipts.length; i += MAX_SETTLE_RECEIPTS) {
    bodies.push({
      kind: 'escrowSettle', brain: tab.brain, session: first.session, computeKey: fromHex(first.computeKey),
      receipts: receipts.slice(i, i + MAX_SETTLE_RECEIPTS).map((r) => ({ units: r.units, request: fromHex(r.request), signature: fromHex(r.signature) })),
    })
  }
  const txs = await submitAll(l, submitter, bodies)
  const amount = settlementAmount(BigInt(tab.settledUnits), BigInt(units), BigInt(tab.price))
  return { units, amount, brain: tab.brain, session: first.session, computeKey: first.computeKey, txs }
}
