/**
 * The `net` actor: owns this node's libp2p transport for as long as it runs. `init` starts libp2p with the node's
 * persistent identity and serves the local actors on it through the guarded surface (net/guard.ts: which message
 * kinds a remote peer may send, per-peer rate and concurrency limits, strikes and bans); `terminate` stops it.
 * Supervised like any actor, so a crash of the network layer restarts it without touching the rest of the tree.
 *
 * Start arguments come in two parts, because part of them cannot be serialized:
 * - `NetArgs` (the spec's `args`, decoded in `init`, defaults here): `dataDir` (where the identity key lives),
 *   `listen` (multiaddrs, default loopback on any port) and `limits` (the guard's per-peer limits, defaults in
 *   net/guard.ts);
 * - `NetOptions` (given to `netRole.create`, held by the behaviour): `system` (the running tree whose actors are
 *   served), `onListening`, and the guard's predicates (`serves`, `isParticipant`).
 * So the net actor runs on the main thread only (its options are functions).
 *
 * @example
 * ```ts
 * netRole.create('net', { dataDir, listen: ['/ip4/0.0.0.0/tcp/4001'] }, { system: () => sys, onListening: console.log })
 * ```
 * `netBehaviour({ listen, dataDir, system })` — the options object with the serializable fields inside, as before
 * issue 10 — still works: those fields are then the arguments (what the spec's `args` carries overrides them).
 */
import { Schema } from 'effect'
import type { ActorSystem } from '../supervisor/index.ts'
import { continueWith, defineLocalRole, type Behaviour, type HandleResult } from '../supervisor/runtime.ts'
import { answerBasic, basicState, BASIC_TAGS, type BasicState } from './basic.ts'
import { Libp2pTransport, loadOrCreateIdentity } from '../net/libp2p-transport.ts'
import { PeerGuard, serveGuarded, type GuardInit } from '../net/guard.ts'
import { withRequestDeadlines } from '../net/deadline.ts'

const Positive = Schema.Number.pipe(Schema.int(), Schema.positive())

/** Serializable start arguments of the net actor (defaults here; the guard's limits default in net/guard.ts). */
export const NetArgs = Schema.Struct({
  /** Data directory holding the node's persistent libp2p identity. */
  dataDir: Schema.String.pipe(Schema.minLength(1)),
  /** libp2p listen multiaddrs. */
  listen: Schema.optionalWith(Schema.Array(Schema.String), { default: () => ['/ip4/127.0.0.1/tcp/0'] }),
  /** Per-peer guard limits (any not given: DEFAULT_GUARD_LIMITS). */
  limits: Schema.optional(
    Schema.Struct({
      ratePerSecond: Schema.optional(Positive),
      burst: Schema.optional(Positive),
      maxConcurrent: Schema.optional(Positive),
      strikeLimit: Schema.optional(Positive),
      banMs: Schema.optional(Positive),
    }),
  ),
})
export type NetArgs = typeof NetArgs.Type

/** What the net actor needs that cannot be serialized. */
export interface NetOptions {
  /** The system whose actors are served (read per request: the net actor starts inside it). */
  readonly system: () => ActorSystem | undefined
  /** Called with the listening addresses once up. */
  readonly onListening?: (addresses: string[]) => void
  /** The guard's predicates (which addresses are served, who is a participant) and clock; defaults in net/guard.ts. */
  readonly guard?: Omit<GuardInit, 'onBan'>
  /**
   * Called with the transport once it is up, and with undefined when it stops: other main-thread actors of the node
   * (the remote-miner proxies, actors/remote-miner.ts) dial through it, so peers see one peer id for this node.
   */
  readonly onTransport?: (transport: Libp2pTransport | undefined) => void
}

/** The options of the form before issue 10: the serializable arguments inside the options object. */
export interface NetActorInit extends NetOptions {
  readonly listen: readonly string[]
  readonly dataDir: string
}

interface NetState {
  readonly basic: BasicState
  readonly transport: Libp2pTransport
  readonly guard: PeerGuard
}

export function netBehaviour(options: NetOptions | NetActorInit): Behaviour<NetState> {
  // the arguments inside the options (the older form) are defaults for the spec's own
  const legacy = 'dataDir' in options ? { dataDir: options.dataDir, listen: options.listen } : {}
  return {
    accepts: BASIC_TAGS,
    async init(ctx) {
      const args = netRole.args({ ...legacy, ...ctx.args })
      const holder: { transport?: Libp2pTransport } = {}
      const limits = { ...options.guard?.limits, ...args.limits }
      // hang up just after the refusal that crossed the strike limit has been written
      const guard = new PeerGuard({ ...options.guard, limits, onBan: (peer) => setTimeout(() => void holder.transport?.hangUp(peer), 50) })
      const transport = await Libp2pTransport.create({ listen: args.listen, privateKey: await loadOrCreateIdentity(args.dataDir), deny: (peer) => guard.isBanned(peer) })
      holder.transport = transport
      // a request carrying a deadline (an encrypted product) is waited for until then, not the default ask timeout
      serveGuarded(transport, withRequestDeadlines((address) => options.system()?.lookup(address)), guard)
      options.onTransport?.(transport)
      options.onListening?.(transport.addresses())
      return { basic: basicState(), transport, guard }
    },
    status: (state) => ({
      peerId: state.transport.peerId,
      addresses: state.transport.addresses().join(' '),
      peers: state.transport.connectedPeers().length,
      banned: state.guard.stats().filter((p) => p.banned).length,
    }),
    handle: (state, msg, ctx): HandleResult<NetState> => continueWith(state, answerBasic(state.basic, msg, ctx)),
    async terminate(state) {
      options.onTransport?.(undefined)
      await state.transport.close()
    },
  }
}

/** The net role: `netRole.create(id, args, options)` (main thread only). */
export const netRole = defineLocalRole('net', NetArgs, netBehaviour)
