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
