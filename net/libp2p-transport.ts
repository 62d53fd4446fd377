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
 * message cap for blocks) for block agreement: `subscribe(topic, handler, validate?)` / `publish(topic, bytes)`.
 * `serve` and `call` run any other request/answer protocol with the same frame rules as the actor protocol (block
 * sync). `dial(multiaddr)` connects to a bootstrap peer.
 *
 * Lost peers are redialled (docs/NETWORK.md, "Reconnection"): every peer this node reached by a multiaddr — a
 * `dial`, a `request` or `call` that got through, a `keep` — is a *link*. When its last connection closes, the link
 * is down and redialled after `REDIAL.baseMs`, then twice as long after each failed attempt, up to `REDIAL.capMs`,
 * each wait jittered by ±`REDIAL.jitter` (so that peers that lost each other together do not redial in step). A
 * request to a link that is down fails at once with `PeerUnreachable` (reason `down: …`) until the next redial
 * attempt; any connection to the peer (our redial, or the peer dialling us) brings the link up again, and requests
 * go through without anything being restarted. Dialling is bounded by `REDIAL.dialTimeoutMs` whatever the request's
 * own timeout, so a peer whose machine is gone fails a request in seconds, not at its deadline.
 *
 * Gossip details that matter for throughput and abuse (docs/NETWORK.md):
 * - A message arrives once from each neighbour that forwards it. gossipsub checks a message's signature before its
 *   duplicate check unless it has a cheap local id for it, so a fast id (SHA-256 of originator, sequence number,
 *   data and signature) is given: each copy after the first is dropped before any signature work.
 * - Peer scoring (gossipsub v1.1): a topic's `validate` says `accept`, `ignore` (dropped, nobody's fault) or
 *   `reject` (dropped, and the neighbour that sent it is scored down: P4, invalid message deliveries). On the
 *   topics named in `scoredTopics` P4 counts with weight −0.01 (the penalty is the square of the count: 100
 *   invalid messages give −100), decaying by half every minute; positive terms are small (time in mesh, first
 *   deliveries; at most +10 in all). Below `GOSSIP_SCORE.graylist` (−100) gossipsub ignores the peer's messages, and
 *   every second the transport disconnects any peer below it and refuses its connections for `GOSSIP_SCORE.banMs`.
 */
import crypto from 'node:crypto'
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
import { gossipsub, TopicValidatorResult, type GossipSub } from '@libp2p/gossipsub'
import { createTopicScoreParams, type TopicScoreParams } from '@libp2p/gossipsub/score'
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
  /** Gossip topics whose invalid messages score their sender down (see module doc). */
  readonly scoredTopics?: readonly string[]
}

/** Largest gossip message (a proposal carries a whole block). */
export const MAX_GOSSIP_BYTES = 16 * 1024 * 1024

/**
 * Gossip peer-score settings (see module doc). `invalidWeight` × count² is a peer's penalty for the invalid messages
 * it sent on a scored topic (the count decays by `invalidDecay` each second: half-life one minute). Thresholds as in
 * gossipsub v1.1: below `gossip` no gossip is exchanged with the peer, below `publish` we stop flood-publishing to it,
 * below `graylist` its messages are ignored — and here it is also disconnected and its connections refused for
 * `banMs`.
 */
export const GOSSIP_SCORE = {
  invalidWeight: -0.01,
  invalidDecay: 0.5 ** (1 / 60),
  gossip: -10,
  publish: -50,
  graylist: -100,
  banMs: 10 * 60_000,
  /** How often connected peers' scores are checked against `graylist`. */
  checkMs: 1000,
} as const

const isAddr = (t: Multiaddr | PeerId): t is Multiaddr => 'getComponents' in t
/** The peer id a dial target names (a multiaddr's last /p2p/ part). */
function peerOf(t: Multiaddr | PeerId): string | undefined {
  return isAddr(t) ? t.getComponents().findLast((c) => c.name === 'p2p')?.value : t.toString()
}

