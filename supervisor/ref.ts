/**
 * ActorRef: the one way to talk to an actor, whatever its placement (main thread, worker thread, or — through a
 * Transport — another peer). A ref stays valid across restarts of the actor behind it.
 *
 * - `tell(msg)`: enqueue and return; when the mailbox is full it throws `MailboxFull` (never drops silently).
 * - `send(msg)`: the backpressure form of tell: resolves once the message is in the mailbox.
 * - `ask(msg, { timeoutMs })`: send (with backpressure) and wait for the typed reply; rejects with `AskTimeout`,
 *   `ActorCrashed`, `ActorStopped`, `UnsupportedMessage` or an error the actor chose to return.
 * - `askBytes(frame)`: for untrusted input (control socket, network): decode an encoded Tell/Ask frame, deliver it,
 *   and return the encoded Reply or Fail frame. Bad bytes get a Fail frame with a typed error; never a throw.
 *
 * Decode once: where a frame enters the process and its entry point must look inside it first (the control
 * endpoint, the peer guard, serveActors), the entry point decodes and validates it with `decodeFrame` and hands the
 * typed frame on with `askFrame(ref, frame)` — not the bytes to `askBytes`, which would validate them again. Past
 * that point a body is never validated field by field again: a WorkerCell posts it to its thread, where only the
 * envelope and the body's tag are checked (protocol/codec.ts, trust 'internal').
 */
import {
  AskTimeout,
  DecodeError,
  UnknownActor,
  InternalError,
  domainRejection,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeFrame,
  encodeFrame,
  type AskFrame,
  type Message,
  type Reply,
  type ReplyFor,
  type TellFrame,
} from '../protocol/index.ts'
import { Either, Schema } from 'effect'

export interface AskOptions {
  /** Default DEFAULT_ASK_TIMEOUT_MS (5 s). */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
}
export interface SendOptions {
  readonly signal?: AbortSignal
}

export interface ActorRef<M extends Message = Message> {
  readonly address: string
  tell(msg: M): void
  send(msg: M, opts?: SendOptions): Promise<void>
  ask<Q extends M>(msg: Q, opts?: AskOptions): Promise<ReplyFor<Q>>
  askBytes(frame: Uint8Array, opts?: AskOptions): Promise<Uint8Array>
}

const isProtocolError = Schema.is(ProtocolError)

/**
 * Turns anything thrown into a protocol error that can cross a boundary, keeping its type: a protocol error as it
 * is; a domain error (a `Data.TaggedError` of ledger/, fhe/, kernels/, model/, consensus/) as its family in
 * protocol/rejections.ts with `reason` = its tag and its fields in `detail`; anything else as InternalError.
 */
export function toProtocolError(address: string, e: unknown): ProtocolError {
  if (isProtocolError(e)) return e
  if (typeof e === 'object' && e !== null && typeof (e as { _tag?: unknown })._tag === 'string') {
    const r = domainRejection(address, e as { _tag: string })
    if (r) return r
  }
  const name = e instanceof Error ? ((e as { _tag?: unknown })._tag as string | undefined) ?? e.name : typeof e
  return new InternalError({ actor: address, name: String(name), message: e instanceof Error ? e.message : String(e) })
}

/** The askBytes logic shared by every ref: decode and validate, deliver the typed frame, encode the answer. */
export function askBytesVia(ref: ActorRef, bytes: Uint8Array, opts?: AskOptions): Promise<Uint8Array> {
  return answerRequest(bytes, () => ref, opts)
}

/**
 * Answers one request frame (Tell or Ask, as bytes) from the actors `lookup` finds: the frame is decoded and
 * validated once here and the typed frame is handed on; a bad frame or an unknown address gets a typed Fail.
 * Never throws. `opts.timeoutMs` bounds an Ask (default: the protocol's ask timeout).
 */
export async function answerRequest(bytes: Uint8Array, lookup: (address: string) => ActorRef | undefined, opts?: AskOptions): Promise<Uint8Array> {
  const decoded = decodeFrame(bytes)
  if (Either.isLeft(decoded)) {
    return encodeFrame({ _tag: 'Fail', v: PROTOCOL_VERSION, id: decoded.left.partial.id ?? 0, error: decoded.left.error })
  }
  const frame = decoded.right
  if (frame._tag !== 'Tell' && frame._tag !== 'Ask') {
    const error = new DecodeError({ field: '_tag', reason: `${frame._tag} frames are answers, not requests` })
    return encodeFrame({ _tag: 'Fail', v: PROTOCOL_VERSION, id: frame.id, error })
  }
  const ref = lookup(frame.to)
  if (!ref) {
    return encodeFrame({ _tag: 'Fail', v: PROTOCOL_VERSION, id: frame._tag === 'Ask' ? frame.id : 0, error: new UnknownActor({ address: frame.to }) })
  }
  return askFrame(ref, frame, opts)
}

/**
 * Delivers a request frame that was already decoded and validated where it entered the process (its body is a typed
 * Message) through the ref's typed API, and encodes the answer: a Reply frame (Ack for a Tell), or a Fail frame with
 * the typed error. Never throws.
 */
export async function askFrame(ref: ActorRef, frame: TellFrame | AskFrame, opts?: AskOptions): Promise<Uint8Array> {
  try {
    if (frame._tag === 'Tell') {
      ref.tell(frame.body)
      return encodeFrame({ _tag: 'Reply', v: PROTOCOL_VERSION, id: 0, body: { _tag: 'Ack' } })
    }
    const reply: Reply = await ref.ask(frame.body, opts)
    return encodeFrame({ _tag: 'Reply', v: PROTOCOL_VERSION, id: frame.id, body: reply })
  } catch (e) {
    const id = frame._tag === 'Ask' ? frame.id : 0
    return encodeFrame({ _tag: 'Fail', v: PROTOCOL_VERSION, id, error: toProtocolError(ref.address, e) })
  }
}

/** Pending asks keyed by correlation id, each with its timeout. */
export class PendingAsks {
  private next = 1
  private readonly map = new Map<number, { resolve: (r: Reply) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }>()

  get size(): number {
    return this.map.size
  }

  open(address: string, tag: string, timeoutMs: number): { id: number; promise: Promise<Reply> } {
    const id = this.next++
    if (this.next > Number.MAX_SAFE_INTEGER - 1) this.next = 1
    const promise = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.map.delete(id)
        reject(new AskTimeout({ actor: address, messageTag: tag, timeoutMs }))
      }, timeoutMs)
      this.map.set(id, { resolve, reject, timer })
    })
    return { id, promise }
  }

  resolve(id: number, reply: Reply): boolean {
    const p = this.map.get(id)
    if (!p) return false
    this.map.delete(id)
    clearTimeout(p.timer)
    p.resolve(reply)
    return true
  }

  reject(id: number, error: unknown): boolean {
    const p = this.map.get(id)
    if (!p) return false
    this.map.delete(id)
    clearTimeout(p.timer)
    p.reject(error)
    return true
  }

  rejectAll(error: unknown): void {
    for (const id of [...this.map.keys()]) this.reject(id, error)
  }
}
