/**
 * One data dir, one writer. `cluster up` takes `<dataDir>/node.lock` before it opens anything (the log, the ledger,
 * the network key, control.json); a second node on the same dir fails at once with `DataDirLocked` naming the pid
 * that holds it. LMDB's own lock file is not enough: it lets two processes open the same environment, and both then
 * write blocks at the same heights.
 *
 *   const lock = acquireDataDirLock(dataDir)   // throws DataDirLocked | DataDirUnusable
 *   …
 *   lock.release()                             // on clean stop (also on process exit)
 *
 * - Creation is atomic with its content: the holder record ({ pid, startTime, hostname, since }) is written to a
 *   private temp file that is then hard-linked to `node.lock` (link fails with EEXIST if the lock exists), so a
 *   reader never sees a half-written lock. File systems without hard links fall back to `open(…, 'wx')`.
 * - Liveness: `kill(pid, 0)` (EPERM counts as alive) and, on Linux, the process start time from /proc/<pid>/stat, so a
 *   pid reused by an unrelated process after a crash does not keep the lock forever.
 * - A lock whose holder is dead (SIGKILL, power loss) is reclaimed under a second, short-lived mutex
 *   (`node.lock.reclaim`, also created with `wx`): the reclaimer re-reads the lock under the mutex and removes it
 *   only if it still names the same dead holder, so two starters racing over a stale lock cannot both win.
 * - A lock taken on another host (a data dir on a shared file system) is never reclaimed: liveness cannot be checked.
 * - Read-only commands (`wallet balance`, `inspect`) do not take the lock.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DataDirLocked, DataDirUnusable, errno } from './errors.ts'

export const LOCK_FILE = 'node.lock'

export interface LockHolder {
  readonly pid: number
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot); '' where /proc is not available. */
  readonly startTime: string
  readonly hostname: string
  readonly since: string
}

export interface DataDirLock {
  readonly dataDir: string
  readonly file: string
  readonly holder: LockHolder
  /** Removes the lock if this process still holds it. Idempotent. */
  release(): void
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** The start time of a process (Linux /proc), or '' when unknown. */
export function processStartTime(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // comm (field 2) may contain spaces and parentheses: fields after it start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return rest[19] ?? ''
  } catch {
    return ''
  }
}

/** True when a process with this pid exists and (where recorded and checkable) started at `startTime`. */
export function isProcessAlive(pid: number, startTime = ''): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (e) {
    if (errno(e) !== 'EPERM') return false
  }
  if (startTime === '') return true
  const now = processStartTime(pid)
  return now === '' || now === startTime
}

/**
 * Creates the data dir and its missing parents one level at a time (never `mkdir -p`: Node's recursive mkdir spins
 * forever under /proc, where mkdir answers ENOENT for a parent that exists). Throws DataDirUnusable naming the path.
 */
export function ensureDataDir(dataDir: string): string {
  const dir = path.resolve(dataDir)
  const parts: string[] = []
  for (let p = dir; ; p = path.dirname(p)) {
    parts.unshift(p)
    if (path.dirname(p) === p) break
  }
  for (const p of parts) {
    let st: fs.Stats | undefined
    try {
      st = fs.statSync(p)
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw new DataDirUnusable({ dataDir: dir, path: p, op: 'stat', code: errno(e) })
    }
    if (st) {
      if (!st.isDirectory()) throw new DataDirUnusable({ dataDir: dir, path: p, op: 'stat', code: 'NOT_A_DIRECTORY' })
      continue
    }
    try {
      fs.mkdirSync(p)
    } catch (e) {
      const code = errno(e)
      if (code === 'EEXIST' && fs.statSync(p, { throwIfNoEntry: false })?.isDirectory()) continue
      throw new DataDirUnusable({ dataDir: dir, path: p, op: 'mkdir', code })
    }
  }
  return dir
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>
    if (typeof v.pid !== 'number' || !Number.isSafeInteger(v.pid) || v.pid <= 0) return undefined
    return {
      pid: v.pid,
      startTime: typeof v.startTime === 'string' ? v.startTime : '',
      hostname: typeof v.hostname === 'string' ? v.hostname : '',
      since: typeof v.since === 'string' ? v.since : '',
    }
  } catch {
    return undefined
  }
}

type Observed = { kind: 'absent' } | { kind: 'holder'; holder: LockHolder; text: string } | { kind: 'garbage'; text: string; ageMs: number }

function observe(file: string, dataDir: string): Observed {
  let text: string
  let st: fs.Stats
  try {
    text = fs.readFileSync(file, 'utf8')
    st = fs.statSync(file)
  } catch (e) {
    if (errno(e) === 'ENOENT') return { kind: 'absent' }
    throw new DataDirUnusable({ dataDir, path: file, op: 'read', code: errno(e) })
  }
  const holder = parseHolder(text)
  return holder ? { kind: 'holder', holder, text } : { kind: 'garbage', text, ageMs: Date.now() - st.mtimeMs }
}