/**
 * Redialling lost peers (see module doc): the first wait `baseMs`, multiplied by `factor` after each failed attempt,
 * at most `capMs`, each wait scaled by a random factor in [1 − jitter, 1 + jitter]; a dial gives up after
 * `dialTimeoutMs`; at most `maxLinks` peers are kept (the oldest down one is forgotten first).
 */
export const REDIAL = { baseMs: 250, factor: 2, capMs: 8000, jitter: 0.2, dialTimeoutMs: 3000, maxLinks: 256, stableMs: 10_000 } as const

/** The wait before redial attempt `failures` + 1 (see {@link REDIAL}); `random` in [0, 1). */
export function redialDelay(failures: number, random: number = Math.random()): number {
  const d = Math.min(REDIAL.capMs, REDIAL.baseMs * REDIAL.factor ** Math.min(failures, 30))
  return Math.round(d * (1 - REDIAL.jitter + 2 * REDIAL.jitter * random))
}

interface Link {
  readonly addr: string
  up: boolean
  /**
   * Failed redial attempts since the link went down — and, for a link that keeps dropping within REDIAL.stableMs of
   * coming up (a peer that accepts and then closes), carried over, so its redials back off instead of running hot.
   */
  failures: number
  /** When the link last came up (ms since the epoch; 0: never). */
  upSince: number
  /** When the next redial attempt is due (ms since the epoch). */
  retryAt: number
  timer: NodeJS.Timeout | undefined
}

/** What a topic validator says of a message (gossipsub's Accept / Ignore / Reject). */
export type GossipVerdict = 'accept' | 'ignore' | 'reject'
/** Judges a gossip message before delivery and forwarding: its data, the neighbour it came from, its originator. */
export type GossipValidator = (data: Uint8Array, from: string, origin: string) => GossipVerdict | Promise<GossipVerdict>

const VERDICT: Record<GossipVerdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
}

function topicScore(): TopicScoreParams {
  return createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0.01, timeInMeshQuantum: 1000, timeInMeshCap: 600,
    firstMessageDeliveriesWeight: 0.05, firstMessageDeliveriesDecay: 0.9, firstMessageDeliveriesCap: 100,
    // mesh delivery deficits are off: a quiet validator (or a follower) is not a faulty one
    meshMessageDeliveriesWeight: 0, meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: GOSSIP_SCORE.invalidWeight, invalidMessageDeliveriesDecay: GOSSIP_SCORE.invalidDecay,
  })
}

/** A cheap local id of a received gossip message, for the duplicate check before its signature is verified. */
function fastMessageId(m: { from?: Uint8Array; seqno?: Uint8Array; data?: Uint8Array; signature?: Uint8Array }): string {
  const h = crypto.createHash('sha256')
  for (const part of [m.from, m.seqno, m.data, m.signature]) {
    const b = part ?? new Uint8Array(0)
    h.update(Buffer.from(Uint32Array.of(b.length).buffer)).update(b)
  }
  return h.digest('base64')
}

/** A frame handler of a protocol served with `serve`: the request bytes and the remote peer id → the answer. */
export type ProtocolHandler = (request: Uint8Array, peer: string) => Promise<Uint8Array> | Uint8Array

export class Libp2pTransport implements Transport {
  readonly node: Libp2p
  readonly peerId: string
  private handler: FrameHandler | null = null
  /** gossipsub, when the transport was created with `gossip`. */
  readonly pubsub: GossipSub | undefined
  private readonly topicHandlers = new Map<string, (data: Uint8Array, from: string) => void>()
  /** Peers disconnected for their gossip score, until when (ms since the epoch). */
  /** Peers refused for their gossip score: until when, and the score that got them refused. */
  private readonly scoreBanned = new Map<string, { readonly until: number; readonly score: number }>()
  /** Peers disconnected for their gossip score since start. */
  scoreBans = 0
  private scoreTimer: NodeJS.Timeout | undefined
  /** Peers reached by a multiaddr, redialled when lost (peer id → link; see module doc). */
  private readonly links = new Map<string, Link>()
  /** Redial attempts made since start (successful or not). */
  redials = 0
  private closing = false

