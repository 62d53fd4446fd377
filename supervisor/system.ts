/**
 * ActorSystem: one supervision tree in one process, with its registry of addresses. Start it from a supervisor
 * spec; look actors up by address; read the live mailbox table; shut it down (children stop in reverse order).
 * When the root supervisor gives up (its restart intensity exceeded), `exited` resolves with its reason, every actor
 * is stopped with the decision `gave_up` (or `escalated`, for those whose own supervisor gave up first) and refuses
 * mail with ActorStopped.
 */
import {
  Cell,
  ShutdownExit,
  type ActorRef,
  type ActorStats,
  type Child,
  type ExitReason,
} from './runtime.ts'
import { UnknownActor } from '../protocol/index.ts'
import { validateSpec, type SupervisorSpecInput } from './spec.ts'
import { Supervisor, type SupervisorEvent, type SupervisorHost } from './supervisor.ts'

export interface TreeNode {
  readonly id: string
  readonly address: string
  readonly kind: 'actor' | 'supervisor'
  readonly detail: string
  readonly children: readonly TreeNode[]
}

export interface ActorSystemOptions {
  /** Receives every supervisor event (child started, exited, restarted, gave up, …). */
  readonly onEvent?: (e: SupervisorEvent) => void
  /** Clock for restart intensity (tests inject one). */
  readonly now?: () => number
}

const KEEP_EVENTS = 256

export class ActorSystem implements SupervisorHost {
  readonly root: Supervisor
  readonly exited: Promise<ExitReason>
  private readonly registry = new Map<string, { child: Child; kind: 'actor' | 'supervisor' }>()
  private readonly onEvent: ((e: SupervisorEvent) => void) | undefined
  private readonly recentEvents: SupervisorEvent[] = []
  private resolveExit: (r: ExitReason) => void = () => {}
  private down = false

  private constructor(spec: SupervisorSpecInput, opts: ActorSystemOptions) {
    this.onEvent = opts.onEvent
    const valid = validateSpec(spec, 'root')
    if (valid.kind !== 'supervisor') throw new Error('unreachable: root spec is a supervisor')
    this.exited = new Promise((resolve) => (this.resolveExit = resolve))
    this.root = new Supervisor(valid, `/${valid.id}`, this, opts.now, true)
    this.register(this.root.address, this.root, 'supervisor')
    this.root.setExitListener((reason) => {
      this.down = true
      this.resolveExit(reason)
    })
  }

  /** Validates the spec (InvalidSpec), builds the tree and starts it (ChildStartFailed). */
  static async start(spec: SupervisorSpecInput, opts: ActorSystemOptions = {}): Promise<ActorSystem> {
    const system = new ActorSystem(spec, opts)
    try {
      await system.root.start()
    } catch (e) {
      // The children it started were stopped; release the cells so nothing outlives the failed start.
      system.root.dispose()
      throw e
    }
    return system
  }

  register(address: string, child: Child, kind: 'actor' | 'supervisor'): void {
    this.registry.set(address, { child, kind })
  }
  unregister(address: string): void {
    this.registry.delete(address)
  }
  event(e: SupervisorEvent): void {
    this.recentEvents.push(e)
    if (this.recentEvents.length > KEEP_EVENTS) this.recentEvents.shift()
    this.onEvent?.(e)
  }

  /** Recent supervisor events, oldest first. */
  events(): readonly SupervisorEvent[] {
    return this.recentEvents
  }

  lookup(address: string): ActorRef | undefined {
    const entry = this.registry.get(address)
    return entry && entry.child instanceof Cell ? entry.child : undefined
  }

  /** The actor at `address`; throws UnknownActor. */
  ref(address: string): ActorRef {
    const r = this.lookup(address)
    if (!r) throw new UnknownActor({ address })
    return r
  }

  addresses(): string[] {
    return [...this.registry.entries()].filter(([, e]) => e.kind === 'actor').map(([a]) => a)
  }

  /** Every actor's introspection row, in tree order. */
  stats(): ActorStats[] {
    return this.root.stats()
  }

  tree(): TreeNode {
    const walk = (s: Supervisor): TreeNode => ({
      id: s.id,
      address: s.address,
      kind: 'supervisor',
      detail: `${s.spec.flags.strategy}, intensity ${s.spec.flags.intensity}/${s.spec.flags.periodMs} ms, ${s.condition}`,
      children: s.childList().map(({ spec, child }) => {
        if (child instanceof Supervisor) return walk(child)
        const st = child.stats()[0]
        return {
          id: spec.id,
          address: child.address,
          kind: 'actor' as const,
          detail: `${st?.role ?? spec.id}, ${st?.placement ?? '?'}, ${spec.restart}, ${st?.state ?? '?'}${st?.state === 'stopped' && st.decision ? ` (${st.decision} by ${st.decidedBy ?? '?'})` : ''}`,
          children: [],
        }
      }),
    })
    return walk(this.root)
  }

  /** The supervisor at `address` (for start_child / terminate_child); throws UnknownActor. */
  supervisor(address: string): Supervisor {
    const entry = this.registry.get(address)
    if (!entry || !(entry.child instanceof Supervisor)) throw new UnknownActor({ address })
    return entry.child
  }

  get isDown(): boolean {
    return this.down
  }

  /** Stops everything in reverse start order and releases the cells. */
  async shutdown(reason: ExitReason = ShutdownExit): Promise<void> {
    if (!this.down) {
      this.down = true
      await this.root.stop(reason, 'infinity')
      this.root.close('shutdown', this.root.address)
      this.resolveExit(reason)
    }
    this.root.dispose()
  }
}

export function renderTree(node: TreeNode, prefix = '', last = true, top = true): string {
  const line = top ? `${node.id} (${node.detail})` : `${prefix}${last ? '└── ' : '├── '}${node.id}  [${node.detail}]`
  const childPrefix = top ? '' : prefix + (last ? '    ' : '│   ')
  return [line, ...node.children.map((c, i) => renderTree(c, childPrefix, i === node.children.length - 1, false))].join('\n')
}
