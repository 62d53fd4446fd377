/**
 * The requests every actor of the cluster answers besides its role's own: Ping → Pong, Echo → EchoReply, and the
 * diagnostic Probe / GetProbeReport pair that tests and benchmarks use to check delivery (loss, duplication,
 * per-sender order). GetStatus is not here: the runtime answers it for every actor (supervisor/runner.ts), with the
 * role's `status(state)` fields added.
 *
 * A role composes it: `accepts: [...BASIC_TAGS, …its own]`, a `basic: basicState()` field in its state, and its
 * `handle` answers the basic tags with `answerBasic` (see actors/brain.ts).
 */
import { continueWith, type ActorContext, type Behaviour, type HandleResult } from '../supervisor/types.ts'
import type { Message, Reply } from '../protocol/index.ts'

interface ProbeStat {
  received: number
  lastSeq: number
  outOfOrder: number
  duplicates: number
}
export interface BasicState {
  readonly probes: Map<string, ProbeStat>
}

export const BASIC_TAGS = ['Ping', 'Echo', 'Probe', 'GetProbeReport'] as const
export type BasicTag = (typeof BASIC_TAGS)[number]

/**
 * The answer to one basic request (undefined: Ack). A role's `handle` ends with
 * `default: return continueWith(state, answerBasic(state.basic, msg, ctx))`.
 */
export function answerBasic(state: BasicState, msg: Message, ctx: ActorContext): Reply | undefined {
  switch (msg._tag) {
    case 'Ping':
      return { _tag: 'Pong', from: ctx.address, at: Date.now() }
    case 'Echo':
      return { _tag: 'EchoReply', payload: msg.payload }
    case 'Probe': {
      let s = state.probes.get(msg.sender)
      if (!s) {
        s = { received: 0, lastSeq: -1, outOfOrder: 0, duplicates: 0 }
        state.probes.set(msg.sender, s)
      }
      if (msg.seq === s.lastSeq) s.duplicates++
      else if (msg.seq !== s.lastSeq + 1) s.outOfOrder++
      s.received++
      s.lastSeq = msg.seq
      return undefined
    }
    case 'GetProbeReport':
      return { _tag: 'ProbeReport', senders: Object.fromEntries(state.probes) }
    default:
      return undefined
  }
}

/** The fresh state of the basic requests. */
export function basicState(): BasicState {
  return { probes: new Map() }
}

/** A behaviour answering the basic requests only. */
export function basicBehaviour(): Behaviour<BasicState> {
  return {
    accepts: BASIC_TAGS,
    init: basicState,
    handle: (state, msg: Message, ctx): HandleResult<BasicState> => continueWith(state, answerBasic(state, msg, ctx)),
  }
}

export default basicBehaviour
