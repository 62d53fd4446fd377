/**
 * The `net` actor: owns this node's libp2p transport for as long as it runs. `init` starts libp2p with the node's
 * persistent identity and serves the local actors on it through the guarded surface (net/guard.ts: which message
 * kinds a remote peer may send, per-peer rate and concurrency limits, strikes and bans); `terminate` stops it.
 * Supervised like any actor, so a crash of the network layer restarts it without touching the rest of the tree.
 */
import type { ActorSystem } from '../supervisor/index.ts'
import { continueWith, failWith, type Behaviour, type HandleResult } from './index.ts'
import { UnsupportedMessage } from '../protocol/index.ts'
import { basicBehaviour, type BasicState } from './basic.ts'
import { Libp2pTransport, loadOrCreateIdentity } from '../net/libp2p-transport.ts'
import { PeerGuard, serveGuarded, type GuardInit } from '../net/guard.ts'

export interface NetActorInit {
  readonly listen: readonly string[]
  readonly dataDir: string
  readonly system: () => ActorSystem | undefined
  /** Called with the listening addresses once up. */
  readonly onListening?: (addresses: string[]) => void
  /** Guard settings (limits, served addresses, who is a participant); defaults in net/guard.ts. */
  readonly guard?: Omit<GuardInit, 'onBan'>
}

interface NetState extends BasicState {
  transport: Libp2pTransport
  guard: PeerGuard
}

export function netBehaviour(init: NetActorInit): Behaviour<NetState> {
  const basic = basicBehaviour('net', () => ({}))
  return {
    accepts: basic.accepts,
    async init(ctx) {
      const holder: { transport?: Libp2pTransport } = {}
      // hang up just after the refusal that crossed the strike limit has been written
      const guard = new PeerGuard({ ...init.guard, onBan: (peer) => setTimeout(() => void holder.transport?.hangUp(peer), 50) })
      const transport = await Libp2pTransport.create({ listen: init.listen, privateKey: await loadOrCreateIdentity(init.dataDir), deny: (peer) => guard.isBanned(peer) })
      holder.transport = transport
      serveGuarded(transport, (address) => init.system()?.lookup(address), guard)
      init.onListening?.(transport.addresses())
      return { ...(await basic.init(ctx)), transport, guard }
    },
    async handle(state, msg, ctx): Promise<HandleResult<NetState>> {
      const out = await basic.handle(state, msg, ctx)
      if (out._tag === 'Continue' && out.reply?._tag === 'StatusReply') {
        const banned = state.guard.stats().filter((p) => p.banned).length
        const detail = { ...out.reply.detail, peerId: state.transport.peerId, addresses: state.transport.addresses().join(' '), peers: state.transport.connectedPeers().length, banned }
        return continueWith(state, { ...out.reply, detail })
      }
      return out._tag === 'Continue' ? continueWith(state, out.reply) : failWith(state, new UnsupportedMessage({ actor: ctx.address, messageTag: msg._tag }))
    },
    async terminate(state) {
      await state.transport.close()
    },
  }
}
