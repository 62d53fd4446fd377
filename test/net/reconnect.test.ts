/**
 * Reconnection with backoff (net/libp2p-transport.ts, REDIAL): a peer process serving an actor is killed; an ask to
 * it fails quickly with the typed PeerUnreachable (never a hang), and again at once while the link is down; the
 * same peer restarted on the same address with the same identity is redialled by the transport on its own, within
 * the backoff cap, and asks succeed again — nothing restarted on the asking side. Also: the backoff schedule.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { RemoteRef } from '../../actors/index.ts'
import { Libp2pTransport, REDIAL, redialDelay } from '../../net/libp2p-transport.ts'

const PEER = new URL('./reconnect-peer.ts', import.meta.url).pathname
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0))
    })
  })
}

/** Starts the peer process; resolves with it and the address it printed. */
async function startPeer(dir: string, port: number): Promise<{ child: ChildProcess; addr: string }> {
  const child = spawn(process.execPath, [PEER, dir, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const addr = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('\n')) resolve(out.trim())
    })
    child.once('exit', (c) => reject(new Error(`peer exited ${c}`)))
  })
  return { child, addr }
}

const killed = (c: ChildProcess): Promise<void> => new Promise((resolve) => {
  if (c.exitCode !== null || c.signalCode !== null) return resolve()
  c.once('exit', () => resolve())
  c.kill('SIGKILL')
})

test('the redial backoff doubles from 250 ms up to its cap, jittered by ±20 %', () => {
  assert.equal(redialDelay(0, 0.5), REDIAL.baseMs)
  assert.equal(redialDelay(1, 0.5), 2 * REDIAL.baseMs)
  assert.equal(redialDelay(3, 0.5), 8 * REDIAL.baseMs)
  assert.equal(redialDelay(20, 0.5), REDIAL.capMs, 'capped')
  assert.equal(redialDelay(1000, 0.5), REDIAL.capMs, 'no overflow')
  assert.equal(redialDelay(0, 0), Math.round(REDIAL.baseMs * (1 - REDIAL.jitter)))
  assert.equal(redialDelay(20, 0.999999), Math.round(REDIAL.capMs * (1 + REDIAL.jitter)))
  for (let f = 0; f < 40; f++) {
    const d = redialDelay(f)
    assert.ok(d >= REDIAL.baseMs * (1 - REDIAL.jitter) && d <= REDIAL.capMs * (1 + REDIAL.jitter), `attempt ${f}: ${d} ms`)
  }
})

test('a killed peer: asks fail fast with PeerUnreachable; restarted on the same address and identity, it is redialled and asked again', { timeout: 90_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconnect-'))
  const port = await freePort()
  let peer = await startPeer(dir, port)
  const client = await Libp2pTransport.create({ listen: [] })
  t.after(async () => {
    await client.close()
    await killed(peer.child)
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const brain = new RemoteRef(client, peer.addr, '/root/brain-1')
  assert.equal((await brain.ask({ _tag: 'Ping' }))._tag, 'Pong')
  const id = peer.addr.slice(peer.addr.lastIndexOf('/p2p/') + 5)
  assert.ok(client.linkStates().some((l) => l.peer === id && l.up), 'a peer reached by its multiaddr is a kept link')

  await killed(peer.child)
  // the connection's loss is noticed (the socket closes), the link goes down
  for (let i = 0; i < 40 && client.connectedPeers().includes(id); i++) await sleep(50)
  let t0 = performance.now()
  await assert.rejects(brain.ask({ _tag: 'Ping' }, { timeoutMs: 30_000 }), { _tag: 'PeerUnreachable' })
  const firstMs = performance.now() - t0
  assert.ok(firstMs < 3000, `an ask to a dead peer fails in ${firstMs.toFixed(0)} ms, far below its 30 s deadline`)
  // more asks while it is down: each fails fast too
  for (let i = 0; i < 5; i++) {
    t0 = performance.now()
    await assert.rejects(brain.ask({ _tag: 'Ping' }, { timeoutMs: 30_000 }), { _tag: 'PeerUnreachable' })
    assert.ok(performance.now() - t0 < 3000)
  }
  await sleep(3 * REDIAL.baseMs)
  const down = client.linkStates().find((l) => l.peer === id)
  assert.ok(down && !down.up, 'the link is down')
  assert.ok(client.redials >= 1, 'and redialled with backoff meanwhile')

  // the same peer comes back: the transport redials it by itself, within the backoff cap
  const failuresBefore = down.failures
  peer = await startPeer(dir, port)
  assert.equal(peer.addr, `/ip4/127.0.0.1/tcp/${port}/p2p/${id}`, 'same address, same identity')
  const back = performance.now()
  const limit = REDIAL.capMs * (1 + REDIAL.jitter) + REDIAL.dialTimeoutMs + 2000
  while (!client.connectedPeers().includes(id) && performance.now() - back < limit) await sleep(50)
  const reconnectMs = performance.now() - back
  assert.ok(client.connectedPeers().includes(id), `redialled within ${limit} ms`)
  assert.equal((await brain.ask({ _tag: 'Ping' }))._tag, 'Pong', 'asks go through again, nothing restarted')
  assert.ok(client.linkStates().find((l) => l.peer === id)?.up)
  process.stderr.write(`reconnect: first failed ask ${firstMs.toFixed(0)} ms; ${failuresBefore} failed redials while down; reconnected ${reconnectMs.toFixed(0)} ms after the peer was back (${client.redials} redials in all)\n`)
})

test('a peer that keeps closing the link soon after it comes up is redialled with growing waits, not at once each time', { timeout: 60_000 }, async () => {
  const a = await Libp2pTransport.create()
  const b = await Libp2pTransport.create()
  try {
    const addrB = b.addresses()[0] as string
    a.keep(addrB)
    const link = (): { up: boolean; failures: number } => a.linkStates().find((l) => l.peer === b.peerId) ?? { up: false, failures: -1 }
    const waitUp = async (): Promise<void> => {
      // up on both sides (B's end of a new connection may lag A's)
      for (let i = 0; i < 200 && !(link().up && b.connectedPeers().includes(a.peerId)); i++) await sleep(50)
      assert.ok(link().up && b.connectedPeers().includes(a.peerId), 'the link came up')
    }
    await waitUp()
    // B drops A three times, each within REDIAL.stableMs of the link coming up
    const failures: number[] = []
    for (let k = 0; k < 3; k++) {
      await b.hangUp(a.peerId)
      for (let i = 0; i < 200 && link().up; i++) await sleep(25)
      assert.equal(link().up, false, `drop ${k + 1} seen`)
      failures.push(link().failures)
      await waitUp()
    }
    assert.deepEqual(failures, [1, 2, 3], 'each quick drop counts as a failure, so the next redial waits longer')
    assert.ok(redialDelay(3, 0.5) > redialDelay(0, 0.5) * 4)
  } finally {
    await a.close()
    await b.close()
  }
})
