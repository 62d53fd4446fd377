/**
 * basedai/actors — the actor contract and its runtime cells.
 *
 * An actor is a `Behaviour` (accepts, init, handle, terminate) run by a cell: `LocalCell` in this thread,
 * `WorkerCell` in its own worker thread. Both are `ActorRef`s (tell / send / ask / askBytes) and supervisor
 * `Child`ren. Supervisors (basedai/supervisor) create cells from specs; user code rarely builds cells by hand.
 *
 * @example
 * ```ts
 * import { continueWith, type Behaviour } from 'basedai/actors'
 * export const counter: Behaviour<number> = {
 *   accepts: ['Ping'],
 *   init: () => 0,
 *   handle: (n, _msg, ctx) => continueWith(n + 1, { _tag: 'Pong', from: ctx.address, at: Date.now() }),
 * }
 * ```
 */
export * from './types.ts'
export * from './errors.ts'
export type { Child, ShutdownPolicy } from './child.ts'
export { Mailbox } from './mailbox.ts'
export { type ActorRef, type AskOptions, type SendOptions, toProtocolError } from './ref.ts'
export { Cell, LocalCell, type CellOptions } from './cell.ts'
export { WorkerCell, type WorkerCellOptions } from './worker-cell.ts'
export { loadBehaviour } from './runner.ts'
export { type Transport, type FrameHandler, RemoteRef, serveActors, LoopbackNetwork } from './transport.ts'
