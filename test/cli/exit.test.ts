import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DataDirUnusable, NoRunningNode } from '../../cli/errors.ts'
import { describeError, flushLogs, openLog, verboseRequested } from '../../cli/exit.ts'
import { BrainRejection, KernelRejection, LedgerRejection, decodeFrame, encodeFrame, PROTOCOL_VERSION } from '../../protocol/index.ts'
import { toProtocolError } from '../../supervisor/ref.ts'
import { InvalidInput } from '../../kernels/errors.ts'

test('openLog: ready at once; flushLogs writes synchronously', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-exit-'))
  const file = path.join(dir, 'cluster.log')
  const log = openLog(file)
  log.info({ n: 7 }, 'hello')
  flushLogs()
  const line = JSON.parse(fs.readFileSync(file, 'utf8').trim()) as { n: number; msg: string }
  assert.equal(line.n, 7)
  assert.equal(line.msg, 'hello')
  fs.rmSync(dir, { recursive: true, force: true })
})

test('openLog: a file that cannot be opened is DataDirUnusable (op open-log), and exit stays quiet', () => {
  assert.throws(() => openLog('/proc/self/no-such-dir/cluster.log', '/proc/self'), (e: unknown) => {
    assert.ok(e instanceof DataDirUnusable)
    assert.equal(e.op, 'open-log')
    assert.equal(e.path, '/proc/self/no-such-dir/cluster.log')
    return true
  })
})

test('describeError: typed errors as "<_tag> <fields JSON>" without stack; untyped on one line', () => {
  const typed = describeError(new NoRunningNode({ dataDir: '/d', reason: 'stale-control-file', pid: 42, hint: 'h' }))
  const m = /^(\w+) (\{.*\})$/.exec(typed)
  assert.ok(m)
  assert.equal(m[1], 'NoRunningNode')
  assert.deepEqual(JSON.parse(m[2] ?? ''), { dataDir: '/d', reason: 'stale-control-file', pid: 42, hint: 'h' })
  const big = describeError({ _tag: 'Big', amount: 10n ** 30n })
  assert.equal(big, 'Big {"amount":"1000000000000000000000000000000"}')
  const plain = describeError(new Error('line one\n  line two'))
  assert.ok(!plain.includes('\n'))
  assert.ok(plain.includes('line one') && plain.includes('line two'))
  assert.equal(verboseRequested(['node', 'based', 'cluster', 'up', '--verbose']), true)
  assert.equal(verboseRequested(['node', 'based', 'cluster', 'up']), false)
})

test('describeError: every rejection family on one line as "<Family> <reason> <detail JSON>", also after crossing a frame', () => {
  const ledger = new LedgerRejection({ actor: '/root/ledger/writer', reason: 'InsufficientFunds', message: 'InsufficientFunds', detail: { have: '5', need: '10' } })
  assert.equal(describeError(ledger), 'LedgerRejection InsufficientFunds {"have":"5","need":"10"}')
  // a role's rejection: its message says more than the reason, so it follows
  const brain = new BrainRejection({ actor: '/root/brains/brain-1', reason: 'NoMiner', message: 'no miner serves\nthis Brain', detail: {} })
  assert.equal(describeError(brain), 'BrainRejection NoMiner {} — no miner serves this Brain')
  // a domain error turned into its family by the runtime, then encoded and decoded as a Fail frame: same line
  const kernel = toProtocolError('/root/gpu', new InvalidInput({ op: 'KernelNtt', reason: 'length_mismatch', message: 'data has 4099 bytes' }))
  assert.ok(kernel instanceof KernelRejection)
  const crossed = decodeFrame(encodeFrame({ _tag: 'Fail', v: PROTOCOL_VERSION, id: 1, error: kernel }))
  assert.ok(crossed._tag === 'Right' && crossed.right._tag === 'Fail')
  const line = describeError(crossed.right.error)
  assert.equal(line, describeError(kernel))
  const m = /^KernelRejection InvalidInput (\{.*\}) — data has 4099 bytes$/.exec(line)
  assert.ok(m, line)
  assert.deepEqual(JSON.parse(m[1] ?? ''), { op: 'KernelNtt', reason: 'length_mismatch' })
})

test('process.exit right after openLog: no "sonic boom is not ready yet", and the line reaches the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-exit-'))
  const file = path.join(dir, 'cluster.log')
  const exitTs = new URL('../../cli/exit.ts', import.meta.url).pathname
  const script = `import { openLog } from ${JSON.stringify(exitTs)}; const log = openLog(${JSON.stringify(file)}); log.info('early'); process.exit(3)`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.equal(r.status, 3, r.stderr)
  assert.doesNotMatch(r.stderr, /sonic boom/i)
  assert.match(fs.readFileSync(file, 'utf8'), /"msg":"early"/)
  fs.rmSync(dir, { recursive: true, force: true })
})
