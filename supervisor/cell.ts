/**
 * Actor cells: the runtime side of an actor. `Cell` holds what every placement shares — address, introspection
 * counters, the exit listener, the recent-message ring — and `LocalCell` runs a behaviour in this thread.
 *
 * LocalCell semantics:
 * - Messages are handled one at a time in mailbox order. Synchronous handlers run in a tight loop (no promise per
 *   message); after 1024 messages in a row the loop yields to the event loop (setImmediate) so one busy actor cannot
 *   starve timers and I/O.
 * - A throw or a bad return value crashes the incarnation: the message's asker gets ActorCrashed, `terminate` runs,
 *   the supervisor is told. Queued messages stay in the mailbox for the next incarnation.
 * - `stop` waits for the message in hand (up to the shutdown grace period), runs `terminate`, and leaves the queue in
 *   place (a restart by one_for_all / rest_for_one finds it there). `dispose` rejects what is left with ActorStopped.
 *
 * Every cell (both placements) is in exactly one of these conditions, whatever arrives:
 * - running (or starting / stopping, briefly): mail is accepted;
 * - restarting: it exited or was stopped and its supervisor has not left it stopped; mail is accepted and queued
 *   for the next incarnation;
 * - stopped: its supervisor closed it with a decision (escalated, gave_up, not_restarted, removed, shutdown); queued
 *   asks were rejected with ActorStopped and new mail is refused at once with ActorStopped (tell throws it,
 *   send/ask reject with it) — never a silent queue that nobody will read, never an ask that can only time out.
 * An exit notification belongs to one incarnation: a stale one (its incarnation already replaced) is dropped.
 */
import {
  ActorStopped,
  DEFAULT_ASK_TIMEOUT_MS,
  DEFAULT_MAILBOX_CAPACITY,
  MailboxFull,
  RECENT_MESSAGE_TYPES,
  type Message,
  type Reply,
  type ReplyFor,
} from '../protocol/index.ts'
import type { StopDecision } from '../protocol/index.ts'
import type { Child, ShutdownPolicy } from './child.ts'
import { coarseNow } from './clock.ts'
import { Mailbox } from './mailbox.ts'
import { askBytesVia, PendingAsks, type ActorRef, type AskOptions, type SendOptions } from './ref.ts'
import { loadBehaviour, Runner, type Outcome } from './runner.ts'
import {
  errorReason,
  formatReason,
  type ActorContext,
  type ActorState,
  type ActorStats,
  type AnyBehaviour,
  type BehaviourSource,
  type ExitReason,
  type SupervisorDecision,
} from './types.ts'

export interface CellOptions {
  readonly id: string
  readonly address: string
  readonly role: string
  readonly mailboxCapacity?: number
  readonly args?: Readonly<Record<string, unknown>>
  readonly faults?: boolean
}

/** Introspection and lifecycle bookkeeping shared by all placements. */
export abstract class Cell implements Child, ActorRef {
  readonly id: string
  readonly address: string
  readonly role: string
  readonly capacity: number
  readonly args: Readonly<Record<string, unknown>>
  readonly faults: boolean
  protected lifecycle: ActorState = 'starting'
  protected disposed = false
  /** Closed by its supervisor (or disposed): mail is refused with ActorStopped until the next start. */
  protected closed = false
  protected decision: SupervisorDecision | null = null
  protected decidedBy: string | null = null
  /** Bumped by every start; an exit notification of an older incarnation is stale and dropped. */
  protected incarnation = 0
  protected processedCount = 0
  protected errorCount = 0
  protected restartCount = 0
  protected droppedCount = 0
  protected lastExitReason: ExitReason | null = null
  protected exitListener: ((reason: ExitReason) => void) | null = null
  private readonly recentTags: string[] = new Array<string>(RECENT_MESSAGE_TYPES)
  private readonly recentAt: number[] = new Array<number>(RECENT_MESSAGE_TYPES).fill(0)
  private recentNext = 0
  private recentCount = 0

  constructor(opts: CellOptions) {
    this.id = opts.id
    this.address = opts.address
    this.role = opts.role
    this.capacity = opts.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY
    if (!Number.isSafeInteger(this.capacity) || this.capacity < 1) {
      throw new RangeError(`mailbox capacity of ${opts.address} must be an integer ≥ 1`)
    }
    this.args = opts.args ?? {}
    this.faults = opts.faults ?? false
  }

  abstract readonly placement: 'main' | 'worker'
  abstract start(): Promise<void>
  abstract stop(reason: ExitReason, shutdown: ShutdownPolicy): Promise<void>
  abstract tell(msg: Message): void
  abstract send(msg: Message, opts?: SendOptions): Promise<void>
  abstract ask<Q extends Message>(msg: Q, opts?: AskOptions): Promise<ReplyFor<Q>>
  protected abstract depth(): number
  protected abstract processed(): number

  askBytes(frame: Uint8Array, opts?: AskOptions): Promise<Uint8Array> {
    return askBytesVia(this, frame, opts)
  }

  setExitListener(listener: (reason: ExitReason) => void): void {
    this.exitListener = listener
  }

