/**
 * Formatting for `based inspect mailboxes`: the live actor table of a running cluster, and its `--watch` view — a
 * full-screen terminal view that redraws in place (alternate screen buffer, cursor home, each line cleared to its
 * end; the screen and the cursor are restored on Ctrl-C, SIGTERM or any exit).
 */
import type { ActorStats } from '../actors/index.ts'
import type { RemoteMarker } from '../actors/control/index.ts'
import { ControlUnreachable } from './errors.ts'

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}

/** `restarted by /root/miners`, `stopped by …`; '-' when the actor never exited. */
function decisionOf(r: ActorStats): string {
  if (!r.decision) return '-'
  return r.decidedBy ? `${r.decision} by ${r.decidedBy}` : r.decision
}

/**
 * The mailbox table. A miner served by another node (its proxy's row carries `remote`, actors/control) shows PLACE
 * `remote` and, after its recent messages, `[remote: <peer id> <multiaddr> <actor> uid N, connected|down]`.
 */
export function renderMailboxes(rows: ReadonlyArray<ActorStats & { readonly remote?: RemoteMarker }>, now = Date.now()): string {
  const header = ['ADDRESS', 'ROLE', 'PLACE', 'STATE', 'MAILBOX', 'PROCESSED', 'ERRORS', 'RESTARTS', 'DECISION', 'RECENT (newest last)']
  const body = rows.map((r) => [
    r.address,
    r.role,
    r.remote ? 'remote' : r.placement,
    r.state,
    `${r.mailboxDepth}/${r.mailboxCapacity}`,
    String(r.processed),
    String(r.errors),
    String(r.restarts),
    decisionOf(r),
    r.recent
      .slice(-4)
      .map((m) => `${m.tag} ${Math.max(0, Math.round((now - m.at) / 1000))}s`)
      .join(', ') + (r.lastExit ? `  [last exit: ${r.lastExit}]` : '') +
      (r.remote ? `  [remote: ${r.remote.peerId} ${r.remote.multiaddr} ${r.remote.actor} uid ${r.remote.uid}, ${r.remote.connected ? 'connected' : 'down'}]` : ''),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] ?? 0))).join('  ')
  return [line(header), ...body.map(line)].join('\n')
}

/** Terminal control sequences of the watch view. */
export const TERM = {
  enterAlt: '\x1b[?1049h',
  leaveAlt: '\x1b[?1049l',
  hideCursor: '\x1b[?25l',
  showCursor: '\x1b[?25h',
  home: '\x1b[H',
  clearLine: '\x1b[K',
  clearBelow: '\x1b[J',
} as const

/**
 * One frame of the watch view: a status line, then the table, cut to the terminal's size (`columns` × `rows`); each
 * line ends with "clear to end of line" so a shorter line leaves nothing of the previous frame behind.
 */
export function renderWatchFrame(table: string, status: string, columns: number, rows: number): string {
  const cut = (s: string): string => (s.length > columns ? s.slice(0, Math.max(0, columns - 1)) + '…' : s)
  const lines = [status, '', ...table.split('\n')]
  const shown = lines.length > rows ? [...lines.slice(0, Math.max(1, rows - 1)), `… ${lines.length - rows + 1} more rows (enlarge the terminal)`] : lines
  return TERM.home + shown.map((l) => cut(l) + TERM.clearLine).join('\n') + TERM.clearBelow
}

export interface WatchOptions {
  readonly url: string
  readonly everyMs: number
  readonly fetchRows: () => Promise<readonly ActorStats[]>
  readonly out?: NodeJS.WriteStream
  /** Stops the loop (tests); Ctrl-C and SIGTERM stop it too. */
  readonly signal?: AbortSignal
}

/**
 * Runs the full-screen watch view until Ctrl-C / SIGTERM / `signal`. A node that stops answering is shown on the
 * status line and retried (it may be restarting); any other error (NoRunningNode, ControlUnauthorized, …) restores
 * the screen and is thrown. When stdout is not a terminal, frames are printed one after the other instead.
 */
export async function watchMailboxes(o: WatchOptions): Promise<void> {
  const out = o.out ?? process.stdout
  const tty = out.isTTY === true
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  o.signal?.addEventListener('abort', onSignal)
  let restored = false
  const restore = (): void => {
    if (restored || !tty) return
    restored = true
    out.write(TERM.showCursor + TERM.leaveAlt)
  }
  process.once('exit', restore)
  if (tty) out.write(TERM.enterAlt + TERM.hideCursor)
  try {
    let rows: readonly ActorStats[] = []
    while (!stop.signal.aborted) {
      let problem = ''
      try {
        rows = await o.fetchRows()
      } catch (e) {
        if (!(e instanceof ControlUnreachable)) throw e
        problem = `  ·  UNREACHABLE (${e.reason}), retrying`
      }
      const status = `based inspect mailboxes  ·  ${o.url}  ·  every ${o.everyMs / 1000}s  ·  ${new Date().toLocaleTimeString()}  ·  ${rows.length} actors${problem}  ·  Ctrl-C quits`
      const table = renderMailboxes(rows)
      if (tty) out.write(renderWatchFrame(table, status, out.columns || 120, out.rows || 40))
      else out.write(`${status}\n${table}\n\n`)
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t)
          stop.signal.removeEventListener('abort', done)
          resolve()
        }
        const t = setTimeout(done, o.everyMs)
        stop.signal.addEventListener('abort', done, { once: true })
      })
    }
  } finally {
    restore()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', restore)
  }
}
