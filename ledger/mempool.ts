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
 * time; the rest stays queued and the lanes are rebuilt over the new state ({@link Mempool.afterBlock}). A consensus
 * node, whose blocks may come from another proposer, reads the head of the queue without taking it
 * ({@link Mempool.peek}) and after each committed block removes the block's transactions and re-checks only the lanes
 * whose sender's state the block changed ({@link Mempool.afterCommit}).
 *
 * Each signature is verified once per node: a transaction that passed admission is remembered in
 * {@link Mempool.verified} (a bounded cache keyed by transaction hash *and* signature bytes), and later checks of the
 * same transaction — re-admission, a proposal built from the queue, a block from another node carrying it — skip the
 * signature check only when both match (the hash covers the payload, not the signature, so a copy of a payload with
 * another signature is verified again, and rejected if it does not hold).
 * The mempool lives in memory: after a restart it is empty (resubmitting is safe, nonces make a duplicate fail).
 * The receipts ({@link ReceiptLog}) are kept in memory, bounded, and appended to a file in the data dir.
 */
import fs from 'node:fs'
import { bytesEqual, toHex } from './codec.ts'
import { applyTx, type BlockContext } from './apply.ts'
import { isTxError, MempoolFull, type TxError } from './errors.ts'
import { Overlay } from './kv.ts'
import type { Ledger } from './ledger.ts'
import type { Params } from './params.ts'
import { K } from './records.ts'
import { decodeTx, type PreparedTx } from './tx.ts'

export interface MempoolOptions {
  /** Most transactions queued at once (default 10,000). */
  readonly maxSize?: number
  /** Most transactions one block takes (default 5,000). */
  readonly maxBlockTxs?: number
  /** Most verified signatures remembered (default 3 × maxSize). */
  readonly maxVerified?: number
}

/**
 * The signatures this node verified, by transaction hash: hash (hex) → the signature bytes that verified over that
 * payload. `has` is true only for the same hash with the same signature. Bounded: the oldest entry is forgotten first.
 */
export class VerifiedSignatures {
  readonly max: number
  private readonly sigs = new Map<string, Uint8Array>()
  /** Lookups answered from the cache (a signature check saved). */
  hits = 0

  constructor(max = 30_000) {
    this.max = max
  }
  get size(): number {
    return this.sigs.size
  }
  has(t: PreparedTx): boolean {
    const s = this.sigs.get(hexOf(t).hash)
    const ok = s !== undefined && bytesEqual(s, t.tx.sig)
    if (ok) this.hits++
    return ok
  }
  /** Records that `t`'s signature verified (the caller checked it). */
  add(t: PreparedTx): void {
    const h = hexOf(t).hash
    this.sigs.delete(h)
    this.sigs.set(h, t.tx.sig)
    while (this.sigs.size > this.max) {
      const oldest = this.sigs.keys().next()
      if (oldest.done) break
      this.sigs.delete(oldest.value)
    }
  }
  forget(hashHex: string): void {
    this.sigs.delete(hashHex)
  }
}

interface Lane {
  /** Committed state + this sender's queued transactions applied. */
  view: Overlay
  /** Next nonce after the queued ones. */
  next: bigint
  /** Whether every queued transaction of the lane is a transfer (its validity then depends only on the sender's account and the fee rule). */
  transfersOnly: boolean
  /** The queued transactions (hash hex, in nonce order) and the sender's account bytes the lane holds after each. */
  steps: Array<{ readonly hash: string; readonly account: Uint8Array | undefined }>
}

/** Hex of a transaction's hash and sender, computed once per decoded transaction (admission, cache and re-checks ask often). */
const hexCache = new WeakMap<PreparedTx, { hash: string; from: string }>()
function hexOf(t: PreparedTx): { hash: string; from: string } {
  let h = hexCache.get(t)
  if (!h) {
    h = { hash: toHex(t.hash), from: toHex(t.tx.from) }
    hexCache.set(t, h)
  }
  return h
}
/** A transaction's hash as hex (cached per decoded transaction). */
export const txHashHex = (t: PreparedTx): string => hexOf(t).hash