  noteRestart(by: string): void {
    this.restartCount++
    this.decision = 'restarted'
    this.decidedBy = by
  }

  close(decision: StopDecision, by: string): void {
    if (this.disposed) return
    if (!this.closed) {
      this.closed = true
      this.decision = decision
      this.decidedBy = by
    }
    this.rejectQueued(this.stoppedError())
  }

  dispose(): void {
    if (this.disposed) return
    if (!this.closed) {
      this.closed = true
      this.decision = 'removed'
    }
    this.disposed = true
    this.rejectQueued(this.stoppedError())
    this.release()
  }

  /** Rejects queued asks and waiting senders with `err`, drops queued tells (counted). */
  protected abstract rejectQueued(err: ActorStopped): void
  /** Frees what a disposed cell holds (a worker thread). */
  protected abstract release(): void

  /** The error senders get while the cell is closed. */
  protected stoppedError(): ActorStopped {
    const d = this.decision
    return new ActorStopped({
      actor: this.address,
      ...(d !== null && d !== 'restarted' ? { decision: d } : {}),
      ...(this.decidedBy !== null ? { by: this.decidedBy } : {}),
    })
  }

  /** A start opens the cell again (a parent restarting an escalated subtree); a disposed cell never starts. */
  protected beginStart(): void {
    if (this.disposed) throw this.stoppedError()
    this.closed = false
    this.incarnation++
    this.lifecycle = this.lastExitReason ? 'restarting' : 'starting'
  }

  /** The state introspection shows (see the module doc). */
  protected shownState(): ActorState {
    if (this.closed) return 'stopped'
    return this.lifecycle === 'stopped' ? 'restarting' : this.lifecycle
  }

  protected noteReceived(tag: string): void {
    this.recentTags[this.recentNext] = tag
    this.recentAt[this.recentNext] = coarseNow()
    this.recentNext = (this.recentNext + 1) % RECENT_MESSAGE_TYPES
    if (this.recentCount < RECENT_MESSAGE_TYPES) this.recentCount++
  }

  protected exited(reason: ExitReason): void {
    this.lastExitReason = reason
    if (reason._tag === 'error' || reason._tag === 'killed') this.errorCount++
    const listener = this.exitListener
    if (listener) listener(reason)
  }

  /** Throws ActorStopped when the cell refuses mail (for tell). */
  protected checkOpen(): void {
    if (this.closed) throw this.stoppedError()
  }

  stats(): ActorStats[] {
    const recent: Array<{ tag: string; at: number }> = []
    for (let i = 0; i < this.recentCount; i++) {
      const k = (this.recentNext - this.recentCount + i + RECENT_MESSAGE_TYPES) % RECENT_MESSAGE_TYPES
      recent.push({ tag: this.recentTags[k] as string, at: this.recentAt[k] as number })
    }
    return [
      {
        address: this.address,
        role: this.role,
        placement: this.placement,
        state: this.shownState(),
        mailboxDepth: this.depth(),
        mailboxCapacity: this.capacity,
        processed: this.processed(),
        errors: this.errorCount,
        restarts: this.restartCount,
        lastExit: this.lastExitReason ? formatReason(this.lastExitReason) : null,
        decision: this.decision,
        decidedBy: this.decidedBy,
        dropped: this.droppedCount,
        recent,
      },
    ]
  }
}

interface Envelope {
  readonly msg: Message
  readonly resolve?: (r: Reply) => void
  readonly reject?: (e: unknown) => void
}

const YIELD_EVERY = 1024

/** An actor whose behaviour runs in this thread. */
export class LocalCell extends Cell {
  readonly placement = 'main' as const
  private readonly source: AnyBehaviour | BehaviourSource
  private readonly mailbox: Mailbox<Envelope>
  private runner: Runner | null = null
  private draining = false
  /** Resolves when the message in hand (if async) settles; used by stop(). */
  private inFlight: Promise<void> | null = null
  private startedAt = 0
  private readonly drainFn = (): void => this.drain()
  private readonly pending = new PendingAsks()

  private readonly lookup: ((address: string) => ActorRef | undefined) | undefined

  constructor(opts: CellOptions & { readonly behaviour: AnyBehaviour | BehaviourSource; readonly lookup?: (address: string) => ActorRef | undefined }) {
    super(opts)
    this.source = opts.behaviour
    this.lookup = opts.lookup
    this.mailbox = new Mailbox<Envelope>(this.capacity)
  }

  protected depth(): number {
    return this.mailbox.size + this.mailbox.waiting
  }
  protected processed(): number {
    return this.processedCount
  }

  async start(): Promise<void> {
    this.beginStart()
    const behaviour = 'module' in this.source ? await loadBehaviour(this.source) : this.source
    const ctx: ActorContext = {
      address: this.address,
      role: this.role,
      args: this.args,
      faults: this.faults,
      placement: 'main',
      uptimeMs: () => Date.now() - this.startedAt,
      self: this,
      ...(this.lookup ? { lookup: this.lookup } : {}),
    }
    const runner = new Runner(behaviour, ctx)
    this.startedAt = Date.now()
    try {
      await runner.init()
    } catch (e) {
      this.lifecycle = 'stopped'
      this.lastExitReason = errorReason(e)
      this.errorCount++
      throw e
    }
    this.runner = runner
    this.lifecycle = 'running'
    this.schedule()
  }

