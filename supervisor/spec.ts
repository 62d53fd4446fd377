/**
 * Supervisor flags and child specs, and their validation.
 *
 * Flags (OTP's sup_flags):
 * - `strategy`: 'one_for_one' (default) restarts only the child that exited; 'one_for_all' stops the others (in
 *   reverse start order) and restarts all of them in start order; 'rest_for_one' does that for the exited child and
 *   the children started after it.
 * - `intensity` / `periodMs`: at most `intensity` restarts within `periodMs`. Defaults: OTP's, 1 restart in 5 s.
 *   One more and the supervisor stops all its children (reverse order) and exits with reason
 *   `shutdown (reached_max_restart_intensity)`, which its own supervisor handles like any child exit.
 *
 * Child specs:
 * - `restart`: 'permanent' (default) is always restarted; 'transient' only after an abnormal exit (not `normal` or
 *   `shutdown`); 'temporary' never, and is removed from its supervisor when it exits.
 * - `shutdown`: grace period in ms (default 5000 for actors), 'brutal_kill', or 'infinity' (default for supervisors).
 * - An actor child runs in the main thread (`placement: 'main'`, default) or in its own worker thread
 *   (`placement: 'worker'`; the behaviour must then be given as a module source, since a function cannot cross
 *   threads).
 *
 * Data fields are checked with effect Schemas; a bad spec fails `start` with InvalidSpec naming the field.
 */
import type { ResourceLimits } from 'node:worker_threads'
import { Either, ParseResult, Schema } from 'effect'
import type { AnyBehaviour, BehaviourSource, ShutdownPolicy } from './runtime.ts'
import { DEFAULT_INTENSITY, DEFAULT_MAILBOX_CAPACITY, DEFAULT_PERIOD_MS, DEFAULT_SHUTDOWN_MS } from '../protocol/index.ts'
import { InvalidSpec } from './errors.ts'

export const Strategy = Schema.Literal('one_for_one', 'one_for_all', 'rest_for_one')
export type Strategy = typeof Strategy.Type
export const RestartType = Schema.Literal('permanent', 'transient', 'temporary')
export type RestartType = typeof RestartType.Type
const ShutdownSchema = Schema.Union(Schema.Number.pipe(Schema.int(), Schema.nonNegative()), Schema.Literal('brutal_kill', 'infinity'))
const Id = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.:-]{1,64}$/))

export const SupervisorFlags = Schema.Struct({
  strategy: Schema.optionalWith(Strategy, { default: () => 'one_for_one' as const }),
  intensity: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.nonNegative()), { default: () => DEFAULT_INTENSITY }),
  periodMs: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.positive()), { default: () => DEFAULT_PERIOD_MS }),
})
export type SupervisorFlags = typeof SupervisorFlags.Type
export type SupervisorFlagsInput = typeof SupervisorFlags.Encoded

const ActorData = Schema.Struct({
  kind: Schema.Literal('actor'),
  id: Id,
  role: Schema.optional(Id),
  placement: Schema.optionalWith(Schema.Literal('main', 'worker'), { default: () => 'main' as const }),
  mailbox: Schema.optionalWith(
    Schema.Struct({
      capacity: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.positive()), { default: () => DEFAULT_MAILBOX_CAPACITY }),
    }),
    { default: () => ({ capacity: DEFAULT_MAILBOX_CAPACITY }) },
  ),
  faults: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  restart: Schema.optionalWith(RestartType, { default: () => 'permanent' as const }),
  shutdown: Schema.optionalWith(ShutdownSchema, { default: () => DEFAULT_SHUTDOWN_MS }),
})
const SupervisorData = Schema.Struct({
  kind: Schema.Literal('supervisor'),
  id: Id,
  flags: Schema.optionalWith(SupervisorFlags, { default: () => SupervisorFlags.make({}) }),
  restart: Schema.optionalWith(RestartType, { default: () => 'permanent' as const }),
  shutdown: Schema.optionalWith(ShutdownSchema, { default: () => 'infinity' as const }),
})

