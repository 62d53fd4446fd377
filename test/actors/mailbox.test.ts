import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Mailbox } from '../../actors/index.ts'
import { ActorSystem } from '../../supervisor/index.ts'

const slow = new URL('../support/slow.ts', import.meta.url).href
const basic = new URL('../../actors/basic.ts', import.meta.url).href
/** Per-test limit, far below the runner's 300 s: a failing test ends here, and t.after still shuts its system down. */
const T = { timeout: 30_000 }

describe('Mailbox', () => {
  test('bounded FIFO: offer refuses at capacity, put waits and keeps arrival order', T, async () => {
    const m = new Mailbox<number>(2)
    assert.equal(m.offer(1), true)
    assert.equal(m.offer(2), true)
    assert.equal(m.offer(3), false)
    const p3 = m.put(3)
    const p4 = m.put(4)
    assert.equal(m.offer(5), false, 'offer may not jump ahead of waiting senders')
    assert.equal(m.take(), 1)
    await p3
    assert.equal(m.take(), 2)
    await p4
    assert.deepEqual([m.take(), m.take(), m.take()], [3, 4, undefined])
  })

  test('a waiting put can be aborted', T, async () => {
    const m = new Mailbox<number>(1)
    m.offer(1)
    const ac = new AbortController()
    const p = m.put(2, ac.signal)
    ac.abort('gave up')
    await assert.rejects(p, { _tag: 'Aborted' })
    assert.equal(m.take(), 1)
    assert.equal(m.take(), undefined)
  })

  test('property: any interleaving of offers and takes behaves as a bounded queue', T, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.boolean(), { maxLength: 200 }), (cap, ops) => {
        const m = new Mailbox<number>(cap)
        const model: number[] = []
        let next = 0
        for (const isOffer of ops) {
          if (isOffer) {
            const ok = m.offer(next)
            assert.equal(ok, model.length < cap)
            if (ok) model.push(next)
            next++
          } else {
            assert.equal(m.take(), model.shift())
          }
          assert.equal(m.size, model.length)
        }
      }),
      { seed: 42, numRuns: 200 },
    )
  })
})

for (const placement of ['main', 'worker'] as const) {
  describe(`backpressure (${placement} thread)`, () => {
    test('tell at capacity throws MailboxFull; send waits for room; nothing is dropped', T, async (t) => {
      const sys = await ActorSystem.start({
        kind: 'supervisor',
        id: 'root',
        children: [
          { kind: 'actor', id: 's', behaviour: { module: slow }, placement, mailbox: { capacity: 4 }, args: { delayMs: 5 } },
        ],
      })
      t.after(() => sys.shutdown())
      const s = sys.ref('/root/s')
      let full = 0
      let seq = 0
      for (let i = 0; i < 10; i++) {
        try {
          s.tell({ _tag: 'Probe', sender: 'a', seq })
          seq++
        } catch (e) {
          assert.equal((e as { _tag?: string })._tag, 'MailboxFull')
          full++
        }
      }
      assert.ok(full > 0, 'a full mailbox refuses tell')
      assert.ok(seq <= 5, `at most capacity (+1 in hand) accepted, got ${seq}`)
      const depth = sys.stats()[0]?.mailboxDepth ?? -1
      assert.ok(depth > 0 && depth <= 4, `depth ${depth} within capacity`)
      for (let i = 0; i < 20; i++) await s.send({ _tag: 'Probe', sender: 'a', seq: seq++ })
      const report = await s.ask({ _tag: 'GetProbeReport' })
      assert.deepEqual(report.senders.a, { received: seq, lastSeq: seq - 1, outOfOrder: 0, duplicates: 0 })
    })

    test('100k messages from 4 concurrent senders: none lost or duplicated, per-sender order kept', { timeout: 90_000 }, async (t) => {
      const sys = await ActorSystem.start({
        kind: 'supervisor',
        id: 'root',
        children: [{ kind: 'actor', id: 'sink', behaviour: { module: basic }, placement, mailbox: { capacity: 512 } }],
      })
      t.after(() => sys.shutdown())
      const sink = sys.ref('/root/sink')
      const N = 25_000
      await Promise.all(
        ['s0', 's1', 's2', 's3'].map(async (sender) => {
          for (let seq = 0; seq < N; seq++) await sink.send({ _tag: 'Probe', sender, seq })
        }),
      )
      const report = await sink.ask({ _tag: 'GetProbeReport' }, { timeoutMs: 30_000 })
      for (const sender of ['s0', 's1', 's2', 's3']) {
        assert.deepEqual(report.senders[sender], { received: N, lastSeq: N - 1, outOfOrder: 0, duplicates: 0 }, sender)
      }
      const row = sys.stats()[0]
      assert.equal(row?.processed, 4 * N + 1)
      assert.equal(row?.mailboxDepth, 0)
    })
  })
}
