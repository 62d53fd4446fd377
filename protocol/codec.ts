/**
 * Frames to bytes and back: msgpack (msgpackr) for the bytes, the Schemas of messages.ts for the shape.
 *
 * `decodeFrame` never throws: it returns `Either<Frame, { error, partial }>` with error DecodeError, FrameTooLarge
 * or VersionMismatch. A wrongly shaped message names the offending field path (`body.payload`), and `partial` keeps
 * what could be read of the envelope (its tag, `id`, `to`) so a receiver can still answer an Ask and keep running.
 *
 * Decoding dispatches on `_tag`: the envelope fields are checked directly, then the body is decoded with the one
 * Schema its tag names (not by trying every member of a union), which keeps validation cheap enough for the
 * thread transport's hot path.
 */
import { Either, ParseResult, Schema } from 'effect'
import { Packr } from 'msgpackr'
import { MAX_FRAME_BYTES, MAX_STRING_BYTES, PROTOCOL_VERSION } from './constants.ts'
import { DecodeError, FrameTooLarge, ProtocolError, VersionMismatch } from './errors.ts'
import { Message, Reply, type Frame } from './messages.ts'

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false })

export type FrameDecodeError = DecodeError | FrameTooLarge | VersionMismatch

/** Encodes a frame. The frame is trusted (it was built by typed code), so only the size limit is checked. */
export function encodeFrame(frame: Frame): Uint8Array {
  const bytes = packr.pack(frame)
  if (bytes.length > MAX_FRAME_BYTES) throw new FrameTooLarge({ size: bytes.length, limit: MAX_FRAME_BYTES })
  return bytes
}

function issue(error: ParseResult.ParseError, prefix: string): DecodeError {
  const first = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  const path = [prefix, ...(first?.path ?? []).map(String)].filter((p) => p !== '').join('.')
  return new DecodeError({ field: path === '' ? '(root)' : path, reason: first?.message ?? 'invalid' })
}

type Decoder<A> = (raw: unknown, prefix: string) => Either.Either<A, DecodeError>

interface TagSignatures {
  readonly propertySignatures?: ReadonlyArray<{ readonly name: PropertyKey; readonly type: { readonly literal?: unknown } }>
}

/** The `_tag` literal of a tagged struct or tagged error class schema. */
export function tagOf(schema: Schema.Schema.Any): string {
  // A class or a struct with defaults is a transformation: walk `from` down to the type literal that has `_tag`.
  let ast: (TagSignatures & { readonly from?: unknown }) | undefined = schema.ast as TagSignatures & { readonly from?: unknown }
  let tag: unknown
  for (let depth = 0; ast !== undefined && depth < 8 && tag === undefined; depth++) {
    tag = ast.propertySignatures?.find((p) => p.name === '_tag')?.type.literal
    ast = ast.from as (TagSignatures & { readonly from?: unknown }) | undefined
  }
  if (typeof tag !== 'string') throw new Error('schema has no _tag literal')
  return tag
}

function dispatcher<A>(union: { readonly members: readonly Schema.Schema.Any[] }, what: string, full = true): Decoder<A> {
  const decoders = new Map<string, (u: unknown) => Either.Either<A, ParseResult.ParseError>>()
  for (const member of union.members) {
    const tag = tagOf(member)
    if (decoders.has(tag)) throw new Error(`two ${what} schemas share the tag ${tag}`)
    decoders.set(tag, full ? Schema.decodeUnknownEither(member as Schema.Schema<A, unknown>, { errors: 'first' }) : (u) => Either.right(u as A))
  }
  return (raw, prefix) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return Either.left(new DecodeError({ field: prefix || '(root)', reason: `expected ${what} object` }))
    }
    const tag = (raw as { _tag?: unknown })._tag
    const dec = typeof tag === 'string' ? decoders.get(tag) : undefined
    if (!dec) {
      const field = prefix ? `${prefix}._tag` : '_tag'
      return Either.left(new DecodeError({ field, reason: `unknown ${what} ${JSON.stringify(tag)?.slice(0, 64) ?? 'undefined'}` }))
    }
    const r = dec(raw)
    return Either.isRight(r) ? Either.right(r.right) : Either.left(issue(r.left, prefix))
  }
}

/**
 * Diagnostics, per thread: message bodies validated field by field (decodeFrame, decodeFrameValue 'external',
 * decodeMessageUnknown). A frame entering the process is validated once where it enters; tests read this counter
 * to check that no hop validates it again (test/actors/decode-once.test.ts).
 */
export const codecCounters = { messageBodiesValidated: 0 }

const validateMessageBody = dispatcher<Message>(Message, 'message')
const decodeMessageBody: Decoder<Message> = (raw, prefix) => {
  codecCounters.messageBodiesValidated++
  return validateMessageBody(raw, prefix)
}
const decodeReplyBody = dispatcher<Reply>(Reply, 'reply')
const decodeError = dispatcher<ProtocolError>(ProtocolError, 'error')
// Tag check only: for frames between this process's own threads, whose bodies were built by typed code or already
// validated where they entered the process (askBytes, transports).
const checkMessageTag = dispatcher<Message>(Message, 'message', false)
const checkReplyTag = dispatcher<Reply>(Reply, 'reply', false)

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

