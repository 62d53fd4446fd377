/**
 * Typed errors of the command line. `based` prints any of them as one line, `<_tag> <fields as JSON>`, and exits
 * non-zero (the stack only with `--verbose`).
 */
import { Data } from 'effect'

/** Another live process holds the single-writer lock of this data dir. */
export class DataDirLocked extends Data.TaggedError('DataDirLocked')<{
  readonly dataDir: string
  readonly lockFile: string
  /** The pid that holds the lock. */
  readonly pid: number
  readonly hostname: string
  /** ISO time the holder took the lock. */
  readonly since: string
}> {}

/** The data dir cannot be created or written (missing parent under /proc, read-only file system, a file in the way…). */
export class DataDirUnusable extends Data.TaggedError('DataDirUnusable')<{
  readonly dataDir: string
  /** The path the failing operation was on (the data dir itself, one of its parents, or a file in it). */
  readonly path: string
  readonly op: 'stat' | 'mkdir' | 'write' | 'read' | 'open-log'
  /** errno code (ENOENT, EACCES, EROFS, ENOTDIR, …) or 'NOT_A_DIRECTORY'. */
  readonly code: string
}> {}

/** No node is running on this data dir: no control.json, or one left by a process that is gone. */
export class NoRunningNode extends Data.TaggedError('NoRunningNode')<{
  readonly dataDir: string
  readonly reason: 'no-control-file' | 'unreadable-control-file' | 'stale-control-file'
  /** The dead pid a stale control.json points at. */
  readonly pid?: number
  readonly hint: string
}> {}

/** The control endpoint did not answer (refused, reset, timed out). */
export class ControlUnreachable extends Data.TaggedError('ControlUnreachable')<{
  readonly url: string
  readonly reason: string
}> {}

/** The control endpoint answered with an HTTP error. */
export class ControlHttpError extends Data.TaggedError('ControlHttpError')<{
  readonly url: string
  readonly status: number
  readonly body: string
}> {}

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

/** A request body to the control endpoint over its limit (answered as HTTP 413). */
export class BodyTooLarge extends Data.TaggedError('BodyTooLarge')<{
  readonly limit: number
  readonly received: number
}> {}

/**
 * The control endpoint refused the request: no token, or not the one in `<data-dir>/control.cookie` (HTTP 401).
 * The server answers `{ error: 'Unauthorized', reason, hint }` as JSON.
 */
export class ControlUnauthorized extends Data.TaggedError('ControlUnauthorized')<{
  readonly url: string
  readonly reason: 'missing-token' | 'wrong-token'
  readonly hint: string
}> {}

/** The control endpoint's cookie file cannot be read (another user's node: mode 0600; or no node wrote one). */
export class ControlCookieUnreadable extends Data.TaggedError('ControlCookieUnreadable')<{
  readonly path: string
  /** errno code (EACCES, ENOENT, …) or 'MALFORMED'. */
  readonly code: string
  readonly hint: string
}> {}

/** The errno code of a Node.js system error (ENOENT, EACCES, …), or 'UNKNOWN'. */
export function errno(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'UNKNOWN'
}
