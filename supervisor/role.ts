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
 */
import { Either, ParseResult, Schema } from 'effect'
import { InvalidArgs } from './errors.ts'
import type { ActorSpecInput } from './spec.ts'

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

export function defineRole<A, I>(role: string, module: string, Args: Schema.Schema<A, I>): RoleDefinition<A, I> {
  const decode = Schema.decodeUnknownEither(Args, { onExcessProperty: 'error' })
  const args = (raw: unknown): A => {
    const d = decode(raw ?? {})
    if (Either.isLeft(d)) throw invalid(role, d.left)
    return d.right
  }
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
