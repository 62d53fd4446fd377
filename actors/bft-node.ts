/**
 * The consensus node: the ledger writer of a node that agrees on blocks with other validators (Tendermint,
 * bft/machine.ts) over libp2p gossip, instead of producing every block itself on a timer.
 *
 * It is the ledger actor (actors/ledger-shard.ts: mempool, receipts, every query) with its block timer off, plus an
 * engine that owns a libp2p node with gossipsub and runs the machine for the ledger:
 * - genesis comes from a chain spec file (bft/chain-spec.ts) naming the validators; the validator set of height h
 *   is read from the ledger state after h − 1 (`Ledger.validators()`);
 * - the proposer builds its block from the mempool without committing it (`Ledger.proposeBlock`); every node
 *   executes a proposal against its head and checks its roots (`Ledger.validateBlock`) before it prevotes for it;
 *   a decided block is committed with its commit certificate — the signed precommits of > 2/3 of the stake
 *   (`Ledger.commitBlock`);
 * - proposals and votes are signed with the validator's ed25519 key (`<dataDir>/validator-key`), and the double-sign
 *   guard (bft/sign-state.ts, `<dataDir>/bft-sign-state.json`, fsynced) is consulted before every signature;
 *   received ones are verified before the machine sees them;
 * - transactions submitted at any node are gossiped to all (topic `basedai/<chain>/tx`, many per message:
 *   bft/tx-gossip.ts); a received batch's signatures are verified off the event loop (libuv's threadpool) and its
 *   transactions admitted in arrival order; every signature is verified once per node (the mempool's
 *   `VerifiedSignatures`, consulted by admission, proposals, block validation and commit); consensus messages travel
 *   on `basedai/<chain>/bft`; the machine's round timeouts (growing per round) are timers here;
 * - gossip validation: what is undecodable, badly signed or sent by a peer for a validator it is not bound to is
 *   rejected, which scores its sender down (net/libp2p-transport.ts `GOSSIP_SCORE`: past the graylist threshold the
 *   peer is disconnected and refused for a while);
 * - catch-up: a node that sees messages for heights above its own asks the sender for blocks with certificates by
 *   height (protocol `/basedai/bft-sync/1.0.0`) and feeds them to the machine, which checks each certificate and
 *   executes the block before committing it; a node a few heights behind is also answered by the machine itself.
 *
 * The engine runs on the actor's thread between messages (gossip callbacks and timers; every ledger call is
 * synchronous, so it never interleaves with a handler). `ProduceBlock` is not accepted: blocks come from agreement.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Schema } from 'effect'
import { continueWith, defineRole, failWith, type ActorContext, type Behaviour, type HandleResult } from '../supervisor/runtime.ts'
import { UnsupportedMessage, type Message } from '../protocol/index.ts'
import { ledgerBehaviour, type LedgerActorState } from './ledger-shard.ts'
import { Libp2pTransport, loadOrCreateIdentity, type GossipVerdict } from '../net/libp2p-transport.ts'
import { SignState, TendermintMachine, ValidatorSet, type CommitCertificate, type Output, type Timeouts, type Value } from '../bft/index.ts'
import {
  decodeCertificate, decodeWire, encodeCertificate, encodeWire, signProposal, signVote, verifyCertificate, verifyProposal, verifyVote,
  type FirstHand, type SignedCertificate, type SignedProposal, type SignedVote, type WireMessage,
} from '../bft/wire.ts'
import { InvalidPeerBinding, PeerBindings, signBinding, type SignedPeerBinding } from '../bft/binding.ts'
import { TxBatcher, decodeTxGossip } from '../bft/tx-gossip.ts'
import { loadOrCreateValidatorKey, readChainSpec } from '../bft/chain-spec.ts'
import { Ledger, slashedKey, type PreparedBlock } from '../ledger/ledger.ts'
import { LmdbStore } from '../ledger/store.ts'
import { blockHash, decodeBlock, decodeEvidence, encodeBlock, encodeEvidence, type DoubleSign } from '../ledger/block.ts'
import { Reader, Writer, fromHex, toHex } from '../ledger/codec.ts'
import { decodeTx, type PreparedTx } from '../ledger/tx.ts'
import { isTxError, MempoolFull } from '../ledger/errors.ts'
import { verifyAsync } from '../ledger/ed25519.ts'
import type { KeyPair } from '../ledger/keys.ts'
import { txHashHex, type TxFate } from '../ledger/mempool.ts'

export const SYNC_PROTOCOL = '/basedai/bft-sync/1.0.0'
/**
 * A node answers any peer with the bytes of its chain spec (genesis) file, so that `cluster up --join <A>` without
 * `--genesis` can start from A's genesis (the peer is authenticated by its peer id in the multiaddr: trust on first
 * use, as a light client trusts its first peer; the fetched file is kept in the data dir and checked on every start).
 */
export const GENESIS_PROTOCOL = '/basedai/genesis/1.0.0'
/** Blocks one sync answer carries at most. */
const SYNC_BATCH = 32

