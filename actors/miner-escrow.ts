/**
 * The miner's side of spending accounts (whitepaper §3.5.1, ledger/escrow.ts): before any work on an
 * EncryptedLinear that belongs to a client session, the session's tab and its payer's account are read from the
 * ledger, and the request is refused with a typed `MinerRejection` when they cannot pay for it:
 *
 * - `EscrowRequired`: the session has no tab (nobody authorized paying for it) and the miner's Brain charges for
 *   queries, or the tab is for a Brain this miner is not registered on (it could not be paid);
 * - `EscrowClosing`: the payer announced a withdrawal (the miner would have only the delay left to settle);
 * - `EscrowInsufficient`: the request's worst case — its exact compute units, known from the packing plan before
 *   any work — plus what this miner has served on the session and not yet seen settled, exceeds the tab's allowance,
 *   or its price exceeds the account's balance;
 * - `EscrowUnavailable`: the ledger did not answer (a paying session is never served blind).
 *
 * Requests without a session (validators' challenges) and sessions on a free Brain pass unchanged. The check needs
 * the ledger actor, found by address with `ctx.lookup` in either placement (a worker-thread miner reaches it through
 * its WorkerCell); a miner in a tree without a ledger actor (not on a chain: tests, a bare miner) serves unchecked
 * and counts it in its status as `escrowUnchecked`.
 *
 * `withEscrowGate(core, keyOf)` wraps the miner behaviour (actors/miner.ts); the rest of the miner is unchanged.
 */
import { failWith, type ActorContext, type ActorRef, type Behaviour, type HandleResult } from '../supervisor/runtime.ts'
import { LedgerRejection, MinerRejection, UnknownActor, type EncryptedLinear, type Message, type SessionTab } from '../protocol/index.ts'
import { sessionHash, settlementAmount } from '../ledger/escrow.ts'
import { toHex } from '../ledger/index.ts'

/** Where the cluster's ledger actor lives (cli/cluster.ts). */
export const LEDGER_ACTOR = '/root/ledger/writer'
/** Sessions whose served units are remembered (oldest forgotten first). */
const MAX_SESSIONS = 10_000

/** Compute units an EncryptedLinear costs, from its packing plan alone (fhe/linear.ts: one product per block). */
export function planUnits(plan: (typeof EncryptedLinear.Type)['plan']): number | undefined {
  const { dIn, dOut, tokens, ni, mt, no } = plan
  if (ni < 1 || mt < 1 || no < 1) return undefined
  return Math.ceil(dIn / ni) * Math.ceil(dOut / no) * Math.ceil(tokens / mt)
}

type Reason = MinerRejection['reason']
interface Refusal {
  readonly reason: Reason
  readonly message: string
  readonly detail: Record<string, string | number>
}

/** The gate's memory: units served per session, the miner's Brains, counters for status. */
export class EscrowGate {
  checked = 0
  refused = 0
  unchecked = 0
  private readonly served = new Map<string, bigint>()
  private readonly brainPrice = new Map<number, bigint>()
  /** Brains this miner was seen registered on, until when (ms): the registration is read once a minute, not per product. */
  private readonly registeredUntil = new Map<number, number>()

