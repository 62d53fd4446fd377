/**
 * A validator's last signed (height, round, step), kept on disk so that it never signs two different messages for
 * one step — not even across a crash or a power loss (CometBFT's private-validator state plays this part).
 *
 * `authorize()` must be called, and must return, before a proposal or vote leaves the node: it writes the new
 * state to a temporary file, fsyncs it, renames it over the old one and fsyncs the directory. Re-signing the very
 * same message (a retransmission after a restart) is allowed; anything else at or below the last signed step is
 * refused with a typed `DoubleSignRefused`. The ledger's blocks may be flushed lazily; this file may not.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Data } from 'effect'

export type SignStep = 'propose' | 'prevote' | 'precommit'

const STEP_ORDER: Record<SignStep, number> = { propose: 0, prevote: 1, precommit: 2 }

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

function parse(file: string, text: string): SignRecord {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    throw new CorruptSignState({ file, reason: `not JSON: ${(e as Error).message}` })
  }
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

  private constructor(file: string, last: SignRecord | undefined) {
    this.file = file
    this.last = last
  }

  /** Opens (or starts) the state kept in `file`. A corrupt file is an error, never silently reset. */
  static open(file: string): SignState {
    let last: SignRecord | undefined
    try {
      last = parse(file, fs.readFileSync(file, 'utf8'))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    return new SignState(file, last)
  }

  lastSigned(): SignRecord | undefined {
    return this.last
  }

  /** Durably records `next` if signing it cannot conflict with anything signed before; throws otherwise. */
  authorize(next: SignRecord): void {
    const last = this.last
    if (last) {
      const c = compare(next, last)
      if (c < 0) throw new DoubleSignRefused({ last, attempted: next })
      if (c === 0) {
        if (last.value === next.value) return
        throw new DoubleSignRefused({ last, attempted: next })
      }
    }
    const tmp = `${this.file}.tmp`
    const fd = fs.openSync(tmp, 'w', 0o600)
    try {
      fs.writeSync(fd, JSON.stringify(next))
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
  }
}
