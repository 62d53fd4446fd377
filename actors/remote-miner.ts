/**
 * Miners on other machines (docs/NETWORK.md "A miner on another machine").
 *
 * A miner hosted by another node announces where it serves with a signed `serveMiner` transaction (ledger/serve.ts):
 * its libp2p peer id, multiaddrs and actor address, bound to its compute key. Two actors of this file make such a
 * miner one of this node's Brain's miners:
 *
 * - **`served-miners`** (one per node that runs Brains and libp2p): every `pollMs` it reads, for each local Brain,
 *   the Brain's metagraph from the ledger; for each miner row with a `serving` record whose peer is not this node, it
 *   keeps one `remote-miner` proxy running under `/root/remote` (started with `startChild`, restarted when the record
 *   changes, stopped when the record or the registration goes). It also keeps the set of peer ids bound to registered
 *   miners, which the net actor's guard uses as `isParticipant`.
 * - **`remote-miner`** (the proxy, `/root/remote/b<brain>-uid<uid>`): an actor of this tree that forwards each
 *   `EncryptedLinear` to the miner's actor on its peer over this node's libp2p transport (the net actor's, so the
 *   remote miner sees this node's peer id), and answers with the miner's reply or typed refusal. So the Brain routes
 *   to it, validators challenge it and `based inspect mailboxes` lists it like a local miner, with its peer.
 *
 * Liveness and reconnection. The proxy asks the remote miner for its status every `heartbeatMs` (2 s); the answer is
 * kept (its weights hash is what validators check) and shown in the proxy's status beside `remote: true`, the peer
 * and the uid. A failed heartbeat, a failed forward or the libp2p connection to the peer closing marks the miner
 * **down**: the proxy tells its Brain `MinerGone` (nothing more is routed to it) and answers any `EncryptedLinear`
 * at once with the typed `PeerLost` (which an encrypted session reroutes on, gateway/encrypted.ts) until a
 * heartbeat succeeds. Heartbeats while down are redials with exponential back-off: `backoffMs` · 2^(k−1) after the k-th
 * consecutive failure, capped at `maxBackoffMs` (defaults 500 ms and 30 s). The first heartbeat that succeeds marks it
 * up and tells the Brain (and the Brain's validators) `RegisterMiner` again, which clears the Brain's down mark.
 * A forward that outlives its request's deadline is an `AskTimeout` (the request's time is spent; not a lost peer).
 *
 * Attribution: an answer is passed on only when its compute receipt is signed by the compute key the ledger binds to
 * that peer (the serveMiner record); otherwise it is refused with `MinerRejection UnboundReceipt` (counted in
 * `badReceipts`), so every answer this node relays is attributable to a registered miner's stake.
 */
import { Schema } from 'effect'
import type { ActorSystem } from '../supervisor/index.ts'
import { continueWith, defineLocalRole, failWith, toProtocolError, RemoteRef, type ActorContext, type Behaviour, type HandleResult } from '../supervisor/runtime.ts'
import { AskTimeout, MinerRejection, PeerLost, receiptSigningBytes, type ComputeReceipt, type EncryptedLinear, type Message, type ProtocolError } from '../protocol/index.ts'
import type { Libp2pTransport } from '../net/libp2p-transport.ts'
import { fromAddress, fromHex, toHex, verify } from '../ledger/index.ts'
import { answerBasic, basicState, BASIC_TAGS, type BasicState } from './basic.ts'

/** Where the proxies run. */
export const REMOTE_SUPERVISOR = '/root/remote'
/** Heartbeat and redial constants (ms), documented in docs/NETWORK.md. */
export const REMOTE_DEFAULTS = { heartbeatMs: 2000, backoffMs: 500, maxBackoffMs: 30_000, heartbeatTimeoutMs: 5000, forwardTimeoutMs: 120_000 } as const

const Positive = Schema.Number.pipe(Schema.int(), Schema.positive())

