/**
 * The guarded peer surface: what a remote peer may send to this node, and how much of it.
 *
 * Each message kind declares who may send it from another peer (`REMOTE_POLICY`): `peer` (anyone: queries, status,
 * transactions — a transaction carries its own signature; not `GetLedgerStats`, which scans the whole state), `participant` (a peer bound to a registered validator or
 * miner, via the `isParticipant` predicate the node supplies). Everything else — `Fault`, `ProduceBlock`, kernel work,
 * supervisor control, and any kind not listed — is local only: a remote sender gets a typed `Forbidden` and nothing
 * is delivered. An address this node does not serve to peers is `Forbidden` too (`not_served`), so a peer cannot
 * probe which actors exist.
 *
 * Per peer: at most `maxConcurrent` requests in flight and `ratePerSecond` requests per second (token bucket of
 * `burst`), else `RateLimited`; frames are capped by the transport (MAX_FRAME_BYTES). Each malformed or forbidden
 * request is a strike; at `strikeLimit` strikes the peer is disconnected and banned for `banMs` (its connections
 * are refused), while every other peer keeps being served.
 */
import { Either } from 'effect'
import { askFrame, type ActorRef } from '../supervisor/runtime.ts'
import type { Transport } from '../supervisor/runtime.ts'
import { decodeFrame, encodeFrame, Forbidden, PROTOCOL_VERSION, RateLimited, type ProtocolError } from '../protocol/index.ts'

export type RemoteSender = 'peer' | 'participant'

/** Message kinds a remote peer may send, and who. Anything not listed is local only. */
export const REMOTE_POLICY: Readonly<Record<string, RemoteSender>> = {
  Ping: 'peer',
  Echo: 'peer',
  GetStatus: 'peer',
  GetHead: 'peer',
  GetAccount: 'peer',
  GetTxStatus: 'peer',
  GetBrains: 'peer',
  GetParticipant: 'peer',
  GetMetagraph: 'peer',
  GetBlock: 'peer',
  GetForecastSeries: 'peer',
  GetEscrows: 'peer',
  GetSessionTab: 'peer',
  SubmitTx: 'peer',
  Route: 'peer',
  GetTask: 'peer',
  EncryptedLinear: 'peer',
  RegisterMiner: 'participant',
  ChallengeMiner: 'participant',
  SubmitWeights: 'participant',
}

export interface GuardLimits {
  readonly ratePerSecond: number
  readonly burst: number
  readonly maxConcurrent: number
  readonly strikeLimit: number
  readonly banMs: number
}

export const DEFAULT_GUARD_LIMITS: GuardLimits = { ratePerSecond: 500, burst: 1000, maxConcurrent: 64, strikeLimit: 100, banMs: 10 * 60_000 }

export interface GuardInit {
  readonly limits?: Partial<GuardLimits>
  /**
   * Which local actors are served to peers (default: every actor under /root/brains, /root/miners, /root/remote — the
   * proxies of miners on other nodes, actors/remote-miner.ts —, /root/validators, /root/ledger).
   */
  readonly serves?: (address: string) => boolean
  /** Whether `peer` is bound to a registered validator or miner (for `participant` kinds). Default: nobody. */
  readonly isParticipant?: (peer: string, address: string) => boolean
  /** Called once when a peer reaches the strike limit (the node hangs up on it). */
  readonly onBan?: (peer: string) => void
  readonly now?: () => number
}

interface PeerState {
  tokens: number
  refilledAt: number
  inFlight: number
  strikes: number
  bannedUntil: number
}

const SERVED_PREFIXES = ['/root/brains/', '/root/miners/', '/root/remote/', '/root/validators/', '/root/ledger/']

export interface GuardStats {
  readonly peer: string
  readonly strikes: number
  readonly inFlight: number
  readonly banned: boolean
}

export class PeerGuard {
  private readonly peers = new Map<string, PeerState>()
  private readonly limits: GuardLimits
  private readonly init: GuardInit
  private readonly now: () => number
  private readonly serves: (address: string) => boolean

  constructor(init: GuardInit = {}) {
    this.init = init
    this.serves = init.serves ?? ((a: string) => SERVED_PREFIXES.some((p) => a.startsWith(p)))
    this.limits = { ...DEFAULT_GUARD_LIMITS, ...init.limits }
    this.now = init.now ?? Date.now
  }

