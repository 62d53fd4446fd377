/**
 * Worker-thread actors reach the other actors of their tree through `ctx.lookup`, as main-thread actors do: the
 * frame goes to the WorkerCell, which finds the addressee in the registry and posts the answer back. (This is how a
 * miner in its own thread finds a GPU kernel worker attached later.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ActorSystem } from '../../supervisor/index.ts'
import { UnknownActor } from '../../protocol/index.ts'
import { basicBehaviour } from '../../actors/basic.ts'
import { erase } from '../../actors/index.ts'

const relay = new URL('../support/relay.ts', import.meta.url).href

test('a worker-thread actor asks a main-thread actor and a worker-thread actor of its tree; unknown addresses fail typed', { timeout: 60_000 }, async (t) => {
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      { kind: 'actor', id: 'main-echo', behaviour: erase(basicBehaviour()) },
      { kind: 'actor', id: 'worker-echo', behaviour: { module: new URL('../support/slow.ts', import.meta.url).href }, placement: 'worker', args: { delayMs: 0 } },
      { kind: 'actor', id: 'to-main', behaviour: { module: relay }, placement: 'worker', args: { target: '/root/main-echo' } },
      { kind: 'actor', id: 'to-worker', behaviour: { module: relay }, placement: 'worker', args: { target: '/root/worker-echo' } },
      { kind: 'actor', id: 'to-nowhere', behaviour: { module: relay }, placement: 'worker', args: { target: '/root/nobody' } },
      { kind: 'actor', id: 'chain', behaviour: { module: relay }, placement: 'worker', args: { target: '/root/to-main' } },
    ],
  })
  t.after(() => sys.shutdown())
  assert.equal((await sys.ref('/root/to-main').ask({ _tag: 'Echo', payload: 'hi' })).payload, '/root/to-main ← hi')
  assert.equal((await sys.ref('/root/to-worker').ask({ _tag: 'Echo', payload: 'hi' })).payload, '/root/to-worker ← hi')
  // Two hops, thread → thread → main thread, and many in flight at once.
  const many = await Promise.all(Array.from({ length: 50 }, (_, i) => sys.ref('/root/chain').ask({ _tag: 'Echo', payload: `m${i}` })))
  assert.deepEqual(many.map((r) => r.payload), Array.from({ length: 50 }, (_, i) => `/root/chain ← /root/to-main ← m${i}`))
  const bytes = new Uint8Array([1, 2, 3])
  assert.deepEqual((await sys.ref('/root/to-worker').ask({ _tag: 'Echo', payload: bytes })).payload, bytes)
  await assert.rejects(sys.ref('/root/to-nowhere').ask({ _tag: 'Echo', payload: 'x' }), (e: unknown) => e instanceof UnknownActor && e.address === '/root/nobody')
  // The relays kept running through all of it.
  assert.ok(sys.stats().every((s) => s.restarts === 0 && s.state === 'running'))
})
