import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Either } from 'effect'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { RemoteRef } from '../../actors/index.ts'
import { ActorSystem } from '../../supervisor/index.ts'
import { ACTOR_PROTOCOL, Libp2pTransport, PeerGuard, serveGuarded } from '../../net/index.ts'
import { decodeFrame, encodeFrame, MAX_FRAME_BYTES, PROTOCOL_VERSION } from '../../protocol/index.ts'

const FLOOD = Number(process.env.GUARD_FLOOD ?? 10_000)
const basic = new URL('../../actors/basic.ts', import.meta.url).href

describe('peer guard (unit, fake clock)', { timeout: 30_000 }, () => {
  test('rate, concurrency, strikes and bans', () => {
    let now = 0
    const banned: string[] = []
    const g = new PeerGuard({ limits: { ratePerSecond: 10, burst: 5, maxConcurrent: 3, strikeLimit: 4, banMs: 1000 }, onBan: (p) => banned.push(p), now: () => now })
    const held = [g.admit('a', 'Ping'), g.admit('a', 'Ping'), g.admit('a', 'Ping')]
    assert.ok(held.every((h) => h.ok))
    const over = g.admit('a', 'Ping')
    assert.ok(!over.ok && over.error._tag === 'RateLimited' && over.error.limit === 'concurrent_requests')
    for (const h of held) if (h.ok) h.release()
    const r4 = g.admit('a', 'Ping')
    const r5 = g.admit('a', 'Ping')
    assert.ok(r4.ok && r5.ok)
    r4.release()
    r5.release()
    const fast = g.admit('a', 'Ping') // burst of 5 spent
    assert.ok(!fast.ok && fast.error._tag === 'RateLimited' && fast.error.limit === 'requests_per_second')
    now += 200 // 2 tokens back
    assert.ok(g.admit('a', 'Ping').ok)
    assert.ok(g.admit('b', 'Ping').ok, 'another peer has its own budget')
    // policy
    assert.equal(g.authorize('a', '/root/brains/brain-1', 'Ping'), undefined)
    assert.equal(g.authorize('a', '/root/miners/miner-1', 'Fault')?.reason, 'local_only')
    assert.equal(g.authorize('a', '/root/ledger/writer', 'ProduceBlock')?.reason, 'local_only')
    assert.equal(g.authorize('a', '/root/control', 'GetStatus')?.reason, 'not_served')
    assert.equal(g.authorize('a', '/root/validators/validator-1', 'SubmitWeights')?.reason, 'not_participant')
    // strikes → one ban, refused while banned, served again after it
    for (let i = 0; i < 6; i++) g.strike('c')
    assert.deepEqual(banned, ['c'])
    assert.ok(g.isBanned('c'))
    const b = g.admit('c', 'Ping')
    assert.ok(!b.ok && b.error._tag === 'Forbidden' && b.error.reason === 'banned')
    now += 1001
    assert.ok(!g.isBanned('c'))
  })
})

