import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Either } from 'effect'
import { RemoteRef, serveActors } from '../../actors/index.ts'
import { ActorSystem } from '../../supervisor/index.ts'
import { Libp2pTransport } from '../../net/index.ts'
import { decodeFrame } from '../../protocol/index.ts'

const basic = new URL('../../actors/basic.ts', import.meta.url).href

// The test takes ~1 s on this loaded 2-core machine; its limit is far below the runner's 300 s. The system and each
// node are shut down after the test however it ends (a failure or a timeout included), each as soon as it exists.
test('libp2p transport on loopback: remote asks, typed errors, malformed frames, unreachable peers', { timeout: 30_000 }, async (t) => {
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [{ kind: 'actor', id: 'brain-1', behaviour: { module: basic } }],
  })
  t.after(() => sys.shutdown())
  const server = await Libp2pTransport.create()
  t.after(() => server.close())
  const client = await Libp2pTransport.create({ listen: [] })
  t.after(() => client.close())
  serveActors(server, (a) => sys.lookup(a))
  const addr = server.addresses()[0]
  assert.ok(addr && addr.includes('/p2p/'), addr)
  const brain = new RemoteRef(client, addr, '/root/brain-1')
  const pong = await brain.ask({ _tag: 'Ping' })
  assert.equal(pong.from, '/root/brain-1')
  const echo = await brain.ask({ _tag: 'Echo', payload: new Uint8Array(100_000).fill(7) })
  assert.equal((echo.payload as Uint8Array).length, 100_000)
  for (let i = 0; i < 20; i++) await brain.send({ _tag: 'Probe', sender: client.peerId, seq: i })
  const report = await brain.ask({ _tag: 'GetProbeReport' })
  assert.deepEqual(report.senders[client.peerId], { received: 20, lastSeq: 19, outOfOrder: 0, duplicates: 0 })
  // Addressing by peer id once connected.
  assert.equal((await new RemoteRef(client, server.peerId, '/root/brain-1').ask({ _tag: 'Ping' }))._tag, 'Pong')
  await assert.rejects(new RemoteRef(client, addr, '/root/nobody').ask({ _tag: 'Ping' }), { _tag: 'UnknownActor' })
  // Raw garbage over the wire gets a typed Fail frame back; the server keeps serving.
  const answer = decodeFrame(await client.request(addr, new Uint8Array([0xc1, 0xff, 0x00])))
  assert.ok(Either.isRight(answer) && answer.right._tag === 'Fail' && answer.right.error._tag === 'DecodeError')
  assert.equal((await brain.ask({ _tag: 'Ping' }))._tag, 'Pong')
  await assert.rejects(client.request('not-a-peer', new Uint8Array([1])), { _tag: 'BadPeerAddress' })
  await assert.rejects(client.request('/ip4/127.0.0.1/tcp/1', new Uint8Array([1])), { _tag: 'BadPeerAddress' })
  const gone = await Libp2pTransport.create()
  const unreachable = gone.addresses()[0] ?? ''
  await gone.close()
  await assert.rejects(client.request(unreachable, new Uint8Array([1]), { timeoutMs: 3000 }), { _tag: 'PeerUnreachable' })
})
