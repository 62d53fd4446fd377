/**
 * The Ledger: a {@link Store} (memory or LMDB) plus the incremental state root, executing blocks.
 *
 * - `produceBlock(txs, {time, proposer})` — proposer side: runs the transactions in order (apply.ts `executeTx`),
 *   drops the rejected ones (returned with their typed errors), includes the applied ones and the failed ones (fee
 *   paid and nonce consumed, body not applied; returned in `failed` with their typed errors, and every included
 *   transaction has a receipt), runs end-of-block emission/epochs/tallies, computes the roots, commits.
 * - `applyBlock(block)` — follower side: the block must extend the head (height, parent hash, chain id, time ≥
 *   parent time + blockTimeMs), every transaction must be chargeable (a failed body is allowed: it costs its fee and
 *   nonce on every node alike), and the transactions root and state root must match; otherwise {@link InvalidBlock}
 *   and nothing changes.
 * Both execute the same deterministic code, so a block produced by one node applies on every other to the same root.
 *
 * Agreement among several validators (bft/, actors/bft-node.ts) splits both in two: `proposeBlock` builds a block
 * from the mempool WITHOUT committing it, `validateBlock` executes a block from another node against the head and
 * checks its roots without committing it, and `commitBlock(prepared, certificate)` commits a prepared block once it
 * is final, storing its commit certificate with it (store.ts `certs`). `produceBlock` = propose + commit and
 * `applyBlock` = validate + commit, unchanged for the single-node default.
 *
 * The chain's validator set (who agrees on blocks, with what voting power) is part of the state: `v:<public key hex>`
 * → power (decimal), written at genesis from `LedgerOptions.validators`; {@link Ledger.validators} reads it from the
 * head's state, so the set of height h is the state after h − 1.
 *
 * Double signing is slashed on the ledger: a block may carry evidence (block.ts `DoubleSign`: a validator's two signed
 * votes for one height, round and step with different values, signatures checked here with bft/wire.ts's vote
 * encoding). Each valid item removes the governable `doubleSignSlashBps` of the offender's voting power (params.ts;
 * default {@link DOUBLE_SIGN_SLASH_BPS}, 10%; at least one unit; a validator at 0 leaves the set), once per validator and height (`V:<key hex>:<height>` records it). A proposer leaves invalid or
 * repeated evidence out; a block that carries any is invalid.
 */
import { bytesEqual, fromHex, toHex } from './codec.ts'
import { executeTx, type BlockContext } from './apply.ts'
import { blockHash, decodeBlock, encodeBlock, merkleRoot, type Block, type BlockHeader } from './block.ts'
import { endBlock, type EpochHook } from './emission.ts'
import { yumaEpochHook } from './consensus-hook.ts'
import { CorruptState, InvalidBlock, InvalidGenesis, type TxError } from './errors.ts'
import { genesisEntries, type GenesisConfig } from './genesis.ts'
import { Overlay } from './kv.ts'
import { StateRoot, type StateProof } from './merkle.ts'
import type { Params } from './params.ts'
import type { Account, Brain, Globals, Participant, Proposal } from './records.ts'
import { State } from './state.ts'
import type { Head, Store } from './store.ts'
import { decodeEvidence, evidenceRoot, type DoubleSign } from './block.ts'
import { voteSignBytes } from '../bft/wire.ts'
import { verify } from './keys.ts'
import { decodeTx, type PreparedTx } from './tx.ts'

export interface LedgerOptions {
  readonly store: Store
  /** Required when the store is empty. */
  readonly genesis?: GenesisConfig
  /** Consensus epoch hook (default: {@link yumaEpochHook}, Yuma consensus from `basedai/consensus`). */
  readonly epochHook?: EpochHook
  /** The chain's block validators, written into the genesis state (with `genesis` only; part of the genesis root). */
  readonly validators?: readonly ChainValidator[]
}
/** A block validator of the chain: its ed25519 public key and its voting power. */
export interface ChainValidator {
  readonly publicKey: Uint8Array
  readonly power: bigint
}
/**
 * The default share of a double-signing validator's voting power removed per offence, in basis points (10%): the
 * genesis value of the governable parameter `doubleSignSlashBps` (ledger/params.ts), which the ledger applies.
 */