  async stop(reason: ExitReason, shutdown: ShutdownPolicy): Promise<void> {
    if (this.lifecycle === 'stopped') return
    this.lifecycle = 'stopping'
    const runner = this.runner
    this.runner = null
    if (this.inFlight && shutdown !== 'brutal_kill') {
      const grace = shutdown === 'infinity' ? undefined : shutdown
      await (grace === undefined ? this.inFlight : Promise.race([this.inFlight, delay(grace)]))
    }
    if (runner && shutdown !== 'brutal_kill') {
      const t = runner.terminate(reason)
      await (shutdown === 'infinity' ? t : Promise.race([t, delay(shutdown)]))
    }
    this.lastExitReason = reason
    this.lifecycle = 'stopped'
  }

  protected rejectQueued(err: ActorStopped): void {
    for (const env of this.mailbox.drainAll(err)) {
      if (env.reject) env.reject(err)
      else this.droppedCount++
    }
    // An ask whose handler overran the shutdown grace period is not answered by a stopped cell either.
    this.pending.rejectAll(err)
  }

  protected release(): void {
    this.lifecycle = 'stopped'
  }

  private schedule(): void {
    if (!this.draining && this.lifecycle === 'running' && this.mailbox.size > 0) {
      this.draining = true
      queueMicrotask(this.drainFn)
    }
  }

  tell(msg: Message): void {
    this.checkOpen()
    if (!this.mailbox.offer({ msg })) throw new MailboxFull({ actor: this.address, capacity: this.capacity })
    this.noteReceived(msg._tag)
    this.schedule()
  }

  async send(msg: Message, opts?: SendOptions): Promise<void> {
    this.checkOpen()
    await this.mailbox.put({ msg }, opts?.signal)
    if (this.closed) {
      // Admitted from the waiting line after the cell was closed: it will not be handled.
      throw this.stoppedError()
    }
    this.noteReceived(msg._tag)
    this.schedule()
  }

  ask<Q extends Message>(msg: Q, opts?: AskOptions): Promise<ReplyFor<Q>> {
    if (this.closed) return Promise.reject(this.stoppedError())
    const pending = this.pending
    const { id, promise } = pending.open(this.address, msg._tag, opts?.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS)
    promise.catch(noop) // the caller gets the rejection through the returned promise; this only marks it handled
    const env: Envelope = { msg, resolve: (r) => pending.resolve(id, r), reject: (e) => pending.reject(id, e) }
    const admitted = (): Promise<ReplyFor<Q>> => {
      this.noteReceived(msg._tag)
      this.schedule()
      return promise as Promise<ReplyFor<Q>>
    }
    if (this.mailbox.offer(env)) return admitted()
    return this.mailbox.put(env, opts?.signal).then(admitted, (e: unknown) => {
      pending.reject(id, e)
      return promise as Promise<ReplyFor<Q>>
    })
  }

  private drain(): void {
    let n = 0
    while (this.lifecycle === 'running' && this.runner) {
      if (n++ >= YIELD_EVERY) {
        setImmediate(this.drainFn)
        return
      }
      const env = this.mailbox.take()
      if (env === undefined) break
      const out = this.runner.step(env.msg)
      if (out instanceof Promise) {
        const runner = this.runner
        this.inFlight = out.then((o) => {
          this.inFlight = null
          if (this.runner === runner) {
            if (this.finish(env, o)) this.drain()
            return
          }
          // Stopped while this handler ran (it overran the grace period): still answer its asker.
          if (o.kind === 'reply' || o.kind === 'stop') env.resolve?.(o.reply)
          else env.reject?.(o.error)
          // A new incarnation may be waiting for this loop to finish before it drains.
          this.draining = false
          this.schedule()
        })
        return
      }
      if (!this.finish(env, out)) return
    }
    this.draining = false
  }

  /** Applies an outcome; returns whether the loop may go on. */
  private finish(env: Envelope, out: Outcome): boolean {
    this.processedCount++
    switch (out.kind) {
      case 'reply':
        env.resolve?.(out.reply)
        return true
      case 'fail':
        this.errorCount++
        env.reject?.(out.error)
        return true
      case 'stop':
        env.resolve?.(out.reply)
        this.draining = false
        void this.exitWith(out.reason)
        return false
      case 'crash':
        env.reject?.(out.error)
        this.draining = false
        void this.exitWith(out.reason)
        return false
    }
  }

  private async exitWith(reason: ExitReason): Promise<void> {
    const runner = this.runner
    const incarnation = this.incarnation
    this.runner = null
    this.lifecycle = 'stopped'
    if (runner) await runner.terminate(reason)
    // Stale when the supervisor already started a new incarnation (a group restart overtook this exit).
    if (this.incarnation === incarnation) this.exited(reason)
  }
}

export function noop(): void {}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

