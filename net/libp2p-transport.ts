/**
 * A `Transport` (actors/transport.ts) over libp2p: TCP, Noise (authenticated encryption: the peer id is the hash of
 * the peer's ed25519 key, proven in the handshake), yamux stream multiplexing.
 *
 * Protocol `/basedai/actors/1.0.0`: each request opens a stream and writes one length-prefixed frame (at most
 * MAX_FRAME_BYTES, enforced by the reader on both sides); the server answers with one length-prefixed frame and
 * closes. Frames are protocol/codec bytes, so a remote peer is validated exactly like a worker thread.
 *
 * Frame limits hold in both directions at exactly MAX_FRAME_BYTES: a caller's oversize request is refused locally
 * with `FrameTooLarge` before anything is sent; a peer's oversize request is answered with a `FrameTooLarge` Fail
 * frame; an answer that would exceed the limit is replaced by one. (lpStream buffers at most 4 MiB by default,
 * besides its maxDataLength: both are set here.) Standard libp2p services run too: identify (a peer can learn the
 * protocols this node speaks) and ping.
 *
 * With `gossip` set, the node also runs gossipsub (`@libp2p/gossipsub`, signed messages, flood-publish, a 16 MiB
 * message cap for blocks) for block agreement: `subscribe(topic, handler)` / `publish(topic, bytes)`. `serve` and
 * `call` run any other request/answer protocol with the same frame rules as the actor protocol (block sync).
 * `dial(multiaddr)` connects to a bootstrap peer.
 */
import fs from 'node:fs'
import path from 'node:path'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { DEFAULT_ASK_TIMEOUT_MS, encodeFrame, FrameTooLarge, MAX_FRAME_BYTES, PROTOCOL_VERSION } from '../protocol/index.ts'
import type { FrameHandler, Transport } from '../supervisor/runtime.ts'
import { BadIdentity, BadPeerAddress, PeerUnreachable } from './errors.ts'

export const ACTOR_PROTOCOL = '/basedai/actors/1.0.0'

/** lpStream options for one frame: its length cap and a read buffer that can hold it (plus the varint prefix). */
const FRAME_STREAM = { maxDataLength: MAX_FRAME_BYTES, maxBufferSize: MAX_FRAME_BYTES + 16 }

function tooLarge(size: number): Uint8Array {
  return encodeFrame({ _tag: 'Fail', v: PROTOCOL_VERSION, id: 0, error: new FrameTooLarge({ size, limit: MAX_FRAME_BYTES }) })
}

function isLengthError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'InvalidDataLengthError' || e.name === 'InvalidDataLengthLengthError' || e.name === 'InvalidMessageLengthError')
}

export interface Libp2pTransportInit {
  /** Multiaddrs to listen on. Default: loopback, any free port. Empty: dial-only (a client). */
  readonly listen?: readonly string[]
  /** Node identity. Default: a new ed25519 key (see `loadOrCreateIdentity` for a persistent one). */
  readonly privateKey?: PrivateKey
  /** Refuse connections from these peers (a banned peer, see net/guard.ts). */
  readonly deny?: (peerId: string) => boolean
  /** Run gossipsub (block agreement). */
  readonly gossip?: boolean
}

/** Largest gossip message (a proposal carries a whole block). */
export const MAX_GOSSIP_BYTES = 16 * 1024 * 1024

/** A frame handler of a protocol served with `serve`: the request bytes and the remote peer id → the answer. */
export type ProtocolHandler = (request: Uint8Array, peer: string) => Promise<Uint8Array> | Uint8Array

export class Libp2pTransport implements Transport {
  readonly node: Libp2p
  readonly peerId: string
  private handler: FrameHandler | null = null
  /** gossipsub, when the transport was created with `gossip`. */
  readonly pubsub: GossipSub | undefined
  private readonly topicHandlers = new Map<string, (data: Uint8Array, from: string) => void>()

  private constructor(node: Libp2p) {
    this.node = node
    this.peerId = node.peerId.toString()
    this.pubsub = (node.services as { pubsub?: GossipSub }).pubsub
    this.pubsub?.addEventListener('message', (evt) => {
      const m = evt.detail
      const h = this.topicHandlers.get(m.topic)
      if (h) h(m.data, m.type === 'signed' ? m.from.toString() : '')
    })
  }

