/**
 * Crash ordering without luck: the store's fault-injection seam (ledger/store.ts `FaultPlan`) fails the commit of one
 * block at each of its write points in turn, by SIGKILLing a child process there (crash-child.ts with BASEDAI_STORE_FAULT), and every reopened store must hold exactly the previous
 * block or exactly the new one: its state entries equal one of the two states computed independently in memory, the
 * state root recomputed from the stored entries equals the head's, the supply audit passes and `Ledger.open` accepts
 * it. With one LMDB transaction per block, every point up to the end of the transaction leaves the previous block
 * and only the point after it leaves the new one.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { FAULT_ENV } from '../../ledger/store.ts'
import { EXP, H, PER_BLOCK, assertExactly, tmpdir } from './crash-expect.ts'

function runChild(dir: string, fault: string): Promise<{ committed: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'crash-child.ts'), dir, String(H), String(PER_BLOCK)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [FAULT_ENV]: fault },
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL') return reject(new Error(`child exited ${code}: ${err}`))
      const committed = out.split('\n').filter((l) => l.startsWith('committed ')).map((l) => Number(l.split(' ')[1]))
      resolve({ committed: committed.length === 0 ? -1 : Math.max(...committed), signal })
    })
  })
}

test('fault injection, SIGKILL: a child killed at each write point of a commit reopens to exactly the previous block or the new one', async () => {
  assert.ok(EXP.writes > 10, `block ${H} makes ${EXP.writes} writes`)
  const points = EXP.writes + 2
  // Every point 0…points−1 kills the child during block H's commit; `points` itself must not fire (the sweep is complete).
  const todo = Array.from({ length: points + 1 }, (_, p) => p)
  const checked: number[] = []
  // Two children at a time (each start is mostly module loading); each worker reuses one directory.
  const worker = async (): Promise<void> => {
    const dir = tmpdir()
    try {
      for (let point = todo.shift(); point !== undefined; point = todo.shift()) {
        fs.rmSync(dir, { recursive: true, force: true })
        const res = await runChild(dir, `kill@${H}:${point}`)
        if (point < points) {
          assert.equal(res.signal, 'SIGKILL', `point ${point}: the child was not killed`)
          assert.equal(res.committed, H - 1, `point ${point}: killed during block ${H}'s commit`)
        } else {
          assert.equal(res.signal, null, 'one past the last point: no fault')
          assert.equal(res.committed, H)
        }
        const [want, other] = point <= EXP.writes ? [EXP.prev, EXP.next] : [EXP.next, EXP.prev]
        await assertExactly(dir, want, other, `kill at point ${point} of ${points}`)
        checked.push(point)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  await Promise.all([worker(), worker()])
  assert.deepEqual(checked.sort((a, b) => a - b), Array.from({ length: points + 1 }, (_, p) => p))
})
