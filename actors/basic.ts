/**
 * The requests every actor of the cluster answers while its role's real behaviour is built in later issues:
 * Ping → Pong, Echo → EchoReply, GetStatus → StatusReply, and the diagnostic Probe / GetProbeReport pair that
 * tests and benchmarks use to check delivery (loss, duplication, per-sender order).
 */
import { continueWith, type Behaviour, type HandleResult } from '../supervisor/types.ts'
import type { Message } from '../protocol/index.ts'

interface ProbeStat {
  received: number
  lastSeq: number
  outOfOrder: number
  duplicates: number
}
export interface BasicState {
  readonly probes: Map<string, ProbeStat>
  handled: number
}

export const BASIC_TAGS = ['Ping', 'Echo', 'GetStatus', 'Probe', 'GetProbeReport'] as const

/** A behaviour for `role` answering the basic requests; `detail` adds role-specific status fields. */
export function basicBehaviour(
  role: string,
  detail: (ctx: { readonly args: Readonly<Record<string, unknown>> }) => Record<string, string | number | boolean> = () => ({}),
): Behaviour<BasicState> {
  return {
    accepts: BASIC_TAGS,
    init: () => ({ probes: new Map(), handled: 0 }),
    handle(state, msg: Message, ctx): HandleResult<BasicState> {
      state.handled++
      switch (msg._tag) {
        case 'Ping':
          return continueWith(state, { _tag: 'Pong', from: ctx.address, at: Date.now() })
        case 'Echo':
          return continueWith(state, { _tag: 'EchoReply', payload: msg.payload })
        case 'GetStatus':
          return continueWith(state, {
            _tag: 'StatusReply',
            actor: ctx.address,
            role,
            uptimeMs: ctx.uptimeMs(),
            detail: { placement: ctx.placement, handled: state.handled, ...detail(ctx) },
          })
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
          return continueWith(state)
        }
        case 'GetProbeReport':
          return continueWith(state, { _tag: 'ProbeReport', senders: Object.fromEntries(state.probes) })
        default:
          return continueWith(state)
      }
    },
  }
}

export default (): Behaviour<BasicState> => basicBehaviour('basic')
