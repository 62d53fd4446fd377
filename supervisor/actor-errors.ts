/**
 * Errors of the actor runtime that stay inside a process. Errors that cross a thread or peer boundary are in
 * protocol/errors.ts (MailboxFull, AskTimeout, ActorCrashed, ActorStopped, UnknownActor, …) and are re-exported here.
 */
import { Data } from 'effect'

export {
  ActorCrashed,
  ActorStopped,
  AskTimeout,
  DecodeError,
  FrameTooLarge,
  HandlerError,
  MailboxFull,
  UnknownActor,
  UnsupportedMessage,
} from '../protocol/errors.ts'

/** A behaviour's `handle` returned something that is not a HandleResult. */
export class BadReturnValue extends Data.TaggedError('BadReturnValue')<{ readonly actor: string; readonly value: string }> {}

/** A behaviour module could not be loaded or does not export a behaviour. */
export class BehaviourLoadFailed extends Data.TaggedError('BehaviourLoadFailed')<{
  readonly module: string
  readonly reason: string
}> {}

/** Two actors registered at the same address. */
export class DuplicateAddress extends Data.TaggedError('DuplicateAddress')<{ readonly address: string }> {}

/** An operation was aborted through its AbortSignal. */
export class Aborted extends Data.TaggedError('Aborted')<{ readonly reason: string }> {}
