/**
 * The supervisor: starts children in order, watches them, restarts them per strategy and restart type within its
 * intensity, stops them in reverse order, and escalates to its own parent when it gives up.
 *
 * - Exits are handled one at a time (a serial queue), so overlapping crashes never interleave restarts. `start` runs
 *   in that queue too: a child that exits while later siblings are still starting (a burst of faults already in its
 *   mailbox) is handled once the start completes — as OTP's supervisor finds the EXIT in its mailbox after init —
 *   never dropped.
 * - Exits of children the supervisor is itself stopping are not restarts and are ignored.
 * - Every exit ends in a decision visible in introspection: the child is restarted (`restarted`), or closed —
 *   it then refuses mail with ActorStopped — as `not_restarted` (transient, clean exit), `removed` (temporary),
 *   `escalated` (intensity exceeded: all children stopped in reverse order and closed, and the supervisor exits to
 *   its parent with `shutdown (reached_max_restart_intensity)`, which applies its own strategy: restarting the
 *   subtree opens the children again) or `gave_up` (the same at the root: the system's `exited` resolves).
 * - A restart that fails to start counts as another restart (as in OTP), so a child that cannot start exhausts
 *   the intensity and the supervisor escalates rather than looping.
 * - Child cells outlive their incarnations: an ActorRef stays valid across restarts and messages queued while a
 *   child restarts are delivered to the new incarnation. A temporary child that exits is removed and disposed.
 * - A transient child that exits cleanly stays stopped; group restarts (one_for_all, rest_for_one) skip it.
 */
import {
  LocalCell,
  WorkerCell,
  ShutdownExit,
  formatReason,
  isCleanExit,
  type ActorRef,
  type ActorStats,
  type BehaviourSource,
  type Child,
  type ExitReason,
  type ShutdownPolicy,
} from './runtime.ts'
import type { StopDecision } from '../protocol/index.ts'
import { ChildStartFailed, InvalidSpec } from './errors.ts'
import { addRestart } from './intensity.ts'
import { validateSpec, type ActorSpec, type ChildSpec, type ChildSpecInput, type SupervisorSpec } from './spec.ts'

/** What a supervisor needs from the system: registration of cells by address, and event reporting. */
export interface SupervisorHost {
  register(address: string, child: Child, kind: 'actor' | 'supervisor'): void
  unregister(address: string): void
  event(e: SupervisorEvent): void
  /** Finds an actor of this tree by address (given to main-thread actors as `ctx.lookup`). */
  lookup(address: string): ActorRef | undefined
}

export type SupervisorEvent =
  | { readonly type: 'child_started'; readonly supervisor: string; readonly child: string }
  | { readonly type: 'child_exited'; readonly supervisor: string; readonly child: string; readonly reason: string }
  | { readonly type: 'child_restarted'; readonly supervisor: string; readonly child: string; readonly strategy: string }
  | { readonly type: 'child_removed'; readonly supervisor: string; readonly child: string }
  | { readonly type: 'child_stopped'; readonly supervisor: string; readonly child: string }
  | { readonly type: 'gave_up'; readonly supervisor: string; readonly intensity: number; readonly periodMs: number }
  | { readonly type: 'start_failed'; readonly supervisor: string; readonly child: string; readonly reason: string }

interface Slot {
  readonly spec: ChildSpec
  readonly child: Child
  running: boolean
  /** A transient child that exited cleanly: not part of group restarts. */
  finished: boolean
  /**
   * Bumped before every start of the child. An exit is handled only if it came from the current generation: an
   * exit of an incarnation that a group restart already replaced is stale (OTP ignores an EXIT from an old pid).
   */
  generation: number
}

function describe(e: unknown): string {
  if (e && typeof e === 'object' && '_tag' in e) {
    const rec = e as Record<string, unknown>
    const fields = Object.entries(rec)
      .filter(([k]) => k !== '_tag' && k !== 'stack')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    return `${String(rec._tag)}(${fields.join(', ')})`
  }
  return e instanceof Error ? e.message : String(e)
}

export class Supervisor implements Child {
  readonly id: string
  readonly address: string
  readonly spec: SupervisorSpec
  private readonly host: SupervisorHost
  private readonly slots: Slot[] = []
  private restartTimes: number[] = []
  private exitListener: ((reason: ExitReason) => void) | null = null
  private stopping = false
  private running = false
  private restartCount = 0
  private queue: Promise<void> = Promise.resolve()
  private readonly now: () => number
  /** The root has no parent to escalate to: giving up there is the system giving up. */
  private readonly isRoot: boolean
  private lastDecision: { readonly decision: StopDecision | 'restarted'; readonly by: string } | null = null

  constructor(spec: SupervisorSpec, address: string, host: SupervisorHost, now: () => number = Date.now, isRoot = false) {
    this.id = spec.id
    this.spec = spec
    this.address = address
    this.host = host
    this.now = now
    this.isRoot = isRoot
    for (const c of spec.children) this.slots.push(this.makeSlot(c))
  }

