/**
 * What a supervisor needs of its children — actors (any placement) and nested supervisors alike.
 */
import type { StopDecision } from '../protocol/index.ts'
import type { ActorStats, ExitReason } from './types.ts'

/** How a child is stopped: a grace period in ms, 'brutal_kill' (no grace), or 'infinity' (wait; for supervisors). */
export type ShutdownPolicy = number | 'brutal_kill' | 'infinity'

export interface Child {
  readonly id: string
  readonly address: string
  /** Starts (or restarts) the child; a closed child opens again. Rejects if it cannot start (e.g. `init` threw). */
  start(): Promise<void>
  /**
   * Stops the child on its supervisor's request (no exit notification follows). Mail is still accepted and queued:
   * the supervisor either starts the child again (group restart) or closes it.
   */
  stop(reason: ExitReason, shutdown: ShutdownPolicy): Promise<void>
  /**
   * Called when the child exits on its own (crash, behaviour asked to stop, worker died). Called once per
   * incarnation, never for an incarnation that was already replaced by a later start.
   */
  setExitListener(listener: (reason: ExitReason) => void): void
  /**
   * The supervisor leaves this (already stopped) child stopped: queued asks and waiting senders are rejected with
   * ActorStopped (queued tells are dropped and counted), and new mail is refused with ActorStopped until the next
   * `start`. A supervisor closes its whole subtree. The first decision stands until the child starts again.
   */
  close(decision: StopDecision, by: string): void
  /** Releases the child for good (removed from the tree): like close, and it can never start again. */
  dispose(): void
  /** Introspection rows for this child and, for supervisors, everything below it. */
  stats(): ActorStats[]
  /** Its supervisor restarted it (or the subtree it is in): bumps the restart counter, records the decision. */
  noteRestart(by: string): void
}
