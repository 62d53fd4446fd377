/**
 * basedai/net — actors on other machines. `Libp2pTransport` implements the actor runtime's `Transport` over
 * libp2p (TCP + Noise + yamux, identify, ping); with `serveGuarded` a node answers frames for its local actors
 * through a guard (which message kinds a remote peer may send; per-peer rate, concurrency and strike limits), and a
 * `RemoteRef` on another node is an ActorRef to one of them. (`serveActors` from basedai/actors serves unguarded,
 * for trusted in-process transports.)
 *
 * @example
 * ```ts
 * import { Libp2pTransport } from 'basedai/net'
 * import { RemoteRef } from 'basedai/actors'
 * import { PeerGuard, serveGuarded } from 'basedai/net'
 * const server = await Libp2pTransport.create({ listen: ['/ip4/0.0.0.0/tcp/4001'] })
 * serveGuarded(server, (address) => system.lookup(address), new PeerGuard())
 * // on another machine:
 * const client = await Libp2pTransport.create({ listen: [] })
 * const brain = new RemoteRef(client, '/ip4/10.0.0.5/tcp/4001/p2p/12D3Koo…', '/root/brains/brain-1')
 * await brain.ask({ _tag: 'GetStatus' })
 * ```
 */
export * from './errors.ts'
export { NetArgs, netBehaviour, netRole, type NetActorInit, type NetOptions } from '../actors/net.ts'
export { ACTOR_PROTOCOL, Libp2pTransport, loadOrCreateIdentity, type Libp2pTransportInit } from './libp2p-transport.ts'
export { DEFAULT_GUARD_LIMITS, PeerGuard, REMOTE_POLICY, serveGuarded } from './guard.ts'
export type { GuardInit, GuardLimits, GuardStats, RemoteSender } from './guard.ts'
export { askByDeadline, deadlineOf, deadlineRef, EXPIRED_GRACE_MS, MAX_SERVED_WAIT_MS, servedWaitMs, withRequestDeadlines } from './deadline.ts'