export const BftNodeArgs = Schema.Struct({
  dataDir: Schema.String,
  /** The chain spec (genesis) file every node of the network shares. */
  genesis: Schema.String,
  /** libp2p listen addresses of the consensus node. */
  listen: Schema.optionalWith(Schema.Array(Schema.String), { default: () => ['/ip4/127.0.0.1/tcp/0'] }),
  /** Bootstrap peers (multiaddrs with /p2p/<id>), redialled while not connected. */
  join: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  shards: Schema.optionalWith(Schema.Number, { default: () => 4 }),
  maxMempool: Schema.optionalWith(Schema.Number, { default: () => 10_000 }),
  maxBlockTxs: Schema.optionalWith(Schema.Number, { default: () => 5_000 }),
  /** Round timeouts (ms): propose, prevote, precommit, and the growth per round. */
  timeouts: Schema.optionalWith(
    Schema.Struct({ propose: Schema.Number, prevote: Schema.Number, precommit: Schema.Number, delta: Schema.Number }),
    { default: () => ({ propose: 1000, prevote: 500, precommit: 500, delta: 250 }) },
  ),
  /** How often a node re-gossips its current round when it has not moved on (the paper's gossip assumption). */
  regossipMs: Schema.optionalWith(Schema.Number, { default: () => 400 }),
  /** Called with the consensus listen addresses (tests, `based network local`): printed on stdout as a line. */
  announce: Schema.optionalWith(Schema.Boolean, { default: () => true }),
})
export type BftNodeArgs = typeof BftNodeArgs.Type
export const bftNodeRole = defineRole('bft-ledger', import.meta.url, BftNodeArgs)

/** What the node has done, for status and tests. */
interface Counters {
  decided: number
  synced: number
  badSignatures: number
  rejected: number
  evidence: number
  signRefused: number
  malformed: number
  /** Unexpected failures inside the engine (logged; the node keeps running). */
  errors: number
  /** Proposals, votes and relays dropped because their gossip originator has no binding (docs/NETWORK.md). */
  unbound: number
  /** First-hand proposals and votes dropped because their originator is bound to another validator. */
  impersonations: number
  /** Binding records refused (InvalidPeerBinding or malformed). */
  badBindings: number
  /** Gossiped transactions whose signature did not verify (their message is rejected). */
  badTxSignatures: number
  /** Gossiped transactions admitted into the mempool. */
  gossipAdmitted: number
}

const voteKey = (type: string, h: number, r: number, from: string, value: string | null): string => `${type}:${h}:${r}:${from}:${value ?? 'nil'}`

export class BftEngine {
  readonly transport: Libp2pTransport
  readonly machine: TendermintMachine
  readonly counters: Counters = {
    decided: 0, synced: 0, badSignatures: 0, rejected: 0, evidence: 0, signRefused: 0, malformed: 0, errors: 0, unbound: 0, impersonations: 0, badBindings: 0,
    badTxSignatures: 0, gossipAdmitted: 0,
  }
  /** The verified peer bindings of the validators (who may speak first-hand for whom). */
  readonly bindings: PeerBindings
  /** This node's own binding record (its consensus peer id, signed by its validator key at start). */
  private readonly ownBinding: SignedPeerBinding
  private bindingPublishPending = false
  lastError = ''
  private readonly st: LedgerActorState
  private readonly chainId: string
  private readonly key: KeyPair
  private readonly self: string
  private readonly signState: SignState
  private readonly topicTx: string
  private readonly topicBft: string
  private readonly join: readonly string[]
  /** Peers learnt from the network, kept in `<dataDir>/peers.json` and redialled after a restart (peer id → address). */
  private readonly known = new Map<string, string>()
  private readonly peersFile: string
  private readonly maxBlockTxs: number
  private readonly regossipMs: number
  private readonly timers = new Set<NodeJS.Timeout>()
  private stopped = false
  /** Transactions this node admitted, gathered into one gossip message (bft/tx-gossip.ts). */
  private readonly txOut: TxBatcher
  /** Gossiped transaction batches, admitted one after the other in arrival order (their signatures checked meanwhile). */
  private txChain: Promise<void> = Promise.resolve()
  /** Consensus messages judged by the gossip validator, for the handler that runs once they are accepted. */
  private readonly judged = new WeakMap<Uint8Array, WireMessage>()
  /** Blocks of the current height already executed (own proposal or validated), by block id. */
  private prepared = new Map<string, PreparedBlock>()
  private readonly voteSigs = new Map<string, Uint8Array>()
  private readonly proposalSigs = new Map<string, SignedProposal>()
  /** Evidence of double signing not yet on the ledger (one item per validator and height), for the next proposals. */
  private readonly evidencePool = new Map<string, Uint8Array>()
  private setCache: { height: number; set: ValidatorSet } | undefined
  private lastRegossipKey = ''
  private syncing = false
  /** The machine's height and since when (to notice a node that stopped moving while its peers are ahead). */
  private heightSeen = { height: 0, at: Date.now() }
  private lastSyncAt = 0
  /** The last blocks committed here: height, transactions, and ms from the block's time (its proposal) to its commit here. */
  readonly recent: Array<{ height: number; txs: number; finalityMs: number }> = []
  /** Milliseconds spent on the event loop in each part of the work since start (status `timing`; bench/net.ts). */
  readonly timing: Record<'propose' | 'validate' | 'commit' | 'mempool' | 'admit' | 'verify' | 'judge' | 'sign', number> = {
    propose: 0, validate: 0, commit: 0, mempool: 0, admit: 0, verify: 0, judge: 0, sign: 0,
  }