/** The holder recorded in a data dir's lock file, if any (alive or not). */
export function readLockHolder(dataDir: string): LockHolder | undefined {
  const o = observe(path.join(path.resolve(dataDir), LOCK_FILE), path.resolve(dataDir))
  return o.kind === 'holder' ? o.holder : undefined
}

/** True when the holder can be shown dead from this host. */
function holderIsDead(h: LockHolder): boolean {
  if (h.hostname !== '' && h.hostname !== os.hostname()) return false
  return !isProcessAlive(h.pid, h.startTime)
}

/** Removes `file` if it still has exactly `expected` as content, under the reclaim mutex. Returns when done or busy. */
function reclaim(file: string, expected: string, dataDir: string): void {
  const mutex = `${file}.reclaim`
  const me = JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) })
  try {
    fs.writeFileSync(mutex, me, { flag: 'wx' })
  } catch (e) {
    if (errno(e) !== 'EEXIST') throw new DataDirUnusable({ dataDir, path: mutex, op: 'write', code: errno(e) })
    // Someone else is reclaiming. If that someone died inside this tiny window, clear its mutex too.
    const other = observe(mutex, dataDir)
    if (other.kind === 'holder' && holderIsDead(other.holder)) fs.rmSync(mutex, { force: true })
    if (other.kind === 'garbage' && other.ageMs > 5000) fs.rmSync(mutex, { force: true })
    sleepSync(5)
    return
  }
  try {
    let text: string | undefined
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch {
      text = undefined
    }
    if (text === expected) fs.rmSync(file, { force: true })
  } finally {
    fs.rmSync(mutex, { force: true })
  }
}

function createExclusive(file: string, content: string, dataDir: string): boolean {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    fs.writeFileSync(tmp, content, { flag: 'wx' })
  } catch (e) {
    throw new DataDirUnusable({ dataDir, path: tmp, op: 'write', code: errno(e) })
  }
  try {
    fs.linkSync(tmp, file)
    return true
  } catch (e) {
    const code = errno(e)
    if (code === 'EEXIST') return false
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw new DataDirUnusable({ dataDir, path: file, op: 'write', code })
    // No hard links on this file system: exclusive create, then write (readers treat a young unparseable lock as busy).
    try {
      fs.writeFileSync(file, content, { flag: 'wx' })
      return true
    } catch (e2) {
      if (errno(e2) === 'EEXIST') return false
      throw new DataDirUnusable({ dataDir, path: file, op: 'write', code: errno(e2) })
    }
  } finally {
    fs.rmSync(tmp, { force: true })
  }
}

const held = new Set<DataDirLock>()
let exitHook = false

/**
 * Takes the single-writer lock of a data dir (creating the dir). Throws `DataDirLocked` when a live process holds it
 * (including this one), `DataDirUnusable` when the dir cannot be created or written.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const dir = ensureDataDir(dataDir)
  const file = path.join(dir, LOCK_FILE)
  const holder: LockHolder = { pid: process.pid, startTime: processStartTime(process.pid), hostname: os.hostname(), since: new Date().toISOString() }
  const content = JSON.stringify(holder)
  for (let attempt = 0; attempt < 200; attempt++) {
    if (createExclusive(file, content, dir)) {
      let released = false
      const lock: DataDirLock = {
        dataDir: dir,
        file,
        holder,
        release() {
          if (released) return
          released = true
          held.delete(lock)
          try {
            if (fs.readFileSync(file, 'utf8') === content) fs.rmSync(file, { force: true })
          } catch {
            // already gone (removed by hand): nothing to release
          }
        },
      }
      held.add(lock)
      if (!exitHook) {
        exitHook = true
        process.on('exit', () => {
          for (const l of [...held]) l.release()
        })
      }
      return lock
    }
    const seen = observe(file, dir)
    if (seen.kind === 'absent') continue
    if (seen.kind === 'garbage') {
      // A lock being written by a starter without hard links, or left corrupt: wait for it, then reclaim.
      if (seen.ageMs > 5000) reclaim(file, seen.text, dir)
      else sleepSync(10)
      continue
    }
    if (!holderIsDead(seen.holder)) {
      throw new DataDirLocked({ dataDir: dir, lockFile: file, pid: seen.holder.pid, hostname: seen.holder.hostname, since: seen.holder.since })
    }
    reclaim(file, seen.text, dir)
  }
  const last = readLockHolder(dir)
  throw new DataDirLocked({ dataDir: dir, lockFile: file, pid: last?.pid ?? 0, hostname: last?.hostname ?? '', since: last?.since ?? '' })
}
