/**
 * The node's life from the command line, as child processes of `based`: one writer per data dir (two nodes started at
 * once, many rounds, clean stops and SIGKILLs; the ledger reopens and passes the supply audit every time), failed
 * starts as one typed line, and the smaller issue-16 items (stale control.json, --block-ms on restart, 413, software
 * adapters, --brains 0, /proc data dirs, --version).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { Ledger, LmdbStore, auditSupply, createWallet } from '../../ledger/index.ts'
import { until } from '../support/tracker.ts'

const based = new URL('../../cli/based.ts', import.meta.url).pathname
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'based-life-'))
const SMALL = ['--brains', '1', '--miners', '1', '--validators', '0', '--no-net', '--block-ms', '200', '--control-port', '0', '--main-thread-miners']

interface Run {
  readonly child: ChildProcess
  out: string
  err: string
  code: number | null | undefined
  readonly exited: Promise<number | null>
}

function start(args: readonly string[]): Run {
  const child = spawn(process.execPath, [based, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const run: Run = {
    child,
    out: '',
    err: '',
    code: undefined,
    exited: new Promise((resolve) => child.on('exit', (code) => { run.code = code; resolve(code) })),
  }
  child.stdout?.on('data', (d: Buffer) => (run.out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (run.err += d.toString()))
  return run
}

async function runToEnd(args: readonly string[]): Promise<Run> {
  const r = start(args)
  await r.exited
  return r
}

/** The one `based: <Tag> <json>` line of a failed command; asserts there is no stack trace and no stray error. */
function typedFailure(r: Run): { tag: string; fields: Record<string, unknown> } {
  assert.notEqual(r.code, 0, `expected a failure; stdout: ${r.out}`)
  assert.doesNotMatch(r.err, /^\s+at /m, `stack trace printed:\n${r.err}`)
  assert.doesNotMatch(r.err, /sonic boom/i)
  const lines = r.err.split('\n').filter((l) => l.startsWith('based: '))
  assert.equal(lines.length, 1, r.err)
  const m = /^based: (\w+) (\{.*\})$/.exec(lines[0] ?? '')
  assert.ok(m, r.err)
  return { tag: m[1] ?? '', fields: JSON.parse(m[2] ?? '{}') as Record<string, unknown> }
}