  private constructor(o: {
    transport: Libp2pTransport; st: LedgerActorState; chainId: string; key: KeyPair; signState: SignState; join: readonly string[]
    maxBlockTxs: number; regossipMs: number; timeouts: Timeouts; dataDir: string
  }) {
    this.peersFile = path.join(o.dataDir, 'peers.json')
    try {
      const saved = JSON.parse(fs.readFileSync(this.peersFile, 'utf8')) as unknown
      if (saved && typeof saved === 'object') for (const [id, addr] of Object.entries(saved)) if (typeof addr === 'string') this.known.set(id, addr)
    } catch {
      // none saved yet, or unreadable: the --join list is the bootstrap
    }
    this.transport = o.transport
    this.st = o.st
    this.chainId = o.chainId
    this.key = o.key
    this.self = toHex(o.key.publicKey)
    this.signState = o.signState
    this.join = o.join
    this.maxBlockTxs = o.maxBlockTxs
    this.regossipMs = o.regossipMs
    this.topicTx = txTopic(o.chainId)
    this.topicBft = bftTopic(o.chainId)
    this.txOut = new TxBatcher((batch) => this.publish(this.topicTx, batch))
    this.bindings = new PeerBindings({ chainId: o.chainId, eligible: (v) => this.validatorSet().has(v) })
    this.ownBinding = signBinding(o.chainId, o.transport.peerId, o.key, Date.now())
    const ledger = o.st.ledger
    const inSet = this.validatorSet().has(this.self)
    this.machine = new TendermintMachine({
      self: inSet ? this.self : undefined,
      height: ledger.head().height + 1,
      validators: () => this.validatorSet(),
      getValue: (h) => this.propose(h),
      valid: (h, v) => this.valid(h, v),
      timeouts: o.timeouts,
    })
  }

  static async start(st: LedgerActorState, a: BftNodeArgs): Promise<BftEngine> {
    const chainId = st.ledger.params().chainId
    const transport = await Libp2pTransport.create({
      listen: a.listen, privateKey: await loadOrCreateIdentity(a.dataDir), gossip: true, scoredTopics: [txTopic(chainId), bftTopic(chainId)],
    })
    const e = new BftEngine({
      transport, st, chainId: st.ledger.params().chainId, key: loadOrCreateValidatorKey(a.dataDir),
      signState: SignState.open(path.join(a.dataDir, 'bft-sign-state.json')), join: a.join, maxBlockTxs: a.maxBlockTxs,
      regossipMs: a.regossipMs, timeouts: a.timeouts, dataDir: a.dataDir,
    })
    transport.subscribe(e.topicTx, () => undefined, (data) => e.onGossipTx(data))
    transport.subscribe(e.topicBft, (data, from) => e.guard(() => e.onGossip(data, from)), (data, _via, origin) => e.judge(data, origin))
    await transport.serve(SYNC_PROTOCOL, (req) => e.serveSync(req))
    const genesisBytes = new Uint8Array(fs.readFileSync(a.genesis))
    await transport.serve(GENESIS_PROTOCOL, () => genesisBytes)
    // our binding: now, whenever a peer subscribes to the consensus topic, and every 5 s (peers further away)
    transport.pubsub?.addEventListener('subscription-change', (evt) => {
      if (evt.detail.subscriptions.some((s) => s.topic === e.topicBft && s.subscribe)) e.publishBindingSoon()
    })
    e.publishBinding()
    e.every(5000, () => e.publishBinding())
    // bootstrap and remembered peers are links of the transport: dialled now, redialled with backoff when lost
    for (const addr of e.bootstrap()) e.keepPeer(addr)
    e.every(10_000, () => void e.savePeers())
    e.every(a.regossipMs, () => e.regossip())
    e.startNextHeight()
    return e
  }

  get publicKey(): string {
    return this.self
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.txOut.stop()
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    await this.transport.close()
  }

  private publishBinding(): void {
    this.publish(this.topicBft, encodeWire({ type: 'binding', signed: this.ownBinding }))
  }

  /** After a peer subscribed: shortly, so that gossipsub has it as a topic peer (one publish for a burst of them). */
  private publishBindingSoon(): void {
    if (this.bindingPublishPending || this.stopped) return
    this.bindingPublishPending = true
    this.after(200, () => {
      this.bindingPublishPending = false
      this.publishBinding()
    })
  }

  /** Evidence items waiting for a block. */
  pendingEvidence(): number {
    return this.evidencePool.size
  }

  /** Peers connected right now. */
  peers(): number {
    return this.transport.connectedPeers().length
  }

  /** A transaction this node admitted (SubmitTx): gossiped to every node, with the others admitted meanwhile. */
  localTx(bytes: Uint8Array): void {
    this.txOut.add(bytes)
  }

  // ── the ledger side of the machine ─────────────────────────────────────────────────────────────────────────

  private validatorSet(): ValidatorSet {
    const h = this.st.ledger.head().height
    if (this.setCache?.height !== h) {
      const vs = this.st.ledger.validators().map((v) => ({ id: toHex(v.publicKey), power: v.power }))
      this.setCache = { height: h, set: new ValidatorSet(vs) }
    }
    return this.setCache.set
  }

