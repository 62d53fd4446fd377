import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LoopbackNetwork, RemoteRef, serveActors } from '../../actors/index.ts'
import { ActorSystem } from '../../supervisor/index.ts'
import { tracker, until } from '../support/tracker.ts'

const basic = new URL('../../actors/basic.ts', import.meta.url).href

test('a RemoteRef reaches an actor on another peer through a Transport, with typed errors', { timeout: 30_000 }, async (t) => {
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      { kind: 'actor', id: 'brain-1', behaviour: { module: basic }, mailbox: { capacity: 8 } },
      { kind: 'actor', id: 'done', behaviour: tracker('done', []), restart: 'transient' },
    ],
  })
  t.after(() => sys.shutdown())
  const net = new LoopbackNetwork()
  const server = net.transport('peer-A')
  serveActors(server, (a) => sys.lookup(a))
  const client = net.transport('peer-B')
  const remote = new RemoteRef(client, 'peer-A', '/root/brain-1')
  const pong = await remote.ask({ _tag: 'Ping' })
  assert.equal(pong.from, '/root/brain-1')
  const echo = await remote.ask({ _tag: 'Echo', payload: new Uint8Array([9, 8, 7]) })
  assert.deepEqual([...(echo.payload as Uint8Array)], [9, 8, 7])
  for (let i = 0; i < 5; i++) await remote.send({ _tag: 'Probe', sender: 'B', seq: i })
  const report = await remote.ask({ _tag: 'GetProbeReport' })
  assert.deepEqual(report.senders.B, { received: 5, lastSeq: 4, outOfOrder: 0, duplicates: 0 })
  await assert.rejects(new RemoteRef(client, 'peer-A', '/root/nobody').ask({ _tag: 'Ping' }), { _tag: 'UnknownActor' })
  await assert.rejects(remote.ask({ _tag: 'Fault', mode: 'throw' }), { _tag: 'UnsupportedMessage' })
  await assert.rejects(new RemoteRef(client, 'peer-C', '/root/brain-1').ask({ _tag: 'Ping' }), { _tag: 'UnknownActor' })
  // A stopped actor's refusal crosses the transport with its decision (a transient child that exited cleanly).
  const done = new RemoteRef(client, 'peer-A', '/root/done')
  await done.ask({ _tag: 'Echo', payload: 'stop-normal' })
  await until(() => sys.stats().find((r) => r.address === '/root/done')?.state === 'stopped', 5_000, 'done stopped')
  await assert.rejects(done.ask({ _tag: 'Ping' }), { _tag: 'ActorStopped', actor: '/root/done', decision: 'not_restarted', by: '/root' })
  await assert.rejects(done.send({ _tag: 'Ping' }), { _tag: 'ActorStopped', decision: 'not_restarted' })
})