export const RemoteMinerArgs = Schema.Struct({
  /** The Brain's id on the ledger, and the miner's uid and compute key (hex) there. */
  brain: Positive,
  uid: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  computeKey: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/)),
  /** From the serveMiner record: the peer, its multiaddrs, the miner's actor address there. */
  peerId: Schema.String.pipe(Schema.minLength(1)),
  addrs: Schema.Array(Schema.String),
  actor: Schema.String.pipe(Schema.pattern(/^\/[A-Za-z0-9_./-]+$/)),
  /** The local Brain actor it serves, and the validators that check that Brain's miners. */
  brainActor: Schema.String,
  validators: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  heartbeatMs: Schema.optionalWith(Positive, { default: () => REMOTE_DEFAULTS.heartbeatMs }),
  backoffMs: Schema.optionalWith(Positive, { default: () => REMOTE_DEFAULTS.backoffMs }),
  maxBackoffMs: Schema.optionalWith(Positive, { default: () => REMOTE_DEFAULTS.maxBackoffMs }),
})
export type RemoteMinerArgs = typeof RemoteMinerArgs.Type

export interface RemoteOptions {
  /** This node's libp2p transport (the net actor's), read per request: undefined while the net actor is down. */
  readonly transport: () => Libp2pTransport | undefined
}

