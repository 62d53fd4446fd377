/**
 * Crash safety, second line (the first is the deterministic sweep of crash-fault/crash-kill.test.ts): a child
 * producing blocks into LMDB is SIGKILLed from outside at times spread over a block, scaled to the block rate
 * measured on this machine in the same test. After every kill the store must reopen (its state hashes to the head),
 * keep every block the child reported committed (and at most the one in flight), pass the supply audit, and match a
 * clean in-memory replay of its stored blocks.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Ledger, LmdbStore, MemoryStore, auditSupply, decodeBlock, toHex } from 'basedai/ledger'
import { genesis } from './workload.ts'

const TARGET = 100_000 // never reached: every round ends in a kill
const MAX_ROUNDS = 12
const MIN_ROUNDS = 6
const BUDGET_MS = 45_000

interface Round {
  readonly committed: number
  readonly signal: NodeJS.Signals | null
  /** Per-block wall time and commit time the child reported, ms. */
  readonly blockMs: number[]
  readonly commitMs: number[]
}

/** Runs the child; after its `after`-th committed block of this run, waits `delayMs` and SIGKILLs it. */
function runChild(dir: string, after: number, delayMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'crash-child.ts'), dir, String(TARGET)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let committed = -1
    let seen = 0
    const blockMs: number[] = []
    const commitMs: number[] = []
    let buf = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const [kind, a, b, c] = buf.slice(0, i).split(' ')
        buf = buf.slice(i + 1)
        if (kind !== 'committed') continue
        committed = Number(a)
        blockMs.push(Number(b))
        commitMs.push(Number(c))
        if (++seen === after) setTimeout(() => child.kill('SIGKILL'), delayMs)
      }
    })
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code}: ${err}`))
      else resolve({ committed, signal, blockMs, commitMs })
    })
  })
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? Number.NaN
}

test('crash safety: SIGKILL at times spread over a block (scaled to the measured block rate); no committed block lost, none torn', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-sigkill-'))
  const started = Date.now()
  try {
    // Round 0 calibrates: kill after 8 blocks and measure the block and commit times of this machine, now.
    const cal = await runChild(dir, 8, 0)
    const period = median(cal.blockMs.slice(1))
    const commit = Math.min(median(cal.commitMs.slice(1)), period)
    assert.ok(period > 0 && commit >= 0, `measured block ${period} ms, commit ${commit} ms`)
    t.diagnostic(`measured: ${(1000 / period).toFixed(1)} blocks/s, ${period.toFixed(1)} ms per block of which ${commit.toFixed(1)} ms commit`)
    let lastCommitted = cal.committed
    let rounds = 0
    let inFlight = 0
    for (let r = 0; r < MAX_ROUNDS; r++) {
      if (r >= MIN_ROUNDS && Date.now() - started > BUDGET_MS) break
      // Even rounds: phases spread over the whole next block; odd rounds: over its commit window (the block's tail).
      const half = Math.ceil(MAX_ROUNDS / 2)
      const phase = (Math.floor(r / 2) + 0.5) / half
      const delay = r % 2 === 0 ? phase * period : period - commit + phase * commit
      const res = await runChild(dir, 2, delay)
      rounds++
      // Restart: open (the stored state must hash to the committed head), nothing reported committed is lost.
      const store = LmdbStore.open({ path: dir })
      try {
        const ledger = Ledger.open({ store })
        const h = ledger.head().height
        lastCommitted = Math.max(lastCommitted, res.committed)
        assert.ok(h >= lastCommitted, `round ${r}: head ${h} < last reported commit ${lastCommitted}`)
        assert.ok(h <= res.committed + 1, `round ${r}: head ${h} is more than one block past the last report ${res.committed}`)
        if (h === res.committed + 1) inFlight++
        assert.ok(auditSupply(store).ok, `round ${r}`)
        // A clean replay of the stored blocks from genesis in memory gives the same root and head hash.
        const clean = Ledger.open({ store: new MemoryStore(), genesis: genesis() })
        for (let b = 1; b <= h; b++) clean.applyBlock(decodeBlock(store.block(b)!))
        assert.equal(toHex(clean.head().stateRoot), toHex(ledger.head().stateRoot), `round ${r}`)
        assert.equal(toHex(clean.head().hash), toHex(ledger.head().hash), `round ${r}`)
        assert.equal(store.block(h + 1), undefined, `round ${r}: a block record past the head`)
      } finally {
        await store.close()
      }
    }
    t.diagnostic(`${rounds} kill rounds; ${inFlight} landed after a commit and before its report; head ${lastCommitted}+`)
    assert.ok(rounds >= MIN_ROUNDS)
    // Each round reports at least 2 new blocks, continuing from the stored head (nothing re-done from genesis).
    assert.ok(lastCommitted >= cal.committed + 2 * rounds, `made progress (${lastCommitted})`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
