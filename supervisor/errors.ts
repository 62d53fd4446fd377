/**
 * Supervisor errors. Each names what failed: the child, the spec field, the reason.
 */
import { Data } from 'effect'

/** A child spec or supervisor flag is invalid; `field` is its path, e.g. `children[2].restart`. */
export class InvalidSpec extends Data.TaggedError('InvalidSpec')<{ readonly field: string; readonly reason: string }> {}

/** A child could not start; the supervisor stopped the children it had started (reverse order) and failed. */
export class ChildStartFailed extends Data.TaggedError('ChildStartFailed')<{
  readonly supervisor: string
  readonly child: string
  readonly reason: string
}> {}

/** The supervisor restarted more often than its intensity allows and shut down (escalated to its parent). */
export class RestartIntensityExceeded extends Data.TaggedError('RestartIntensityExceeded')<{
  readonly supervisor: string
  readonly intensity: number
  readonly periodMs: number
}> {}

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

/** The errno code of a Node.js system error (ENOENT, EACCES, …), or 'UNKNOWN'. */
export function errno(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'UNKNOWN'
}

/** A role's start arguments do not match its `Args` schema; `field` is the path (e.g. `challengeMs`). */
export class InvalidArgs extends Data.TaggedError('InvalidArgs')<{
  readonly role: string
  readonly field: string
  readonly reason: string
}> {}
