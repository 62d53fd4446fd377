import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ActorSystem } from '../../supervisor/index.ts'

const role = (n: string): string => new URL(`../../actors/${n}.ts`, import.meta.url).href
const lazy = new URL('../support/lazy-miner.ts', import.meta.url).href

// The test takes 10–18 s on this loaded 2-core machine; its limit is ~3× that, far below the runner's 300 s, and t.after
// shuts the system down even when the test times out (a finally would wait for the hung ask).
test('a validator catches a miner that runs the wrong weights, and passes an honest one', { timeout: 60_000 }, async (t) => {
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      { kind: 'actor', id: 'honest', behaviour: { module: role('miner') }, placement: 'worker' },
      { kind: 'actor', id: 'lazy', behaviour: { module: lazy }, placement: 'worker' },
      { kind: 'actor', id: 'brain', behaviour: { module: role('brain') } },
      {
        kind: 'actor',
        id: 'validator',
        behaviour: { module: role('validator') },
        args: { miners: ['/root/honest', '/root/lazy'], challengeMs: 0 },
      },
    ],
  })
  t.after(() => sys.shutdown())
  try {
    const v = sys.ref('/root/validator')
    for (let i = 0; i < 3; i++) {
      const ok = await v.ask({ _tag: 'ChallengeMiner', miner: '/root/honest' }, { timeoutMs: 120_000 })
      assert.deepEqual([ok.correct, ok.reason], [true, 'ok'])
      const bad = await v.ask({ _tag: 'ChallengeMiner', miner: '/root/lazy' }, { timeoutMs: 120_000 })
      assert.deepEqual([bad.correct, bad.reason], [false, 'wrong result'])
    }
    // An actor that is not a miner answers with a typed error: a failed challenge, named.
    const notMiner = await v.ask({ _tag: 'ChallengeMiner', miner: '/root/brain' }, { timeoutMs: 60_000 })
    assert.deepEqual([notMiner.correct, notMiner.reason], [false, 'UnsupportedMessage'])
    await assert.rejects(v.ask({ _tag: 'ChallengeMiner', miner: '/root/nobody' }), (e: unknown) => (e as { tag?: string }).tag === 'UnknownActor')
    const scores = Object.fromEntries((await v.ask({ _tag: 'GetScores' })).miners.map((m) => [m.miner, m]))
    assert.equal(scores['/root/honest']?.correct, 3)
    assert.ok(Math.abs((scores['/root/honest']?.score ?? 0) - (1 - 0.8 ** 3)) < 1e-12)
    assert.equal(scores['/root/lazy']?.correct, 0)
    assert.equal(scores['/root/lazy']?.score, 0)
  } finally {
    await sys.shutdown()
  }
})