export const DOUBLE_SIGN_SLASH_BPS = 1000n
/** State key recording that a validator was slashed for double signing at a height. */
export const slashedKey = (publicKeyHex: string, height: number): string => `V:${publicKeyHex}:${height}`
/** State key of a chain validator's power. */
export const validatorKey = (publicKeyHex: string): string => `v:${publicKeyHex}`
/**
 * A block executed against the head but not committed: what {@link Ledger.proposeBlock} and
 * {@link Ledger.validateBlock} return and {@link Ledger.commitBlock} takes. Only valid while the head is its parent.
 */
export interface PreparedBlock extends Produced {
  readonly writes: ReadonlyMap<string, Uint8Array | null>
  readonly nextParams: Params
}
export interface Rejection {
  readonly index: number
  readonly error: TxError
}
/** What happened to one included transaction: applied, or failed with the typed reason (fee and nonce charged). */
export interface TxReceipt {
  readonly hash: Uint8Array
  readonly error?: TxError
}
export interface ProduceOptions {
  readonly time: number
  readonly proposer: Uint8Array
  /** verified[i] = signature of txs[i] already checked (parallel verifier). */
  readonly verified?: readonly boolean[]
  /** Evidence items to include (encoded `DoubleSign`s); invalid or already slashed ones are left out. */
  readonly evidence?: readonly Uint8Array[]
}
export interface Produced {
  readonly block: Block
  readonly hash: Uint8Array
  /** Transactions in the block (applied + failed). */
  readonly included: number
  /** Not includable (index into the input): nothing changed. */
  readonly rejected: readonly Rejection[]
  /** Included but failed (index into the input): fee paid, nonce consumed, body not applied. */
  readonly failed: readonly Rejection[]
  /** One per included transaction, in block order. */
  readonly receipts: readonly TxReceipt[]
}

const ZERO32 = new Uint8Array(32)

export class Ledger {
  readonly store: Store
  private readonly roots: StateRoot
  private readonly hook: EpochHook
  private headRec: Head
  private paramsCache: Params

  private constructor(store: Store, hook: EpochHook, head: Head, roots: StateRoot) {
    this.store = store
    this.roots = roots
    this.hook = hook
    this.headRec = head
    this.paramsCache = new State(new Overlay(store)).params()
  }

  /**
   * Opens a ledger over a store: writes genesis into an empty store, or rebuilds the state root from a non-empty
   * one and checks it against the committed head ({@link CorruptState} if they differ).
   */
  static open(opts: LedgerOptions): Ledger {
    const store = opts.store
    const hook = opts.epochHook ?? yumaEpochHook
    let head = store.head()
    const roots = new StateRoot()
    const genesisBlock = (g: GenesisConfig): { entries: Map<string, Uint8Array>; header: BlockHeader } => {
      const entries = genesisEntries(g)
      for (const v of opts.validators ?? []) {
        if (v.publicKey.length !== 32) throw new InvalidGenesis({ reason: 'validator public key must be 32 bytes' })
        if (v.power <= 0n || v.power > (1n << 64n)) throw new InvalidGenesis({ reason: 'validator power must be in 1..2^64' })
        const k = validatorKey(toHex(v.publicKey))
        if (entries.has(k)) throw new InvalidGenesis({ reason: `validator ${toHex(v.publicKey)} listed twice` })
        entries.set(k, new TextEncoder().encode(v.power.toString()))
      }
      const r = new StateRoot()
      r.update(entries)
      return {
        entries,
        header: { chainId: g.params.chainId, height: 0, parentHash: ZERO32, stateRoot: r.root(), txRoot: ZERO32, time: g.time, proposer: ZERO32 },
      }
    }
    if (!head) {
      if (!opts.genesis) throw new CorruptState({ key: 'meta:head', reason: 'empty store and no genesis given' })
      const { entries, header } = genesisBlock(opts.genesis)
      roots.update(entries)
      const hash = blockHash(header)
      head = { height: 0, hash, stateRoot: header.stateRoot }
      store.commit(entries, { height: 0, bytes: encodeBlock({ header, txs: [] }) }, head)
    } else {
      if (opts.genesis) {
        // A genesis given for an existing store must be the one it was created with.
        const stored = store.block(0)
        const want = blockHash(genesisBlock(opts.genesis).header)
        if (!stored || !bytesEqual(blockHash(decodeBlock(stored).header), want))
          throw new CorruptState({ key: 'blocks:0', reason: 'the store was created from a different genesis' })
      }
      roots.update(store.scan(''))
      if (!bytesEqual(roots.root(), head.stateRoot))
        throw new CorruptState({ key: 'meta:head', reason: `stored state hashes to ${toHex(roots.root())}, head says ${toHex(head.stateRoot)}` })
    }
    return new Ledger(store, hook, head, roots)
  }