async function auditLedger(dataDir: string): Promise<number> {
  const store = LmdbStore.open({ path: path.join(dataDir, 'ledger') })
  try {
    const ledger = Ledger.open({ store }) // CorruptState if two writers had interleaved blocks
    const report = auditSupply(store)
    assert.ok(report.ok, JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
    return ledger.head().height
  } finally {
    await store.close()
  }
}

test('two nodes on one data dir, started at once, many rounds: the second always refuses with DataDirLocked naming the first; the ledger always reopens and passes the supply audit', { timeout: 900_000 }, async () => {
  const dataDir = tmp()
  const ROUNDS = Number(process.env.BASED_LOCK_ROUNDS ?? 4)
  createWallet(dataDir, 'alice', 'a passphrase')
  let lastHeight = -1
  try {
    for (let r = 0; r < ROUNDS; r++) {
      // Round 1 restarts with another block time: the stored one wins, and the node says so.
      const args = ['cluster', 'up', '--data-dir', dataDir, ...SMALL, ...(r === 1 ? ['--block-ms', '300'] : [])]
      const pair = [start(args), start(args)]
      try {
        await until(() => pair.some((p) => p.code !== undefined) && pair.some((p) => p.out.includes('control: http://') || p.code !== undefined), 180_000, `round ${r}`, 50)
        const loser = pair.find((p) => p.code !== undefined)
        const winner = pair.find((p) => p !== loser)
        assert.ok(loser && winner)
        await until(() => winner.out.includes('control: http://') || winner.code !== undefined, 180_000, `round ${r} winner`, 50)
        assert.equal(winner.code, undefined, `both failed in round ${r}: ${winner.err}`)
        assert.equal(loser.code, 1)
        const refusal = typedFailure(loser)
        assert.equal(refusal.tag, 'DataDirLocked')
        assert.equal(refusal.fields.pid, winner.child.pid)
        assert.equal(refusal.fields.dataDir, dataDir)
        assert.match(winner.out, /block time 200 ms/)
        if (r === 1) assert.match(winner.err, /notice: .*--block-ms 300 is ignored/)
        else assert.doesNotMatch(winner.err, /notice:/)
        const url = (JSON.parse(fs.readFileSync(path.join(dataDir, 'control.json'), 'utf8')) as { url: string }).url
        const auth = { authorization: `Bearer ${fs.readFileSync(path.join(dataDir, 'control.cookie'), 'utf8')}` }

        if (r === 0) {
          // Read-only commands work beside the running node.
          const balance = await runToEnd(['wallet', 'balance', 'alice', '--data-dir', dataDir])
          assert.equal(balance.code, 0, balance.err)
          assert.match(balance.out, /BASED\s+\d/)
          const tree = await runToEnd(['inspect', 'tree', '--data-dir', dataDir])
          assert.equal(tree.code, 0, tree.err)
          assert.match(tree.out, /writer/)
          // A 10 MB body is answered 413 with a typed JSON error, not a connection reset.
          const big = await fetch(`${url}/ask?to=/root/control`, { method: 'POST', body: new Uint8Array(10 * 1024 * 1024), headers: auth })
          assert.equal(big.status, 413)
          assert.equal(((await big.json()) as { error: string }).error, 'BodyTooLarge')
          const bigChild = await fetch(`${url}/children`, { method: 'POST', body: new Uint8Array(10 * 1024 * 1024), headers: auth })
          assert.equal(bigChild.status, 413)
          // The node still answers afterwards.
          assert.equal((await fetch(`${url}/tree`, { headers: auth })).status, 200)
        }

        if (r % 2 === 0) {
          winner.child.kill('SIGINT')
          assert.equal(await winner.exited, 0, winner.err)
          assert.ok(!fs.existsSync(path.join(dataDir, 'node.lock')), 'lock released on clean stop')
          assert.ok(!fs.existsSync(path.join(dataDir, 'control.json')))
        } else {
          winner.child.kill('SIGKILL')
          await winner.exited
          assert.ok(fs.existsSync(path.join(dataDir, 'control.json')), 'SIGKILL leaves control.json behind')
          // inspect: a typed "no node running" naming the dead pid, not connection noise.
          const stale = typedFailure(await runToEnd(['inspect', 'mailboxes', '--data-dir', dataDir]))
          assert.equal(stale.tag, 'NoRunningNode')
          assert.equal(stale.fields.reason, 'stale-control-file')
          assert.equal(stale.fields.pid, winner.child.pid)
        }
      } finally {
        for (const p of pair) p.child.kill('SIGKILL')
        await Promise.all(pair.map((p) => p.exited))
      }
      const height = await auditLedger(dataDir)
      assert.ok(height >= lastHeight, `height went back from ${lastHeight} to ${height}`)
      lastHeight = height
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})

test('a failed start prints the typed error on one line, exit 1, logs flushed, lock released; --verbose adds the stack', { timeout: 300_000 }, async () => {
  const dataDir = tmp()
  const busy = http.createServer()
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()))
  const port = (busy.address() as { port: number }).port
  try {
    const args = ['cluster', 'up', '--data-dir', dataDir, ...SMALL, '--control-port', String(port)]
    const plain = await runToEnd(args)
    const f = typedFailure(plain)
    assert.equal(f.tag, 'ChildStartFailed')
    assert.ok(!fs.existsSync(path.join(dataDir, 'node.lock')), 'lock released after a failed start')
    assert.match(fs.readFileSync(path.join(dataDir, 'cluster.log'), 'utf8'), /"type":"start_failed"/, 'log flushed before exit')
    const verbose = await runToEnd([...args, '--verbose'])
    assert.equal(verbose.code, 1)
    assert.match(verbose.err, /^based: ChildStartFailed \{/m)
    assert.match(verbose.err, /^\s+at /m, 'stack with --verbose')
    assert.doesNotMatch(verbose.err, /sonic boom/i)
  } finally {
    busy.close()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})

test('--brains 0: no miners or validators by default; asking for them is InvalidClusterConfig before the data dir is touched', { timeout: 300_000 }, async () => {
  const dataDir = path.join(tmp(), 'd')
  const refused = await runToEnd(['cluster', 'up', '--data-dir', dataDir, '--brains', '0', '--miners', '1', '--no-net', '--control-port', '0'])
  const f = typedFailure(refused)
  assert.equal(f.tag, 'InvalidClusterConfig')
  assert.equal(f.fields.field, '--miners')
  assert.ok(!fs.existsSync(dataDir))
  const once = await runToEnd(['cluster', 'up', '--data-dir', dataDir, '--brains', '0', '--no-net', '--control-port', '0', '--once'])
  assert.equal(once.code, 0, once.err)
  assert.doesNotMatch(once.out, /miner-|validator-|brain-/)
  assert.match(once.err, /--brains 0: starting no miners and no validators/)
  assert.doesNotMatch(once.err, /FAILED|exited/)
  fs.rmSync(path.dirname(dataDir), { recursive: true, force: true })
})

test('unusable data dirs fail fast with DataDirUnusable naming the path; --weights unreadable is WeightsUnreadable; --version prints the package version', { timeout: 300_000 }, async () => {
  const t0 = Date.now()
  const proc = typedFailure(await runToEnd(['cluster', 'up', '--data-dir', '/proc/based', '--no-net']))
  assert.equal(proc.tag, 'DataDirUnusable')
  assert.equal(proc.fields.path, '/proc/based')
  assert.equal(proc.fields.op, 'mkdir')
  assert.ok(Date.now() - t0 < 120_000)
  const ro = typedFailure(await runToEnd(['cluster', 'up', '--data-dir', '/proc/self/fdinfo', '--no-net']))
  assert.equal(ro.tag, 'DataDirUnusable')
  assert.equal(ro.fields.op, 'write')
  // --weights on a directory or a missing file: typed, not a raw EISDIR/ENOENT from the loader.
  const dir = typedFailure(await runToEnd(['generate', 'hi', '--tokens', '1', '--weights', os.tmpdir()]))
  assert.equal(dir.tag, 'WeightsUnreadable')
  assert.equal(dir.fields.code, 'EISDIR')
  const missing = typedFailure(await runToEnd(['generate', 'hi', '--tokens', '1', '--weights', path.join(os.tmpdir(), 'no-such-weights.safetensors')]))
  assert.equal(missing.tag, 'WeightsUnreadable')
  assert.equal(missing.fields.code, 'ENOENT')
  const version = await runToEnd(['--version'])
  assert.equal(version.code, 0)
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.equal(version.out.trim(), pkg.version)
})

test('SIGINT while the node is still starting: it finishes starting, stops cleanly, releases the lock; the ledger audits', { timeout: 300_000 }, async () => {
  const dataDir = tmp()
  // The miner in a worker thread (it loads its modules there) keeps the start busy for a while after "starting".
  const node = start(['cluster', 'up', '--data-dir', dataDir, ...SMALL.filter((a) => a !== '--main-thread-miners')])
  try {
    await until(() => node.out.includes('starting the embedded cluster') || node.code !== undefined, 120_000, 'starting', 5)
    node.child.kill('SIGINT')
    assert.equal(await node.exited, 0, node.err)
    assert.match(node.err, /SIGINT: stopping once the start completes/, 'the signal landed during the start')
    assert.match(node.out, /control: http:\/\//)
    assert.match(node.out, /stopped cleanly/)
    assert.ok(!fs.existsSync(path.join(dataDir, 'node.lock')))
    assert.ok(!fs.existsSync(path.join(dataDir, 'control.json')))
    await auditLedger(dataDir)
  } finally {
    node.child.kill('SIGKILL')
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})