  private propose(height: number): Value {
    const ledger = this.st.ledger
    const { mempool } = this.st
    const txs = mempool.peek(this.maxBlockTxs)
    const time = Math.max(Date.now(), ledger.nextBlockTime())
    const evidence = [...this.evidencePool.values()].slice(0, 64)
    // admitted transactions were verified on admission (an entry evicted from the cache is simply verified again)
    const t0 = performance.now()
    const p = ledger.proposeBlock(txs, { time, proposer: this.key.publicKey, verified: txs.map((t) => mempool.verified.has(t)), evidence })
    this.timing.propose += performance.now() - t0
    if (p.block.header.height !== height) throw new Error(`proposal for height ${height} built on head ${ledger.head().height}`)
    const id = toHex(p.hash)
    this.prepared.set(id, p)
    return { id, data: encodeBlock(p.block) }
  }

  private valid(height: number, value: Value): boolean {
    if (this.prepared.has(value.id)) return true
    try {
      const block = decodeBlock(value.data)
      if (toHex(blockHash(block.header)) !== value.id || block.header.height !== height) return false
      // a proposer's clock may run a little ahead of ours, not more
      if (block.header.time > Date.now() + 10_000) return false
      // a signature this node verified (same transaction hash, same signature bytes) is not verified again
      const t0 = performance.now()
      const p = this.st.ledger.validateBlock(block, { verified: (t) => this.st.mempool.verified.has(t) })
      this.timing.validate += performance.now() - t0
      this.prepared.set(value.id, p)
      return true
    } catch {
      return false
    }
  }

  // ── carrying out the machine's outputs ─────────────────────────────────────────────────────────────────────

  private run(outputs: readonly Output[]): void {
    for (const o of outputs) {
      if (this.stopped) return
      switch (o.type) {
        case 'broadcast':
        case 'send': {
          const m = o.message
          if (m.type === 'proposal') {
            const p = m.proposal
            if (!this.authorize(p.height, p.round, 'propose', p.value.id)) break
            const signed = signProposal(this.chainId, p, this.key.secretKey)
            this.proposalSigs.set(`${p.height}:${p.round}`, signed)
            this.publish(this.topicBft, encodeWire({ type: 'proposal', signed }))
          } else if (m.type === 'vote') {
            const v = m.vote
            if (!this.authorize(v.height, v.round, v.type, v.value)) break
            const signed = signVote(this.chainId, v, this.key.secretKey)
            this.voteSigs.set(voteKey(v.type, v.height, v.round, v.from, v.value), signed.signature)
            this.publish(this.topicBft, encodeWire({ type: 'vote', signed }))
          } else {
            // a catch-up answer: the block and its stored certificate
            const h = m.certificate.height
            const bytes = this.st.ledger.store.block(h)
            const cert = this.st.ledger.certificate(h)
            if (bytes && cert) this.publish(this.topicBft, encodeWire({ type: 'commit', value: { id: m.value.id, data: bytes }, certificate: decodeCertificate(cert) }))
          }
          break
        }
        case 'schedule':
          this.after(o.afterMs, () => this.run(this.machine.step({ type: 'timeout', kind: o.kind, height: o.height, round: o.round })))
          break
        case 'decide':
          this.commit(o.height, o.value, o.certificate)
          break
        case 'evidence': {
          this.counters.evidence++
          const { validator, first, second } = o.evidence
          const sig = (v: typeof first): Uint8Array | undefined => this.voteSigs.get(voteKey(v.type, v.height, v.round, v.from, v.value))
          const s1 = sig(first)
          const s2 = sig(second)
          if (!s1 || !s2 || this.evidencePool.has(`${validator}:${first.height}`)) break
          const bytes = encodeEvidence({
            validator: fromHex(validator), height: first.height, round: first.round, type: first.type,
            first: { value: first.value === null ? null : fromHex(first.value), signature: s1 },
            second: { value: second.value === null ? null : fromHex(second.value), signature: s2 },
          })
          this.addEvidence(bytes)
          this.publish(this.topicBft, encodeWire({ type: 'evidence', evidence: bytes }))
          break
        }
        case 'rejected':
          this.counters.rejected++
          break
      }
    }
  }

  /** The double-sign guard, before every signature: a refusal means we do not sign (and do not send) it. */
  private authorize(height: number, round: number, step: 'propose' | 'prevote' | 'precommit', value: string | null): boolean {
    const t0 = performance.now()
    try {
      this.signState.authorize({ height, round, step, value })
      this.timing.sign += performance.now() - t0
      return true
    } catch (e) {
      if ((e as { _tag?: string })._tag === 'DoubleSignRefused') {
        this.counters.signRefused++
        return false
      }
      throw e
    }
  }

