/**
 * A role's definition in one place: its name, the module that holds its behaviour (so a worker thread can load it),
 * and its `Args` schema — the start arguments with their defaults. `create` builds a child spec (checking the
 * arguments at once, so a bad cluster configuration fails before anything starts) and `args` decodes what a spec
 * carries inside the behaviour's `init`. Errors name the field: `InvalidArgs { role, field, reason }`.
 *
 * @example
 * ```ts
 * export const Args = Schema.Struct({ challengeMs: Schema.optionalWith(Schema.Number, { default: () => 500 }) })
 * export const validatorRole = defineRole('validator', import.meta.url, Args)
 * // in init:   const args = validatorRole.args(ctx.args)           // { challengeMs: 500 } when none was given
 * // in a tree: validatorRole.create('validator-1', { challengeMs: 0 }, { placement: 'worker' })
 * ```
 *
 * A role that needs what cannot be serialized at start (the running system, callbacks) is a `LocalRoleDefinition`
 * (`defineLocalRole`): its serializable start arguments are still an `Args` schema, carried in the spec and decoded
 * in `init` as above, and the rest is a typed options object given to `create`, which builds the behaviour with the
 * role's factory and places it on the main thread (a function cannot cross into a worker thread). See actors/net.ts
 * and actors/control/index.ts.
 */
import { Either, ParseResult, Schema } from 'effect'
import { InvalidArgs } from './errors.ts'
import type { ActorSpecInput } from './spec.ts'
import { erase, type Behaviour } from './types.ts'
import type { Message } from '../protocol/index.ts'

/** Spec options a role's `create` passes through (everything but what the role fixes). */
export type RoleSpecOptions = Omit<ActorSpecInput, 'kind' | 'id' | 'behaviour' | 'args' | 'role'>

export interface RoleDefinition<A, I> {
  /** Role name shown by introspection. */
  readonly role: string
  /** File URL of the behaviour module (its default export). */
  readonly module: string
  /** Start arguments: the decoded type `A` has every default filled in; `I` is what a spec carries. */
  readonly Args: Schema.Schema<A, I>
  /** Decodes a spec's arguments (defaults filled in). Throws InvalidArgs naming the field. */
  args(raw: unknown): A
  /** A child spec running this role. Throws InvalidArgs before anything starts when `args` is wrong. */
  create(id: string, args?: I, opts?: RoleSpecOptions): ActorSpecInput
}

function invalid(role: string, error: ParseResult.ParseError): InvalidArgs {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  const field = (issue?.path ?? []).map(String).join('.')
  return new InvalidArgs({ role, field: field || '(args)', reason: issue?.message ?? 'invalid' })
}

/** The decoder of a role's arguments: defaults filled in, unknown fields refused, errors naming the field. */
function argsDecoder<A, I>(role: string, Args: Schema.Schema<A, I>): (raw: unknown) => A {
  const decode = Schema.decodeUnknownEither(Args, { onExcessProperty: 'error' })
  return (raw: unknown): A => {
    const d = decode(raw ?? {})
    if (Either.isLeft(d)) throw invalid(role, d.left)
    return d.right
  }
}

export function defineRole<A, I>(role: string, module: string, Args: Schema.Schema<A, I>): RoleDefinition<A, I> {
  const args = argsDecoder(role, Args)
  return {
    role,
    module,
    Args,
    args,
    create(id, input, opts = {}) {
      args(input ?? {})
      return { ...opts, kind: 'actor', id, role, behaviour: { module }, args: (input ?? {}) as Readonly<Record<string, unknown>> }
    },
  }
}

/** Spec options of a main-thread role (its behaviour is a function: it cannot be placed in a worker thread). */
export type LocalRoleSpecOptions = Omit<RoleSpecOptions, 'placement' | 'resourceLimits'>

export interface LocalRoleDefinition<A, I, O> {
  readonly role: string
  readonly Args: Schema.Schema<A, I>
  /** Decodes a spec's arguments (defaults filled in). Throws InvalidArgs naming the field. */
  args(raw: unknown): A
  /** A main-thread child spec: the behaviour built from `options`, the serializable `args` carried in the spec. */
  create(id: string, args: I | undefined, options: O, opts?: LocalRoleSpecOptions): ActorSpecInput
}

/**
 * A role whose behaviour needs non-serializable start options `O` besides its `Args`: `factory(options)` builds the
 * behaviour, whose `init` decodes `ctx.args` with the returned definition's `args`.
 */
export function defineLocalRole<A, I, O, S, M extends Message>(
  role: string,
  Args: Schema.Schema<A, I>,
  factory: (options: O) => Behaviour<S, M>,
): LocalRoleDefinition<A, I, O> {
  const args = argsDecoder(role, Args)
  return {
    role,
    Args,
    args,
    create(id, input, options, opts = {}) {
      args(input ?? {})
      return { ...opts, kind: 'actor', id, role, placement: 'main', behaviour: erase(factory(options)), args: (input ?? {}) as Readonly<Record<string, unknown>> }
    },
  }
}
