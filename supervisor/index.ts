/**
 * basedai/supervisor — Erlang/OTP supervision for the project's actors.
 *
 * A supervision tree is data: a root `SupervisorSpecInput` whose children are actor specs or nested supervisor
 * specs. `ActorSystem.start(spec)` validates it (InvalidSpec names the bad field), starts children in order
 * (ChildStartFailed if one cannot start), restarts them per strategy (one_for_one | one_for_all | rest_for_one) and
 * restart type (permanent | transient | temporary) within the restart intensity (default OTP's: 1 in 5 s), and on
 * giving up stops its children in reverse order and escalates to its parent. Whatever arrives, each actor is
 * running, restarting, or stopped with its supervisor's decision (`stats()[i].decision`: escalated, gave_up,
 * not_restarted, removed, shutdown), and a stopped actor refuses tell/send/ask at once with ActorStopped. Actors run
 * in the main thread or in worker threads with the same ActorRef API. See docs/SUPERVISION.md.
 *
 * @example
 * ```ts
 * import { ActorSystem } from 'basedai/supervisor'
 * const system = await ActorSystem.start({
 *   kind: 'supervisor', id: 'root', flags: { strategy: 'one_for_one', intensity: 3, periodMs: 5000 },
 *   children: [{ kind: 'actor', id: 'echo', behaviour: { module: new URL('./echo.ts', import.meta.url).href }, placement: 'worker' }],
 * })
 * const pong = await system.ref('/root/echo').ask({ _tag: 'Ping' })
 * await system.shutdown()
 * ```
 */
export * from './errors.ts'
export * from './intensity.ts'
export * from './spec.ts'
export { Supervisor, type SupervisorEvent, type SupervisorHost } from './supervisor.ts'
export { ActorSystem, renderTree, type ActorSystemOptions, type TreeNode } from './system.ts'
export * from './runtime.ts'