const newLane = (ledger: Ledger): Lane => ({ view: new Overlay(ledger.store), next: 0n, transfersOnly: true, steps: [] })

/** Records `t` as the lane's next queued transaction (after its check passed over the lane). */
function advance(lane: Lane, t: PreparedTx, who: string): void {
  lane.next = t.tx.nonce + 1n
  lane.transfersOnly &&= isTransfer(t)
  lane.steps.push({ hash: hexOf(t).hash, account: lane.view.get(K.account(who)) })
}
const isTransfer = (t: PreparedTx): boolean => t.tx.body.kind === 'transfer' || t.tx.body.kind === 'transferPepe'

/** A queued transaction that no longer passes its checks after a block (see module doc). */
export interface Dropped {
  readonly tx: PreparedTx
  readonly error: TxError
}

export class Mempool {
  readonly maxSize: number
  readonly maxBlockTxs: number
  /** Signatures verified on this node (see module doc). */
  readonly verified: VerifiedSignatures
  private readonly ledger: Ledger
  private readonly proposer: Uint8Array
  private queue: PreparedTx[] = []
  private readonly lanes = new Map<string, Lane>()
  private readonly hashes = new Set<string>()
  /** The next block's context, computed once per head (admission checks thousands of transactions against it). */
  private ctxCache: { head: object; params: Params; ctx: BlockContext } | undefined

  constructor(ledger: Ledger, proposer: Uint8Array, opts: MempoolOptions = {}) {
    this.ledger = ledger
    this.proposer = proposer
    this.maxSize = opts.maxSize ?? 10_000
    this.maxBlockTxs = opts.maxBlockTxs ?? 5_000
    this.verified = new VerifiedSignatures(opts.maxVerified ?? 3 * this.maxSize)
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
   * Admits a transaction (wire bytes, or already decoded) or throws why not: {@link MempoolFull}, `MalformedTx`
   * (undecodable), or the typed error its execution in the next block would end with. The signature is checked
   * unless {@link verified} holds it; once admitted, it is remembered there.
   */
  admit(input: Uint8Array | PreparedTx): PreparedTx {
    if (this.queue.length >= this.maxSize) throw new MempoolFull({ max: this.maxSize })
    const t = input instanceof Uint8Array ? decodeTx(input) : input
    const who = hexOf(t).from
    const lane = this.lanes.get(who) ?? newLane(this.ledger)
    const known = this.verified.has(t)
    this.check(lane, t, known)
    if (!known) this.verified.add(t)
    this.queue.push(t)
    this.hashes.add(hexOf(t).hash)
    advance(lane, t, who)
    this.lanes.set(who, lane)
    return t
  }

  /** Runs `t` over the lane (same code as execution); on success its writes stay in the lane. */
  private check(lane: Lane, t: PreparedTx, signatureVerified: boolean): void {
    const head = this.ledger.head()
    const params = this.ledger.params()
    if (this.ctxCache?.head !== head || this.ctxCache.params !== params) this.ctxCache = { head, params, ctx: this.ledger.nextBlockContext(this.proposer) }
    const r = applyTx(lane.view, t, { ...this.ctxCache.ctx, feeSink: { total: 0n } }, { signatureVerified })
    if (!r.ok) throw r.error
  }

  /** The next block's transactions (arrival order, at most `max`), left in the queue. */
  peek(max = this.maxBlockTxs): PreparedTx[] {
    return this.queue.slice(0, max)
  }

  /** Removes and returns the next block's transactions (arrival order, at most `maxBlockTxs`). */
  take(): PreparedTx[] {
    const txs = this.queue.slice(0, this.maxBlockTxs)
    this.queue = this.queue.slice(txs.length)
    for (const t of txs) this.hashes.delete(hexOf(t).hash)
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
      const who = hexOf(t).from
      const lane = this.lanes.get(who) ?? newLane(this.ledger)
      try {
        this.check(lane, t, true)
      } catch (e) {
        if (!isTxError(e)) throw e
        dropped.push({ tx: t, error: e })
        this.hashes.delete(hexOf(t).hash)
        continue
      }
      advance(lane, t, who)
      this.lanes.set(who, lane)
      kept.push(t)
    }
    this.queue = kept
    return dropped
  }

