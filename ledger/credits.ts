/**
 * Credits on the chain (§3.4.3, consensus/credits.ts): each Brain's accumulated Credits per participant, stored
 * under `k:<id>` as (uid, compute key, Credits in Q40) and kept only while Credits are on (`creditMaxBoostPpm` > 0).
 * An entry counts only for the participant that earned it: a uid taken over by another compute key starts at 0.
 */
import { DecodeError, Reader, Writer, fromHex, toHex } from './codec.ts'
import { CorruptState } from './errors.ts'
import type { State } from './state.ts'

export const CreditKeys = {
  brain: (id: number) => `k:${id}`,
} as const

/** One participant's Credits. */
export interface CreditEntry {
  readonly uid: number
  /** The participant's compute key (hex). */
  readonly computeKey: string
  /** Credits in Q40 (2^40 = one Credit). */
  readonly credits: bigint
}

export function encodeCredits(entries: readonly CreditEntry[]): Uint8Array {
  const w = new Writer(8 + entries.length * 48).uint(entries.length)
  for (const e of entries) w.uint(e.uid).fixed(fromHex(e.computeKey), 32).big(e.credits)
  return w.finish()
}

export function decodeCredits(key: string, b: Uint8Array): CreditEntry[] {
  try {
    const r = new Reader(b)
    const n = r.uint('n')
    const out: CreditEntry[] = []
    for (let k = 0; k < n; k++) out.push({ uid: r.uint('uid'), computeKey: toHex(r.fixed(32, 'computeKey')), credits: r.big('credits') })
    r.end()
    return out
  } catch (e) {
    if (e instanceof DecodeError) throw new CorruptState({ key, reason: `${e.field}: ${e.reason}` })
    throw e
  }
}

/** The Brain's stored Credits (empty before any, or while Credits are off). */
export function brainCredits(st: State, brain: number): CreditEntry[] {
  const key = CreditKeys.brain(brain)
  const b = st.kv.get(key)
  return b ? decodeCredits(key, b) : []
}

/** Stores the Brain's Credits (entries with 0 Credits are left out; none at all deletes the key). */
export function setBrainCredits(st: State, brain: number, entries: readonly CreditEntry[]): void {
  const kept = entries.filter((e) => e.credits > 0n).sort((x, y) => x.uid - y.uid)
  if (kept.length === 0) st.kv.del(CreditKeys.brain(brain))
  else st.kv.put(CreditKeys.brain(brain), encodeCredits(kept))
}
