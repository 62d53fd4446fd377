import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { until } from '../support/tracker.ts'

const based = new URL('../../cli/based.ts', import.meta.url).pathname

function run(args: string[], stdin?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [based, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    c.stdout.on('data', (d: Buffer) => (out += d.toString()))
    c.stderr.on('data', (d: Buffer) => (err += d.toString()))
    c.on('exit', (code) => resolve({ code, out, err }))
    c.stdin.end(stdin ?? '')
  })
}

test('based ask reads the message from standard input (-) or a file (@file)', { timeout: 180_000 }, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-ask-'))
  const node = spawn(process.execPath, [based, 'cluster', 'up', '--brains', '1', '--miners', '0', '--validators', '0', '--no-net', '--control-port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  node.stdout.on('data', (d: Buffer) => (out += d.toString()))
  t.after(() => {
    node.kill('SIGKILL')
    fs.rmSync(dataDir, { recursive: true, force: true })
  })
  await until(() => out.includes('control: http://'), 90_000, 'cluster up')
  const piped = await run(['ask', '/root/brains/brain-1', '-', '--data-dir', dataDir], '{"_tag":"Ping"}\n')
  assert.equal(piped.code, 0, piped.err)
  assert.equal((JSON.parse(piped.out) as { _tag: string })._tag, 'Pong')
  const file = path.join(dataDir, 'msg.json')
  fs.writeFileSync(file, '{"_tag":"GetHead"}')
  const fromFile = await run(['ask', '/root/ledger/writer', `@${file}`, '--data-dir', dataDir])
  assert.equal(fromFile.code, 0, fromFile.err)
  assert.equal((JSON.parse(fromFile.out) as { _tag: string })._tag, 'HeadInfo')
  const missing = await run(['ask', '/root/ledger/writer', `@${path.join(dataDir, 'nope.json')}`, '--data-dir', dataDir])
  assert.notEqual(missing.code, 0)
  assert.match(missing.err, /^based: InvalidArgumentError/m)
  assert.doesNotMatch(missing.err, /\n\s+at /, 'no stack trace')
  const notJson = await run(['ask', '/root/ledger/writer', '-', '--data-dir', dataDir], 'not json')
  assert.notEqual(notJson.code, 0)
})
