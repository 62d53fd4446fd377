import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ActorSystem } from '../../supervisor/index.ts'
import { BrainRejection, PROTOCOL_VERSION, decodeFrame, encodeFrame } from '../../protocol/index.ts'
import { rejectedWith } from '../support/rejection.ts'

const brain = new URL('../../actors/brain.ts', import.meta.url).href
const f32 = (...v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer)

/** Per-test limit, far below the runner's 300 s (each test takes under 1 s here): a failing test ends, and its system is shut down. */
const T = { timeout: 30_000 }

async function brainWith(miners: string[]): Promise<ActorSystem> {
  return ActorSystem.start({ kind: 'supervisor', id: 'root', children: [{ kind: 'actor', id: 'brain-1', behaviour: { module: brain }, args: { brainId: 1, miners } }] })
}

test('Brain routing assigns every query (the paper\'s routing never did): new miners first, then nearest mean', T, async (t) => {
  const sys = await brainWith(['/m/a', '/m/b'])
  t.after(() => sys.shutdown())
  const b = sys.ref('/root/brain-1')
  // Two fresh miners: the first two queries go one to each (least-loaded, then address order).
  assert.equal((await b.ask({ _tag: 'Route', embedding: f32(10, 0) })).miner, '/m/a')
  assert.equal((await b.ask({ _tag: 'Route', embedding: f32(-10, 0) })).miner, '/m/b')
  // Then by distance to each miner's running mean of routed embeddings.
  const near = await b.ask({ _tag: 'Route', embedding: f32(9, 1) })
  assert.equal(near.miner, '/m/a')
  assert.ok(Math.abs(near.distance - Math.SQRT2) < 1e-9)
  assert.equal((await b.ask({ _tag: 'Route', embedding: f32(-8, 0) })).miner, '/m/b')
  // A new miner gets the next query, wherever it lies (distance 0 until it has history).
  await b.ask({ _tag: 'RegisterMiner', miner: '/m/c' })
  assert.equal((await b.ask({ _tag: 'Route', embedding: f32(9, 0) })).miner, '/m/c')
  // Without an embedding (encrypted sessions): least-loaded.
  const table = await b.ask({ _tag: 'GetRouting' })
  assert.deepEqual(table.miners.map((m) => [m.miner, m.assigned]), [['/m/a', 2], ['/m/b', 2], ['/m/c', 1]])
  assert.equal((await b.ask({ _tag: 'Route' })).miner, '/m/c')
  // Bad input: wrong dimension, non-finite values, malformed bytes.
  await assert.rejects(b.ask({ _tag: 'Route', embedding: f32(1, 2, 3) }), rejectedWith(BrainRejection, 'BadEmbedding'))
  await assert.rejects(b.ask({ _tag: 'Route', embedding: f32(Number.NaN, 1) }), rejectedWith(BrainRejection, 'BadEmbedding'))
  await assert.rejects(b.ask({ _tag: 'Route', embedding: new Uint8Array(3) }), rejectedWith(BrainRejection, 'BadEmbedding'))
  // From the wire, the schema refuses it before the Brain sees it.
  const answer = decodeFrame(await b.askBytes(encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/brain-1', id: 1, body: { _tag: 'Route', embedding: new Uint8Array(3) } })))
  assert.ok(answer._tag === 'Right' && answer.right._tag === 'Fail' && answer.right.error._tag === 'DecodeError')
  assert.equal(sys.stats()[0]?.restarts, 0)
})

test('property: every routed query is assigned to exactly one registered miner; counts add up', T, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.tuple(fc.float({ min: -100, max: 100, noNaN: true }), fc.float({ min: -100, max: 100, noNaN: true })), { minLength: 1, maxLength: 40 }),
      async (nMiners, points) => {
        const miners = Array.from({ length: nMiners }, (_, i) => `/m/${i}`)
        const sys = await brainWith(miners)
        try {
          const b = sys.ref('/root/brain-1')
          for (const [x, y] of points) assert.ok(miners.includes((await b.ask({ _tag: 'Route', embedding: f32(x, y) })).miner))
          const table = await b.ask({ _tag: 'GetRouting' })
          assert.equal(table.miners.reduce((s, m) => s + m.assigned, 0), points.length)
          assert.ok(table.miners.every((m) => m.assigned > 0 || points.length < nMiners), 'every miner gets work once there are enough queries')
        } finally {
          await sys.shutdown()
        }
      },
    ),
    { seed: 3, numRuns: 25 },
  )
})

