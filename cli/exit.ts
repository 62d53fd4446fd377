/**
 * How `based` ends: logs flushed, then one line for a failure, then the exit code.
 *
 * - `openLog(file)` opens the file itself and gives pino the descriptor, so an early `process.exit` can never meet a
 *   SonicBoom that is "not ready yet" (pino's exit hook calls `flushSync`, which throws on a destination still
 *   opening its file — the stack trace that used to follow every failed start). A file that cannot be opened is
 *   `DataDirUnusable`.
 * - `failAndExit(e)` flushes every open log synchronously, prints the error on one line to stderr
 *   (`describeError`), the stack only when verbose, and exits 1.
 *
 * `describeError` is the one renderer of errors for the CLI: a rejection of any family (protocol/rejections.ts) is
 * `<Family> <reason> <detail JSON>`, e.g. `LedgerRejection InsufficientFunds {"have":"5","need":"10"}`, followed by
 * ` — <message>` when the message says more than the reason; any other typed error is `<_tag> <fields as JSON>`;
 * an untyped one `<name>: <message>`.
 */
import fs from 'node:fs'
import path from 'node:path'
import { pino, type Logger } from 'pino'
import { DataDirUnusable, errno } from './errors.ts'
import { isRejection } from '../protocol/index.ts'

interface Destination {
  flushSync(): void
  end(): void
}

const open = new Set<Destination>()

/**
 * A pino logger writing (asynchronously) to `file`. The file is opened here, synchronously, and its descriptor handed
 * to pino: the destination is ready from the start, so pino's exit hook (`flushSync`) can run on any exit path, and a
 * file that cannot be opened is a `DataDirUnusable` here rather than a stream error (or "not ready yet") later.
 */
export function openLog(file: string, dataDir = path.dirname(file)): Logger {
  let fd: number
  try {
    fd = fs.openSync(file, 'a')
  } catch (e) {
    throw new DataDirUnusable({ dataDir, path: file, op: 'open-log', code: errno(e) })
  }
  const dest = pino.destination({ dest: fd, sync: false })
  open.add(dest)
  return pino({ base: { pid: process.pid } }, dest)
}

/** Writes out every open log now (safe on exit paths: every destination here is ready). */
export function flushLogs(): void {
  for (const d of open) {
    try {
      d.flushSync()
    } catch {
      // a log we cannot flush must not hide the error being reported
    }
  }
}

const json = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ')

/**
 * One line for an error: `<Family> <reason> <detail JSON>[ — <message>]` for a rejection, `<_tag> <fields JSON>` for
 * other typed errors, `<name>: <message>` otherwise (newlines folded).
 */
export function describeError(e: unknown): string {
  if (isRejection(e)) {
    const more = e.message !== '' && e.message !== e.reason ? ` — ${oneLine(e.message)}` : ''
    return `${e._tag} ${e.reason} ${json(e.detail)}${more}`
  }
  if (e && typeof e === 'object' && '_tag' in e && typeof e._tag === 'string') {
    const fields = Object.fromEntries(
      Object.entries(e).filter(([k, v]) => k !== '_tag' && k !== 'stack' && !(k === 'message' && v === '') && k !== 'cause'),
    )
    return `${e._tag} ${json(fields)}`
  }
  return oneLine(e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e))
}

/** True when `--verbose` is on the command line (before or after the subcommand). */
export function verboseRequested(argv: readonly string[] = process.argv): boolean {
  return argv.includes('--verbose')
}

/** Flush logs, print the error on one line (stack with --verbose), exit non-zero. */
export function failAndExit(e: unknown, code = 1): never {
  flushLogs()
  process.stderr.write(`based: ${describeError(e)}\n`)
  if (verboseRequested() && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`)
  process.exit(code)
}
