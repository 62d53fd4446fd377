/**
 * The seam for actors on other peers. A `Transport` moves opaque frames (protocol/codec bytes) between peers; a
 * `RemoteRef` is an ActorRef whose mailbox is on another peer; `serveActors` answers incoming frames from the local
 * registry. The libp2p transport (net/) implements `Transport`; nothing else changes when a ref points off-peer.
 * `LoopbackNetwork` is an in-memory implementation for tests.
 *
 * Remote semantics: `tell` is fire-and-forget (a failure at the far end — MailboxFull, UnknownActor — is reported
 * to `onError`, as a remote peer cannot fail the caller synchronously); `send` waits for the far end to accept the
 * message and rejects with its typed error; `ask` rejects with the far end's typed error or AskTimeout.
 */
import { Either } from 'effect'
import {
  AskTimeout,
  DEFAULT_ASK_TIMEOUT_MS,
  DecodeError,
  PROTOCOL_VERSION,
  UnknownActor,
  decodeFrame,
  encodeFrame,
  type Message,
  type ProtocolError,
  type ReplyFor,
} from '../protocol/index.ts'
import { answerRequest, type ActorRef, type AskOptions, type SendOptions } from './ref.ts'

export { answerRequest }

/** Answers one request frame from `from` with one answer frame. Must not throw. */
export type FrameHandler = (frame: Uint8Array, from: string) => Promise<Uint8Array>

export interface Transport {
  readonly peerId: string
  /** Sends a request frame to `peer`; resolves with the answer frame. Rejects on transport failure or timeout. */
  request(peer: string, frame: Uint8Array, opts?: { readonly timeoutMs?: number; readonly signal?: AbortSignal }): Promise<Uint8Array>
  /** Installs the handler for request frames arriving from peers. */
  handle(handler: FrameHandler): void
  close(): Promise<void>
}

function answerOf(bytes: Uint8Array): { ok: true; body: unknown } | { ok: false; error: ProtocolError } {
  const d = decodeFrame(bytes)
  if (Either.isLeft(d)) return { ok: false, error: d.left.error }
  const f = d.right
  if (f._tag === 'Reply') return { ok: true, body: f.body }
  if (f._tag === 'Fail') return { ok: false, error: f.error }
  return { ok: false, error: new DecodeError({ field: '_tag', reason: `expected Reply or Fail, got ${f._tag}` }) }
}

export class RemoteRef<M extends Message = Message> implements ActorRef<M> {
  readonly address: string
  readonly peer: string
  private readonly transport: Transport
  private readonly onError: (e: unknown) => void
  private nextId = 1

  constructor(transport: Transport, peer: string, address: string, onError: (e: unknown) => void = () => {}) {
    this.transport = transport
    this.peer = peer
    this.address = address
    this.onError = onError
  }

  tell(msg: M): void {
    this.send(msg).catch(this.onError)
  }

  async send(msg: M, opts?: SendOptions): Promise<void> {
    const frame = encodeFrame({ _tag: 'Tell', v: PROTOCOL_VERSION, to: this.address, body: msg })
    const a = answerOf(await this.transport.request(this.peer, frame, opts?.signal ? { signal: opts.signal } : {}))
    if (!a.ok) throw a.error
  }

  async ask<Q extends M>(msg: Q, opts?: AskOptions): Promise<ReplyFor<Q>> {
    const id = this.nextId++
    const timeoutMs = opts?.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS
    const frame = encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: this.address, id, body: msg })
    const answer = await this.transport.request(this.peer, frame, { timeoutMs, ...(opts?.signal ? { signal: opts.signal } : {}) })
    const a = answerOf(answer)
    if (!a.ok) throw a.error
    return a.body as ReplyFor<Q>
  }

  askBytes(frame: Uint8Array, opts?: AskOptions): Promise<Uint8Array> {
    return this.transport.request(this.peer, frame, opts?.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {})
  }
}

/** Serves local actors to peers: routes each request frame to the actor named by its `to` (decoded once, here). */
export function serveActors(transport: Transport, lookup: (address: string) => ActorRef | undefined): void {
  transport.handle((bytes) => answerRequest(bytes, lookup))
}

/** In-memory transports for tests: each `transport(peerId)` can reach the others; bytes are copied, as on a wire. */
export class LoopbackNetwork {
  private readonly handlers = new Map<string, FrameHandler>()

  transport(peerId: string): Transport {
    const handlers = this.handlers
    return {
      peerId,
      async request(peer, frame, opts) {
        const h = handlers.get(peer)
        if (!h) throw new UnknownActor({ address: `peer:${peer}` })
        const timeoutMs = opts?.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new AskTimeout({ actor: `peer:${peer}`, messageTag: 'frame', timeoutMs })), timeoutMs)
        })
        try {
          const answer = await Promise.race([h(frame.slice(), peerId), timeout])
          return answer.slice()
        } finally {
          clearTimeout(timer)
        }
      },
      handle(handler) {
        handlers.set(peerId, handler)
      },
      async close() {
        handlers.delete(peerId)
      },
    }
  }
}