  private commit(height: number, value: Value, c: CommitCertificate): void {
    const ledger = this.st.ledger
    const signatures = c.precommits.map((v) => this.voteSigs.get(voteKey('precommit', v.height, v.round, v.from, v.value)) ?? new Uint8Array(64))
    const signed: SignedCertificate = { certificate: c, signatures }
    let p = this.prepared.get(value.id)
    if (!p) p = ledger.validateBlock(decodeBlock(value.data), { verified: (t) => this.st.mempool.verified.has(t) })
    if (p.block.header.height !== height) throw new Error(`decided block ${height} does not extend head ${ledger.head().height}`)
    const paramsBefore = ledger.params()
    let t0 = performance.now()
    ledger.commitBlock(p, encodeCertificate(signed))
    this.timing.commit += performance.now() - t0
    this.counters.decided++
    this.recent.push({ height, txs: p.block.txs.length, finalityMs: Date.now() - p.block.header.time })
    if (this.recent.length > 64) this.recent.shift()
    t0 = performance.now()
    this.afterCommit(p, ledger.params() !== paramsBefore)
    this.timing.mempool += performance.now() - t0
    for (const k of [...this.evidencePool.keys()]) {
      const [who, h] = k.split(':') as [string, string]
      if (ledger.store.get(slashedKey(who, Number(h)))) this.evidencePool.delete(k)
    }
    // forget what belonged to heights before this one
    this.prepared = new Map()
    for (const k of this.voteSigs.keys()) if (Number(k.split(':')[1]) < height) this.voteSigs.delete(k)
    for (const k of this.proposalSigs.keys()) if (Number(k.split(':')[0]) <= height) this.proposalSigs.delete(k)
    this.startNextHeight()
  }

  /**
   * Receipts for the block's transactions; the mempool without them, the lanes the block touched re-checked
   * (ledger/mempool.ts `afterCommit`: no signature is verified again).
   */
  private afterCommit(p: PreparedBlock, paramsChanged: boolean): void {
    const { mempool, receipts } = this.st
    const height = p.block.header.height
    const fates: Array<[string, TxFate]> = p.receipts.map((r) => [toHex(r.hash), r.error ? { status: 'failed', height, error: r.error } : { status: 'included', height }])
    const inBlock = new Set(fates.map(([h]) => h))
    for (const d of mempool.afterCommit(inBlock, p.writes, paramsChanged)) fates.push([toHex(d.tx.hash), { status: 'dropped', error: d.error }])
    receipts.record(fates)
  }

  /** Starts the next height once its block may carry a time (parent time + blockTimeMs). */
  private startNextHeight(): void {
    const wait = Math.max(0, this.st.ledger.nextBlockTime() - Date.now())
    this.after(wait, () => this.run(this.machine.step({ type: 'start' })))
  }

  // ── the network ────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * A gossiped batch of transactions (the topic's validator): the signatures of those neither queued nor verified
   * before are checked on libuv's threadpool while the event loop goes on; then, in arrival order after the batches
   * received before it, each is admitted. Undecodable content or a bad signature rejects the message (its sender
   * is scored down); a transaction refused for its nonce, balance or fee is only dropped (another node may simply
   * have seen a different order).
   */
  private onGossipTx(data: Uint8Array): Promise<GossipVerdict> | GossipVerdict {
    if (this.stopped) return 'ignore'
    let raw: Uint8Array[]
    try {
      raw = decodeTxGossip(data)
    } catch {
      this.counters.malformed++
      return 'reject'
    }
    const { mempool } = this.st
    const fresh: PreparedTx[] = []
    let malformed = 0
    for (const b of raw) {
      try {
        const t = decodeTx(b)
        // known only when queued with this very signature: a copy of a queued tx with another signature is checked
        // (and rejected here, so a forwarder of forged copies is the one scored down, not an honest relay)
        if (!(mempool.has(txHashHex(t)) && mempool.verified.has(t))) fresh.push(t)
      } catch {
        malformed++
      }
    }
    this.counters.malformed += malformed
    const unverified = fresh.filter((t) => !mempool.verified.has(t))
    const t0 = performance.now()
    const checks = verifyAsync(unverified.map((t) => ({ publicKey: t.tx.from, message: t.payload, signature: t.tx.sig })))
    this.timing.verify += performance.now() - t0
    const done = this.txChain.then(async () => {
      const ok = await checks
      if (this.stopped) return { bad: 0, admitted: 0 }
      const bad = new Set<PreparedTx>()
      unverified.forEach((t, i) => (ok[i] ? mempool.verified.add(t) : bad.add(t)))
      this.counters.badTxSignatures += bad.size
      const t1 = performance.now()
      let admitted = 0
      this.guard(() => {
        for (const t of fresh) {
          if (bad.has(t)) continue
          try {
            mempool.admit(t)
            admitted++
            this.counters.gossipAdmitted++
          } catch (e) {
            // already included, a nonce gap, a full mempool: dropped here (the submitting node answered its client)
            if (!isTxError(e) && !(e instanceof MempoolFull)) throw e
          }
        }
      })
      this.timing.admit += performance.now() - t1
      return { bad: bad.size, admitted }
    })
    this.txChain = done.then(() => undefined, () => undefined)
    // a batch with new transactions none of which this node admits (unfunded senders, stale nonces) is not
    // forwarded: well-signed junk costs every node signature checks and its sender nothing
    return done.then(({ bad, admitted }) => (bad + malformed > 0 ? 'reject' : fresh.length > 0 && admitted === 0 ? 'ignore' : 'accept'))
  }

  /**
   * The consensus topic's validator: decodes the message and applies the binding rule and the signature checks
   * (docs/NETWORK.md) before anything else sees it. `reject` — undecodable, a bad signature, a first-hand message
   * from a peer bound to another validator, a binding record that is forged or carried by another peer — scores the
   * sender down; `ignore` — a first-hand message from a peer with no binding yet, a stale binding — only drops it.
   * An accepted message is handed to {@link onGossip}.
   */
  private judge(data: Uint8Array, from: string): GossipVerdict {
    const t0 = performance.now()
    try {
      return this.judgeMessage(data, from)
    } finally {
      this.timing.judge += performance.now() - t0
    }
  }

