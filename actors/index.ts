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
export * from '../supervisor/runtime.ts'
