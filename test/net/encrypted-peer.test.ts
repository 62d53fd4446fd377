import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { until } from '../support/tracker.ts'
import { ActorSystem } from '../../supervisor/index.ts'
import { RemoteRef } from '../../actors/index.ts'
import { askByDeadline, EXPIRED_GRACE_MS, Libp2pTransport, MAX_SERVED_WAIT_MS, PeerGuard, servedWaitMs, serveGuarded, withRequestDeadlines } from '../../net/index.ts'
import type { ActorRef, AskOptions } from '../../supervisor/runtime.ts'
import { EncryptedSession } from '../../gateway/index.ts'
import { forward, forwardAsync, int8Linear, loadShippedModel } from '../../model/index.ts'
import { MinerRejection, type EncryptedLinear } from '../../protocol/index.ts'
import { rejectedWith } from '../support/rejection.ts'

const miner = new URL('../../actors/miner.ts', import.meta.url).href
const brain = new URL('../../actors/brain.ts', import.meta.url).href
const slow = new URL('../support/slow.ts', import.meta.url).href

// About 10 s on this loaded 2-core machine (one encrypted forward pass of the shipped model); the limit is far below
// the runner's. The system and both libp2p nodes are closed after the test however it ends.
test('encrypted queries over libp2p: Route and every product through a peer, logits equal to the local int8 path; deadlines honoured on both sides', { timeout: 60_000 }, async (t) => {
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      {
        kind: 'supervisor', id: 'miners', children: [
          { kind: 'actor', id: 'miner-1', behaviour: { module: miner }, placement: 'worker', mailbox: { capacity: 64 } },
          { kind: 'actor', id: 'slow-1', behaviour: { module: slow }, args: { delayMs: 2000 } },
        ],
      },
      { kind: 'supervisor', id: 'brains', children: [{ kind: 'actor', id: 'brain-1', behaviour: { module: brain }, args: { miners: ['/root/miners/miner-1'] } }] },
    ],
  })
  t.after(() => sys.shutdown())
  const server = await Libp2pTransport.create()
  t.after(() => server.close())
  const client = await Libp2pTransport.create({ listen: [] })
  t.after(() => client.close())
  serveGuarded(server, withRequestDeadlines((a) => sys.lookup(a)), new PeerGuard())
  const peer = server.addresses()[0] ?? ''

  // The Brain assigns the miner, over the peer link.
  const routed = await new RemoteRef(client, peer, '/root/brains/brain-1').ask({ _tag: 'Route' })
  assert.equal(routed.miner, '/root/miners/miner-1')
  const minerRef = new RemoteRef(client, peer, routed.miner)

  const { model, tokenizer } = loadShippedModel()
  const sent: (typeof EncryptedLinear.Type)[] = []
  const session = new EncryptedSession({
    model, modelId: 'factbook-gpt', timeoutMs: 60_000,
    ask: (m) => {
      sent.push(m)
      return askByDeadline(minerRef, m)
    },
  })
  const tokens = tokenizer.encode('The economy of')
  const before = Date.now()
  const encrypted = await forwardAsync(model, tokens, { linear: session.linear, lastOnly: true })
  const plain = forward(model, tokens, { linear: int8Linear(), lastOnly: true })
  assert.deepEqual(encrypted, plain, 'same logits as the local int8 path, bit for bit')
  const products = 4 * model.config.nLayer
  assert.equal(session.stats.products, products)
  assert.equal(sent.length, products)
  for (const m of sent) {
    assert.ok(m.deadline !== undefined && m.deadline >= before + 60_000 && m.deadline <= Date.now() + 60_000, 'each request carries the client\'s deadline')
  }
  const status = await minerRef.ask({ _tag: 'GetStatus' })
  assert.equal(status.detail.encryptedProducts, products)

  // A request whose deadline has passed is refused before any work: typed, and the product counter does not move.
  const good = sent[0]!
  await assert.rejects(minerRef.ask({ ...good, deadline: Date.now() - 1 }, { timeoutMs: 30_000 }), rejectedWith(MinerRejection, 'DeadlineExceeded'))
  await assert.rejects(askByDeadline(minerRef, { ...good, deadline: Date.now() - 1 }), { _tag: 'AskTimeout' }, 'the client does not even send it')
  assert.equal((await minerRef.ask({ _tag: 'GetStatus' })).detail.encryptedProducts, products)
  // The same request with a live deadline is served (the refusal was the deadline, nothing else).
  const again = await minerRef.ask({ ...good, deadline: Date.now() + 60_000 }, { timeoutMs: 60_000 })
  assert.equal(again._tag, 'EncryptedLinearReply')
  assert.equal((await minerRef.ask({ _tag: 'GetStatus' })).detail.encryptedProducts, products + 1)

  // Client side: the ask ends at the deadline with a typed AskTimeout, though the actor (2 s per message) is slower.
  const slowRef = new RemoteRef(client, peer, '/root/miners/slow-1')
  const t0 = Date.now()
  await assert.rejects(askByDeadline(slowRef, { _tag: 'Ping' }, Date.now() + 300), { _tag: 'AskTimeout' })
  const waited = Date.now() - t0
  assert.ok(waited >= 290 && waited < 1500, `waited ${waited} ms for a 300 ms deadline`)
})