  head(): Head {
    return this.headRec
  }
  params(): Params {
    return this.paramsCache
  }
  private view(): State {
    return new State(new Overlay(this.store))
  }
  globals(): Globals {
    return this.view().globals()
  }
  account(publicKey: Uint8Array): Account | undefined {
    return this.view().account(toHex(publicKey))
  }
  brain(id: number): Brain | undefined {
    return this.view().brain(id)
  }
  participant(brain: number, computeKey: Uint8Array): Participant | undefined {
    return this.view().participant(brain, toHex(computeKey))
  }
  proposal(id: number): Proposal | undefined {
    return this.view().proposal(id)
  }
  /** Stake position of `staker` on a Brain (target omitted) or on one of its validators. */
  stake(brain: number, staker: Uint8Array, target?: Uint8Array): bigint {
    return this.view().position(brain, target ? toHex(target) : '-', toHex(staker))
  }
  /** Next nonce the account must use (0 for an unknown account). */
  nonce(publicKey: Uint8Array): bigint {
    return this.account(publicKey)?.nonce ?? 0n
  }
  /** The chain's block validators in the head's state (the set that agrees on the next block), by public key. */
  validators(): ChainValidator[] {
    const out: ChainValidator[] = []
    for (const [k, v] of this.store.scan('v:')) {
      const power = BigInt(new TextDecoder().decode(v))
      if (power > 0n) out.push({ publicKey: fromHex(k.slice(2)), power })
    }
    return out
  }
  /** The commit certificate stored with the block at a height (undefined: none, or a single node's own block). */
  certificate(height: number): Uint8Array | undefined {
    return this.store.certificate?.(height)
  }
  /** The time the next block may carry at the earliest. */
  nextBlockTime(): number {
    return this.globals().lastTime + this.paramsCache.blockTimeMs
  }
  /** The context the next block's transactions run in (the mempool's admission checks run in it too). */
  nextBlockContext(proposer: Uint8Array): BlockContext {
    return { height: this.headRec.height + 1, time: this.nextBlockTime(), proposer, params: this.paramsCache, epochHook: this.hook }
  }

  private execute(
    txs: readonly PreparedTx[], height: number, time: number, proposer: Uint8Array, strict: boolean, verified?: readonly boolean[], evidence: readonly Uint8Array[] = [],
  ): { overlay: Overlay; included: PreparedTx[]; rejected: Rejection[]; failed: Rejection[]; receipts: TxReceipt[]; params: Params; evidence: Uint8Array[] } {
    const overlay = new Overlay(this.store)
    const st = new State(overlay)
    const params = this.paramsCache
    const g0 = st.globals()
    if (time < g0.lastTime + params.blockTimeMs)
      throw new InvalidBlock({ height, reason: `time ${time} earlier than parent time + blockTimeMs (${g0.lastTime + params.blockTimeMs})` })
    const feeSink = { total: 0n }
    const ctx: BlockContext = { height, time, proposer, params, epochHook: this.hook, feeSink }
    const included: PreparedTx[] = []
    const rejected: Rejection[] = []
    const failed: Rejection[] = []
    const receipts: TxReceipt[] = []
    txs.forEach((tx, i) => {
      const r = executeTx(overlay, tx, ctx, { signatureVerified: verified?.[i] === true })
      if (r.status === 'rejected') {
        if (strict) throw new InvalidBlock({ height, reason: `tx ${i} rejected: ${r.error._tag}` })
        rejected.push({ index: i, error: r.error })
        return
      }
      included.push(tx)
      if (r.status === 'failed') {
        failed.push({ index: i, error: r.error })
        receipts.push({ hash: tx.hash, error: r.error })
      } else receipts.push({ hash: tx.hash })
    })
    const slashed = this.slash(overlay, evidence, height, strict)
    st.credit(toHex(proposer), 'based', feeSink.total)
    const g = st.globals()
    const next = endBlock(st, g, params, height, this.hook)
    g.height = height
    g.lastTime = time
    g.lastHash = this.headRec.hash
    st.setGlobals(g)
    return { overlay, included, rejected, failed, receipts, params: next, evidence: slashed }
  }

