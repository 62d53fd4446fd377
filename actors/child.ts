/**
 * What a supervisor needs of its children — actors (any placement) and nested supervisors alike.
 */
import type { ActorStats, ExitReason } from './types.ts'

/** How a child is stopped: a grace period in ms, 'brutal_kill' (no grace), or 'infinity' (wait; for supervisors). */
export type ShutdownPolicy = number | 'brutal_kill' | 'infinity'

export interface Child {
  readonly id: string
  readonly address: string
  /** Starts (or restarts) the child. Rejects if it cannot start (e.g. `init` threw). */
  start(): Promise<void>
  /** Stops the child on its supervisor's request (no exit notification follows). */
  stop(reason: ExitReason, shutdown: ShutdownPolicy): Promise<void>
  /** Called when the child exits on its own (crash, behaviour asked to stop, worker died). */
  setExitListener(listener: (reason: ExitReason) => void): void
  /** Releases the child for good: queued messages are rejected with ActorStopped. */
  dispose(): void
  /** Introspection rows for this child and, for supervisors, everything below it. */
  stats(): ActorStats[]
  /** Bumps the restart counter shown by introspection. */
  noteRestart(): void
}
