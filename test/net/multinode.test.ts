/**
 * Many machines, one chain: 4 validator nodes as separate processes on loopback (`based network local`), each with its
 * own data dir, control endpoint and libp2p node, agreeing on every block (actors/bft-node.ts).
 *
 * - transactions submitted at different nodes end in the same finalized blocks, with the same state root and
 *   certificates of > 2/3 of the stake, on every node; the supply audit passes on each;
 * - kill -9 one node (a quarter of the stake): the other three keep finalizing; restarted, it catches up (blocks and
 *   certificates fetched from peers, verified, applied) to the same chain;
 * - kill -9 two of four: finality halts, with no fork; restart one: it resumes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { askControl } from '../../actors/control/client.ts'
import { findControl } from '../../actors/control/index.ts'
import { signTx, testKeyPair, toAddress, tokens, withMinFee } from 'basedai/ledger'
import type { LocalNode } from '../../cli/network.ts'

const BASED = new URL('../../cli/based.ts', import.meta.url).pathname
const WRITER = '/root/ledger/writer'
const users = [1, 2, 3, 4].map((i) => testKeyPair(`multinode-user-${i}`))
const sink = testKeyPair('multinode-sink')

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function until<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await f()
      if (v !== undefined) return v
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await sleep(200)
  }
}

const control = (n: LocalNode): string => findControl(n.dataDir)
const head = async (n: LocalNode): Promise<{ height: number; hash: string; stateRoot: string; finalizedHeight?: number; peers?: number }> => askControl(control(n), WRITER, { _tag: 'GetHead' }, 3000)
const block = async (n: LocalNode, height: number) => askControl(control(n), WRITER, { _tag: 'GetBlock', height }, 3000)

test('4 validators on loopback: one chain; kill -9 one and it keeps finalizing, restarted it catches up; 2 of 4 down halts without a fork', { timeout: 240_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'multinode-'))
  const pids = new Set<number>()
  let network: ChildProcess | undefined
  const started = Date.now()
  const restart = (n: LocalNode): ChildProcess => {
    fs.rmSync(path.join(n.dataDir, 'control.json'), { force: true })
    const log = fs.openSync(path.join(n.dataDir, 'node.log'), 'a')
    const c = spawn(process.execPath, [...n.argv], { stdio: ['ignore', log, log] })
    fs.closeSync(log)
    if (c.pid) pids.add(c.pid)
    n.pid = c.pid ?? 0
    return c
  }
  const kill9 = (n: LocalNode): void => {
    process.kill(n.pid, 'SIGKILL')
  }
  try {
    const g = spawnSync(process.execPath, [
      BASED, 'genesis', '--nodes', '4', '--data-dir', dir, '--chain-id', 'multinode-test', '--block-ms', '200',
      ...users.flatMap((u) => ['--account', `${toAddress(u.publicKey)}:1000`]),
    ], { encoding: 'utf8' })
    assert.equal(g.status, 0, g.stderr)

    network = spawn(process.execPath, [BASED, 'network', 'local', '--nodes', '4', '--data-dir', dir, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    network.stdout?.on('data', (d: Buffer) => (out += d.toString()))
    network.stderr?.on('data', (d: Buffer) => (out += d.toString()))
    await until('network local to be ready', 120_000, async () => (out.includes('\nready') ? true : network?.exitCode !== null ? Promise.reject(new Error(out)) : undefined))
    const nodes = JSON.parse(fs.readFileSync(path.join(dir, 'nodes.json'), 'utf8')) as LocalNode[]
    for (const n of nodes) pids.add(n.pid)
    assert.equal(nodes.length, 4)
    const up = Date.now()

    // ── transactions at every node: each user sends 3 transfers through "its" node ──
    const h0 = await head(nodes[0]!)
    const info = await askControl(control(nodes[0]!), WRITER, { _tag: 'GetHead' })
    const hashes: string[] = []
    for (const [i, u] of users.entries()) {
      for (let nonce = 0n; nonce < 3n; nonce++) {
        const t = signTx(withMinFee({ chainId: 'multinode-test', from: u.publicKey, nonce, body: { kind: 'transfer', to: sink.publicKey, amount: tokens(1) } }, BigInt(info.baseFee), BigInt(info.byteFee)), u.secretKey)
        const r = await askControl(control(nodes[i]!), WRITER, { _tag: 'SubmitTx', tx: t.bytes })
        hashes.push(r.hash)
      }
    }
    // every transaction included, on every node, in the same block
    const included = await until('every transaction in a final block on every node', 60_000, async () => {
      const at = new Map<string, number>()
      for (const n of nodes) {
        for (const h of hashes) {
          const s = await askControl(control(n), WRITER, { _tag: 'GetTxStatus', hash: h }, 3000)
          if (s.status !== 'included') return undefined
          if (at.has(h)) assert.equal(s.height, at.get(h), `tx ${h.slice(0, 8)} in the same block on every node`)
          else at.set(h, s.height!)
        }
      }
      return at
    })
    const top = Math.max(...included.values())
    assert.ok(top > h0.height)
    await until('every node past the last of those blocks', 30_000, async () => ((await Promise.all(nodes.map(head))).every((h) => h.height >= top) ? true : undefined))
    for (let h = 1; h <= top; h++) {
      const bs = await Promise.all(nodes.map((n) => block(n, h)))
      for (const b of bs.slice(1)) {
        assert.equal(b.hash, bs[0]!.hash, `block ${h}: one chain`)
        assert.equal(b.stateRoot, bs[0]!.stateRoot)
      }
      for (const b of bs) {
        assert.ok(b.certificate, `block ${h} stored with its certificate`)
        assert.ok(3n * BigInt(b.certificate.power) > 2n * BigInt(b.certificate.totalPower), 'signed by > 2/3 of the stake')
        assert.ok(b.certificate.precommits.length >= 3)
      }
    }
    for (const n of nodes) {
      const a = await askControl(control(n), WRITER, { _tag: 'GetAccount', address: toAddress(sink.publicKey) })
      assert.equal(a.based, String(tokens(12)), 'every transfer applied once, on every node')
      const stats = await askControl(control(n), WRITER, { _tag: 'GetLedgerStats' })
      assert.equal(stats.supplyOk, true, 'supply audit')
      const hd = await head(n)
      assert.equal(hd.finalizedHeight, hd.height)
      assert.ok((hd.peers ?? 0) >= 1, 'connected to peers')
    }

    // ── kill -9 one node: the other three keep finalizing ──
    const [n1, n2, n3, n4] = nodes as [LocalNode, LocalNode, LocalNode, LocalNode]
    kill9(n4)
    const atKill = (await head(n1)).height
    await until('three nodes finalizing without the fourth', 40_000, async () => ((await Promise.all([n1, n2, n3].map(head))).every((h) => h.height >= atKill + 4) ? true : undefined))

    // restarted, it catches up to the same chain
    restart(n4)
    const target = (await head(n1)).height
    await until('the restarted node to catch up', 60_000, async () => ((await head(n4)).height >= target ? true : undefined))
    assert.equal((await block(n4, target)).hash, (await block(n1, target)).hash)
    assert.equal((await block(n4, target)).stateRoot, (await block(n1, target)).stateRoot)
    const st4 = await askControl(control(n4), WRITER, { _tag: 'GetStatus' })
    assert.equal(st4.detail.errors, 0, String(st4.detail.lastError))
    process.stderr.write(`multinode: node 4 was ${target - atKill} blocks behind; caught up: ${JSON.stringify({ decided: st4.detail.decided, synced: st4.detail.synced, signRefused: st4.detail.signRefused })}\n`)

    // ── kill -9 two of four: no block is final any more, and no fork ──
    kill9(n3)
    kill9(n4)
    await sleep(1500) // a block whose precommits were already out may still land
    const stalled = await Promise.all([n1, n2].map(head))
    await sleep(3000)
    const after = await Promise.all([n1, n2].map(head))
    assert.deepEqual(after.map((h) => h.height), stalled.map((h) => h.height), 'finality halts with half of the stake down')
    const common = Math.min(...after.map((h) => h.height))
    assert.equal((await block(n1, common)).hash, (await block(n2, common)).hash, 'no fork')
    // restart one: three of four again, finality resumes
    restart(n3)
    try {
      await until('finality to resume', 90_000, async () => ((await Promise.all([n1, n2].map(head))).every((h) => h.height >= common + 3) ? true : undefined))
    } catch (e) {
      const st = await Promise.all([n1, n2, n3].map((n) => askControl(control(n), WRITER, { _tag: 'GetStatus' }, 5000).then((s) => s.detail, (x: unknown) => String(x))))
      throw new Error(`${String(e)}; status ${JSON.stringify(st)}`, { cause: e })
    }
    assert.equal((await block(n1, common + 2)).hash, (await block(n2, common + 2)).hash)
    process.stderr.write(`multinode: up in ${up - started} ms, whole run ${Date.now() - started} ms\n`)
  } finally {
    if (network && network.exitCode === null) network.kill('SIGTERM')
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    if (network && network.exitCode === null) await new Promise((r) => network?.once('exit', r))
    if (process.env.MULTINODE_KEEP) process.stderr.write(`multinode: kept ${dir}\n`)
    else fs.rmSync(dir, { recursive: true, force: true })
  }
})