  /** Applies the evidence items (see module doc); returns those applied. Strict: any invalid item is InvalidBlock. */
  private slash(overlay: Overlay, items: readonly Uint8Array[], height: number, strict: boolean): Uint8Array[] {
    const applied: Uint8Array[] = []
    for (const bytes of items) {
      let problem: string | undefined
      let e: DoubleSign | undefined
      try {
        e = decodeEvidence(bytes)
        problem = this.evidenceProblem(overlay, e, height)
      } catch (x) {
        if (!(x instanceof InvalidBlock)) throw x
        problem = x.reason
      }
      if (problem !== undefined || !e) {
        if (strict) throw new InvalidBlock({ height, reason: `evidence: ${problem ?? 'undecodable'}` })
        continue
      }
      const who = toHex(e.validator)
      const power = BigInt(new TextDecoder().decode(overlay.get(validatorKey(who))))
      const cut = (power * BigInt(this.paramsCache.doubleSignSlashBps)) / 10_000n
      const left = power - (cut > 0n ? cut : 1n)
      if (left > 0n) overlay.put(validatorKey(who), new TextEncoder().encode(left.toString()))
      else overlay.del(validatorKey(who))
      overlay.put(slashedKey(who, e.height), new Uint8Array([1]))
      applied.push(bytes)
    }
    return applied
  }

  private evidenceProblem(overlay: Overlay, e: DoubleSign, height: number): string | undefined {
    const who = toHex(e.validator)
    if (e.height >= height) return 'votes of a height not decided before this block'
    if (!overlay.get(validatorKey(who))) return 'not a validator'
    if (overlay.get(slashedKey(who, e.height))) return 'already slashed for that height'
    const a = e.first.value
    const b = e.second.value
    if ((a === null && b === null) || (a !== null && b !== null && bytesEqual(a, b))) return 'the two votes are for the same value'
    for (const v of [e.first, e.second]) {
      const msg = voteSignBytes(this.paramsCache.chainId, { type: e.type, height: e.height, round: e.round, value: v.value ? toHex(v.value) : null, from: who })
      if (!verify(e.validator, msg, v.signature)) return 'bad signature'
    }
    return undefined
  }

  /**
   * Proposer side without committing (see module doc): runs the transactions, drops the rejected ones, computes the
   * roots (and restores the incremental root), and returns the block ready for {@link commitBlock}.
   */
  proposeBlock(txs: ReadonlyArray<Uint8Array | PreparedTx>, opts: ProduceOptions): PreparedBlock {
    const prepared: PreparedTx[] = []
    const preRejected: Rejection[] = []
    const verified: boolean[] = []
    /** inputIndex[j] = index in `txs` of prepared[j] (undecodable inputs are left out of `prepared`). */
    const inputIndex: number[] = []
    txs.forEach((t, i) => {
      if (!(t instanceof Uint8Array)) {
        prepared.push(t)
        verified.push(opts.verified?.[i] === true)
        inputIndex.push(i)
        return
      }
      try {
        prepared.push(decodeTx(t))
        verified.push(opts.verified?.[i] === true)
        inputIndex.push(i)
      } catch (e) {
        preRejected.push({ index: i, error: e as TxError })
      }
    })
    const height = this.headRec.height + 1
    const { overlay, included, rejected, failed, receipts, params, evidence } = this.execute(prepared, height, opts.time, opts.proposer, false, verified, opts.evidence)
    const undo = this.roots.update(overlay.writes)
    const stateRoot = this.roots.root()
    undo()
    const header: BlockHeader = {
      chainId: this.paramsCache.chainId, height, parentHash: this.headRec.hash, stateRoot,
      txRoot: merkleRoot(included.map((t) => t.hash)), time: opts.time, proposer: opts.proposer,
      ...(evidence.length > 0 ? { evidenceRoot: evidenceRoot(evidence) } : {}),
    }
    const remap = (r: Rejection): Rejection => ({ index: inputIndex[r.index] ?? r.index, error: r.error })
    return {
      block: { header, txs: included.map((t) => t.bytes), ...(evidence.length > 0 ? { evidence } : {}) }, hash: blockHash(header), included: included.length,
      rejected: [...preRejected, ...rejected.map(remap)].sort((a, b) => a.index - b.index), failed: failed.map(remap), receipts,
      writes: overlay.writes, nextParams: params,
    }
  }

