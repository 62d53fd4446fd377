import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ActorSystem } from '../../supervisor/index.ts'
import { until } from '../support/tracker.ts'

const basic = new URL('../../actors/basic.ts', import.meta.url).href

async function workerSystem(): Promise<ActorSystem> {
  return ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    flags: { intensity: 10, periodMs: 5000 },
    children: [
      {
        kind: 'actor',
        id: 'w',
        behaviour: { module: basic },
        placement: 'worker',
        faults: true,
        resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 },
      },
    ],
  })
}

// Each test is fast when it passes (thread starts take ~1-2 s each on a loaded 2-core machine); a failure ends at its
// own timeout instead of the runner's 300 s default, and every system is shut down whether its test passed or not.
const T = { timeout: 60_000 }

describe('worker-thread actors are restarted when their thread dies', () => {
  for (const mode of ['throw', 'exit', 'oom'] as const) {
    test(`fault '${mode}': the asker gets ActorCrashed, the supervisor restarts the thread, later messages are served`, T, async (t) => {
      const sys = await workerSystem()
      t.after(() => sys.shutdown())
      const w = sys.ref('/root/w')
      const before = (await w.ask({ _tag: 'GetStatus' })).detail.handled
      assert.equal(before, 1)
      await assert.rejects(w.ask({ _tag: 'Fault', mode }, { timeoutMs: 20_000 }), { _tag: 'ActorCrashed' })
      // Sent right after the crash, before the restart completes: queued, then served by the new thread.
      const after = await w.ask({ _tag: 'GetStatus' }, { timeoutMs: 20_000 })
      assert.equal(after.detail.handled, 1, 'fresh state in the new incarnation')
      const row = sys.stats().find((s) => s.address === '/root/w')
      assert.equal(row?.restarts, 1)
      assert.equal(row?.state, 'running')
    })
  }

  test('messages queued behind the crashing one are delivered to the next incarnation, in order, once', T, async (t) => {
    const sys = await workerSystem()
    t.after(() => sys.shutdown())
    const w = sys.ref('/root/w')
    await w.ask({ _tag: 'Ping' })
    w.tell({ _tag: 'Fault', mode: 'exit' })
    for (let i = 0; i < 200; i++) w.tell({ _tag: 'Probe', sender: 's', seq: i })
    await until(() => sys.stats()[0]?.restarts === 1, 10_000, 'restart')
    const report = await w.ask({ _tag: 'GetProbeReport' })
    assert.deepEqual(report.senders.s, { received: 200, lastSeq: 199, outOfOrder: 0, duplicates: 0 })
  })

  test('a behaviour module that does not load fails the start with a typed error', T, async (t) => {
    const started = ActorSystem.start({
      kind: 'supervisor',
      id: 'root',
      children: [{ kind: 'actor', id: 'w', behaviour: { module: new URL('./nope.ts', import.meta.url).href }, placement: 'worker' }],
    })
    // Should the start wrongly succeed, its worker thread is shut down rather than left holding the process open.
    t.after(async () => (await started.catch(() => undefined))?.shutdown())
    await assert.rejects(started, { _tag: 'ChildStartFailed' })
  })
})