test('a Brain with no miner refuses routing with a typed error', T, async (t) => {
  const sys = await brainWith([])
  t.after(() => sys.shutdown())
  await assert.rejects(sys.ref('/root/brain-1').ask({ _tag: 'Route', embedding: f32(1) }), rejectedWith(BrainRejection, 'NoMiner'))
  await assert.rejects(sys.ref('/root/brain-1').ask({ _tag: 'Route' }), rejectedWith(BrainRejection, 'NoMiner'))
})

test('a miner reported gone is routed nothing until it registers again or its back-off ends; exclude skips per query', T, async (t) => {
  const sys = await ActorSystem.start({ kind: 'supervisor', id: 'root', children: [{ kind: 'actor', id: 'brain-1', behaviour: { module: brain }, args: { brainId: 1, miners: ['/m/a', '/m/b'], downMs: 300 } }] })
  t.after(() => sys.shutdown())
  const b = sys.ref('/root/brain-1')
  await b.ask({ _tag: 'MinerGone', miner: '/m/a' })
  await b.ask({ _tag: 'MinerGone', miner: '/m/nobody' }) // unknown: not added, nothing routed to it
  const down = await b.ask({ _tag: 'GetRouting' })
  assert.deepEqual(down.miners.map((m) => [m.miner, m.down]), [['/m/a', true], ['/m/b', false]])
  for (let i = 0; i < 3; i++) assert.equal((await b.ask({ _tag: 'Route' })).miner, '/m/b')
  assert.equal((await b.ask({ _tag: 'Route', embedding: f32(1, 2) })).miner, '/m/b')
  assert.equal((await b.ask({ _tag: 'GetStatus' })).detail.minersDown, 1)
  // Excluding the only live miner leaves none: NoMiner (with or without an embedding).
  await assert.rejects(b.ask({ _tag: 'Route', exclude: ['/m/b'] }), rejectedWith(BrainRejection, 'NoMiner'))
  await assert.rejects(b.ask({ _tag: 'Route', embedding: f32(1, 2), exclude: ['/m/b'] }), rejectedWith(BrainRejection, 'NoMiner'))
  // Registering again brings a miner back at once; exclude affects only its own query.
  await b.ask({ _tag: 'RegisterMiner', miner: '/m/a' })
  assert.equal((await b.ask({ _tag: 'Route', exclude: ['/m/b'] })).miner, '/m/a')
  assert.equal((await b.ask({ _tag: 'GetRouting' })).miners.every((m) => m.down === false), true)
  // Both gone: NoMiner; after the back-off (downMs = 300 here) they are routed to again.
  await b.ask({ _tag: 'MinerGone', miner: '/m/a' })
  await b.ask({ _tag: 'MinerGone', miner: '/m/b' })
  await assert.rejects(b.ask({ _tag: 'Route' }), rejectedWith(BrainRejection, 'NoMiner'))
  await new Promise((r) => setTimeout(r, 350))
  assert.ok(['/m/a', '/m/b'].includes((await b.ask({ _tag: 'Route' })).miner))
  // From the wire: an old Route frame (no exclude) still decodes; a MinerGone frame is answered Ack.
  const ack = decodeFrame(await b.askBytes(encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/brain-1', id: 2, body: { _tag: 'MinerGone', miner: '/m/a' } })))
  assert.ok(ack._tag === 'Right' && ack.right._tag === 'Reply' && ack.right.body._tag === 'Ack')
  assert.equal(sys.stats()[0]?.restarts, 0)
})