  /** Transactions re-executed by the last {@link afterCommit} (their lanes could not be kept). */
  lastRechecked = 0

  /**
   * After a block committed that may have come from another proposer (the queue was only {@link peek}ed): removes
   * the block's transactions (`included`, hashes in hex) and re-checks, over the new state, the queued transactions
   * of every sender whose lane the block may have changed — the senders whose account the block wrote (`writes`: the
   * block's state writes), every lane holding anything but transfers (other kinds depend on more state and on the
   * height), and every lane when the block changed the parameters (`paramsChanged`: the fee rule). A lane of
   * transfers stays as it is when the block did not touch its sender's account, or when the block included exactly
   * its first k transactions and left the account byte for byte as the lane had it after the k-th (nothing else —
   * an incoming transfer, a fee as proposer, another transaction with one of its nonces — changed it): a transfer's
   * checks read only its sender's account and the fee rule, so the rest of the lane would pass exactly as it did.
   * Returns the transactions that no longer pass, which leave the queue (their signatures are not checked again:
   * they are in {@link verified}).
   */
  afterCommit(included: ReadonlySet<string>, writes: ReadonlyMap<string, unknown>, paramsChanged: boolean): Dropped[] {
    const affected = new Set<string>()
    for (const [who, lane] of this.lanes) {
      if (paramsChanged || !lane.transfersOnly) {
        affected.add(who)
        continue
      }
      const key = K.account(who)
      if (!writes.has(key)) continue
      let k = 0
      while (k < lane.steps.length && included.has(lane.steps[k]!.hash)) k++
      const prefixOnly = k > 0 && lane.steps.slice(k).every((st) => !included.has(st.hash))
      const now = this.ledger.store.get(key)
      const expected = k > 0 ? lane.steps[k - 1]!.account : undefined
      // kept when the rest of it still rests on the same account (an emptied lane is dropped: the store has it all)
      if (prefixOnly && k < lane.steps.length && now !== undefined && expected !== undefined && bytesEqual(now, expected)) lane.steps = lane.steps.slice(k)
      else affected.add(who)
    }
    for (const who of affected) this.lanes.delete(who)
    for (const h of included) {
      this.hashes.delete(h)
      this.verified.forget(h)
    }
    const dropped: Dropped[] = []
    const kept: PreparedTx[] = []
    let rechecked = 0
    for (const t of this.queue) {
      const { hash: h, from: who } = hexOf(t)
      if (included.has(h)) continue
      if (!affected.has(who)) {
        kept.push(t)
        continue
      }
      const lane = this.lanes.get(who) ?? newLane(this.ledger)
      rechecked++
      try {
        this.check(lane, t, true)
      } catch (e) {
        if (!isTxError(e)) throw e
        dropped.push({ tx: t, error: e })
        this.hashes.delete(h)
        continue
      }
      advance(lane, t, who)
      this.lanes.set(who, lane)
      kept.push(t)
    }
    this.queue = kept
    this.lastRechecked = rechecked
    return dropped
  }
}

/** What became of a transaction, as far as this node knows. */
export type TxFate =
  | { readonly status: 'included'; readonly height: number }
  | { readonly status: 'failed'; readonly height: number; readonly error: TxError }
  | { readonly status: 'dropped'; readonly error: TxError }