const NONE: PartialFrame = { tag: undefined, id: undefined, to: undefined }
const isId = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
const isAddress = (x: unknown): x is string => typeof x === 'string' && x.length <= MAX_STRING_BYTES

function fail(error: FrameDecodeError, partial: PartialFrame): Either.Either<Frame, FrameDecodeFailure> {
  return Either.left({ error, partial })
}

function unpack(bytes: Uint8Array): Either.Either<unknown, FrameDecodeFailure> {
  if (!(bytes instanceof Uint8Array)) return Either.left({ error: new DecodeError({ field: '(root)', reason: 'frame is not bytes' }), partial: NONE })
  if (bytes.length > MAX_FRAME_BYTES) return Either.left({ error: new FrameTooLarge({ size: bytes.length, limit: MAX_FRAME_BYTES }), partial: NONE })
  try {
    return Either.right(packr.unpack(bytes))
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e)
    return Either.left({ error: new DecodeError({ field: '(root)', reason: `not msgpack: ${reason.slice(0, 200)}` }), partial: NONE })
  }
}

/** Decodes bytes from a thread or a peer. Never throws. */
export function decodeFrame(bytes: Uint8Array): Either.Either<Frame, FrameDecodeFailure> {
  const raw = unpack(bytes)
  return Either.isLeft(raw) ? Either.left(raw.left) : decodeFrameValue(raw.right)
}

/**
 * Frames in batches, for the thread transport: one msgpack array per batch (one encoder call, one transferred
 * buffer); each element is still validated on arrival by `decodeFrameValue`.
 */
export function encodeBatch(frames: readonly Frame[]): Uint8Array {
  return packr.pack(frames)
}

/** Unpacks a batch into raw values (validate each with `decodeFrameValue`). */
export function decodeBatch(bytes: Uint8Array): Either.Either<unknown[], FrameDecodeFailure> {
  const raw = unpack(bytes)
  if (Either.isLeft(raw)) return Either.left(raw.left)
  if (!Array.isArray(raw.right)) return Either.left({ error: new DecodeError({ field: '(root)', reason: 'expected a batch (array)' }), partial: NONE })
  return Either.right(raw.right as unknown[])
}

/**
 * Validates an unpacked value as a frame. Never throws. `trust: 'internal'` (frames between this process's own
 * threads) checks the envelope and each body's tag but not the body's fields: every body on that channel was built
 * by typed code or already validated where it entered the process (askBytes, a transport). Errors in Fail frames
 * are always decoded fully (they become their error classes).
 */
export function decodeFrameValue(raw: unknown, trust: 'external' | 'internal' = 'external'): Either.Either<Frame, FrameDecodeFailure> {
  const messageBody = trust === 'internal' ? checkMessageTag : decodeMessageBody
  const replyBody = trust === 'internal' ? checkReplyTag : decodeReplyBody
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(new DecodeError({ field: '(root)', reason: 'expected a frame object' }), NONE)
  }
  const r = raw as Record<string, unknown>
  const partial: PartialFrame = {
    tag: typeof r._tag === 'string' ? r._tag : undefined,
    id: isId(r.id) ? r.id : undefined,
    to: isAddress(r.to) ? r.to : undefined,
  }
  if (r.v !== PROTOCOL_VERSION) return fail(new VersionMismatch({ got: r.v ?? null, expected: PROTOCOL_VERSION }), partial)
  switch (r._tag) {
    case 'Tell':
    case 'Ask': {
      if (!isAddress(r.to)) return fail(new DecodeError({ field: 'to', reason: 'expected an address string' }), partial)
      if (r._tag === 'Ask' && !isId(r.id)) return fail(new DecodeError({ field: 'id', reason: 'expected a non-negative integer' }), partial)
      const body = messageBody(r.body, 'body')
      if (Either.isLeft(body)) return fail(body.left, partial)
      return Either.right(
        r._tag === 'Tell'
          ? { _tag: 'Tell', v: PROTOCOL_VERSION, to: r.to, body: body.right }
          : { _tag: 'Ask', v: PROTOCOL_VERSION, to: r.to, id: r.id as number, body: body.right },
      )
    }
    case 'Reply': {
      if (!isId(r.id)) return fail(new DecodeError({ field: 'id', reason: 'expected a non-negative integer' }), partial)
      const body = replyBody(r.body, 'body')
      if (Either.isLeft(body)) return fail(body.left, partial)
      return Either.right({ _tag: 'Reply', v: PROTOCOL_VERSION, id: r.id, body: body.right })
    }
    case 'Fail': {
      if (!isId(r.id)) return fail(new DecodeError({ field: 'id', reason: 'expected a non-negative integer' }), partial)
      const error = decodeError(r.error, 'error')
      if (Either.isLeft(error)) return fail(error.left, partial)
      return Either.right({ _tag: 'Fail', v: PROTOCOL_VERSION, id: r.id, error: error.right })
    }
    default:
      return fail(new DecodeError({ field: '_tag', reason: `unknown frame ${JSON.stringify(r._tag)?.slice(0, 64) ?? 'undefined'}` }), partial)
  }
}

/** Validates an in-memory value as a Message (used where untyped data enters, e.g. the command line). */
export function decodeMessageUnknown(value: unknown): Either.Either<Message, DecodeError> {
  return decodeMessageBody(value, '')
}
