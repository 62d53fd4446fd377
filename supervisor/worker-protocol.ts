/**
 * Control messages between a WorkerCell (main thread) and its worker-host (worker thread). Actor messages travel
 * inside `frames` batches as protocol frames; these envelopes are internal to the runtime and never leave the process.
 *
 * Shared counters (Int32Array over a SharedArrayBuffer), written by the worker, read by the main thread:
 *   [STARTED] frames the worker has begun handling, [DONE] frames finished, [WAITING] set by the main thread when a
 *   sender waits for room (the worker then posts `drain`), [ERRORS] rejected frames and failed handlers.
 * A crash leaves STARTED − DONE ∈ {0, 1}: the frame in hand (if any) is the one that crashed; every frame after it
 * was never started and is redelivered to the next incarnation, so nothing is lost or handled twice.
 */
import type { BehaviourSource, ExitReason } from './types.ts'

/** Batches at least this large are transferred (zero-copy); smaller ones are copied by structured clone. */
export const TRANSFER_MIN_BYTES = 64 * 1024

export const STARTED = 0
export const DONE = 1
export const WAITING = 2
export const ERRORS = 3
export const COUNTERS = 4

export interface WorkerInit {
  readonly source: BehaviourSource
  readonly address: string
  readonly role: string
  readonly args: Readonly<Record<string, unknown>>
  readonly faults: boolean
  readonly counters: SharedArrayBuffer
  /** Whether the actor may reach the other actors of its tree (`ctx.lookup`), through its WorkerCell. */
  readonly lookup: boolean
}

export type ToWorker =
  | { readonly t: 'frames'; readonly batch: Uint8Array }
  | { readonly t: 'stop'; readonly reason: ExitReason }
  /** The answer frame (Reply or Fail, encoded) to the worker's `request` with this id. */
  | { readonly t: 'answer'; readonly id: number; readonly frame: Uint8Array }

export type FromWorker =
  | { readonly t: 'ready' }
  | { readonly t: 'initFailed'; readonly reason: ExitReason }
  | { readonly t: 'replies'; readonly batch: Uint8Array }
  | { readonly t: 'exit'; readonly reason: ExitReason }
  | { readonly t: 'drain' }
  | { readonly t: 'stopped' }
  /** A Tell or Ask frame (encoded) from the worker's actor to another actor of the tree, found by the WorkerCell. */
  | { readonly t: 'request'; readonly id: number; readonly frame: Uint8Array; readonly timeoutMs: number }