describe('guarded surface over libp2p', { timeout: 240_000 }, () => {
  test('local-only kinds and unserved addresses are Forbidden and change nothing; 10,000 malformed frames: typed errors, others served, sender cut off', async (t) => {
    const sys = await ActorSystem.start({
      kind: 'supervisor',
      id: 'root',
      children: [
        { kind: 'supervisor', id: 'brains', children: [{ kind: 'actor', id: 'brain-1', behaviour: { module: basic } }] },
        { kind: 'supervisor', id: 'miners', children: [{ kind: 'actor', id: 'miner-1', behaviour: { module: basic } }] },
      ],
    })
    const holder: { server?: Libp2pTransport } = {}
    const guard = new PeerGuard({ limits: { strikeLimit: FLOOD, ratePerSecond: 100_000, burst: 100_000 }, onBan: (p) => setTimeout(() => void holder.server?.hangUp(p), 50) })
    const server = await Libp2pTransport.create({ deny: (p) => guard.isBanned(p) })
    holder.server = server
    const good = await Libp2pTransport.create({ listen: [] })
    const bad = await Libp2pTransport.create({ listen: [] })
    // On a timeout the test body is abandoned, not unwound (its finally would wait for the flood): close everything here.
    t.after(async () => {
      await Promise.allSettled([good.close(), bad.close(), server.close()])
      await sys.shutdown()
    })
    try {
      serveGuarded(server, (a) => sys.lookup(a), guard)
      const addr = server.addresses()[0]!
      const brain = new RemoteRef(good, addr, '/root/brains/brain-1')
      const miner = new RemoteRef(good, addr, '/root/miners/miner-1')
      assert.equal((await brain.ask({ _tag: 'Ping' }))._tag, 'Pong')
      const before = await miner.ask({ _tag: 'GetStatus' })
      await assert.rejects(miner.ask({ _tag: 'Fault', mode: 'throw' }), { _tag: 'Forbidden', reason: 'local_only' })
      await assert.rejects(miner.send({ _tag: 'Fault', mode: 'exit' }), { _tag: 'Forbidden', reason: 'local_only' })
      await assert.rejects(new RemoteRef(good, addr, '/root/ledger/writer').ask({ _tag: 'ProduceBlock' }), { _tag: 'Forbidden' })
      await assert.rejects(new RemoteRef(good, addr, '/root/brains/nobody').ask({ _tag: 'Ping' }), { _tag: 'Forbidden', reason: 'not_served' })
      await assert.rejects(new RemoteRef(good, addr, '/root').ask({ _tag: 'GetStatus' }), { _tag: 'Forbidden', reason: 'not_served' })
      const after = await miner.ask({ _tag: 'GetStatus' })
      // nothing was delivered: the miner handled exactly the one GetStatus in between, and never restarted
      assert.equal(Number(after.detail.handled), Number(before.detail.handled) + 1)
      assert.equal(sys.stats().find((x) => x.address === '/root/miners/miner-1')?.restarts, 0)

      // A flood of malformed frames from one peer while another keeps asking
      let typed = 0
      let served = 0
      let stop = false
      const pinger = (async () => {
        while (!stop) {
          assert.equal((await brain.ask({ _tag: 'Ping' }))._tag, 'Pong')
          served++
          await new Promise((r) => setTimeout(r, 20))
        }
      })()
      const garbage = new Uint8Array([0xc1, 0xff, 0x00, 0x13])
      let sent = 0
      const worker = async (): Promise<void> => {
        while (sent < FLOOD) {
          sent++
          const answer = decodeFrame(await bad.request(addr, garbage))
          if (Either.isRight(answer) && answer.right._tag === 'Fail' && answer.right.error._tag === 'DecodeError') typed++
        }
      }
      try {
        await Promise.all(Array.from({ length: 8 }, worker))
      } finally {
        stop = true
        await pinger
      }
      assert.equal(typed, FLOOD)
      assert.ok(served > 0)
      assert.ok(guard.isBanned(bad.peerId))
      // the sender is cut off: its connections are refused from now on; the good peer is still served
      await new Promise((r) => setTimeout(r, 200))
      await assert.rejects(bad.request(addr, garbage, { timeoutMs: 3000 }), { _tag: 'PeerUnreachable' })
      assert.equal((await brain.ask({ _tag: 'Ping' }))._tag, 'Pong')
    } finally {
      await Promise.allSettled([good.close(), bad.close(), server.close()])
      await sys.shutdown()
    }
  })

  test('frames at exactly MAX_FRAME_BYTES pass both ways; one byte more is a typed FrameTooLarge both ways', async (t) => {
    const server = await Libp2pTransport.create()
    const client = await Libp2pTransport.create({ listen: [] })
    t.after(() => Promise.allSettled([client.close(), server.close()]).then(() => undefined))
    try {
      const addr = server.addresses()[0]!
      let answerSize = MAX_FRAME_BYTES
      server.handle(async (frame) => {
        const out = new Uint8Array(answerSize)
        out[0] = frame.length & 0xff
        return out
      })
      // request at the limit, answer at the limit: delivered intact
      const atLimit = new Uint8Array(MAX_FRAME_BYTES)
      const ans = await client.request(addr, atLimit, { timeoutMs: 60_000 })
      assert.equal(ans.length, MAX_FRAME_BYTES)
      // a request one byte over is refused before it is sent
      await assert.rejects(client.request(addr, new Uint8Array(MAX_FRAME_BYTES + 1)), { _tag: 'FrameTooLarge' })
      // an answer one byte over is replaced by a typed Fail
      answerSize = MAX_FRAME_BYTES + 1
      const over = decodeFrame(await client.request(addr, new Uint8Array(10), { timeoutMs: 60_000 }))
      assert.ok(Either.isRight(over) && over.right._tag === 'Fail' && over.right.error._tag === 'FrameTooLarge')
      // a hostile client that bypasses the check: the server answers FrameTooLarge instead of resetting
      answerSize = 16
      const stream = await client.node.dialProtocol(multiaddr(addr), ACTOR_PROTOCOL)
      const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES * 2, maxBufferSize: MAX_FRAME_BYTES * 2 })
      void lp.write(new Uint8Array(MAX_FRAME_BYTES + 1)).catch(() => undefined)
      const refusal = decodeFrame((await lp.read()).subarray())
      assert.ok(Either.isRight(refusal) && refusal.right._tag === 'Fail' && refusal.right.error._tag === 'FrameTooLarge')
      stream.abort(new Error('done'))
      // and keeps serving
      assert.equal((await client.request(addr, new Uint8Array(3), { timeoutMs: 10_000 })).length, 16)
      // a malformed frame of 5 MiB (within the limit) is answered, not reset
      const big = encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: '/x', id: 1, body: { _tag: 'Echo', payload: new Uint8Array(10) } })
      assert.ok(big.length < 100)
    } finally {
      await Promise.allSettled([client.close(), server.close()])
    }
  })

  test('standard peers can identify and ping the node', async (t) => {
    const a = await Libp2pTransport.create()
    const b = await Libp2pTransport.create()
    t.after(() => Promise.allSettled([a.close(), b.close()]).then(() => undefined))
    try {
      const ma = multiaddr(a.addresses()[0]!)
      await b.node.dial(ma)
      const rtt = await (b.node.services as { ping: { ping(ma: ReturnType<typeof multiaddr>): Promise<number> } }).ping.ping(ma)
      assert.ok(rtt >= 0)
      await new Promise((r) => setTimeout(r, 300))
      const peer = await b.node.peerStore.get(a.node.peerId)
      assert.ok(peer.protocols.includes(ACTOR_PROTOCOL), JSON.stringify(peer.protocols))
    } finally {
      await Promise.allSettled([a.close(), b.close()])
    }
  })
})
