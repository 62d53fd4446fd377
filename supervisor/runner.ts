/**
 * The generic loop step shared by every placement: load a behaviour, run `init`, feed it one message at a time and
 * turn what `handle` returns (or throws) into an outcome the placement acts on. Main-thread cells (cell.ts) and the
 * worker-thread host (worker-host.ts) both use this, so a behaviour sees the same contract wherever it runs.
 */
import { pathToFileURL } from 'node:url'
import { ActorCrashed, UnsupportedMessage, type Message, type ProtocolError, type Reply } from '../protocol/index.ts'
import { BadReturnValue, BehaviourLoadFailed } from './actor-errors.ts'
import {
  errorReason,
  formatReason,
  type ActorContext,
  type AnyBehaviour,
  type BehaviourSource,
  type ExitReason,
  type HandleResult,
  type StatusDetail,
} from './types.ts'

export type Outcome =
  | { readonly kind: 'reply'; readonly reply: Reply }
  | { readonly kind: 'fail'; readonly error: ProtocolError }
  | { readonly kind: 'stop'; readonly reason: ExitReason; readonly reply: Reply }
  | { readonly kind: 'crash'; readonly reason: ExitReason; readonly error: ProtocolError }

const ACK: Reply = { _tag: 'Ack' }

function isBehaviour(x: unknown): x is AnyBehaviour {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as AnyBehaviour).init === 'function' &&
    typeof (x as AnyBehaviour).handle === 'function' &&
    Array.isArray((x as AnyBehaviour).accepts)
  )
}

/** Loads a behaviour from a module: the export may be a behaviour or a zero-argument factory of one. */
export async function loadBehaviour(source: BehaviourSource): Promise<AnyBehaviour> {
  const url = source.module.startsWith('file:') ? source.module : pathToFileURL(source.module).href
  let mod: Record<string, unknown>
  try {
    mod = (await import(url)) as Record<string, unknown>
  } catch (e) {
    throw new BehaviourLoadFailed({ module: source.module, reason: e instanceof Error ? e.message : String(e) })
  }
  const exp = mod[source.export ?? 'default']
  const candidate = typeof exp === 'function' ? (exp as () => unknown)() : exp
  if (!isBehaviour(candidate)) {
    throw new BehaviourLoadFailed({
      module: source.module,
      reason: `export '${source.export ?? 'default'}' is not a behaviour (needs accepts, init, handle)`,
    })
  }
  return candidate
}

function isHandleResult(x: unknown): x is HandleResult<unknown> {
  if (typeof x !== 'object' || x === null) return false
  const tag = (x as { _tag?: unknown })._tag
  return tag === 'Continue' || tag === 'Stop' || tag === 'Fail'
}

/** One incarnation of an actor: its behaviour, its state and its context. */
export class Runner {
  readonly behaviour: AnyBehaviour
  readonly ctx: ActorContext
  private readonly accepts: ReadonlySet<string>
  private state: unknown = undefined
  /** Messages this incarnation handled (shown by GetStatus). */
  private handled = 0

  constructor(behaviour: AnyBehaviour, ctx: ActorContext) {
    this.behaviour = behaviour
    this.ctx = ctx
    this.accepts = new Set(behaviour.accepts)
  }

  async init(): Promise<void> {
    this.state = await this.behaviour.init(this.ctx)
  }

  private settle(result: unknown): Outcome {
    if (!isHandleResult(result)) {
      const err = new BadReturnValue({ actor: this.ctx.address, value: safeDescribe(result) })
      const reason = errorReason(err)
      return { kind: 'crash', reason, error: new ActorCrashed({ actor: this.ctx.address, reason: formatReason(reason) }) }
    }
    this.state = result.state
    switch (result._tag) {
      case 'Continue':
        return { kind: 'reply', reply: result.reply ?? ACK }
      case 'Fail':
        return { kind: 'fail', error: result.error }
      case 'Stop':
        return { kind: 'stop', reason: result.reason, reply: result.reply ?? ACK }
    }
  }

  private crash(e: unknown): Outcome {
    const reason = errorReason(e)
    return { kind: 'crash', reason, error: new ActorCrashed({ actor: this.ctx.address, reason: formatReason(reason) }) }
  }

  /**
   * Handles one message. Returns synchronously when the handler is synchronous (the fast path: no promise per
   * message), otherwise a promise. Never throws.
   */
  step(msg: Message): Outcome | Promise<Outcome> {
    if (msg._tag === 'Fault' && this.ctx.faults) return this.fault(msg.mode)
    this.handled++
    if (msg._tag === 'GetStatus' && (this.behaviour.status !== undefined || !this.accepts.has('GetStatus'))) return this.status()
    if (!this.accepts.has(msg._tag)) {
      return { kind: 'fail', error: new UnsupportedMessage({ actor: this.ctx.address, messageTag: msg._tag }) }
    }
    let result: unknown
    try {
      result = this.behaviour.handle(this.state, msg, this.ctx)
    } catch (e) {
      return this.crash(e)
    }
    if (result instanceof Promise) {
      return result.then(
        (r: unknown) => this.settle(r),
        (e: unknown) => this.crash(e),
      )
    }
    return this.settle(result)
  }

  /** The runtime's answer to GetStatus: what every actor shares plus the behaviour's `status(state)`. */
  private status(): Outcome {
    let detail: StatusDetail
    try {
      detail = this.behaviour.status?.(this.state, this.ctx) ?? {}
    } catch (e) {
      return this.crash(e)
    }
    const reply: Reply = {
      _tag: 'StatusReply',
      actor: this.ctx.address,
      role: this.ctx.role,
      uptimeMs: this.ctx.uptimeMs(),
      detail: { placement: this.ctx.placement, handled: this.handled, ...detail },
    }
    return { kind: 'reply', reply }
  }

  /** Fault injection (only when the actor was started with `faults: true`). */
  private fault(mode: 'throw' | 'exit' | 'oom'): Outcome {
    if (this.ctx.placement === 'worker' && mode === 'exit') process.exit(3)
    if (this.ctx.placement === 'worker' && mode === 'oom') {
      const hog: unknown[] = []
      for (;;) hog.push(new Array(1 << 20).fill(hog.length))
    }
    return this.crash(new Error(`injected fault: ${mode}`))
  }

  /** Runs `terminate`, if any; errors in it are reported, not thrown. */
  async terminate(reason: ExitReason): Promise<string | undefined> {
    if (!this.behaviour.terminate) return undefined
    try {
      await this.behaviour.terminate(this.state, reason, this.ctx)
      return undefined
    } catch (e) {
      return e instanceof Error ? e.message : String(e)
    }
  }
}

function safeDescribe(x: unknown): string {
  try {
    const s = JSON.stringify(x)
    return s === undefined ? String(x) : s.slice(0, 200)
  } catch {
    return String(x).slice(0, 200)
  }
}