  private makeSlot(spec: ChildSpec): Slot {
    const address = `${this.address}/${spec.id}`
    const child = spec.kind === 'supervisor' ? new Supervisor(spec, address, this.host, this.now) : makeCell(spec, address, this.host)
    this.host.register(address, child, spec.kind)
    const slot: Slot = { spec, child, running: false, finished: false, generation: 0 }
    child.setExitListener((reason) => {
      const generation = slot.generation
      this.queue = this.queue.then(() => this.onChildExit(slot, reason, generation))
    })
    return slot
  }

  /**
   * Adds a child to a running supervisor and starts it (OTP's start_child). It goes last in start order. Rejects
   * with InvalidSpec for a bad spec or a duplicate id, and with ChildStartFailed (the child is then not kept) when it
   * cannot start or the supervisor is stopped.
   */
  startChild(input: ChildSpecInput): Promise<Child> {
    const run = async (): Promise<Child> => {
      const spec = validateSpec(input, 'child')
      if (this.slots.some((s) => s.spec.id === spec.id)) {
        throw new InvalidSpec({ field: 'child.id', reason: `duplicate id '${spec.id}' under ${this.address}` })
      }
      // A stopped supervisor would not watch it: the child would be a dead actor taking mail.
      if (!this.running) throw new ChildStartFailed({ supervisor: this.address, child: spec.id, reason: `supervisor ${this.condition}` })
      const slot = this.makeSlot(spec)
      this.slots.push(slot)
      try {
        slot.generation++
        await slot.child.start()
      } catch (e) {
        this.slots.splice(this.slots.indexOf(slot), 1)
        slot.child.dispose()
        this.host.unregister(slot.child.address)
        this.host.event({ type: 'start_failed', supervisor: this.address, child: slot.child.address, reason: describe(e) })
        throw new ChildStartFailed({ supervisor: this.address, child: spec.id, reason: describe(e) })
      }
      slot.running = true
      this.host.event({ type: 'child_started', supervisor: this.address, child: slot.child.address })
      return slot.child
    }
    const result = this.queue.then(run)
    this.queue = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }

  /** Stops a child and removes it (OTP's terminate_child + delete_child). Returns false when there is no such child. */
  terminateChild(id: string): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      const slot = this.slots.find((s) => s.spec.id === id)
      if (!slot) return false
      await this.stopSlots([slot], ShutdownExit)
      this.remove(slot)
      return true
    }
    const result = this.queue.then(run)
    this.queue = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }

  /** Children in start order (for the tree view). */
  childList(): ReadonlyArray<{ readonly spec: ChildSpec; readonly child: Child; readonly running: boolean }> {
    return this.slots
  }

  setExitListener(listener: (reason: ExitReason) => void): void {
    this.exitListener = listener
  }

  noteRestart(by: string): void {
    this.restartCount++
    this.lastDecision = { decision: 'restarted', by }
    // The subtree was restarted with it.
    for (const s of this.slots) if (s.running) s.child.noteRestart(by)
  }

  close(decision: StopDecision, by: string): void {
    if (!this.lastDecision || this.lastDecision.decision === 'restarted') this.lastDecision = { decision, by }
    for (const s of this.slots) s.child.close(decision, by)
  }

  /** This supervisor's state for the tree view: running, or stopped with the decision that left it so. */
  get condition(): string {
    if (this.running) return 'running'
    const d = this.lastDecision
    return d && d.decision !== 'restarted' ? `stopped: ${d.decision} by ${d.by}` : 'stopped'
  }

  /**
   * Starts the children in order. Runs in the exit queue: exits that arrive meanwhile are handled after it (once
   * `running` is set), and exits queued before it (of an earlier incarnation of this subtree) are handled first.
   */
  start(): Promise<void> {
    const result = this.queue.then(() => this.startChildren())
    this.queue = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }

  private async startChildren(): Promise<void> {
    this.stopping = false
    this.restartTimes = []
    if (this.lastDecision?.decision !== 'restarted') this.lastDecision = null
    const started: Slot[] = []
    for (const slot of this.slots) {
      if (slot.finished) continue
      try {
        slot.generation++
        await slot.child.start()
      } catch (e) {
        this.host.event({ type: 'start_failed', supervisor: this.address, child: slot.child.address, reason: describe(e) })
        for (const s of started.reverse()) {
          await s.child.stop(ShutdownExit, s.spec.shutdown)
          s.running = false
        }
        throw new ChildStartFailed({ supervisor: this.address, child: slot.spec.id, reason: describe(e) })
      }
      slot.running = true
      started.push(slot)
      this.host.event({ type: 'child_started', supervisor: this.address, child: slot.child.address })
    }
    this.running = true
  }

  async stop(reason: ExitReason, _shutdown: ShutdownPolicy): Promise<void> {
    this.stopping = true
    await this.queue
    await this.stopSlots([...this.slots], reason)
    this.running = false
  }

  /** Stops the given slots in reverse start order; with `final`, closes each once stopped (running or not). */
  private async stopSlots(slots: Slot[], reason: ExitReason, final?: StopDecision): Promise<void> {
    for (const s of [...slots].reverse()) {
      if (s.running) {
        s.running = false
        await s.child.stop(reason, s.spec.shutdown)
        this.host.event({ type: 'child_stopped', supervisor: this.address, child: s.child.address })
      }
      if (final) s.child.close(final, this.address)
    }
  }

  dispose(): void {
    for (const s of this.slots) {
      s.child.dispose()
      this.host.unregister(s.child.address)
    }
  }

  private async onChildExit(slot: Slot, reason: ExitReason, generation: number): Promise<void> {
    if (this.stopping || !this.running || !slot.running || generation !== slot.generation) return
    slot.running = false
    this.host.event({ type: 'child_exited', supervisor: this.address, child: slot.child.address, reason: formatReason(reason) })
    const restart = slot.spec.restart
    if (restart === 'temporary') {
      this.remove(slot)
      return
    }
    if (restart === 'transient' && isCleanExit(reason)) {
      slot.finished = true
      slot.child.close('not_restarted', this.address)
      return
    }
    await this.restartFrom(slot)
  }

  private remove(slot: Slot): void {
    const i = this.slots.indexOf(slot)
    if (i >= 0) this.slots.splice(i, 1)
    slot.child.dispose()
    this.host.unregister(slot.child.address)
    this.host.event({ type: 'child_removed', supervisor: this.address, child: slot.child.address })
  }

  /** Applies the strategy for an exit of `slot`, retrying failed starts within the intensity. */
  private async restartFrom(slot: Slot): Promise<void> {
    const { strategy, intensity, periodMs } = this.spec.flags
    for (;;) {
      const v = addRestart(this.restartTimes, this.now(), { intensity, periodMs })
      this.restartTimes = [...v.times]
      if (v.verdict === 'give_up') {
        await this.giveUp()
        return
      }
      const i = this.slots.indexOf(slot)
      const group =
        strategy === 'one_for_one'
          ? [slot]
          : strategy === 'one_for_all'
            ? this.slots.filter((s) => !s.finished || s === slot)
            : this.slots.slice(i).filter((s) => !s.finished || s === slot)
      await this.stopSlots(
        group.filter((s) => s !== slot),
        ShutdownExit,
      )
      let failed: Slot | null = null
      for (const s of group) {
        s.finished = false
        try {
          s.generation++
          await s.child.start()
          s.running = true
          s.child.noteRestart(this.address)
          this.host.event({ type: 'child_restarted', supervisor: this.address, child: s.child.address, strategy })
        } catch (e) {
          this.host.event({ type: 'start_failed', supervisor: this.address, child: s.child.address, reason: describe(e) })
          failed = s
          break
        }
      }
      if (!failed) return
      // OTP: a failed restart is another restart attempt; stop what this round started and try again.
      await this.stopSlots(group, ShutdownExit)
      slot = failed
    }
  }

  private async giveUp(): Promise<void> {
    const { intensity, periodMs } = this.spec.flags
    this.host.event({ type: 'gave_up', supervisor: this.address, intensity, periodMs })
    this.stopping = true
    const decision: StopDecision = this.isRoot ? 'gave_up' : 'escalated'
    this.lastDecision = { decision, by: this.address }
    // Every child is stopped (reverse order) and closed, including the one whose exit exceeded the intensity.
    await this.stopSlots([...this.slots], ShutdownExit, decision)
    this.running = false
    const listener = this.exitListener
    if (listener) listener({ _tag: 'shutdown', detail: 'reached_max_restart_intensity' })
  }

  stats(): ActorStats[] {
    return this.slots.flatMap((s) => s.child.stats())
  }

  /** Restarts of this supervisor itself, by its parent. */
  get restarts(): number {
    return this.restartCount
  }
  get isRunning(): boolean {
    return this.running
  }
}

function makeCell(spec: ActorSpec, address: string, host: SupervisorHost): Child {
  const common = {
    id: spec.id,
    address,
    role: spec.role,
    mailboxCapacity: spec.capacity,
    args: spec.args,
    faults: spec.faults,
  }
  if (spec.placement === 'worker') {
    return new WorkerCell({
      ...common,
      behaviour: spec.behaviour as BehaviourSource,
      ...(spec.resourceLimits ? { resourceLimits: spec.resourceLimits } : {}),
      lookup: (a) => host.lookup(a),
    })
  }
  return new LocalCell({ ...common, behaviour: spec.behaviour, lookup: (a) => host.lookup(a) })
}