  private judgeMessage(data: Uint8Array, from: string): GossipVerdict {
    if (this.stopped) return 'ignore'
    let m: WireMessage
    try {
      m = decodeWire(data)
    } catch {
      this.counters.malformed++
      return 'reject'
    }
    switch (m.type) {
      case 'proposal':
      case 'vote': {
        // first-hand: the gossip originator must be the peer bound to the signer
        const check = this.bindings.check(from, m.type === 'proposal' ? m.signed.proposal.from : m.signed.vote.from)
        if (check === 'unbound') return this.count('unbound', 'ignore')
        if (check === 'impersonation') return this.count('impersonations', 'reject')
        if (!this.signatureHolds(m)) return this.count('badSignatures', 'reject')
        break
      }
      case 'relay':
        // another validator's message re-gossiped: any peer bound to a validator may relay it; its signature speaks
        if (this.bindings.validatorOf(from) === undefined) return this.count('unbound', 'ignore')
        if (!this.signatureHolds(m.message)) return this.count('badSignatures', 'reject')
        break
      case 'binding':
        try {
          this.bindings.accept(m.signed, from)
        } catch (e) {
          if (!(e instanceof InvalidPeerBinding)) throw e
          this.counters.badBindings++
          return e.reason === 'bad_signature' || e.reason === 'wrong_peer' || e.reason === 'wrong_chain' ? 'reject' : 'ignore'
        }
        return 'accept'
      case 'evidence':
        try {
          decodeEvidence(m.evidence)
        } catch {
          this.counters.malformed++
          return 'reject'
        }
        break
      case 'commit':
        break
    }
    this.judged.set(data, m)
    return 'accept'
  }

  private count(counter: 'unbound' | 'impersonations' | 'badSignatures', verdict: GossipVerdict): GossipVerdict {
    this.counters[counter]++
    return verdict
  }

  private signatureHolds(m: FirstHand): boolean {
    return m.type === 'proposal' ? verifyProposal(this.chainId, m.signed) : verifyVote(this.chainId, m.signed)
  }

  /** A consensus message the validator ({@link judge}) accepted: binding rule and signatures already checked. */
  private onGossip(data: Uint8Array, from: string): void {
    if (this.stopped) return
    const m = this.judged.get(data)
    if (!m) return
    this.judged.delete(data)
    switch (m.type) {
      case 'proposal':
      case 'vote':
        this.onSigned(m, from)
        break
      case 'relay':
        this.onSigned(m.message, from)
        break
      case 'binding':
        break
      case 'commit':
        this.feedCommit(m.value, m.certificate)
        break
      case 'evidence':
        this.addEvidence(m.evidence)
        break
    }
  }

  /** A proposal or vote admitted by the binding rule, its validator signature checked ({@link judge}): to the machine. */
  private onSigned(m: FirstHand, from: string): void {
    if (m.type === 'proposal') {
      const p = m.signed.proposal
      this.proposalSigs.set(`${p.height}:${p.round}`, m.signed)
      this.behind(p.height, from)
      this.run(this.machine.step({ type: 'proposal', proposal: p }))
    } else {
      const v = m.signed.vote
      this.voteSigs.set(voteKey(v.type, v.height, v.round, v.from, v.value), m.signed.signature)
      this.behind(v.height, from)
      this.run(this.machine.step({ type: 'vote', vote: v }))
    }
  }

  /** Keeps an evidence item for the next proposals (the ledger checks its signatures when a block carries it). */
  private addEvidence(bytes: Uint8Array): void {
    let e: DoubleSign
    try {
      e = decodeEvidence(bytes)
    } catch {
      this.counters.malformed++
      return
    }
    const who = toHex(e.validator)
    const key = `${who}:${e.height}`
    if (this.evidencePool.has(key) || this.evidencePool.size >= 256 || !this.validatorSet().has(who)) return
    if (this.st.ledger.store.get(slashedKey(who, e.height))) return
    this.evidencePool.set(key, bytes)
  }

  /** A block with its certificate from a peer: signatures checked here, the rest by the machine. */
  private feedCommit(value: Value, s: SignedCertificate): boolean {
    const c = s.certificate
    if (c.height < this.machine.height) return false
    try {
      verifyCertificate(this.chainId, s, this.validatorSet())
    } catch {
      this.counters.badSignatures++
      return false
    }
    c.precommits.forEach((v, i) => this.voteSigs.set(voteKey('precommit', v.height, v.round, v.from, v.value), s.signatures[i] as Uint8Array))
    this.run(this.machine.step({ type: 'commit', value, certificate: c }))
    return true
  }

  private serveSync(req: Uint8Array): Uint8Array {
    const r = new Reader(req)
    const from = r.uint('from')
    const ledger = this.st.ledger
    const w = new Writer(1024)
    const items: Array<[Uint8Array, Uint8Array]> = []
    let size = 0
    for (let h = Math.max(1, from); h <= ledger.head().height && items.length < SYNC_BATCH; h++) {
      const b = ledger.store.block(h)
      const c = ledger.certificate(h)
      if (!b || !c) break
      size += b.length + c.length
      if (size > 6 * 1024 * 1024 && items.length > 0) break
      items.push([b, c])
    }
    w.uint(items.length)
    for (const [b, c] of items) w.bytes(b).bytes(c)
    return w.finish()
  }

