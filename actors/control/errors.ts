/**
 * Typed errors of the control endpoint (actors/control/index.ts) and its client (actors/control/client.ts).
 */
import { Data } from 'effect'

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