test('a served request is waited for until its deadline (not the default 5 s), within bounds; one without a deadline keeps its options', () => {
  const seen: (AskOptions | undefined)[] = []
  const inner: ActorRef = {
    address: '/root/miners/miner-1',
    tell: () => undefined,
    send: async () => undefined,
    ask: async (_msg, opts) => {
      seen.push(opts)
      return { _tag: 'Ack' } as never
    },
    askBytes: async (frame) => frame,
  }
  const ref = withRequestDeadlines((a) => (a === inner.address ? inner : undefined))(inner.address)!
  assert.equal(withRequestDeadlines(() => undefined)('/root/nobody'), undefined)
  const msg = (deadline?: number): typeof EncryptedLinear.Type => ({
    _tag: 'EncryptedLinear', model: 'factbook-gpt', layer: 0, site: 'proj', preset: 'bfv4096Linear',
    plan: { dIn: 1, dOut: 1, tokens: 1, ni: 1, mt: 1, no: 1 }, inputs: [], ...(deadline !== undefined ? { deadline } : {}),
  })
  const now = Date.now()
  void ref.ask(msg(now + 30_000))
  void ref.ask(msg(now - 5_000))
  void ref.ask(msg(now + 10 * 3_600_000))
  void ref.ask(msg(), { timeoutMs: 1234 })
  const waits = seen.map((o) => o?.timeoutMs)
  assert.ok(waits[0]! > 29_000 && waits[0]! <= 30_000, `waited ${waits[0]} for a 30 s deadline`)
  assert.equal(waits[1], EXPIRED_GRACE_MS, 'an expired request gets the grace to be refused')
  assert.equal(waits[2], MAX_SERVED_WAIT_MS, 'a far deadline is capped')
  assert.equal(waits[3], 1234, 'no deadline: the caller\'s options unchanged')
  assert.equal(servedWaitMs({ _tag: 'Ping' }), undefined)
})

const based = new URL('../../cli/based.ts', import.meta.url).pathname

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [based, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    c.stdout.on('data', (d: Buffer) => (out += d.toString()))
    c.stderr.on('data', (d: Buffer) => (err += d.toString()))
    c.on('exit', (code) => resolve({ code, out, err }))
  })
}

// About 20 s here (a cluster with one Brain and one miner, two short generations). The control endpoint given to the
// client does not exist, so every request of the encrypted generation went over the peer link.
test('based generate --encrypted --peer: the same tokens as the local int8 path, no control endpoint; a deadline too short is an AskTimeout', { timeout: 120_000 }, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-encpeer-'))
  const node = spawn(process.execPath, [based, 'cluster', 'up', '--brains', '1', '--miners', '1', '--validators', '0', '--control-port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  node.stdout.on('data', (d: Buffer) => (out += d.toString()))
  t.after(() => {
    node.kill('SIGKILL')
    fs.rmSync(dataDir, { recursive: true, force: true })
  })
  await until(() => /libp2p: \/ip4\/\S+/.test(out) && out.includes('control: http://'), 90_000, 'cluster up')
  const peer = /libp2p: (\/ip4\/\S+)/.exec(out)?.[1] ?? ''
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'based-encpeer-client-'))
  t.after(() => fs.rmSync(elsewhere, { recursive: true, force: true }))
  const common = ['The economy of', '--tokens', '3', '--temperature', '0']
  const [viaPeer, local] = await Promise.all([
    run(['generate', ...common, '--encrypted', '--peer', peer, '--data-dir', elsewhere, '--control', 'http://127.0.0.1:1']),
    run(['generate', ...common, '--int8']),
  ])
  assert.equal(viaPeer.code, 0, viaPeer.err)
  assert.equal(local.code, 0, local.err)
  assert.equal(viaPeer.out, local.out, 'the same text as the local int8 path')
  assert.match(viaPeer.err, /[1-9]\d* encrypted products/)
  const late = await run(['generate', 'x', '--tokens', '1', '--encrypted', '--peer', peer, '--timeout', '1', '--data-dir', elsewhere])
  assert.notEqual(late.code, 0)
  assert.match(late.err, /^based: AskTimeout/m)
  const paying = await run(['generate', 'x', '--encrypted', '--peer', peer, '--pay', 'alice', '--data-dir', elsewhere])
  assert.notEqual(paying.code, 0)
  assert.match(paying.err, /^based: InvalidArgumentError/m)
})
