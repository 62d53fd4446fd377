/**
 * The actor contract. An actor is a behaviour — `init`, `handle`, `terminate` — run by the runtime's loop
 * (actors/cell.ts for the main thread, actors/worker-host.ts inside a worker thread). The loop, not the behaviour,
 * owns the mailbox, the restarts and the replies, as gen_server owns them for an Erlang callback module.
 *
 * `handle` returns a tagged result: `continueWith(state, reply?)` or `stopWith(state, reason, reply?)`. Anything
 * else is a bad return value and crashes the actor (as gen_server's `{bad_return_value, X}`). A throw from `handle`
 * also crashes it: the message being handled is answered with `ActorCrashed` and not retried, the actor's supervisor
 * restarts it per its strategy, and messages still queued in the mailbox are kept for the new incarnation.
 */
import type { Message, ProtocolError, Reply, StopDecision } from '../protocol/index.ts'
import type { ActorRef } from './ref.ts'

/** Why an actor stopped. `normal` and `shutdown` are clean exits (a transient child is not restarted for them). */
export type ExitReason =
  | { readonly _tag: 'normal' }
  | { readonly _tag: 'shutdown'; readonly detail?: string }
  | { readonly _tag: 'error'; readonly message: string; readonly errorTag?: string }
  | { readonly _tag: 'killed'; readonly detail: string }

export const NormalExit: ExitReason = { _tag: 'normal' }
export const ShutdownExit: ExitReason = { _tag: 'shutdown' }
export function errorReason(e: unknown): ExitReason {
  if (e instanceof Error) {
    const tag = (e as { _tag?: unknown })._tag
    return { _tag: 'error', message: e.message || e.name, ...(typeof tag === 'string' ? { errorTag: tag } : {}) }
  }
  return { _tag: 'error', message: String(e) }
}
export function isCleanExit(r: ExitReason): boolean {
  return r._tag === 'normal' || r._tag === 'shutdown'
}
export function formatReason(r: ExitReason): string {
  switch (r._tag) {
    case 'normal':
      return 'normal'
    case 'shutdown':
      return r.detail ? `shutdown (${r.detail})` : 'shutdown'
    case 'error':
      return r.errorTag ? `error ${r.errorTag}: ${r.message}` : `error: ${r.message}`
    case 'killed':
      return `killed: ${r.detail}`
  }
}

export type HandleResult<S> =
  | { readonly _tag: 'Continue'; readonly state: S; readonly reply?: Reply }
  | { readonly _tag: 'Fail'; readonly state: S; readonly error: ProtocolError }
  | { readonly _tag: 'Stop'; readonly state: S; readonly reason: ExitReason; readonly reply?: Reply }

export function continueWith<S>(state: S, reply?: Reply): HandleResult<S> {
  return reply === undefined ? { _tag: 'Continue', state } : { _tag: 'Continue', state, reply }
}
/** Answer the asker with a typed error and keep running (gen_server's `{reply, {error, E}, State}`). */
export function failWith<S>(state: S, error: ProtocolError): HandleResult<S> {
  return { _tag: 'Fail', state, error }
}
export function stopWith<S>(state: S, reason: ExitReason, reply?: Reply): HandleResult<S> {
  return reply === undefined ? { _tag: 'Stop', state, reason } : { _tag: 'Stop', state, reason, reply }
}

/** What a behaviour sees of the runtime. */
export interface ActorContext {
  /** Supervisor path of this actor, e.g. `/root/brains/brain-1`. */
  readonly address: string
  /** Role name given in the spec (brain, miner, validator, ledger-shard, …). */
  readonly role: string
  /** Free-form, serializable start arguments from the spec. */
  readonly args: Readonly<Record<string, unknown>>
  /** Whether fault-injection messages are honoured. */
  readonly faults: boolean
  /** ms since this incarnation started. */
  uptimeMs(): number
  /** Where the actor runs: 'main' or 'worker'. */
  readonly placement: 'main' | 'worker'
  /** A ref to this actor (main-thread actors; a worker-thread actor has none), e.g. for timers that tell itself. */
  readonly self?: ActorRef
  /**
   * Finds another actor of this tree by address. A main-thread actor gets the actor's own ref (undefined when there
   * is none); a worker-thread actor gets a ref that reaches it through its WorkerCell (remote semantics: an unknown
   * address fails with UnknownActor when used). Undefined for cells built without a registry.
   */
  readonly lookup?: (address: string) => ActorRef | undefined
}

export interface Behaviour<S, M extends Message = Message> {
  /** Message tags this actor handles; others are answered with UnsupportedMessage and leave the actor running. */
  readonly accepts: ReadonlyArray<M['_tag']>
  init(ctx: ActorContext): S | Promise<S>
  handle(state: S, msg: M, ctx: ActorContext): HandleResult<S> | Promise<HandleResult<S>>
  terminate?(state: S, reason: ExitReason, ctx: ActorContext): void | Promise<void>
  /**
   * Role-specific fields of this actor's `GetStatus` answer (as gen_server's `format_status`). The runtime answers
   * `GetStatus` itself — actor, role, uptime, placement, messages handled — and adds these; a role never handles
   * `GetStatus` in `handle`. Must be cheap and must not change the state.
   */
  status?(state: S, ctx: ActorContext): StatusDetail
}

/** The role-specific fields of a StatusReply (flat and serializable). */
export type StatusDetail = Readonly<Record<string, string | number | boolean>>

/** A behaviour whose state type is hidden: what specs and registries hold. */
export type AnyBehaviour = Behaviour<unknown, Message>

/** Erase a behaviour's state type (behaviours are contravariant in it, so this is the one safe cast point). */
export function erase<S, M extends Message>(b: Behaviour<S, M>): AnyBehaviour {
  return b as unknown as AnyBehaviour
}

/** Where a behaviour comes from: a module path and export name (so a worker thread can load it too). */
export interface BehaviourSource {
  /** Absolute file URL or path of an ES module. */
  readonly module: string
  /** Name of the export: a `Behaviour` or a zero-argument function returning one. Default `default`. */
  readonly export?: string
}

/**
 * The lifecycle states shown by introspection. `restarting`: the actor exited (or was stopped for a group restart)
 * and its supervisor has not left it stopped — it is being restarted, or its exit is being handled; mail is queued
 * for the next incarnation. `stopped`: its supervisor left it stopped (see `decision`); mail is refused with
 * ActorStopped. `starting` and `stopping` are the short transitions of a first start and of a stop in progress.
 */
export type ActorState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped'

/** The last decision a supervisor took about a child: it restarted it, or it left it stopped (StopDecision). */
export type SupervisorDecision = 'restarted' | StopDecision

/** One row of `based inspect mailboxes`. */
export interface ActorStats {
  readonly address: string
  readonly role: string
  readonly placement: 'main' | 'worker'
  readonly state: ActorState
  readonly mailboxDepth: number
  readonly mailboxCapacity: number
  readonly processed: number
  readonly errors: number
  readonly restarts: number
  readonly lastExit: string | null
  /** The last decision of the supervisor about this actor (null: never exited); always set when `state` is stopped. */
  readonly decision: SupervisorDecision | null
  /** Address of the supervisor that took `decision`. */
  readonly decidedBy: string | null
  /** Tells dropped because the actor was stopped for good while they were queued (asks get ActorStopped instead). */
  readonly dropped: number
  /** Most recent message types received, newest last, with ms timestamps (no payloads). */
  readonly recent: ReadonlyArray<{ readonly tag: string; readonly at: number }>
}
