/**
 * A validator's last signed (height, round, step), kept on disk so that it never signs two different messages for
 * one step — not even across a crash or a power loss (CometBFT's private-validator state plays this part).
 *
 * `authorize()` must be called, and must return, before a proposal or vote leaves the node: it writes the new
 * state to a temporary file, fsyncs it, renames it over the old one and fsyncs the directory. Re-signing the very
 * same message (a retransmission after a restart) is allowed; anything else at or below the last signed step is
 * refused with a typed `DoubleSignRefused`. The ledger's blocks may be flushed lazily; this file may not.
 *
 * The file also keeps every message signed at the last height (`history`, at most {@link MAX_HISTORY}), so that a
 * node killed right after signing can sign the very same prevote or precommit again after its restart even when it
 * had already signed a later step: without it, a vote signed but never sent before the crash could not be sent at
 * all, and with exactly 2/3 + 1 of the stake up the round could not complete (the restarted node waits for
 * prevotes that wait for its own). Re-signing an identical message is safe (ed25519 signatures are deterministic:
 * it is the same signature); any other message at or below the last step is still refused.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Data } from 'effect'

export type SignStep = 'propose' | 'prevote' | 'precommit'

const STEP_ORDER: Record<SignStep, number> = { propose: 0, prevote: 1, precommit: 2 }
/** Messages of the last height remembered for exact re-signing. */
export const MAX_HISTORY = 192

export interface SignRecord {
  readonly height: number
  readonly round: number
  readonly step: SignStep
  /** The signed value (block id, or null for nil). */
  readonly value: string | null
}

export class DoubleSignRefused extends Data.TaggedError('DoubleSignRefused')<{
  readonly last: SignRecord
  readonly attempted: SignRecord
}> {}

export class CorruptSignState extends Data.TaggedError('CorruptSignState')<{ readonly file: string; readonly reason: string }> {}

function compare(a: SignRecord, b: SignRecord): number {
  return a.height - b.height || a.round - b.round || STEP_ORDER[a.step] - STEP_ORDER[b.step]
}

const same = (a: SignRecord, b: SignRecord): boolean => compare(a, b) === 0 && a.value === b.value

function parse(file: string, text: string): { last: SignRecord; history: SignRecord[] } {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    throw new CorruptSignState({ file, reason: `not JSON: ${(e as Error).message}` })
  }
  const last = record(file, raw)
  const h = (raw as { history?: unknown }).history
  if (h !== undefined && !Array.isArray(h)) throw new CorruptSignState({ file, reason: 'history is not a list' })
  const history = (h ?? []).map((x: unknown) => record(file, x))
  if (history.some((x) => x.height !== last.height || compare(x, last) > 0)) throw new CorruptSignState({ file, reason: 'history beyond the last signed step' })
  return { last, history }
}

function record(file: string, raw: unknown): SignRecord {
  const r = raw as Partial<SignRecord>
  if (
    typeof r !== 'object' ||
    r === null ||
    !Number.isSafeInteger(r.height) ||
    !Number.isSafeInteger(r.round) ||
    (r.step !== 'propose' && r.step !== 'prevote' && r.step !== 'precommit') ||
    !(r.value === null || typeof r.value === 'string')
  ) {
    throw new CorruptSignState({ file, reason: 'missing or mistyped field' })
  }
  return { height: r.height!, round: r.round!, step: r.step, value: r.value }
}

export class SignState {
  readonly file: string
  private last: SignRecord | undefined
  /** Everything signed at the last height (see module doc). */
  private history: SignRecord[]

  private constructor(file: string, last: SignRecord | undefined, history: SignRecord[]) {
    this.file = file
    this.last = last
    this.history = history
  }

  /** Opens (or starts) the state kept in `file`. A corrupt file is an error, never silently reset. */
  static open(file: string): SignState {
    let state: { last: SignRecord; history: SignRecord[] } | undefined
    try {
      state = parse(file, fs.readFileSync(file, 'utf8'))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    return new SignState(file, state?.last, state?.history ?? [])
  }

  lastSigned(): SignRecord | undefined {
    return this.last
  }

  /** Durably records `next` if signing it cannot conflict with anything signed before; throws otherwise. */
  authorize(next: SignRecord): void {
    const last = this.last
    if (last) {
      if (same(next, last) || this.history.some((r) => same(r, next))) return
      if (compare(next, last) <= 0) throw new DoubleSignRefused({ last, attempted: next })
    }
    const history = [...this.history.filter((r) => r.height === next.height), next].slice(-MAX_HISTORY)
    const tmp = `${this.file}.tmp`
    const fd = fs.openSync(tmp, 'w', 0o600)
    try {
      fs.writeSync(fd, JSON.stringify({ ...next, history }))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, this.file)
    const dir = fs.openSync(path.dirname(this.file), 'r')
    try {
      fs.fsyncSync(dir)
    } finally {
      fs.closeSync(dir)
    }
    this.last = next
    this.history = history
  }
}
