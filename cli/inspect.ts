/**
 * Formatting for `based inspect mailboxes`: the live actor table of a running cluster.
 */
import type { ActorStats } from '../actors/index.ts'

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}

export function renderMailboxes(rows: readonly ActorStats[], now = Date.now()): string {
  const header = ['ADDRESS', 'ROLE', 'PLACE', 'STATE', 'MAILBOX', 'PROCESSED', 'ERRORS', 'RESTARTS', 'RECENT (newest last)']
  const body = rows.map((r) => [
    r.address,
    r.role,
    r.placement,
    r.state,
    `${r.mailboxDepth}/${r.mailboxCapacity}`,
    String(r.processed),
    String(r.errors),
    String(r.restarts),
    r.recent
      .slice(-4)
      .map((m) => `${m.tag} ${Math.max(0, Math.round((now - m.at) / 1000))}s`)
      .join(', ') + (r.lastExit ? `  [last exit: ${r.lastExit}]` : ''),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] ?? 0))).join('  ')
  return [line(header), ...body.map(line)].join('\n')
}