export interface ActorSpecInput {
  readonly kind: 'actor'
  readonly id: string
  /** Role shown by introspection (brain, miner, …); default: the id. */
  readonly role?: string
  readonly behaviour: AnyBehaviour | BehaviourSource
  readonly placement?: 'main' | 'worker'
  readonly mailbox?: { readonly capacity?: number }
  readonly args?: Readonly<Record<string, unknown>>
  /** Honour Fault messages (tests, demos). Default false. */
  readonly faults?: boolean
  readonly restart?: RestartType
  readonly shutdown?: ShutdownPolicy
  /** Worker placement only: V8 heap limits of the thread. */
  readonly resourceLimits?: ResourceLimits
}
export interface SupervisorSpecInput {
  readonly kind: 'supervisor'
  readonly id: string
  readonly flags?: SupervisorFlagsInput
  readonly children: readonly ChildSpecInput[]
  readonly restart?: RestartType
  readonly shutdown?: ShutdownPolicy
}
export type ChildSpecInput = ActorSpecInput | SupervisorSpecInput

export interface ActorSpec {
  readonly kind: 'actor'
  readonly id: string
  readonly role: string
  readonly behaviour: AnyBehaviour | BehaviourSource
  readonly placement: 'main' | 'worker'
  readonly capacity: number
  readonly args: Readonly<Record<string, unknown>>
  readonly faults: boolean
  readonly restart: RestartType
  readonly shutdown: ShutdownPolicy
  readonly resourceLimits: ResourceLimits | undefined
}
export interface SupervisorSpec {
  readonly kind: 'supervisor'
  readonly id: string
  readonly flags: SupervisorFlags
  readonly children: readonly ChildSpec[]
  readonly restart: RestartType
  readonly shutdown: ShutdownPolicy
}
export type ChildSpec = ActorSpec | SupervisorSpec

function fail(field: string, error: ParseResult.ParseError): never {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  const sub = (issue?.path ?? []).map(String).join('.')
  throw new InvalidSpec({ field: sub ? `${field}.${sub}` : field, reason: issue?.message ?? 'invalid' })
}

function isSource(b: unknown): b is BehaviourSource {
  return typeof b === 'object' && b !== null && typeof (b as BehaviourSource).module === 'string'
}

/** Validates and fills in defaults; throws InvalidSpec naming the first bad field. */
export function validateSpec(input: ChildSpecInput, field = 'spec'): ChildSpec {
  if (typeof input !== 'object' || input === null) throw new InvalidSpec({ field, reason: 'expected a child spec object' })
  if (input.kind === 'supervisor') {
    const d = Schema.decodeUnknownEither(SupervisorData, { onExcessProperty: 'ignore' })(input)
    if (Either.isLeft(d)) fail(field, d.left)
    if (!Array.isArray(input.children)) throw new InvalidSpec({ field: `${field}.children`, reason: 'expected an array' })
    const seen = new Set<string>()
    const children = input.children.map((c, i) => {
      const spec = validateSpec(c, `${field}.children[${i}]`)
      if (seen.has(spec.id)) throw new InvalidSpec({ field: `${field}.children[${i}].id`, reason: `duplicate id '${spec.id}'` })
      seen.add(spec.id)
      return spec
    })
    return { ...d.right, children }
  }
  if (input.kind !== 'actor') throw new InvalidSpec({ field: `${field}.kind`, reason: "expected 'actor' or 'supervisor'" })
  const d = Schema.decodeUnknownEither(ActorData, { onExcessProperty: 'ignore' })(input)
  if (Either.isLeft(d)) fail(field, d.left)
  const b: unknown = input.behaviour
  const isBehaviourObject =
    typeof b === 'object' && b !== null && typeof (b as AnyBehaviour).handle === 'function' && typeof (b as AnyBehaviour).init === 'function'
  if (!isSource(b) && !isBehaviourObject) {
    throw new InvalidSpec({ field: `${field}.behaviour`, reason: 'expected a behaviour or { module, export }' })
  }
  if (d.right.placement === 'worker' && !isSource(b)) {
    throw new InvalidSpec({ field: `${field}.behaviour`, reason: "placement 'worker' needs a module source { module, export }" })
  }
  if (input.resourceLimits !== undefined && d.right.placement !== 'worker') {
    throw new InvalidSpec({ field: `${field}.resourceLimits`, reason: "only valid with placement 'worker'" })
  }
  return {
    kind: 'actor',
    id: d.right.id,
    role: d.right.role ?? d.right.id,
    behaviour: input.behaviour,
    placement: d.right.placement,
    capacity: d.right.mailbox.capacity,
    args: input.args ?? {},
    faults: d.right.faults,
    restart: d.right.restart,
    shutdown: d.right.shutdown,
    resourceLimits: input.resourceLimits,
  }
}