  private state(peer: string): PeerState {
    let s = this.peers.get(peer)
    if (!s) {
      s = { tokens: this.limits.burst, refilledAt: this.now(), inFlight: 0, strikes: 0, bannedUntil: 0 }
      this.peers.set(peer, s)
    }
    return s
  }

  isBanned(peer: string): boolean {
    const s = this.peers.get(peer)
    return s !== undefined && s.bannedUntil > this.now()
  }

  stats(): GuardStats[] {
    return [...this.peers.entries()].map(([peer, s]) => ({ peer, strikes: s.strikes, inFlight: s.inFlight, banned: s.bannedUntil > this.now() }))
  }

  /** Counts a malformed or forbidden request; bans the peer at the strike limit. */
  strike(peer: string): void {
    const s = this.state(peer)
    s.strikes++
    if (s.strikes >= this.limits.strikeLimit && s.bannedUntil <= this.now()) {
      s.bannedUntil = this.now() + this.limits.banMs
      this.init.onBan?.(peer)
    }
  }

  /** Admission of one request: a typed refusal, or a release function to call when it is answered. */
  admit(peer: string, messageTag: string): { ok: true; release: () => void } | { ok: false; error: ProtocolError } {
    const s = this.state(peer)
    const t = this.now()
    if (s.bannedUntil > t) return { ok: false, error: new Forbidden({ peer, messageTag, reason: 'banned' }) }
    s.tokens = Math.min(this.limits.burst, s.tokens + ((t - s.refilledAt) * this.limits.ratePerSecond) / 1000)
    s.refilledAt = t
    if (s.tokens < 1) {
      return { ok: false, error: new RateLimited({ peer, limit: 'requests_per_second', retryAfterMs: Math.ceil(((1 - s.tokens) * 1000) / this.limits.ratePerSecond) }) }
    }
    if (s.inFlight >= this.limits.maxConcurrent) return { ok: false, error: new RateLimited({ peer, limit: 'concurrent_requests', retryAfterMs: 10 }) }
    s.tokens -= 1
    s.inFlight++
    let released = false
    return {
      ok: true,
      release: () => {
        if (!released) {
          released = true
          s.inFlight--
        }
      },
    }
  }

  /** Whether `peer` may send `messageTag` to `address`: undefined if so, else the typed refusal. */
  authorize(peer: string, address: string, messageTag: string): Forbidden | undefined {
    if (!this.serves(address)) return new Forbidden({ peer, messageTag, reason: 'not_served' })
    const who = REMOTE_POLICY[messageTag]
    if (who === undefined) return new Forbidden({ peer, messageTag, reason: 'local_only' })
    if (who === 'participant' && !(this.init.isParticipant?.(peer, address) ?? false)) return new Forbidden({ peer, messageTag, reason: 'not_participant' })
    return undefined
  }
}

function fail(id: number, error: ProtocolError): Uint8Array {
  return encodeFrame({ _tag: 'Fail', v: PROTOCOL_VERSION, id, error })
}

/**
 * Serves local actors to peers through the guard: each request frame is decoded and validated once, here, checked
 * against the policy and the peer's limits, and only then handed to the actor as the typed frame (`askFrame`: it is
 * not decoded again). Never throws: every refusal is a typed `Fail` frame.
 */
export function serveGuarded(transport: Transport, lookup: (address: string) => ActorRef | undefined, guard: PeerGuard): void {
  transport.handle(async (bytes, from) => {
    const d = decodeFrame(bytes)
    if (Either.isLeft(d)) {
      guard.strike(from)
      return fail(d.left.partial.id ?? 0, d.left.error)
    }
    const f = d.right
    if (f._tag !== 'Tell' && f._tag !== 'Ask') {
      guard.strike(from)
      return fail(f.id, new Forbidden({ peer: from, messageTag: f._tag, reason: 'local_only' }))
    }
    const id = f._tag === 'Ask' ? f.id : 0
    const admitted = guard.admit(from, f.body._tag)
    if (!admitted.ok) return fail(id, admitted.error)
    try {
      const refused = guard.authorize(from, f.to, f.body._tag)
      if (refused) {
        guard.strike(from)
        return fail(id, refused)
      }
      const ref = lookup(f.to)
      if (!ref) return fail(id, new Forbidden({ peer: from, messageTag: f.body._tag, reason: 'not_served' }))
      return await askFrame(ref, f)
    } finally {
      admitted.release()
    }
  })
}