/** Dial targets of a serve record: each multiaddr with its /p2p part (added when absent), then the bare peer id. */
export function dialTargets(peerId: string, addrs: readonly string[]): string[] {
  const out = addrs.map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${peerId}`))
  out.push(peerId)
  return [...new Set(out)]
}

/** Successful heartbeats between two re-announcements of an up miner (20 s at the default 2 s heartbeat). */
const REANNOUNCE_BEATS = 10

interface RemoteState {
  readonly basic: BasicState
  readonly args: RemoteMinerArgs
  readonly targets: string[]
  /** Index of the target that answered last. */
  target: number
  up: boolean
  /** Successful heartbeats since the last announcement (every REANNOUNCE_BEATS-th re-announces the miner). */
  beatsUp: number
  /** Consecutive failed heartbeats. */
  failures: number
  retryAt: number
  lastError: string
  /** The remote miner's status detail, as last read. */
  remote: Readonly<Record<string, string | number | boolean>>
  forwarded: number
  lost: number
  /** Answers refused because their receipt was not the bound compute key's (UnboundReceipt). */
  badReceipts: number
  timer: NodeJS.Timeout | null
  stopped: boolean
  beating: boolean
  onDisconnect: ((evt: Event) => void) | null
}

/** Whether a compute receipt's signature holds under the key it names. */
function receiptVerifies(r: typeof ComputeReceipt.Type): boolean {
  try {
    const { signature, ...unsigned } = r
    return verify(fromHex(r.computeKey), receiptSigningBytes(unsigned), fromHex(signature))
  } catch {
    return false
  }
}

function describe(e: unknown): string {
  if (typeof e === 'object' && e !== null && '_tag' in e) {
    const r = (e as { reason?: unknown }).reason
    return `${String((e as { _tag: unknown })._tag)}${typeof r === 'string' ? `: ${r.slice(0, 200)}` : ''}`
  }
  return e instanceof Error ? e.message : String(e)
}

/** A transport failure (net PeerUnreachable): a timeout or an abort is the request's time spent, anything else a lost peer. */
function isTimeout(e: unknown): boolean {
  const reason = (e as { reason?: unknown }).reason
  return typeof reason === 'string' && /^(TimeoutError|AbortError)/.test(reason)
}

export function remoteMinerBehaviour(options: RemoteOptions): Behaviour<RemoteState> {
  const tell = (ctx: ActorContext, to: string, msg: Message): void => {
    try {
      ctx.lookup?.(to)?.tell(msg)
    } catch {
      // the Brain or validator is restarting (or its mailbox is full): the next transition tells it again
    }
  }
  const announce = (s: RemoteState, ctx: ActorContext, up: boolean): void => {
    const miner = ctx.address
    if (!up) {
      tell(ctx, s.args.brainActor, { _tag: 'MinerGone', miner })
      return
    }
    tell(ctx, s.args.brainActor, { _tag: 'RegisterMiner', miner })
    for (const v of s.args.validators) tell(ctx, v, { _tag: 'RegisterMiner', miner })
  }
  const markDown = (s: RemoteState, ctx: ActorContext, why: string): void => {
    s.lastError = why
    s.failures++
    s.retryAt = Date.now() + Math.min(s.args.maxBackoffMs, s.args.backoffMs * 2 ** Math.min(20, s.failures - 1))
    if (s.up) {
      s.up = false
      s.lost++
      announce(s, ctx, false)
    }
  }
  const ref = (s: RemoteState, t: Libp2pTransport, i: number): RemoteRef => new RemoteRef(t, s.targets[i % s.targets.length] as string, s.args.actor)

  /** One heartbeat: GetStatus on the targets in turn from the last good one; schedules the next. */
  const beat = async (s: RemoteState, ctx: ActorContext): Promise<void> => {
    if (s.stopped || s.beating) return
    s.beating = true
    try {
      const t = options.transport()
      if (!t) {
        markDown(s, ctx, 'this node has no libp2p transport (net actor down)')
        return
      }
      let last: unknown
      for (let k = 0; k < s.targets.length; k++) {
        const i = (s.target + k) % s.targets.length
        try {
          const st = await ref(s, t, i).ask({ _tag: 'GetStatus' }, { timeoutMs: REMOTE_DEFAULTS.heartbeatTimeoutMs })
          s.remote = st.detail
          s.target = i
          s.failures = 0
          s.retryAt = 0
          if (!s.up || ++s.beatsUp >= REANNOUNCE_BEATS) {
            // on coming up, and now and then while up: a Brain or validator restarted meanwhile has lost the miner
            // (RegisterMiner is idempotent; it also ends a down mark a client's MinerGone set, after that many beats)
            s.up = true
            s.beatsUp = 0
            announce(s, ctx, true)
          }
          return
        } catch (e) {
          last = e
        }
      }
      markDown(s, ctx, describe(last))
    } finally {
      s.beating = false
      if (!s.stopped) {
        if (s.timer) clearTimeout(s.timer)
        s.timer = setTimeout(() => void beat(s, ctx), s.up ? s.args.heartbeatMs : Math.max(50, s.retryAt - Date.now()))
        s.timer.unref()
      }
    }
  }

  return {
    accepts: [...BASIC_TAGS, 'EncryptedLinear'],
    init(ctx) {
      const args = remoteMinerRole.args(ctx.args)
      const s: RemoteState = {
        basic: basicState(), args, targets: dialTargets(args.peerId, args.addrs), target: 0, up: false, failures: 0, retryAt: 0, lastError: '',
        remote: {}, beatsUp: 0, forwarded: 0, lost: 0, badReceipts: 0, timer: null, stopped: false, beating: false, onDisconnect: null,
      }
      // a closed connection to the peer (its node killed, the link cut) is checked at once, not at the next heartbeat
      const t = options.transport()
      if (t) {
        s.onDisconnect = (evt: Event): void => {
          if (String((evt as CustomEvent<unknown>).detail) === args.peerId && !s.stopped) setTimeout(() => void beat(s, ctx), 20).unref()
        }
        t.node.addEventListener('peer:disconnect', s.onDisconnect)
      }
      void beat(s, ctx)
      return s
    },
    status: (s) => ({
      // the remote miner's own status first (weightsHash, model, encryptedProducts, …), then what this node knows
      ...s.remote,
      remote: true,
      peerId: s.args.peerId,
      multiaddr: s.targets[s.target] ?? '',
      remoteActor: s.args.actor,
      brain: s.args.brain,
      uid: s.args.uid,
      computeKey: s.args.computeKey,
      connected: s.up,
      failures: s.failures,
      retryInMs: s.up ? 0 : Math.max(0, s.retryAt - Date.now()),
      lastError: s.lastError,
      forwarded: s.forwarded,
      lost: s.lost,
      badReceipts: s.badReceipts,
    }),
    async handle(s, msg: Message, ctx): Promise<HandleResult<RemoteState>> {
      if (msg._tag !== 'EncryptedLinear') return continueWith(s, answerBasic(s.basic, msg, ctx))
      const lost = (why: string): HandleResult<RemoteState> =>
        failWith(s, new PeerLost({ actor: ctx.address, peer: s.args.peerId, reason: why }))
      const t = options.transport()
      if (!t) return lost('this node has no libp2p transport (net actor down)')
      if (!s.up) return lost(`miner down (${s.lastError || 'not reached yet'}); next redial in ${Math.max(0, s.retryAt - Date.now())} ms`)
      const req = msg as typeof EncryptedLinear.Type
      const timeoutMs = req.deadline !== undefined ? Math.max(1, req.deadline - Date.now()) : REMOTE_DEFAULTS.forwardTimeoutMs
      try {
        const reply = await ref(s, t, s.target).ask(req, { timeoutMs })
        // the answer must be attributable to the registered miner: its receipt signed by the bound compute key
        const r = reply.receipt
        const why = r.computeKey !== s.args.computeKey
          ? `receipt signed by ${r.computeKey.slice(0, 16)}…, not by the compute key bound to peer ${s.args.peerId} on the ledger`
          : !receiptVerifies(r) ? 'the receipt\'s signature does not verify under the bound compute key' : undefined
        if (why !== undefined) {
          s.badReceipts++
          return failWith(s, new MinerRejection({ actor: ctx.address, reason: 'UnboundReceipt', message: why, detail: { peer: s.args.peerId, computeKey: s.args.computeKey } }))
        }
        s.forwarded++
        return continueWith(s, reply)
      } catch (e) {
        const err = e as ProtocolError | { _tag?: string }
        if (err._tag === 'PeerUnreachable') {
          if (isTimeout(e)) return failWith(s, new AskTimeout({ actor: ctx.address, messageTag: 'EncryptedLinear', timeoutMs }))
          markDown(s, ctx, describe(e))
          if (s.timer) clearTimeout(s.timer)
          s.timer = setTimeout(() => void beat(s, ctx), Math.max(50, s.retryAt - Date.now()))
          s.timer.unref()
          return lost(describe(e))
        }
        // the miner's own answer (a MinerRejection, an FheRejection, the far node's Forbidden…), passed on
        return failWith(s, toProtocolError(ctx.address, e))
      }
    },
    terminate(s) {
      s.stopped = true
      if (s.timer) clearTimeout(s.timer)
      if (s.onDisconnect) options.transport()?.node.removeEventListener('peer:disconnect', s.onDisconnect)
    },
  }
}

export const remoteMinerRole = defineLocalRole('remote-miner', RemoteMinerArgs, remoteMinerBehaviour)

// ── served-miners: the ledger → proxies ──────────────────────────────────────────────────────────────────────────

export const ServedMinersArgs = Schema.Struct({
  /** Local Brains: actor address and cluster index (the ledger id is GetBrains().ids[index − 1], as validators read it). */
  brains: Schema.Array(Schema.Struct({ actor: Schema.String, index: Positive })),
  /** Local validators and the cluster index of the Brain each checks. */
  validators: Schema.optionalWith(Schema.Array(Schema.Struct({ actor: Schema.String, brain: Positive })), { default: () => [] }),
  ledger: Schema.optionalWith(Schema.String, { default: () => '/root/ledger/writer' }),
  pollMs: Schema.optionalWith(Positive, { default: () => 2000 }),
  /** Proxy timing (see remote-miner). */
  heartbeatMs: Schema.optional(Positive),
  backoffMs: Schema.optional(Positive),
  maxBackoffMs: Schema.optional(Positive),
})
export type ServedMinersArgs = typeof ServedMinersArgs.Type

export interface ServedMinersOptions extends RemoteOptions {
  readonly system: () => ActorSystem | undefined
  /** Peer ids bound (by a serveMiner record) to a miner registered on a local Brain: kept up to date here. */
  readonly boundPeers?: Set<string>
}

interface Proxy {
  readonly id: string
  /** What the proxy was started with (a change restarts it). */
  readonly key: string
}

interface ServedState {
  readonly basic: BasicState
  readonly args: ServedMinersArgs
  readonly proxies: Map<string, Proxy>
  timer: NodeJS.Timeout | null
  polls: number
  failures: number
  lastError: string
  busy: boolean
  stopped: boolean
}

async function poll(s: ServedState, o: ServedMinersOptions, ctx: ActorContext): Promise<void> {
  const system = o.system()
  const ledger = ctx.lookup?.(s.args.ledger)
  const t = o.transport()
  if (!system || !ledger || !t) return
  const ids = (await ledger.ask({ _tag: 'GetBrains' })).ids
  const want = new Map<string, { args: typeof RemoteMinerArgs.Encoded; key: string }>()
  const bound = new Set<string>()
  for (const b of s.args.brains) {
    const brain = ids[b.index - 1]
    if (brain === undefined) continue
    const m = await ledger.ask({ _tag: 'GetMetagraph', brain })
    const validators = s.args.validators.filter((v) => v.brain === b.index).map((v) => v.actor)
    for (const row of m.rows) {
      const sv = row.serving
      if (row.role !== 'miner' || !sv) continue
      bound.add(sv.peerId)
      if (sv.peerId === t.peerId) continue // served by this node: its miner is local already
      const id = `b${brain}-uid${row.uid}`
      const args: typeof RemoteMinerArgs.Encoded = {
        brain, uid: row.uid, computeKey: toHex(fromAddress(row.computeKey)), peerId: sv.peerId, addrs: sv.addrs, actor: sv.actor,
        brainActor: b.actor, validators,
        ...(s.args.heartbeatMs !== undefined ? { heartbeatMs: s.args.heartbeatMs } : {}),
        ...(s.args.backoffMs !== undefined ? { backoffMs: s.args.backoffMs } : {}),
        ...(s.args.maxBackoffMs !== undefined ? { maxBackoffMs: s.args.maxBackoffMs } : {}),
      }
      want.set(id, { args, key: `${row.computeKey}|${sv.peerId}|${sv.issuedAt}|${b.actor}|${validators.join(',')}` })
    }
  }
  if (o.boundPeers) {
    o.boundPeers.clear()
    for (const p of bound) o.boundPeers.add(p)
  }
  const sup = system.supervisor(REMOTE_SUPERVISOR)
  for (const [id, p] of [...s.proxies]) {
    const w = want.get(id)
    if (w && w.key === p.key) continue
    // gone from the ledger, or its record changed: stop it (a changed one is started again below)
    await sup.terminateChild(id)
    s.proxies.delete(id)
    if (!w) {
      const brainActor = p.key.split('|')[3] as string
      ctx.lookup?.(brainActor)?.tell({ _tag: 'MinerGone', miner: `${REMOTE_SUPERVISOR}/${id}` })
    }
  }
  for (const [id, w] of want) {
    if (s.proxies.has(id)) continue
    await sup.terminateChild(id) // one left by an earlier incarnation of this actor
    await sup.startChild(remoteMinerRole.create(id, w.args, { transport: o.transport }))
    s.proxies.set(id, { id, key: w.key })
  }
}

export function servedMinersBehaviour(o: ServedMinersOptions): Behaviour<ServedState> {
  const step = async (s: ServedState, ctx: ActorContext): Promise<void> => {
    if (s.busy || s.stopped) return
    s.busy = true
    try {
      await poll(s, o, ctx)
      s.polls++
    } catch (e) {
      s.failures++
      s.lastError = describe(e)
    } finally {
      s.busy = false
    }
  }
  return {
    accepts: [...BASIC_TAGS],
    init(ctx) {
      const args = servedMinersRole.args(ctx.args)
      const s: ServedState = { basic: basicState(), args, proxies: new Map(), timer: null, polls: 0, failures: 0, lastError: '', busy: false, stopped: false }
      s.timer = setInterval(() => void step(s, ctx), args.pollMs)
      s.timer.unref()
      setTimeout(() => void step(s, ctx), 100).unref()
      return s
    },
    status: (s) => ({ remoteMiners: s.proxies.size, proxies: [...s.proxies.keys()].join(' '), polls: s.polls, failures: s.failures, lastError: s.lastError, boundPeers: o.boundPeers?.size ?? 0 }),
    handle: (s, msg, ctx): HandleResult<ServedState> => continueWith(s, answerBasic(s.basic, msg, ctx)),
    terminate(s) {
      s.stopped = true
      if (s.timer) clearInterval(s.timer)
    },
  }
}

export const servedMinersRole = defineLocalRole('served-miners', ServedMinersArgs, servedMinersBehaviour)
