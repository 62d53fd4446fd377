/**
 * Test behaviours that record their lifecycle in a shared log, so a test can check exactly which children a
 * supervisor stopped and restarted, and in what order.
 */
import { continueWith, stopWith, type Behaviour } from '../../actors/index.ts'

export type LogEntry = `init:${string}` | `terminate:${string}`

export function tracker(name: string, log: LogEntry[]): Behaviour<{ n: number }> {
  return {
    accepts: ['Ping', 'GetStatus', 'Echo'],
    init: () => {
      log.push(`init:${name}`)
      return { n: 0 }
    },
    handle(state, msg, ctx) {
      if (msg._tag === 'Echo' && msg.payload === 'stop-normal') return stopWith(state, { _tag: 'normal' })
      if (msg._tag === 'Echo' && msg.payload === 'throw') throw new Error(`boom in ${name}`)
      state.n++
      return continueWith(state, { _tag: 'Pong', from: ctx.address, at: state.n })
    },
    terminate: () => {
      log.push(`terminate:${name}`)
    },
  }
}

/** Waits until `pred` holds, polling every `everyMs`; fails the test after `ms`. */
export async function until(pred: () => boolean, ms = 5000, what = 'condition', everyMs = 5): Promise<void> {
  const start = Date.now()
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
