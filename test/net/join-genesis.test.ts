/**
 * `based cluster up --join <A>` without `--genesis`: the node asks A for its chain spec over
 * `/basedai/genesis/1.0.0`, keeps it in its data dir (`genesis.json`, byte-identical to A's file) and follows A's
 * chain (the same block hashes); restarted, it uses the kept file. A join peer that does not answer is a typed
 * `InvalidClusterConfig` naming it, exit 1.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const BASED = new URL('../../cli/based.ts', import.meta.url).pathname
const based = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [BASED, ...args], { encoding: 'utf8', timeout: 60_000 })

/** Starts a long-running `based` and resolves with it once a stdout line matches. */
function startUntil(args: string[], line: RegExp, timeoutMs: number): Promise<{ child: ChildProcess; match: RegExpMatchArray; err: () => string }> {
  const child = spawn(process.execPath, [BASED, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${line} within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`)), timeoutMs)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const m = out.match(line)
      if (m) {
        clearTimeout(timer)
        resolve({ child, match: m, err: () => err })
      }
    })
    child.once('exit', (c) => {
      clearTimeout(timer)
      reject(new Error(`exited ${c}; stdout: ${out}; stderr: ${err}`))
    })
  })
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('exit', () => {
      clearTimeout(t)
      resolve()
    })
    child.kill('SIGINT')
  })
}

const head = (dataDir: string): { height: number; hash: string } => {
  const r = based('chain', 'head', '--json', '--data-dir', dataDir)
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as { height: number; hash: string }
}
const blockHash = (dataDir: string, n: number): string => {
  const r = based('chain', 'block', String(n), '--json', '--data-dir', dataDir)
  assert.equal(r.status, 0, r.stderr)
  return (JSON.parse(r.stdout) as { hash: string }).hash
}

test('cluster up --join A without --genesis: the genesis comes from A, is kept, and the node follows A\'s chain', { timeout: 240_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'join-genesis-'))
  const a = path.join(dir, 'a')
  const b = path.join(dir, 'b')
  let nodeA: ChildProcess | undefined
  let nodeB: ChildProcess | undefined
  try {
    const key = based('validator-key', '--data-dir', a)
    assert.equal(key.status, 0, key.stderr)
    const g = path.join(dir, 'genesis.json')
    const made = based('genesis', '--validator', `${key.stdout.trim()}:10`, '--chain-id', 'join-test', '--block-ms', '200', '--out', g)
    assert.equal(made.status, 0, made.stderr)
    const up = await startUntil(
      ['cluster', 'up', '--genesis', g, '--data-dir', a, '--control-port', '0', '--no-net', '--bft-listen', '/ip4/127.0.0.1/tcp/0'],
      /bft: validator [0-9a-f]{64} at (\S+)/, 90_000,
    )
    nodeA = up.child
    const addrA = up.match[1] as string
    assert.match(addrA, /\/p2p\/12D3KooW/)

    // a join peer that does not answer: typed refusal naming it, nothing started
    const peerId = addrA.slice(addrA.indexOf('/p2p/'))
    const dead = based('cluster', 'up', '--join', `/ip4/127.0.0.1/tcp/1${peerId}`, '--data-dir', path.join(dir, 'c'), '--control-port', '0', '--no-net', '--once')
    assert.equal(dead.status, 1, dead.stdout + dead.stderr)
    assert.match(dead.stderr, /InvalidClusterConfig/)
    assert.match(dead.stderr, /127\.0\.0\.1\/tcp\/1\//)
    assert.equal(fs.existsSync(path.join(dir, 'c', 'genesis.json')), false)

    const args = ['cluster', 'up', '--join', addrA, '--data-dir', b, '--control-port', '0', '--no-net', '--bft-listen', '/ip4/127.0.0.1/tcp/0']
    const upB = await startUntil(args, /bft: validator [0-9a-f]{64} at/, 90_000)
    nodeB = upB.child
    assert.deepEqual(fs.readFileSync(path.join(b, 'genesis.json')), fs.readFileSync(g), 'A\'s genesis, byte for byte')
    assert.match(upB.err(), /genesis: chain join-test \(1 validators\) from/)
    // B follows A: the same blocks
    const deadline = Date.now() + 90_000
    while (head(b).height < 3) {
      assert.ok(Date.now() < deadline, `B at height ${head(b).height}, A at ${head(a).height}`)
      await new Promise((r) => setTimeout(r, 500))
    }
    for (const n of [1, 2, 3]) assert.equal(blockHash(b, n), blockHash(a, n), `block ${n}`)

    // restarted, B uses the kept file (and so starts even with A gone)
    await stop(nodeB)
    await stop(nodeA)
    const again = await startUntil(args, /bft: validator [0-9a-f]{64} at/, 90_000)
    nodeB = again.child
    assert.match(again.err(), /fetched on an earlier start/)
  } finally {
    await stop(nodeB)
    await stop(nodeA)
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
