/**
 * How `based` ends: logs flushed, then one line for a failure, then the exit code.
 *
 * - `openLog(file)` waits until pino's asynchronous destination has its file descriptor before returning, so an early
 *   `process.exit` can never meet a SonicBoom that is "not ready yet" (pino's exit hook then calls `flushSync` on a
 *   destination without an fd and throws after the real error). A file that cannot be opened is `DataDirUnusable`.
 * - `failAndExit(e)` flushes every open log synchronously, prints `based: <_tag> <fields as JSON>` (or
 *   `based: <message>` for an untyped error) on one line to stderr, the stack only when verbose, and exits 1.
 */
import { once } from 'node:events'
import path from 'node:path'
import { pino, type Logger } from 'pino'
import { DataDirUnusable } from './errors.ts'

interface Destination {
  flushSync(): void
  end(): void
}

const open = new Set<Destination>()

/** A pino logger writing (asynchronously) to `file`, returned once its file is open. */
export async function openLog(file: string, dataDir = path.dirname(file)): Promise<Logger> {
  const dest = pino.destination({ dest: file, sync: false, mkdir: false })
  try {
    if ((dest as unknown as { fd: number }).fd < 0)
    await Promise.race([
      once(dest, 'ready'),
      once(dest, 'error').then(([e]: unknown[]) => {
        throw e
      }),
    ])
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'UNKNOWN'
    throw new DataDirUnusable({ dataDir, path: file, op: 'open-log', code })
  }
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

/** One line for an error: `<_tag> <fields JSON>` for typed errors, `<name>: <message>` otherwise (newlines folded). */
export function describeError(e: unknown): string {
  if (e && typeof e === 'object' && '_tag' in e && typeof e._tag === 'string') {
    const fields = Object.fromEntries(
      Object.entries(e).filter(([k, v]) => k !== '_tag' && k !== 'stack' && !(k === 'message' && v === '') && k !== 'cause'),
    )
    return `${e._tag} ${JSON.stringify(fields, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`
  }
  const text = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e)
  return text.replace(/\s*\n\s*/g, ' ')
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
