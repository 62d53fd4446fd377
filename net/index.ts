/**
 * basedai/net — actors on other machines. `Libp2pTransport` implements the actor runtime's `Transport` over
 * libp2p (TCP + Noise + yamux); with `serveActors` a node answers frames for its local actors, and a `RemoteRef`
 * on another node is an ActorRef to one of them.
 *
 * @example
 * ```ts
 * import { Libp2pTransport } from 'basedai/net'
 * import { RemoteRef, serveActors } from 'basedai/actors'
 * const server = await Libp2pTransport.create({ listen: ['/ip4/0.0.0.0/tcp/4001'] })
 * serveActors(server, (address) => system.lookup(address))
 * // on another machine:
 * const client = await Libp2pTransport.create({ listen: [] })
 * const brain = new RemoteRef(client, '/ip4/10.0.0.5/tcp/4001/p2p/12D3Koo…', '/root/brains/brain-1')
 * await brain.ask({ _tag: 'GetStatus' })
 * ```
 */
export * from './errors.ts'
export { netBehaviour, type NetActorInit } from './actor.ts'
export { ACTOR_PROTOCOL, Libp2pTransport, loadOrCreateIdentity, type Libp2pTransportInit } from './libp2p-transport.ts'
