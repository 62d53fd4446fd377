/**
 * The mempool of the ledger actor: admission before inclusion, per-sender nonce lanes, and a bounded log of what
 * became of every transaction (receipts).
 *
 * Admission ({@link Mempool.admit}) decodes the transaction and runs it through apply.ts's `applyTx` — the very code
 * a block executes — over the sender's *lane*: an {@link Overlay} of the committed state with that sender's queued
 * transactions already applied, in nonce order. So the chain id, the signature, the fee rule, the nonce (the next
 * one after the sender's queued ones), the balance (fee + amount, counting what the sender already has queued) and
 * every per-kind rule (zero amount, unknown Brain, not the owner, …) are checked exactly as execution checks them,
 * and a failure is the same typed error ({@link TxError}), returned at once. Nothing is written to the ledger.
 *
 * Lanes see only their own sender's queued transactions, not other senders' (as in Ethereum): a transaction whose
 * outcome depends on another sender's queued one (two burns racing for the same price, two registrations for the
 * last slot) can pass admission and then fail in the block. It is then included, its fee paid and its nonce
 * consumed, its body not applied, and its receipt carries the typed reason (apply.ts `executeTx`). A failed body
 * consumes the nonce, so the sender's later transactions still run: one bad transaction cannot sink the rest.
 * A sender's balance only goes down through its own transactions, so an admitted transaction can always pay its
 * fee; it can only become unchargeable if governance changes the fee rule between admission and inclusion. Such a
 * transaction (and the same sender's later ones, whose nonces now have a gap) is dropped with a `dropped` receipt.
 *
 * Blocks take the queue in arrival order (which is nonce order within each sender), at most `maxBlockTxs` at a
 * time; the rest stays queued and the lanes are rebuilt over the new state ({@link Mempool.afterBlock}).
 * The mempool and the receipts live in memory: after a restart both are empty (resubmitting is safe, nonces make
 * a duplicate fail), and the status of an older transaction is `unknown`.
 */
import { toHex } from './codec.ts'
import { applyTx } from './apply.ts'
import { isTxError, MempoolFull, type TxError } from './errors.ts'
import { Overlay } from './kv.ts'
import type { Ledger } from './ledger.ts'
import { decodeTx, type PreparedTx } from './tx.ts'

export interface MempoolOptions {
  /** Most transactions queued at once (default 10,000). */
  readonly maxSize?: number
  /** Most transactions one block takes (default 5,000). */
  readonly maxBlockTxs?: number
}

interface Lane {
  /** Committed state + this sender's queued transactions applied. */
  view: Overlay
  /** Next nonce after the queued ones. */
  next: bigint
}

/** A queued transaction that no longer passes its checks after a block (see module doc). */
export interface Dropped {
  readonly tx: PreparedTx
  readonly error: TxError
}

export class Mempool {
  readonly maxSize: number
  readonly maxBlockTxs: number
  private readonly ledger: Ledger
  private readonly proposer: Uint8Array
  private queue: PreparedTx[] = []
  private readonly lanes = new Map<string, Lane>()
  private readonly hashes = new Set<string>()

  constructor(ledger: Ledger, proposer: Uint8Array, opts: MempoolOptions = {}) {
    this.ledger = ledger
    this.proposer = proposer
    this.maxSize = opts.maxSize ?? 10_000
    this.maxBlockTxs = opts.maxBlockTxs ?? 5_000
  }

  get size(): number {
    return this.queue.length
  }
  has(hashHex: string): boolean {
    return this.hashes.has(hashHex)
  }
  /** The nonce the sender's next transaction must carry (committed nonce + queued transactions). */
  nextNonce(publicKey: Uint8Array): bigint {
    return this.lanes.get(toHex(publicKey))?.next ?? this.ledger.nonce(publicKey)
  }

  /**
   * Admits a transaction (wire bytes) or throws why not: {@link MempoolFull}, `MalformedTx` (undecodable), or the
   * typed error its execution in the next block would end with.
   */
  admit(bytes: Uint8Array): PreparedTx {
    if (this.queue.length >= this.maxSize) throw new MempoolFull({ max: this.maxSize })
    const t = decodeTx(bytes)
    const who = toHex(t.tx.from)
    const lane = this.lanes.get(who) ?? { view: new Overlay(this.ledger.store), next: 0n }
    this.check(lane, t, false)
    this.queue.push(t)
    this.hashes.add(toHex(t.hash))
    lane.next = t.tx.nonce + 1n
    this.lanes.set(who, lane)
    return t
  }

  /** Runs `t` over the lane (same code as execution); on success its writes stay in the lane. */
  private check(lane: Lane, t: PreparedTx, signatureVerified: boolean): void {
    const ctx = { ...this.ledger.nextBlockContext(this.proposer), feeSink: { total: 0n } }
    const r = applyTx(lane.view, t, ctx, { signatureVerified })
    if (!r.ok) throw r.error
  }

  /** Removes and returns the next block's transactions (arrival order, at most `maxBlockTxs`). */
  take(): PreparedTx[] {
    const txs = this.queue.slice(0, this.maxBlockTxs)
    this.queue = this.queue.slice(txs.length)
    for (const t of txs) this.hashes.delete(toHex(t.hash))
    return txs
  }

  /**
   * After a block committed: rebuilds every lane over the new state from the transactions still queued (their
   * signatures were checked at admission). Returns the ones that no longer pass, which leave the queue.
   */
  afterBlock(): Dropped[] {
    this.lanes.clear()
    const dropped: Dropped[] = []
    const kept: PreparedTx[] = []
    for (const t of this.queue) {
      const who = toHex(t.tx.from)
      const lane = this.lanes.get(who) ?? { view: new Overlay(this.ledger.store), next: 0n }
      try {
        this.check(lane, t, true)
      } catch (e) {
        if (!isTxError(e)) throw e
        dropped.push({ tx: t, error: e })
        this.hashes.delete(toHex(t.hash))
        continue
      }
      lane.next = t.tx.nonce + 1n
      this.lanes.set(who, lane)
      kept.push(t)
    }
    this.queue = kept
    return dropped
  }
}

/** What became of a transaction, as far as this node knows. */
export type TxFate =
  | { readonly status: 'included'; readonly height: number }
  | { readonly status: 'failed'; readonly height: number; readonly error: TxError }
  | { readonly status: 'dropped'; readonly error: TxError }

/** A bounded, insertion-ordered log of transaction fates (the oldest is forgotten first). */
export class ReceiptLog {
  readonly max: number
  private readonly fates = new Map<string, TxFate>()
  constructor(max = 100_000) {
    this.max = max
  }
  get size(): number {
    return this.fates.size
  }
  record(hashHex: string, fate: TxFate): void {
    this.fates.delete(hashHex)
    this.fates.set(hashHex, fate)
    while (this.fates.size > this.max) {
      const oldest = this.fates.keys().next()
      if (oldest.done) break
      this.fates.delete(oldest.value)
    }
  }
  get(hashHex: string): TxFate | undefined {
    return this.fates.get(hashHex)
  }
}