/** A fate as stored: the typed error flattened to its tag and fields (what the TxStatus reply carries anyway). */
export interface StoredFate {
  readonly status: TxFate['status']
  readonly height?: number
  readonly reason?: string
  readonly detail?: string
}

function flatten(f: TxFate): StoredFate {
  if (f.status === 'included') return { status: 'included', height: f.height }
  const { _tag, ...fields } = f.error as unknown as { _tag: string } & Record<string, unknown>
  return { status: f.status, ...(f.status === 'failed' ? { height: f.height } : {}), reason: _tag, detail: JSON.stringify(fields) }
}

function parseLine(line: string): [string, StoredFate] | undefined {
  try {
    const v = JSON.parse(line) as { h?: unknown; s?: unknown; n?: unknown; r?: unknown; d?: unknown }
    if (typeof v.h !== 'string' || !/^[0-9a-f]{64}$/.test(v.h)) return undefined
    if (v.s !== 'included' && v.s !== 'failed' && v.s !== 'dropped') return undefined
    return [v.h, {
      status: v.s,
      ...(typeof v.n === 'number' && Number.isSafeInteger(v.n) && v.n >= 0 ? { height: v.n } : {}),
      ...(typeof v.r === 'string' ? { reason: v.r.slice(0, 256) } : {}),
      ...(typeof v.d === 'string' ? { detail: v.d.slice(0, 4096) } : {}),
    }]
  } catch {
    return undefined
  }
}

/**
 * A bounded, insertion-ordered log of transaction fates (the oldest is forgotten first). With a file, every fate is
 * also appended to it as one JSON line after its block committed, and the last `max` are read back on open, so
 * `GetTxStatus` survives a restart; a crash between a block's commit and the append loses that block's receipts
 * (the transactions' effects are in the committed state; their status reads `unknown`). The file is compacted on
 * open once it holds more than twice `max` lines. Unreadable lines are skipped. Append failures are counted
 * (`writeErrors`), never thrown: the block is already committed.
 */
export class ReceiptLog {
  readonly max: number
  readonly file: string | undefined
  writeErrors = 0
  private readonly fates = new Map<string, StoredFate>()

  constructor(max = 100_000, file?: string) {
    this.max = max
    this.file = file
    if (!file || !fs.existsSync(file)) return
    const lines = fs.readFileSync(file, 'utf8').split('\n')
    for (const line of lines) {
      const e = line ? parseLine(line) : undefined
      if (e) this.put(e[0], e[1])
    }
    if (lines.length > 2 * max) {
      const tmp = `${file}.tmp`
      fs.writeFileSync(tmp, [...this.fates].map(([h, f]) => `${this.line(h, f)}\n`).join(''))
      fs.renameSync(tmp, file)
    }
  }
  get size(): number {
    return this.fates.size
  }
  private line(hashHex: string, f: StoredFate): string {
    return JSON.stringify({ h: hashHex, s: f.status, n: f.height, r: f.reason, d: f.detail })
  }
  private put(hashHex: string, f: StoredFate): void {
    this.fates.delete(hashHex)
    this.fates.set(hashHex, f)
    while (this.fates.size > this.max) {
      const oldest = this.fates.keys().next()
      if (oldest.done) break
      this.fates.delete(oldest.value)
    }
  }
  /** Records the fates of one block (or one batch of drops): memory first, then one append to the file. */
  record(entries: ReadonlyArray<readonly [string, TxFate]>): void {
    if (entries.length === 0) return
    const flat = entries.map(([h, f]) => [h, flatten(f)] as const)
    for (const [h, f] of flat) this.put(h, f)
    if (!this.file) return
    try {
      fs.appendFileSync(this.file, flat.map(([h, f]) => `${this.line(h, f)}\n`).join(''))
    } catch {
      this.writeErrors++
    }
  }
  get(hashHex: string): StoredFate | undefined {
    return this.fates.get(hashHex)
  }
}
