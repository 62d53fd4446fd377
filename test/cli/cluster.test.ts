import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Either } from 'effect'
import { decodeFrame, encodeFrame, PROTOCOL_VERSION } from '../../protocol/index.ts'
import type { ActorStats } from '../../actors/index.ts'
import { until } from '../support/tracker.ts'
import { clusterSpec, DEFAULT_CLUSTER } from '../../cli/cluster.ts'
import { shippedTask } from '../../actors/brain.ts'
import { InvalidArgs } from '../../supervisor/errors.ts'
import type { ChildSpecInput } from '../../supervisor/index.ts'

const based = new URL('../../cli/based.ts', import.meta.url).pathname

test('based cluster up: tree starts, control endpoint serves mailboxes and asks, SIGINT stops in reverse order', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-cli-'))
  const child = spawn(process.execPath, [based, 'cluster', 'up', '--control-port', '0', '--data-dir', dataDir, '--miners', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    await until(() => out.includes('control: http://'), 60_000, 'cluster up')
    assert.match(out, /├── ledger/)
    assert.match(out, /brain-1/)
    const url = (JSON.parse(fs.readFileSync(path.join(dataDir, 'control.json'), 'utf8')) as { url: string }).url
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const auth = { authorization: `Bearer ${fs.readFileSync(path.join(dataDir, 'control.cookie'), 'utf8')}` }

    const rows = (await (await fetch(`${url}/mailboxes`, { headers: auth })).json()) as ActorStats[]
    const addresses = rows.map((r) => r.address)
    for (const a of ['/root/ledger/writer', '/root/brains/brain-1', '/root/miners/miner-1', '/root/validators/validator-1', '/root/control']) {
      assert.ok(addresses.includes(a), a)
    }
    assert.equal(rows.find((r) => r.address === '/root/miners/miner-1')?.placement, 'worker')

    const ask = async (to: string, bytes: Uint8Array): Promise<ReturnType<typeof decodeFrame>> =>
      decodeFrame(new Uint8Array(await (await fetch(`${url}/ask?to=${encodeURIComponent(to)}`, { method: 'POST', body: bytes, headers: auth })).arrayBuffer()))
    const status = await ask('/root/brains/brain-1', encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/brains/brain-1', id: 3, body: { _tag: 'GetStatus' } }))
    assert.ok(Either.isRight(status) && status.right._tag === 'Reply' && status.right.body._tag === 'StatusReply')
    assert.equal(status.right.body.detail.weightsHash, shippedTask().weightsHash, 'the Brain serves the shipped model')
    const unknown = await ask('/root/nobody', encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/nobody', id: 4, body: { _tag: 'Ping' } }))
    assert.ok(Either.isRight(unknown) && unknown.right._tag === 'Fail' && unknown.right.error._tag === 'UnknownActor')
    const garbage = await ask('/root/brains/brain-1', new Uint8Array([1, 2, 3, 4]))
    assert.ok(Either.isRight(garbage) && garbage.right._tag === 'Fail' && garbage.right.error._tag === 'DecodeError')

    // based worker attach: a kernel worker joins the running tree; a module outside the project is refused.
    const attach = spawn(process.execPath, [based, 'worker', 'attach', '--id', 'gpu-1', '--control', url, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let attachOut = ''
    attach.stdout.on('data', (d: Buffer) => (attachOut += d.toString()))
    assert.equal(await new Promise((r) => attach.on('exit', r)), 0)
    assert.match(attachOut, /attached \/root\/miners\/gpu-1: backend (webgpu|reference)/)
    // A software adapter (lavapipe/llvmpipe here) is not slow (it runs WGSL) but is said to be software, not a GPU.
    const flags = /slow: (true|false), software: (true|false)/.exec(attachOut)
    assert.ok(flags, attachOut)
    if (/backend webgpu, adapter: .*(llvmpipe|lavapipe|swiftshader)/i.test(attachOut)) {
      assert.deepEqual([flags[1], flags[2]], ['false', 'true'])
      assert.match(attachOut, /SOFTWARE adapter/)
    }
    const info = await ask('/root/miners/gpu-1', encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/miners/gpu-1', id: 5, body: { _tag: 'KernelInfo' } }))
    assert.ok(Either.isRight(info) && info.right._tag === 'Reply' && info.right.body._tag === 'KernelInfoReply')
    const outside = await fetch(`${url}/children`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ supervisor: '/root/miners', spec: { kind: 'actor', id: 'evil', behaviour: { module: '/tmp/evil.ts' }, placement: 'worker' } }),
    })
    assert.equal(outside.status, 400)
    assert.equal(((await outside.json()) as { error: string }).error, 'InvalidSpec')

    // based generate --encrypted: every dense product runs on the cluster's miner as ciphertexts; same text as int8.
    const gen = (...extra: string[]): Promise<{ code: number | null; out: string; err: string }> =>
      new Promise((resolve) => {
        const g = spawn(process.execPath, [based, 'generate', 'The economy of', '--tokens', '4', '--temperature', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
        let o = ''
        let e = ''
        g.stdout.on('data', (d: Buffer) => (o += d.toString()))
        g.stderr.on('data', (d: Buffer) => (e += d.toString()))
        g.on('exit', (code) => resolve({ code, out: o, err: e }))
      })
    const enc = await gen('--encrypted', '--control', url, '--data-dir', dataDir)
    assert.equal(enc.code, 0, enc.err)
    assert.match(enc.err, /encrypted products/)
    const int8 = await gen('--int8')
    assert.equal(enc.out, int8.out)

    child.kill('SIGINT')
    assert.equal(await exited, 0)
    assert.match(out, /stopped cleanly/)
    const stops = [...err.matchAll(/stopped\s+(\S+)/g)].map((m) => m[1])
    assert.deepEqual(stops.slice(0, 3), ['/root/control', '/root/net', '/root/validators/validator-1'])
    assert.ok(stops.indexOf('/root/miners/gpu-1') < stops.indexOf('/root/miners/miner-1'), 'the attached worker (started last) stops first')
    assert.equal(stops.at(-1), '/root/ledger', 'the first child started is the last stopped')
    assert.ok(!fs.existsSync(path.join(dataDir, 'control.json')), 'control.json removed on stop')
  } finally {
    child.kill('SIGKILL')
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})

test('based inspect mailboxes without a running cluster says how to start one', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-cli-'))
  const child = spawn(process.execPath, [based, 'inspect', 'mailboxes', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  assert.equal(code, 1)
  const lines = err.trim().split('\n')
  assert.equal(lines.length, 1, err)
  const m = /^based: (\w+) (\{.*\})$/.exec(lines[0] ?? '')
  assert.ok(m, err)
  assert.equal(m[1], 'NoRunningNode')
  assert.equal((JSON.parse(m[2] ?? '{}') as { reason: string }).reason, 'no-control-file')
  fs.rmSync(dataDir, { recursive: true, force: true })
})

test('clusterSpec: children built by their role definitions; a bad value is InvalidArgs naming the role and the field', () => {
  const spec = clusterSpec({ ...DEFAULT_CLUSTER, listen: [], brains: 2, miners: 2, validators: 2 }, () => undefined)
  const find = (children: readonly ChildSpecInput[], id: string): ChildSpecInput | undefined => {
    for (const c of children) {
      if (c.id === id) return c
      const inner = c.kind === 'supervisor' ? find(c.children ?? [], id) : undefined
      if (inner) return inner
    }
    return undefined
  }
  const v2 = find(spec.children ?? [], 'validator-2')
  assert.ok(v2?.kind === 'actor')
  assert.equal(v2.role, 'validator')
  assert.deepEqual([v2.args?.brain, v2.args?.brainActor, v2.args?.miners], [2, '/root/brains/brain-2', ['/root/miners/miner-2']])
  const b1 = find(spec.children ?? [], 'brain-1')
  assert.ok(b1?.kind === 'actor')
  assert.deepEqual([b1.args?.modelId, b1.args?.weightsHash], [shippedTask().modelId, shippedTask().weightsHash])
  assert.throws(
    () => clusterSpec({ ...DEFAULT_CLUSTER, listen: [], challengeMs: -5 }, () => undefined),
    (e: unknown) => e instanceof InvalidArgs && e.role === 'validator' && e.field === 'challengeMs',
  )
  assert.throws(
    () => clusterSpec({ ...DEFAULT_CLUSTER, listen: [], controlPort: 70_000 }, () => undefined),
    (e: unknown) => e instanceof InvalidArgs && e.role === 'control' && e.field === 'port',
  )
})
