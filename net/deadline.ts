/**
 * Deadlines carried in a request (an EncryptedLinear's `deadline`, Unix ms), honoured on both sides of a peer link.
 *
 * - Client side, `askByDeadline(ref, msg, deadline)`: the ask waits until the deadline and no longer; past it the
 *   caller gets a typed `AskTimeout` (whatever the transport did with the aborted stream), never a hang. Works for a
 *   `RemoteRef` over libp2p and for a local ActorRef alike.
 * - Server side, `withRequestDeadlines(lookup)`: wraps the refs a node serves to peers (the lookup given to
 *   `serveGuarded`) so that a request carrying a deadline is waited for until that deadline — not the protocol's
 *   default 5 s ask timeout, which an encrypted product whose weights are prepared on first use can exceed — capped
 *   at `MAX_SERVED_WAIT_MS`. A request already past its deadline is still handed to the actor, with `EXPIRED_GRACE_MS`
 *   to answer: the miner refuses it with `MinerRejection` 'DeadlineExceeded' without doing the work.
 *
 * @example
 * ```ts
 * serveGuarded(transport, withRequestDeadlines((a) => system.lookup(a)), guard)
 * // on the client:
 * const miner = new RemoteRef(client, peer, '/root/miners/miner-1')
 * const reply = await askByDeadline(miner, { ...request, deadline: Date.now() + 120_000 })
 * ```
 */
import { AskTimeout, DEFAULT_ASK_TIMEOUT_MS, type Message, type ReplyFor } from '../protocol/index.ts'
import type { ActorRef, AskOptions } from '../supervisor/runtime.ts'

/** The longest a served request is waited for, whatever deadline it names (10 min). */
export const MAX_SERVED_WAIT_MS = 600_000
/** How long an actor gets to refuse a request that arrives past its deadline. */
export const EXPIRED_GRACE_MS = 1000

/** The deadline a message carries (Unix ms), if any. */
export function deadlineOf(msg: Message): number | undefined {
  const d = (msg as { readonly deadline?: unknown }).deadline
  return typeof d === 'number' && Number.isFinite(d) ? d : undefined
}

/**
 * Asks `ref` and waits until `deadline` (Unix ms; default: the message's own `deadline`, else the protocol's ask
 * timeout from now). Past the deadline: `AskTimeout { actor, messageTag, timeoutMs }`.
 */
export async function askByDeadline<Q extends Message>(ref: ActorRef, msg: Q, deadline?: number): Promise<ReplyFor<Q>> {
  const start = Date.now()
  const until = deadline ?? deadlineOf(msg) ?? start + DEFAULT_ASK_TIMEOUT_MS
  const timeoutMs = Math.max(0, until - start)
  const timedOut = (): AskTimeout => new AskTimeout({ actor: ref.address, messageTag: msg._tag, timeoutMs })
  if (timeoutMs === 0) throw timedOut()
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  try {
    // the transport's own timeout a little later than ours, so that the deadline is what ends the wait
    return await ref.ask(msg, { timeoutMs: timeoutMs + 1000, signal: controller.signal })
  } catch (e) {
    if (controller.signal.aborted || Date.now() >= until) throw timedOut()
    throw e
  } finally {
    clearTimeout(timer)
  }
}

/** How long a node serving `msg` to a peer waits for its actor. */
export function servedWaitMs(msg: Message, now: number = Date.now()): number | undefined {
  const d = deadlineOf(msg)
  if (d === undefined) return undefined
  return Math.min(MAX_SERVED_WAIT_MS, Math.max(EXPIRED_GRACE_MS, d - now))
}

/** `ref` with each ask of a message carrying a deadline waited for until that deadline (see the module comment). */
export function deadlineRef(ref: ActorRef): ActorRef {
  return {
    address: ref.address,
    tell: (msg) => ref.tell(msg),
    send: (msg, opts) => ref.send(msg, opts),
    // the frame path (not used by serveGuarded, which hands the decoded frame to `ask`) is passed through as it is
    askBytes: (frame, opts) => ref.askBytes(frame, opts),
    ask: <Q extends Message>(msg: Q, opts?: AskOptions): Promise<ReplyFor<Q>> => {
      const wait = servedWaitMs(msg)
      return ref.ask(msg, wait === undefined ? opts : { ...opts, timeoutMs: wait })
    },
  }
}

/** A lookup for `serveGuarded` whose refs honour request deadlines (`deadlineRef`). */
export function withRequestDeadlines(lookup: (address: string) => ActorRef | undefined): (address: string) => ActorRef | undefined {
  return (address) => {
    const ref = lookup(address)
    return ref === undefined ? undefined : deadlineRef(ref)
  }
}
