import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { acquireDataDirLock, ensureDataDir, LOCK_FILE, processStartTime, readLockHolder } from '../../supervisor/datadir-lock.ts'
import { DataDirLocked, DataDirUnusable, WeightsUnreadable } from '../../cli/errors.ts'
import { checkWeightsFile } from '../../cli/weights-file.ts'

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'based-lock-'))
/** A pid that belonged to a process that has exited. */
const deadPid = (): number => {
  const r = spawnSync('true')
  assert.ok(r.pid && r.pid > 0)
  return r.pid
}
const caught = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  assert.fail('expected a throw')
}

test('lock: taken, refused to a second taker with the holder pid, released, taken again', () => {
  const dir = path.join(tmp(), 'nested', 'data')
  const lock = acquireDataDirLock(dir)
  assert.equal(readLockHolder(dir)?.pid, process.pid)
  const e = caught(() => acquireDataDirLock(dir))
  assert.ok(e instanceof DataDirLocked)
  assert.equal(e._tag, 'DataDirLocked')
  assert.equal(e.pid, process.pid)
  assert.equal(e.dataDir, path.resolve(dir))
  lock.release()
  assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)))
  lock.release() // idempotent
  const again = acquireDataDirLock(dir)
  again.release()
  assert.deepEqual(fs.readdirSync(dir), [], 'no temp or mutex files left behind')
})

test('lock: a stale lock (dead pid, or a reused pid with another start time) is reclaimed; a foreign host is not', () => {
  const dir = tmp()
  const file = path.join(dir, LOCK_FILE)
  fs.writeFileSync(file, JSON.stringify({ pid: deadPid(), startTime: '', hostname: os.hostname(), since: 'then' }))
  const a = acquireDataDirLock(dir)
  assert.equal(readLockHolder(dir)?.pid, process.pid)
  a.release()
  // Our own pid, but recorded with a different start time: a previous process that had this pid.
  const mine = processStartTime(process.pid)
  if (mine !== '') {
    fs.writeFileSync(file, JSON.stringify({ pid: process.pid, startTime: `${mine}0`, hostname: os.hostname(), since: 'then' }))
    const b = acquireDataDirLock(dir)
    b.release()
  }
  // A live pid with its real start time is never reclaimed, even if the lock says nothing else.
  fs.writeFileSync(file, JSON.stringify({ pid: process.ppid, startTime: processStartTime(process.ppid), hostname: os.hostname(), since: 'x' }))
  const live = caught(() => acquireDataDirLock(dir))
  assert.ok(live instanceof DataDirLocked && live.pid === process.ppid)
  // Another host: liveness cannot be checked from here, so it stays locked.
  fs.writeFileSync(file, JSON.stringify({ pid: deadPid(), startTime: '', hostname: `not-${os.hostname()}`, since: 'x' }))
  const foreign = caught(() => acquireDataDirLock(dir))
  assert.ok(foreign instanceof DataDirLocked && foreign.hostname === `not-${os.hostname()}`)
  fs.rmSync(dir, { recursive: true, force: true })
})

test('data dir: /proc/based fails fast with DataDirUnusable (Node recursive mkdir spins there)', { timeout: 10_000 }, () => {
  const t0 = Date.now()
  const e = caught(() => ensureDataDir('/proc/based'))
  assert.ok(e instanceof DataDirUnusable)
  assert.equal(e._tag, 'DataDirUnusable')
  assert.equal(e.op, 'mkdir')
  assert.equal(e.path, '/proc/based')
  assert.ok(Date.now() - t0 < 1000)
})

test('data dir: a file in the path and an unwritable directory are DataDirUnusable naming the path', () => {
  const dir = tmp()
  const file = path.join(dir, 'plain-file')
  fs.writeFileSync(file, 'x')
  const e = caught(() => acquireDataDirLock(path.join(file, 'data')))
  assert.ok(e instanceof DataDirUnusable && e.code === 'NOT_A_DIRECTORY' && e.path === file)
  // /proc/self exists and is a directory, but no one (root included) can create files in it; chmod would not stop root.
  const ro = caught(() => acquireDataDirLock('/proc/self'))
  assert.ok(ro instanceof DataDirUnusable && ro.op === 'write', String(ro))
  assert.ok(ro.path.startsWith('/proc/self/'))
  fs.rmSync(dir, { recursive: true, force: true })
})

test('--weights check: missing, directory, empty are WeightsUnreadable; a file passes', () => {
  const dir = tmp()
  const missing = caught(() => checkWeightsFile(path.join(dir, 'nope.safetensors')))
  assert.ok(missing instanceof WeightsUnreadable && missing.code === 'ENOENT')
  const isDir = caught(() => checkWeightsFile(dir))
  assert.ok(isDir instanceof WeightsUnreadable && isDir.code === 'EISDIR' && isDir.path === dir)
  fs.writeFileSync(path.join(dir, 'empty'), '')
  const empty = caught(() => checkWeightsFile(path.join(dir, 'empty')))
  assert.ok(empty instanceof WeightsUnreadable && empty.code === 'EMPTY')
  fs.writeFileSync(path.join(dir, 'w'), 'bytes')
  assert.equal(checkWeightsFile(path.join(dir, 'w')), path.join(dir, 'w'))
  fs.rmSync(dir, { recursive: true, force: true })
})

test('lock race: 4 processes × 25 rounds, fresh and stale locks: exactly one winner per round, losers name it', { timeout: 240_000 }, async () => {
  const work = tmp()
  const ROUNDS = 25
  const N = 4
  const contender = new URL('./lock-contender.ts', import.meta.url).pathname
  const kids = Array.from({ length: N }, () => spawn(process.execPath, [contender, work, String(ROUNDS), String(N)], { stdio: ['ignore', 'ignore', 'pipe'] }))
  const errs = kids.map(() => '')
  kids.forEach((k, i) => k.stderr.on('data', (d: Buffer) => (errs[i] += d.toString())))
  const exits = kids.map((k) => new Promise<number | null>((r) => k.on('exit', r)))
  const results = (r: number): Map<number, string> =>
    new Map(fs.readdirSync(work).filter((f) => f.startsWith(`res-${r}-`)).map((f) => [Number(f.split('-')[2]), fs.readFileSync(path.join(work, f), 'utf8')]))
  try {
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 3 === 1) {
        fs.mkdirSync(path.join(work, `d-${r}`))
        fs.writeFileSync(path.join(work, `d-${r}`, LOCK_FILE), JSON.stringify({ pid: deadPid(), startTime: '', hostname: os.hostname(), since: 'stale' }))
      }
      fs.writeFileSync(path.join(work, `go-${r}`), '')
      const deadline = Date.now() + 60_000
      while (results(r).size < N) {
        assert.ok(Date.now() < deadline, `round ${r}: ${results(r).size}/${N} answered; ${errs.join('|')}`)
        await new Promise((res) => setTimeout(res, 5))
      }
      const res = results(r)
      const winners = [...res].filter(([, v]) => v === 'won').map(([pid]) => pid)
      assert.equal(winners.length, 1, `round ${r}: ${JSON.stringify([...res])}`)
      for (const [pid, v] of res) if (pid !== winners[0]) assert.equal(v, `DataDirLocked ${winners[0]}`, `round ${r}`)
    }
    assert.deepEqual(await Promise.all(exits), Array(N).fill(0), errs.join('\n'))
  } finally {
    for (const k of kids) k.kill('SIGKILL')
    fs.rmSync(work, { recursive: true, force: true })
  }
})