  /**
   * A message for a height above ours: ask its sender for blocks when it is two or more heights ahead, or one
   * height ahead while we have not moved for a while. (A node restarted one height behind may be unable to say
   * anything at its height — the guard refuses what it signed before the crash — so nobody would see it lag.)
   */
  private behind(height: number, from: string): void {
    const h = this.machine.height
    if (h !== this.heightSeen.height) this.heightSeen = { height: h, at: Date.now() }
    if (height > h + 1 || (height === h + 1 && Date.now() - this.heightSeen.at > 1500)) this.maybeSync(from)
  }

  /** Asks `peer` (which sent a message for a height above ours) for the blocks we miss, at most once a second. */
  private maybeSync(peer: string): void {
    if (this.syncing || Date.now() - this.lastSyncAt < 1000 || peer === '') return
    this.syncing = true
    this.lastSyncAt = Date.now()
    const from = this.machine.height
    this.transport.call(peer, SYNC_PROTOCOL, new Writer(16).uint(from).finish(), 10_000).then((answer) => {
      if (this.stopped) return
      const r = new Reader(answer)
      const n = r.uint('count')
      for (let i = 0; i < n; i++) {
        const data = r.bytes('block', 64 * 1024 * 1024)
        const cert = decodeCertificate(r.bytes('certificate', 1 << 20))
        const id = toHex(blockHash(decodeBlock(data).header))
        if (id !== cert.certificate.value) break
        if (this.feedCommit({ id, data }, cert)) this.counters.synced++
      }
    }).catch(() => undefined).finally(() => {
      this.syncing = false
    })
  }

  private regossip(): void {
    const m = this.machine
    const key = `${m.height}:${m.round}:${m.stepName}`
    if (m.waiting || key !== this.lastRegossipKey) {
      this.lastRegossipKey = key
      return
    }
    for (const msg of m.gossipMessages()) {
      if (msg.type === 'proposal') {
        const s = this.proposalSigs.get(`${msg.proposal.height}:${msg.proposal.round}`)
        if (s && s.proposal.value.id === msg.proposal.value.id) this.publishSigned({ type: 'proposal', signed: s })
      } else if (msg.type === 'vote') {
        const v = msg.vote
        const sig = this.voteSigs.get(voteKey(v.type, v.height, v.round, v.from, v.value))
        if (sig) this.publishSigned({ type: 'vote', signed: { vote: v, signature: sig } satisfies SignedVote })
      }
    }
  }

  /** Our own proposals and votes go first-hand; another validator's are wrapped as a relay. */
  private publishSigned(m: FirstHand): void {
    const signer = m.type === 'proposal' ? m.signed.proposal.from : m.signed.vote.from
    this.publish(this.topicBft, encodeWire(signer === this.self ? m : { type: 'relay', message: m }))
  }

  /** The --join peers and the peers remembered in peers.json (one address per peer id). */
  private bootstrap(): string[] {
    const targets = new Map(this.known)
    for (const addr of this.join) targets.set(addr.slice(addr.lastIndexOf('/p2p/') + 5), addr)
    return [...targets.values()]
  }

  private keepPeer(addr: string, replace = true): void {
    try {
      this.transport.keep(addr, { replace })
    } catch {
      // not a multiaddr with /p2p/<id>: nothing to redial
    }
  }

  /** Remembers the listen addresses (from identify) of the peers connected now, in `<dataDir>/peers.json`. */
  private async savePeers(): Promise<void> {
    const node = this.transport.node
    for (const peer of node.getPeers()) {
      try {
        const info = await node.peerStore.get(peer)
        // a TCP address, not a loopback one when the peer has another (identify lists a 0.0.0.0 listener's loopback)
        const tcp = info.addresses.map((a) => a.multiaddr.toString()).filter((a) => a.includes('/tcp/'))
        const addr = tcp.find((a) => !a.startsWith('/ip4/127.') && !a.startsWith('/ip6/::1/')) ?? tcp[0]
        if (addr) {
          const full = `${addr}/p2p/${peer.toString()}`
          this.known.set(peer.toString(), full)
          this.keepPeer(full, false)
        }
      } catch {
        // not in the peer store (yet)
      }
    }
    while (this.known.size > 64) this.known.delete(this.known.keys().next().value as string)
    try {
      fs.writeFileSync(this.peersFile, `${JSON.stringify(Object.fromEntries(this.known), null, 2)}\n`)
    } catch {
      // a read-only data dir only loses the peer list
    }
  }

  /** Runs engine work from a callback or timer: an unexpected failure is counted and logged, the node keeps running. */
  private guard(f: () => void): void {
    try {
      f()
    } catch (e) {
      this.counters.errors++
      this.lastError = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
      process.stderr.write(`bft: ${this.lastError}\n`)
    }
  }

  private publish(topic: string, data: Uint8Array): void {
    this.transport.publish(topic, data).catch(() => undefined)
  }

  private after(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      if (!this.stopped) this.guard(f)
    }, ms)
    this.timers.add(t)
  }

  private every(ms: number, f: () => void): void {
    const t = setInterval(() => {
      if (!this.stopped) this.guard(f)
    }, ms)
    this.timers.add(t)
  }
}

