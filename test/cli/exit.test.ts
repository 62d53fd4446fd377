import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DataDirUnusable, NoRunningNode } from '../../cli/errors.ts'
import { describeError, flushLogs, openLog, verboseRequested } from '../../cli/exit.ts'

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
