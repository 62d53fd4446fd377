/**
 * Typed errors of the command line. `based` prints any of them as one line, `<_tag> <fields as JSON>`, and exits
 * non-zero (the stack only with `--verbose`).
 */
import { Data } from 'effect'

export { DataDirLocked, DataDirUnusable, errno } from '../supervisor/errors.ts'
export {
  NoRunningNode,
  ControlUnreachable,
  ControlHttpError,
  BodyTooLarge,
  ControlUnauthorized,
  ControlCookieUnreadable,
} from '../actors/control/errors.ts'

/** A combination of `cluster up` options that cannot run (e.g. miners for Brains that do not exist). */
export class InvalidClusterConfig extends Data.TaggedError('InvalidClusterConfig')<{
  readonly field: string
  readonly reason: string
}> {}

/** `--weights` names a file that cannot be read as a checkpoint file (missing, a directory, unreadable, empty). */
export class WeightsUnreadable extends Data.TaggedError('WeightsUnreadable')<{
  readonly path: string
  /** errno code, or 'NOT_A_FILE' / 'EMPTY'. */
  readonly code: string
}> {}
