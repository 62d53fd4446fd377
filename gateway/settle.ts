/**
 * Paying for encrypted work (whitepaper §3.5.1, compute units): a session counts the compute units its miner
 * performed — ciphertext × plaintext products, the same count the FHE planner reports — and the client pays the
 * miner's owner `units × pricePerUnit` $BASED with one signed transfer on the ledger when the session ends.
 *
 * The miner's owner is looked up on the ledger from the compute key the miner reports (its registration), so a
 * client pays the account that registered the miner, not whatever address a miner might claim. The price is the
 * client's offer (default DEV_PRICE_PER_UNIT); a market for it, and escrow before the work, are not built.
 *
 * `settleReceipts` pays on the miner's own signed counts (the receipts an EncryptedSession collected and checked):
 * it verifies every signature again, requires one compute key for all, and pays the sum of their units to the owner
 * registered for that key. `settleComputeUnits` pays a given count to a given compute key (the CLI's call).
 */
import { fromAddress, fromHex, signTx, toAddress, verify, withMinFee, type KeyPair } from '../ledger/index.ts'
import { HandlerError, receiptSigningBytes, type ComputeReceipt, type Message, type ReplyFor } from '../protocol/index.ts'
import { ReceiptRejected } from './errors.ts'

/** 0.001 $BASED per compute unit (smallest units: 10^9 per $BASED). */
export const DEV_PRICE_PER_UNIT = 1_000_000n

/** How to reach the ledger actor: an ActorRef's `ask`, or the control endpoint's (`askControl`). */
export type LedgerAsk = <Q extends Message>(msg: Q) => Promise<ReplyFor<Q>>

export interface Settlement {
  readonly units: number
  readonly amount: bigint
  readonly to: string
  readonly brain: number
  readonly tx: string
}

/** Finds the miner's registration by compute key (on any Brain) and pays its owner for `units`. */
export async function settleComputeUnits(
  l: LedgerAsk,
  payer: KeyPair,
  minerComputeKey: string,
  units: number,
  pricePerUnit: bigint = DEV_PRICE_PER_UNIT,
): Promise<Settlement> {
  if (!Number.isSafeInteger(units) || units <= 0) throw new HandlerError({ actor: 'gateway', tag: 'NothingToPay', message: `units must be a positive integer, got ${units}` })
  if (pricePerUnit <= 0n) throw new HandlerError({ actor: 'gateway', tag: 'InvalidPrice', message: 'price per unit must be positive' })
  let found: { brain: number; owner: string } | undefined
  for (const brain of (await l({ _tag: 'GetBrains' })).ids) {
    try {
      const p = await l({ _tag: 'GetParticipant', brain, computeKey: minerComputeKey })
      if (p.role === 'miner') {
        found = { brain, owner: p.owner }
        break
      }
    } catch {
      // not registered on this Brain
    }
  }
  if (!found) throw new HandlerError({ actor: 'gateway', tag: 'UnknownMiner', message: `compute key ${minerComputeKey.slice(0, 16)}… is not registered as a miner` })
  const head = await l({ _tag: 'GetHead' })
  const account = await l({ _tag: 'GetAccount', address: toAddress(payer.publicKey) })
  const amount = BigInt(units) * pricePerUnit
  const to = found.owner
  const tx = signTx(
    withMinFee(
      { chainId: head.chainId, from: payer.publicKey, nonce: BigInt(account.nextNonce), body: { kind: 'transfer', to: fromAddress(to), amount } },
      BigInt(head.baseFee),
      BigInt(head.byteFee),
    ),
    payer.secretKey,
  )
  const accepted = await l({ _tag: 'SubmitTx', tx: tx.bytes })
  return { units, amount, to, brain: found.brain, tx: accepted.hash }
}

/**
 * Pays for a session's work on the miner's signed receipts: each signature verified, one compute key for all, the
 * sum of their units at `pricePerUnit` to the owner registered for that key. `ReceiptRejected` on a bad receipt.
 */
export async function settleReceipts(
  l: LedgerAsk,
  payer: KeyPair,
  receipts: readonly ComputeReceipt[],
  pricePerUnit: bigint = DEV_PRICE_PER_UNIT,
): Promise<Settlement> {
  const first = receipts[0]
  if (!first) throw new ReceiptRejected({ reason: 'empty', detail: 'no receipts to settle' })
  let units = 0
  for (const r of receipts) {
    if (r.computeKey !== first.computeKey) throw new ReceiptRejected({ reason: 'key', detail: 'receipts signed by more than one compute key' })
    const { signature, ...unsigned } = r
    if (!verify(fromHex(r.computeKey), receiptSigningBytes(unsigned), fromHex(signature))) {
      throw new ReceiptRejected({ reason: 'signature', detail: 'a receipt\'s signature does not verify' })
    }
    units += r.units
  }
  return settleComputeUnits(l, payer, first.computeKey, units, pricePerUnit)
}
