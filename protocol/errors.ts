/**
 * Errors that cross a boundary (thread or peer). Each is an effect `Schema.TaggedError`, so it encodes to bytes
 * with the rest of the protocol and decodes back to the same class on the other side.
 */
import { Schema } from 'effect'
import {
  BrainRejection,
  ConsensusRejection,
  FheRejection,
  InternalError,
  KernelRejection,
  LedgerRejection,
  MinerRejection,
  ModelRejection,
  ValidatorRejection,
} from './rejections.ts'

/** Bytes that are not a valid frame, or a frame whose message has the wrong shape. `field` is the path. */
export class DecodeError extends Schema.TaggedError<DecodeError>()('DecodeError', {
  field: Schema.String,
  reason: Schema.String,
}) {}

/** A frame larger than MAX_FRAME_BYTES. */
export class FrameTooLarge extends Schema.TaggedError<FrameTooLarge>()('FrameTooLarge', {
  size: Schema.Number,
  limit: Schema.Number,
}) {}

/** A frame of another protocol version. */
export class VersionMismatch extends Schema.TaggedError<VersionMismatch>()('VersionMismatch', {
  got: Schema.Unknown,
  expected: Schema.Number,
}) {}

/** A well-formed message that the receiving actor does not handle. */
export class UnsupportedMessage extends Schema.TaggedError<UnsupportedMessage>()('UnsupportedMessage', {
  actor: Schema.String,
  messageTag: Schema.String,
}) {}

/** No actor at this address. */
export class UnknownActor extends Schema.TaggedError<UnknownActor>()('UnknownActor', {
  address: Schema.String,
}) {}

/** The mailbox is at capacity and the sender asked for an error instead of waiting. */
export class MailboxFull extends Schema.TaggedError<MailboxFull>()('MailboxFull', {
  actor: Schema.String,
  capacity: Schema.Number,
}) {}

/** An `ask` got no reply within its timeout. */
export class AskTimeout extends Schema.TaggedError<AskTimeout>()('AskTimeout', {
  actor: Schema.String,
  messageTag: Schema.String,
  timeoutMs: Schema.Number,
}) {}

/** The actor crashed while handling this message (it is restarted by its supervisor; this message is not retried). */
export class ActorCrashed extends Schema.TaggedError<ActorCrashed>()('ActorCrashed', {
  actor: Schema.String,
  reason: Schema.String,
}) {}

/**
 * Why a supervisor left a child stopped (the child is not restarted unless a supervisor above restarts the subtree):
 * `escalated` — its supervisor exceeded its restart intensity, stopped its children and exited to its own parent;
 * `gave_up` — the same at the root (the system gave up); `not_restarted` — a transient child that exited cleanly;
 * `removed` — a temporary child that exited, or one removed by terminateChild; `shutdown` — the tree was shut down.
 */
export const StopDecision = Schema.Literal('escalated', 'gave_up', 'not_restarted', 'removed', 'shutdown')
export type StopDecision = typeof StopDecision.Type

/**
 * The actor is stopped and refuses mail (its supervisor decided so, see StopDecision): nothing will process the
 * message. Senders get it at once on tell/send/ask. `decision` and `by` (the deciding supervisor's address) say why,
 * when known.
 */
export class ActorStopped extends Schema.TaggedError<ActorStopped>()('ActorStopped', {
  actor: Schema.String,
  decision: Schema.optional(StopDecision),
  by: Schema.optional(Schema.String),
}) {}

/**
 * Deprecated (kept so old frames still decode): an error raised by an actor's handler with a free-form tag. Actors
 * now answer a typed family of protocol/rejections.ts (LedgerRejection, MinerRejection, …) or InternalError.
 */
export class HandlerError extends Schema.TaggedError<HandlerError>()('HandlerError', {
  actor: Schema.String,
  tag: Schema.String,
  message: Schema.String,
}) {}

/**
 * A remote peer asked for something this node serves only to its own operator (a message kind that is local only,
 * an actor that is not served to peers, or a sender whose role does not allow it). Nothing was delivered.
 */
export class Forbidden extends Schema.TaggedError<Forbidden>()('Forbidden', {
  peer: Schema.String,
  messageTag: Schema.String,
  reason: Schema.Literal('local_only', 'not_served', 'not_participant', 'banned'),
}) {}

/** A remote peer exceeded its request rate or its concurrent requests; nothing was delivered. Retry later. */
export class RateLimited extends Schema.TaggedError<RateLimited>()('RateLimited', {
  peer: Schema.String,
  limit: Schema.Literal('requests_per_second', 'concurrent_requests'),
  retryAfterMs: Schema.Number,
}) {}

/**
 * The peer that hosts `actor` could not be reached: the connection was refused or lost (a remote miner whose node
 * stopped, or a network between them that broke). The actor may be gone; another one may answer (gateway/encrypted.ts
 * reroutes on it).
 */
export class PeerLost extends Schema.TaggedError<PeerLost>()('PeerLost', {
  actor: Schema.String,
  peer: Schema.String,
  reason: Schema.String,
}) {}

/** Every boundary-crossing error. Add a new one here. */
export const ProtocolError = Schema.Union(
  DecodeError,
  FrameTooLarge,
  VersionMismatch,
  UnsupportedMessage,
  UnknownActor,
  MailboxFull,
  AskTimeout,
  ActorCrashed,
  ActorStopped,
  HandlerError,
  Forbidden,
  RateLimited,
  PeerLost,
  LedgerRejection,
  FheRejection,
  KernelRejection,
  ModelRejection,
  ConsensusRejection,
  BrainRejection,
  MinerRejection,
  ValidatorRejection,
  InternalError,
)
export type ProtocolError = typeof ProtocolError.Type