  private constructor(node: Libp2p) {
    this.node = node
    this.peerId = node.peerId.toString()
    this.pubsub = (node.services as { pubsub?: GossipSub }).pubsub
    this.pubsub?.addEventListener('message', (evt) => {
      const m = evt.detail
      const h = this.topicHandlers.get(m.topic)
      if (h) h(m.data, m.type === 'signed' ? m.from.toString() : '')
    })
    node.addEventListener('peer:connect', (evt) => this.linkUp(evt.detail.toString()))
    node.addEventListener('peer:disconnect', (evt) => this.linkDown(evt.detail.toString()))
  }

  static async create(init: Libp2pTransportInit = {}): Promise<Libp2pTransport> {
    const holder: { t?: Libp2pTransport } = {}
    const banned = (peer: string): boolean => (init.deny?.(peer) ?? false) || (holder.t?.isScoreBanned(peer) ?? false)
    const scored = init.scoredTopics ?? []
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
          ? {
              pubsub: gossipsub({
                allowPublishToZeroTopicPeers: true, floodPublish: true, emitSelf: false, maxInboundDataLength: MAX_GOSSIP_BYTES + 1024, heartbeatInterval: 500,
                fastMsgIdFn: fastMessageId,
                scoreParams: {
                  topics: Object.fromEntries(scored.map((t) => [t, topicScore()])),
                  topicScoreCap: 10, appSpecificWeight: 0,
                  // broken IWANT promises and early re-grafts: counted, lightly (a loaded honest node can break a few)
                  behaviourPenaltyWeight: -1, behaviourPenaltyDecay: 0.5,
                  // no penalty for many peers on one IP: local networks (loopback) and nodes behind one NAT are
                  // normal here, and the default (−5 per peer² above 10) would graylist and ban honest nodes at 16
                  IPColocationFactorWeight: 0,
                },
                scoreThresholds: { gossipThreshold: GOSSIP_SCORE.gossip, publishThreshold: GOSSIP_SCORE.publish, graylistThreshold: GOSSIP_SCORE.graylist },
              }),
            }
          : {}),
      },
      connectionGater: {
        denyInboundEncryptedConnection: (peer) => banned(peer.toString()),
        denyOutboundEncryptedConnection: (peer) => banned(peer.toString()),
      },
    })
    const t = new Libp2pTransport(node)
    holder.t = t
    if (t.pubsub && scored.length > 0) {
      t.scoreTimer = setInterval(() => t.checkScores(), GOSSIP_SCORE.checkMs)
      t.scoreTimer.unref()
    }
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
    this.failIfDown(peer, target)
    const timeout = AbortSignal.timeout(opts?.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS)
    const signal = opts?.signal ? AbortSignal.any([timeout, opts.signal]) : timeout
    try {
      return await this.exchange(target, ACTOR_PROTOCOL, frame, signal)
    } catch (e) {
      if (isLengthError(e)) throw new FrameTooLarge({ size: MAX_FRAME_BYTES + 1, limit: MAX_FRAME_BYTES })
      throw new PeerUnreachable({ peer, reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
    }
  }

  /** A link that is down fails a request at once, until its next redial attempt (see module doc). */
  private failIfDown(peer: string, target: Multiaddr | PeerId): void {
    const id = peerOf(target)
    const link = id ? this.links.get(id) : undefined
    if (!id || !link || link.up || this.node.getConnections(peerIdFromString(id)).length > 0) return
    const wait = link.retryAt - Date.now()
    if (wait > 0) throw new PeerUnreachable({ peer, reason: `down: lost, next redial in ${wait} ms (attempt ${link.failures + 1})` })
  }

  /** One length-prefixed frame out and one back on a new stream of `protocol`; the dial is bounded by REDIAL.dialTimeoutMs. */
  private async exchange(target: Multiaddr | PeerId, protocol: string, frame: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    const connection = await this.node.dial(target, { signal: AbortSignal.any([signal, AbortSignal.timeout(REDIAL.dialTimeoutMs)]) })
    if (isAddr(target)) this.keep(target.toString())
    const stream = await connection.newStream(protocol, { signal })
    try {
      const lp = lpStream(stream, FRAME_STREAM)
      await lp.write(frame, { signal })
      const answer = (await lp.read({ signal })).subarray()
      await stream.close({ signal }).catch(() => undefined)
      return answer
    } catch (e) {
      // a failed or timed-out exchange does not leave its stream open on the connection
      stream.abort(e instanceof Error ? e : new Error(String(e)))
      throw e
    }
  }

  /**
   * Subscribes to a gossip topic; `handler` gets each message's data and the peer id that signed it (its
   * originator). With `validate`, each message is judged first (see module doc): only accepted ones reach `handler`
   * and are forwarded; rejected ones score their sender down.
   */
  subscribe(topic: string, handler: (data: Uint8Array, from: string) => void, validate?: GossipValidator): void {
    const pubsub = this.pubsub
    if (!pubsub) throw new Error('gossip is off: create the transport with { gossip: true }')
    this.topicHandlers.set(topic, handler)
    if (validate) {
      pubsub.topicValidators.set(topic, async (peer, m) => {
        try {
          return VERDICT[await validate(m.data, peer.toString(), m.type === 'signed' ? m.from.toString() : '')]
        } catch {
          return TopicValidatorResult.Ignore
        }
      })
    }
    pubsub.subscribe(topic)
  }

  /** A peer's gossip score (0 without gossip or for a peer never seen). */
  score(peer: string): number {
    // the implementation's score (gossipsub's public interface type does not list it)
    const scorer = this.pubsub as unknown as { getScore?: (peer: string) => number } | undefined
    return scorer?.getScore?.(peer) ?? 0
  }

  /** Whether `peer` is refused for its gossip score now. */
  isScoreBanned(peer: string): boolean {
    const until = this.scoreBanned.get(peer)?.until
    if (until === undefined) return false
    if (until > Date.now()) return true
    this.scoreBanned.delete(peer)
    return false
  }

  /** Peers refused for their gossip score now, each with the score it had when refused (it decays afterwards). */
  scoreBannedPeers(): Array<{ peer: string; score: number }> {
    return [...this.scoreBanned.entries()].filter(([p]) => this.isScoreBanned(p)).map(([peer, b]) => ({ peer, score: b.score }))
  }

  /** Disconnects and refuses, for GOSSIP_SCORE.banMs, every connected peer whose gossip score is below the graylist threshold. */
  private checkScores(): void {
    for (const peer of this.node.getPeers()) {
      const id = peer.toString()
      const score = this.score(id)
      if (score >= GOSSIP_SCORE.graylist || this.isScoreBanned(id)) continue
      // expired bans are dropped here too, so the map holds only peers refused now
      for (const p of [...this.scoreBanned.keys()]) this.isScoreBanned(p)
      this.scoreBanned.set(id, { until: Date.now() + GOSSIP_SCORE.banMs, score })
      this.scoreBans++
      for (const c of this.node.getConnections(peer)) c.abort(new Error(`gossip score ${this.score(id).toFixed(1)} below ${GOSSIP_SCORE.graylist}`))
    }
  }

  /** Publishes to a gossip topic (best effort: no peer yet is not an error). */
  async publish(topic: string, data: Uint8Array): Promise<void> {
    if (!this.pubsub) throw new Error('gossip is off: create the transport with { gossip: true }')
    await this.pubsub.publish(topic, data)
  }

  /** Connects to a peer (a multiaddr with /p2p/<id>, then kept: redialled when lost); PeerUnreachable if it cannot. */
  async dial(peer: string, timeoutMs = 5000): Promise<void> {
    const target = this.target(peer)
    try {
      await this.node.dial(target, { signal: AbortSignal.timeout(timeoutMs) })
      if (isAddr(target)) this.keep(peer)
    } catch (e) {
      throw new PeerUnreachable({ peer, reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
    }
  }

  /**
   * Keeps a link to `addr` (a multiaddr with /p2p/<id>): dialled now unless connected, and redialled with backoff
   * whenever lost (see module doc). A bootstrap peer that is not up yet is simply retried. A new address for a kept
   * peer replaces the old one unless `replace: false`.
   */
  keep(addr: string, opts: { readonly replace?: boolean } = {}): void {
    const target = this.target(addr)
    const id = isAddr(target) ? peerOf(target) : undefined
    if (!id) throw new BadPeerAddress({ peer: addr, reason: 'a kept peer needs a multiaddr with /p2p/<peer id>' })
    if (id === this.peerId || this.closing) return
    const known = this.links.get(id)
    if (known && known.addr === addr) return
    // `replace: false` (addresses learned from the peer store): a link already kept stays on its address — a --join
    // address must not give way to one identify reported, e.g. the peer's loopback when it listens on 0.0.0.0
    if (known && opts.replace === false) return
    if (known) clearTimeout(known.timer)
    if (this.links.size >= REDIAL.maxLinks && !known) {
      const victim = [...this.links].find(([, l]) => !l.up) ?? [...this.links][0]
      if (victim) this.forget(victim[0])
    }
    const up = this.node.getConnections(peerIdFromString(id)).length > 0
    const link: Link = { addr, up, failures: 0, upSince: up ? Date.now() : 0, retryAt: 0, timer: undefined }
    this.links.set(id, link)
    if (!up) this.schedule(id, link, 0)
  }

  /** Stops redialling `peer` (a peer id). */
  forget(peer: string): void {
    const link = this.links.get(peer)
    if (link) clearTimeout(link.timer)
    this.links.delete(peer)
  }

  /** The kept links: address, whether connected, failed redials since it went down. */
  linkStates(): Array<{ peer: string; addr: string; up: boolean; failures: number }> {
    return [...this.links].map(([peer, l]) => ({ peer, addr: l.addr, up: l.up, failures: l.failures }))
  }

  private linkUp(peer: string): void {
    const link = this.links.get(peer)
    if (!link) return
    clearTimeout(link.timer)
    link.timer = undefined
    link.up = true
    link.upSince = Date.now()
    link.retryAt = 0
  }

  private linkDown(peer: string): void {
    const link = this.links.get(peer)
    if (!link || this.closing) return
    link.up = false
    const ban = this.scoreBanned.get(peer)
    if (ban && ban.until > Date.now()) {
      // refused for its gossip score: tried again once the ban is over
      this.schedule(peer, link, ban.until - Date.now() + redialDelay(0))
      return
    }
    link.failures = link.upSince > 0 && Date.now() - link.upSince < REDIAL.stableMs ? link.failures + 1 : 0
    this.schedule(peer, link, redialDelay(link.failures))
  }

  private schedule(peer: string, link: Link, wait: number): void {
    clearTimeout(link.timer)
    link.retryAt = Date.now() + wait
    link.timer = setTimeout(() => void this.redial(peer, link), wait)
    link.timer.unref()
  }

  private async redial(peer: string, link: Link): Promise<void> {
    if (this.closing || this.links.get(peer) !== link || link.up) return
    this.redials++
    try {
      await this.node.dial(multiaddr(link.addr), { signal: AbortSignal.timeout(REDIAL.dialTimeoutMs) })
      this.linkUp(peer)
    } catch {
      if (this.closing || this.links.get(peer) !== link || link.up) return
      link.failures++
      this.schedule(peer, link, redialDelay(link.failures))
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
    this.failIfDown(peer, target)
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
    this.closing = true
    for (const l of this.links.values()) clearTimeout(l.timer)
    this.links.clear()
    clearInterval(this.scoreTimer)
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