  /** Why `msg` (a session's request of `units` units) must not be served, or undefined when it is paid for. */
  async check(ledger: ActorRef, msg: typeof EncryptedLinear.Type, units: number, minerKey: string): Promise<Refusal | undefined> {
    const session = msg.session as string
    this.checked++
    let tab: typeof SessionTab.Type
    try {
      tab = await ledger.ask({ _tag: 'GetSessionTab', sessionHash: sessionHash(session) }, { timeoutMs: 5000 })
    } catch (e) {
      // No ledger actor in this tree at all (a worker-thread miner's lookup is lazy): not on a chain, as when a
      // main-thread miner's lookup finds none — served unchecked and counted.
      if (e instanceof UnknownActor && e.address === LEDGER_ACTOR) {
        this.checked--
        this.unchecked++
        return undefined
      }
      if (!(e instanceof LedgerRejection && e.reason === 'UnknownEscrow')) return this.refuse('EscrowUnavailable', 'the ledger did not answer', { cause: String((e as { _tag?: string })._tag ?? e) })
      // No tab: free only when the Brain this miner serves charges nothing.
      const price = await this.priceOfOwnBrain(ledger, minerKey)
      if (price === undefined || price === 0n) return undefined
      return this.refuse('EscrowRequired', 'this Brain charges for queries and no spending account pays for this session (based escrow open; based generate --pay)', { price: String(price) })
    }
    if ((this.registeredUntil.get(tab.brain) ?? 0) < Date.now()) {
      try {
        const p = await ledger.ask({ _tag: 'GetParticipant', brain: tab.brain, computeKey: minerKey }, { timeoutMs: 5000 })
        if (p.role !== 'miner') throw new Error('not a miner')
        this.registeredUntil.set(tab.brain, Date.now() + 60_000)
      } catch {
        this.registeredUntil.delete(tab.brain)
        return this.refuse('EscrowRequired', `the session is paid on Brain #${tab.brain}, where this miner is not registered`, { brain: tab.brain })
      }
    }
    if (tab.unlockAt !== 0) return this.refuse('EscrowClosing', `the payer's spending account is closing (withdrawable at block ${tab.unlockAt})`, { unlockAt: tab.unlockAt })
    const settled = BigInt(tab.settledUnits)
    const served = this.served.get(session) ?? 0n
    const unsettled = served > settled ? served - settled : 0n
    const want = unsettled + BigInt(units)
    if (settled + want > BigInt(tab.maxUnits)) {
      return this.refuse('EscrowInsufficient', `the session's allowance is ${tab.maxUnits} units; ${settled} settled, ${unsettled} served unsettled, this request needs ${units}`, {
        asset: 'units', needed: String(settled + want), available: tab.maxUnits,
      })
    }
    const cost = settlementAmount(settled, want, BigInt(tab.price))
    if (cost > BigInt(tab.balance)) {
      return this.refuse('EscrowInsufficient', `the spending account holds ${tab.balance} base units; this request and the unsettled work cost ${cost}`, {
        asset: 'based', needed: String(cost), available: tab.balance,
      })
    }
    this.served.delete(session)
    this.served.set(session, served + BigInt(units))
    if (this.served.size > MAX_SESSIONS) this.served.delete(this.served.keys().next().value as string)
    return undefined
  }

  private refuse(reason: Reason, message: string, detail: Record<string, string | number>): Refusal {
    this.refused++
    return { reason, message, detail }
  }

  /** The query price of the Brain this miner is registered on (first found), cached; undefined when unregistered. */
  private async priceOfOwnBrain(ledger: ActorRef, minerKey: string): Promise<bigint | undefined> {
    for (const [, price] of this.brainPrice) return price
    for (const brain of (await ledger.ask({ _tag: 'GetBrains' })).ids) {
      try {
        const p = await ledger.ask({ _tag: 'GetParticipant', brain, computeKey: minerKey })
        if (p.role !== 'miner') continue
      } catch {
        continue
      }
      const price = BigInt((await ledger.ask({ _tag: 'GetMetagraph', brain })).brain.queryPrice)
      // A price can change: keep it for one minute.
      this.brainPrice.set(brain, price)
      setTimeout(() => this.brainPrice.delete(brain), 60_000).unref()
      return price
    }
    return undefined
  }
}

/**
 * The miner behaviour with the spending-account check in front of EncryptedLinear (see the module doc). `keyOf`
 * gives the miner's compute key from its state (the key that signs receipts and is registered on the ledger).
 */
export function withEscrowGate<S>(core: Behaviour<S>, keyOf: (state: S) => Uint8Array): Behaviour<S> {
  const gate = new EscrowGate()
  const counts = (): Record<string, number> => ({ escrowChecked: gate.checked, escrowRefused: gate.refused, escrowUnchecked: gate.unchecked })
  const coreStatus = core.status
  return {
    ...core,
    ...(coreStatus ? { status: (s: S, ctx: ActorContext) => ({ ...coreStatus(s, ctx), ...counts() }) } : {}),
    handle(state: S, msg: Message, ctx: ActorContext): HandleResult<S> | Promise<HandleResult<S>> {
      if (msg._tag !== 'EncryptedLinear' || msg.session === undefined) return core.handle(state, msg, ctx)
      const units = planUnits(msg.plan)
      if (units === undefined) return core.handle(state, msg, ctx) // a bad plan: the miner refuses it
      const ledger = ctx.lookup?.(LEDGER_ACTOR)
      if (!ledger) {
        gate.unchecked++
        return core.handle(state, msg, ctx)
      }
      return gate.check(ledger, msg, units, toHex(keyOf(state))).then((r) =>
        r ? failWith(state, new MinerRejection({ actor: ctx.address, reason: r.reason, message: r.message, detail: r.detail })) : core.handle(state, msg, ctx),
      )
    },
  }
}