  /**
   * Follower side without committing (see module doc): the block must extend the head, and its transactions root
   * and state root must match. Throws {@link InvalidBlock}; nothing changes either way.
   */
  validateBlock(block: Block, opts: { verified?: readonly boolean[] | ((tx: PreparedTx) => boolean) } = {}): PreparedBlock {
    const h = block.header
    if (h.chainId !== this.paramsCache.chainId) throw new InvalidBlock({ height: h.height, reason: 'wrong chain id' })
    if (h.height !== this.headRec.height + 1) throw new InvalidBlock({ height: h.height, reason: `expected height ${this.headRec.height + 1}` })
    if (!bytesEqual(h.parentHash, this.headRec.hash)) throw new InvalidBlock({ height: h.height, reason: 'parent hash' })
    const prepared: PreparedTx[] = []
    for (const [i, t] of block.txs.entries()) {
      try {
        prepared.push(decodeTx(t))
      } catch {
        throw new InvalidBlock({ height: h.height, reason: `tx ${i} undecodable` })
      }
    }
    if (!bytesEqual(merkleRoot(prepared.map((t) => t.hash)), h.txRoot)) throw new InvalidBlock({ height: h.height, reason: 'transactions root' })
    const ev = block.evidence ?? []
    if ((ev.length > 0) !== (h.evidenceRoot !== undefined) || (h.evidenceRoot && !bytesEqual(evidenceRoot(ev), h.evidenceRoot)))
      throw new InvalidBlock({ height: h.height, reason: 'evidence root' })
    // `verified` as a predicate: asked per decoded transaction (a consensus node's cache of signatures it checked)
    const v = opts.verified
    const verified = typeof v === 'function' ? prepared.map((t) => v(t)) : v
    const { overlay, params, receipts, failed } = this.execute(prepared, h.height, h.time, h.proposer, true, verified, ev)
    const undo = this.roots.update(overlay.writes)
    const ok = bytesEqual(this.roots.root(), h.stateRoot)
    undo()
    if (!ok) throw new InvalidBlock({ height: h.height, reason: 'state root' })
    return { block, hash: blockHash(h), included: prepared.length, rejected: [], failed, receipts, writes: overlay.writes, nextParams: params }
  }

  /**
   * Commits a prepared block (with its commit certificate, when agreed by several validators). The head must still
   * be its parent ({@link InvalidBlock} otherwise), and the state root is checked once more as it is applied.
   */
  commitBlock(p: PreparedBlock, certificate?: Uint8Array): Uint8Array {
    const header = p.block.header
    if (header.height !== this.headRec.height + 1 || !bytesEqual(header.parentHash, this.headRec.hash))
      throw new InvalidBlock({ height: header.height, reason: `does not extend the head (${this.headRec.height})` })
    const undo = this.roots.update(p.writes)
    if (!bytesEqual(this.roots.root(), header.stateRoot)) {
      undo()
      throw new InvalidBlock({ height: header.height, reason: 'state root' })
    }
    const head: Head = { height: header.height, hash: p.hash, stateRoot: header.stateRoot }
    try {
      this.store.commit(p.writes, { height: header.height, bytes: encodeBlock(p.block), ...(certificate ? { certificate } : {}) }, head)
    } catch (e) {
      undo()
      throw e
    }
    this.headRec = head
    this.paramsCache = p.nextParams
    return p.hash
  }

  /** Proposer side (see module doc). Accepts wire bytes or prepared transactions; undecodable ones are rejected. */
  produceBlock(txs: ReadonlyArray<Uint8Array | PreparedTx>, opts: ProduceOptions): Produced {
    const p = this.proposeBlock(txs, opts)
    this.commitBlock(p)
    return { block: p.block, hash: p.hash, included: p.included, rejected: p.rejected, failed: p.failed, receipts: p.receipts }
  }

  /** Follower side (see module doc). Throws {@link InvalidBlock}; on any throw the state is unchanged. */
  applyBlock(block: Block, opts: { verified?: readonly boolean[] | ((tx: PreparedTx) => boolean); certificate?: Uint8Array } = {}): Uint8Array {
    return this.commitBlock(this.validateBlock(block, opts), opts.certificate)
  }

  /** Value and inclusion proof of a state key against the current state root (undefined if the key is absent). */
  prove(key: string): { value: Uint8Array; proof: StateProof } | undefined {
    const value = this.store.get(key)
    const proof = this.roots.prove(key)
    return value && proof ? { value, proof } : undefined
  }

  /** Current incremental state root (equals head().stateRoot between blocks). */
  stateRoot(): Uint8Array {
    return this.roots.root()
  }
}
