/**
 * Frames to bytes and back: msgpack (msgpackr) for the bytes, the Schemas of messages.ts for the shape.
 *
 * `decodeFrame` never throws: it returns `Either<Frame, DecodeError | FrameTooLarge | VersionMismatch>`. A wrongly
 * shaped message names the offending field path (`body.payload`), so a receiver can answer the sender precisely and
 * keep running. Decoding is done in two steps — the envelope, then its body — so a bad body in an Ask frame still
 * yields the `id` to answer.
 */
import { Either, ParseResult, Schema } from 'effect'
import { Packr } from 'msgpackr'
import { MAX_FRAME_BYTES, PROTOCOL_VERSION } from './constants.ts'
import { DecodeError, FrameTooLarge, VersionMismatch } from './errors.ts'
import { Frame, Message } from './messages.ts'

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false })

export type FrameDecodeError = DecodeError | FrameTooLarge | VersionMismatch

/** Encodes a frame. The frame is trusted (it was built by typed code), so only the size limit is checked. */
export function encodeFrame(frame: Frame): Uint8Array {
  const bytes = packr.pack(frame)
  if (bytes.length > MAX_FRAME_BYTES) throw new FrameTooLarge({ size: bytes.length, limit: MAX_FRAME_BYTES })
  return bytes
}

function firstIssue(error: ParseResult.ParseError, prefix: string): DecodeError {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  const path = [prefix, ...(first?.path ?? []).map(String)].filter((p) => p !== '').join('.')
  return new DecodeError({ field: path === '' ? '(root)' : path, reason: first?.message ?? 'invalid' })
}

const decodeFrameSchema = Schema.decodeUnknownEither(Frame, { errors: 'first', onExcessProperty: 'ignore' })
const decodeMessage = Schema.decodeUnknownEither(Message, { errors: 'first' })

/** A shell of a frame whose body did not decode, kept so the receiver can still answer an Ask. */
export interface PartialFrame {
  readonly tag: string | undefined
  readonly id: number | undefined
  readonly to: string | undefined
}

export interface FrameDecodeFailure {
  readonly error: FrameDecodeError
  readonly partial: PartialFrame
}

function shellOf(raw: unknown): PartialFrame {
  if (typeof raw !== 'object' || raw === null) return { tag: undefined, id: undefined, to: undefined }
  const r = raw as Record<string, unknown>
  return {
    tag: typeof r._tag === 'string' ? r._tag : undefined,
    id: typeof r.id === 'number' && Number.isSafeInteger(r.id) && r.id >= 0 ? r.id : undefined,
    to: typeof r.to === 'string' ? r.to : undefined,
  }
}

/** Decodes bytes from a thread or a peer. Never throws. */
export function decodeFrame(bytes: Uint8Array): Either.Either<Frame, FrameDecodeFailure> {
  const none: PartialFrame = { tag: undefined, id: undefined, to: undefined }
  if (!(bytes instanceof Uint8Array)) {
    return Either.left({ error: new DecodeError({ field: '(root)', reason: 'frame is not bytes' }), partial: none })
  }
  if (bytes.length > MAX_FRAME_BYTES) {
    return Either.left({ error: new FrameTooLarge({ size: bytes.length, limit: MAX_FRAME_BYTES }), partial: none })
  }
  let raw: unknown
  try {
    raw = packr.unpack(bytes)
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e)
    return Either.left({ error: new DecodeError({ field: '(root)', reason: `not msgpack: ${reason}` }), partial: none })
  }
  const partial = shellOf(raw)
  if (typeof raw === 'object' && raw !== null && (raw as Record<string, unknown>).v !== PROTOCOL_VERSION) {
    return Either.left({
      error: new VersionMismatch({ got: (raw as Record<string, unknown>).v ?? null, expected: PROTOCOL_VERSION }),
      partial,
    })
  }
  const result = decodeFrameSchema(raw)
  if (Either.isRight(result)) return Either.right(result.right)
  // Say which part is wrong: the body of a Tell/Ask is checked against the message union alone, which names
  // the field inside the message rather than "no union member matched".
  if ((partial.tag === 'Tell' || partial.tag === 'Ask') && typeof raw === 'object' && raw !== null) {
    const body = (raw as Record<string, unknown>).body
    const bodyResult = decodeMessage(body)
    if (Either.isLeft(bodyResult)) return Either.left({ error: firstIssue(bodyResult.left, 'body'), partial })
  }
  return Either.left({ error: firstIssue(result.left, ''), partial })
}

/** Validates an in-memory value as a Message (used where untyped data enters, e.g. the control socket). */
export function decodeMessageUnknown(value: unknown): Either.Either<Message, DecodeError> {
  const r = decodeMessage(value)
  return Either.isRight(r) ? Either.right(r.right) : Either.left(firstIssue(r.left, ''))
}