interface BftNodeState {
  readonly base: LedgerActorState
  readonly engine: BftEngine
}

/** The genesis of the chain spec written into an empty data dir (checked against a non-empty one). */
function openGenesis(dataDir: string, genesisFile: string, shards: number): void {
  const chain = readChainSpec(genesisFile)
  const store = LmdbStore.open({ path: path.join(dataDir, 'ledger'), shards })
  try {
    Ledger.open({ store, genesis: chain.genesis, validators: chain.validators })
  } finally {
    void store.close()
  }
}

export function bftNodeBehaviour(): Behaviour<BftNodeState> {
  const base = ledgerBehaviour()
  return {
    accepts: base.accepts.filter((t) => t !== 'ProduceBlock'),
    async init(ctx) {
      const a = bftNodeRole.args(ctx.args)
      fs.mkdirSync(a.dataDir, { recursive: true })
      openGenesis(a.dataDir, a.genesis, a.shards)
      const baseCtx: ActorContext = Object.create(ctx, {
        args: { value: { dataDir: a.dataDir, shards: a.shards, autoBlocks: false, maxMempool: a.maxMempool, maxBlockTxs: a.maxBlockTxs } },
      }) as ActorContext
      const st = await base.init(baseCtx)
      const engine = await BftEngine.start(st, a)
      if (a.announce) process.stdout.write(`bft: validator ${engine.publicKey} at ${engine.transport.addresses().join(' ')}\n`)
      return { base: st, engine }
    },
    async handle(state, msg: Message, ctx): Promise<HandleResult<BftNodeState>> {
      if (msg._tag === 'ProduceBlock') return failWith(state, new UnsupportedMessage({ actor: ctx.address, messageTag: msg._tag }))
      const out = await base.handle(state.base, msg, ctx)
      if (out._tag === 'Fail') return failWith(state, out.error)
      if (out._tag === 'Stop') return { ...out, state }
      const reply = out.reply
      if (reply?._tag === 'HeadInfo') return continueWith(state, { ...reply, finalizedHeight: reply.height, peers: state.engine.peers() })
      if (reply?._tag === 'BlockInfo') return continueWith(state, { ...reply, certificate: certificateInfo(state, reply.height) })
      if (reply?._tag === 'TxAccepted' && msg._tag === 'SubmitTx') state.engine.localTx(msg.tx)
      return continueWith(state, reply)
    },
    status(state) {
      const m = state.engine.machine
      const c = state.engine.counters
      return {
        height: state.base.ledger.head().height, round: m.round, step: m.stepName, validator: state.engine.publicKey, peers: state.engine.peers(),
        mempool: state.base.mempool.size, boundPeers: state.engine.bindings.size, unbound: c.unbound, impersonations: c.impersonations, badBindings: c.badBindings,
        malformed: c.malformed, badTxSignatures: c.badTxSignatures, gossipAdmitted: c.gossipAdmitted, signaturesCached: state.base.mempool.verified.hits,
        scoreBans: state.engine.transport.scoreBans, redials: state.engine.transport.redials,
        linksDown: state.engine.transport.linkStates().filter((l) => !l.up).length,
        timing: Object.entries(state.engine.timing).map(([k, v]) => `${k}:${Math.round(v)}`).join(' '),
        recentBlocks: state.engine.recent.map((b) => `${b.height}:${b.txs}:${b.finalityMs}`).join(' '),
        scoreBanned: state.engine.transport.scoreBannedPeers().map((b) => `${b.peer}:${b.score.toFixed(1)}`).join(' '),
        decided: c.decided, synced: c.synced, badSignatures: c.badSignatures, rejected: c.rejected,
        evidence: c.evidence, evidencePending: state.engine.pendingEvidence(), signRefused: c.signRefused, errors: c.errors,
        validatorPowers: state.base.ledger.validators().map((v) => `${toHex(v.publicKey).slice(0, 16)}:${v.power}`).join(' '), lastError: state.engine.lastError, addresses: state.engine.transport.addresses().join(' '),
      }
    },
    async terminate(state, reason, ctx) {
      await state.engine.stop()
      await base.terminate?.(state.base, reason, ctx)
    },
  }
}

function certificateInfo(state: BftNodeState, height: number): {
  round: number; power: string; totalPower: string; precommits: Array<{ validator: string; power: string; signature: string }>
} | null {
  const bytes = state.base.ledger.certificate(height)
  if (!bytes) return null
  const s = decodeCertificate(bytes)
  // the set that agreed on block h is the state after h − 1; it changes only at genesis today (docs/BFT.md)
  const set = new ValidatorSet(state.base.ledger.validators().map((v) => ({ id: toHex(v.publicKey), power: v.power })))
  let power = 0n
  const precommits = s.certificate.precommits.map((v, i) => {
    power += set.power(v.from)
    return { validator: v.from, power: set.power(v.from).toString(), signature: toHex(s.signatures[i] as Uint8Array) }
  })
  return { round: s.certificate.round, power: power.toString(), totalPower: set.total.toString(), precommits }
}

/** The gossip topic of a chain's transactions. */
export const txTopic = (chainId: string): string => `basedai/${chainId}/tx`
/** The gossip topic of a chain's consensus messages. */
export const bftTopic = (chainId: string): string => `basedai/${chainId}/bft`

export default bftNodeBehaviour