  static async create(init: Libp2pTransportInit = {}): Promise<Libp2pTransport> {
    const node = await createLibp2p({
      ...(init.privateKey ? { privateKey: init.privateKey } : {}),
      addresses: { listen: [...(init.listen ?? ['/ip4/127.0.0.1/tcp/0'])] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: {
        identify: identify(),
        ping: ping(),
        ...(init.gossip
          ? { pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, floodPublish: true, emitSelf: false, maxInboundDataLength: MAX_GOSSIP_BYTES + 1024, heartbeatInterval: 500 }) }
          : {}),
      },
      connectionGater: {
        denyInboundEncryptedConnection: (peer) => init.deny?.(peer.toString()) ?? false,
        denyOutboundEncryptedConnection: (peer) => init.deny?.(peer.toString()) ?? false,
      },
    })
    const t = new Libp2pTransport(node)
    await node.handle(ACTOR_PROTOCOL, async (stream, connection) => {
      const lp = lpStream(stream, FRAME_STREAM)
      try {
        let request: Uint8Array
        try {
          request = (await lp.read()).subarray()
        } catch (e) {
          if (!isLengthError(e)) throw e
          // an oversize request: answer with a typed error instead of resetting the stream
          await lp.write(tooLarge(MAX_FRAME_BYTES + 1))
          await stream.close()
          return
        }
        const handler = t.handler
        if (!handler) {
          stream.abort(new Error('no actors served on this peer'))
          return
        }
        const answer = await handler(request, connection.remotePeer.toString())
        await lp.write(answer.length > MAX_FRAME_BYTES ? tooLarge(answer.length) : answer)
        await stream.close()
      } catch (e) {
        stream.abort(e instanceof Error ? e : new Error(String(e)))
      }
    })
    return t
  }

  /** This node's listening addresses, each ending in /p2p/<peer id> (give one to the other side). */
  addresses(): string[] {
    return this.node.getMultiaddrs().map((m) => m.toString())
  }

  handle(handler: FrameHandler): void {
    this.handler = handler
  }

  private target(peer: string): Multiaddr | PeerId {
    try {
      if (peer.startsWith('/')) {
        const ma = multiaddr(peer)
        if (!ma.getComponents().some((c) => c.name === 'p2p')) throw new Error('multiaddr needs a /p2p/<peer id> part')
        return ma
      }
      return peerIdFromString(peer)
    } catch (e) {
      throw new BadPeerAddress({ peer, reason: e instanceof Error ? e.message : String(e) })
    }
  }

  async request(peer: string, frame: Uint8Array, opts?: { readonly timeoutMs?: number; readonly signal?: AbortSignal }): Promise<Uint8Array> {
    if (frame.length > MAX_FRAME_BYTES) throw new FrameTooLarge({ size: frame.length, limit: MAX_FRAME_BYTES })
    const target = this.target(peer)
    const timeout = AbortSignal.timeout(opts?.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS)
    const signal = opts?.signal ? AbortSignal.any([timeout, opts.signal]) : timeout
    try {
      return await this.exchange(target, ACTOR_PROTOCOL, frame, signal)
    } catch (e) {
      if (isLengthError(e)) throw new FrameTooLarge({ size: MAX_FRAME_BYTES + 1, limit: MAX_FRAME_BYTES })
      throw new PeerUnreachable({ peer, reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
    }
  }

  /** One length-prefixed frame out and one back on a new stream of `protocol`. */
  private async exchange(target: Multiaddr | PeerId, protocol: string, frame: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    const stream = await this.node.dialProtocol(target, protocol, { signal })
    const lp = lpStream(stream, FRAME_STREAM)
    await lp.write(frame, { signal })
    const answer = (await lp.read({ signal })).subarray()
    await stream.close({ signal }).catch(() => undefined)
    return answer
  }

  /** Subscribes to a gossip topic; `handler` gets each message's data and the peer id that signed it. */
  subscribe(topic: string, handler: (data: Uint8Array, from: string) => void): void {
    if (!this.pubsub) throw new Error('gossip is off: create the transport with { gossip: true }')
    this.topicHandlers.set(topic, handler)
    this.pubsub.subscribe(topic)
  }

  /** Publishes to a gossip topic (best effort: no peer yet is not an error). */
  async publish(topic: string, data: Uint8Array): Promise<void> {
    if (!this.pubsub) throw new Error('gossip is off: create the transport with { gossip: true }')
    await this.pubsub.publish(topic, data)
  }

  /** Connects to a peer (a multiaddr with /p2p/<id>); PeerUnreachable if it cannot. */
  async dial(peer: string, timeoutMs = 5000): Promise<void> {
    try {
      await this.node.dial(this.target(peer), { signal: AbortSignal.timeout(timeoutMs) })
    } catch (e) {
      if (e instanceof BadPeerAddress) throw e
      throw new PeerUnreachable({ peer, reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
    }
  }

  /** Serves a request/answer protocol: one length-prefixed frame each way (at most MAX_FRAME_BYTES). */
  async serve(protocol: string, handler: ProtocolHandler): Promise<void> {
    await this.node.handle(protocol, async (stream, connection) => {
      const lp = lpStream(stream, FRAME_STREAM)
      try {
        const request = (await lp.read()).subarray()
        const answer = await handler(request, connection.remotePeer.toString())
        if (answer.length > MAX_FRAME_BYTES) throw new FrameTooLarge({ size: answer.length, limit: MAX_FRAME_BYTES })
        await lp.write(answer)
        await stream.close()
      } catch (e) {
        stream.abort(e instanceof Error ? e : new Error(String(e)))
      }
    })
  }

  /** One request on a protocol served with `serve` at `peer`; PeerUnreachable on any failure. */
  async call(peer: string, protocol: string, frame: Uint8Array, timeoutMs = 5000): Promise<Uint8Array> {
    const target = this.target(peer)
    try {
      return await this.exchange(target, protocol, frame, AbortSignal.timeout(timeoutMs))
    } catch (e) {
      throw new PeerUnreachable({ peer, reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
    }
  }

  /** Closes every connection to `peer` (a peer past its strike limit). */
  async hangUp(peer: string): Promise<void> {
    const id = peerIdFromString(peer)
    for (const c of this.node.getConnections(id)) c.abort(new Error('banned: past its strike limit'))
  }

  /** Peers connected right now. */
  connectedPeers(): string[] {
    return this.node.getPeers().map((p) => p.toString())
  }

  async close(): Promise<void> {
    await this.node.stop()
  }
}

/**
 * A persistent node identity: an ed25519 key in `<dataDir>/peer-key` (protobuf, mode 0600), created on first use,
 * so the node keeps its peer id across restarts.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<PrivateKey> {
  const file = path.join(dataDir, 'peer-key')
  if (fs.existsSync(file)) {
    try {
      return privateKeyFromProtobuf(fs.readFileSync(file))
    } catch (e) {
      throw new BadIdentity({ file, reason: e instanceof Error ? e.message : String(e) })
    }
  }
  const key = await generateKeyPair('Ed25519')
  fs.mkdirSync(dataDir, { recursive: true })
  fs.writeFileSync(file, privateKeyToProtobuf(key), { mode: 0o600 })
  return key
}
