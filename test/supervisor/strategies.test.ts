import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ActorSystem, ChildStartFailed, InvalidSpec, type ChildSpecInput, type Strategy } from '../../supervisor/index.ts'
import type { Behaviour } from '../../actors/index.ts'
import { tracker, until, type LogEntry } from '../support/tracker.ts'

/** Per-test limit, far below the runner's 300 s: a failing test ends here, and its system is still shut down. */
const T = { timeout: 30_000 }

function actor(id: string, behaviour: Behaviour<{ n: number }>, extra: Partial<ChildSpecInput> = {}): ChildSpecInput {
  return { kind: 'actor', id, behaviour, ...extra } as ChildSpecInput
}

async function crashAndWatch(strategy: Strategy): Promise<LogEntry[]> {
  const log: LogEntry[] = []
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    flags: { strategy, intensity: 10, periodMs: 5000 },
    children: ['a', 'b', 'c'].map((n) => actor(n, tracker(n, log))),
  })
  let after: LogEntry[]
  try {
    assert.deepEqual(log, ['init:a', 'init:b', 'init:c'], 'children start in order')
    log.length = 0
    await assert.rejects(sys.ref('/root/b').ask({ _tag: 'Echo', payload: 'throw' }), { _tag: 'ActorCrashed' })
    await until(() => sys.stats().every((s) => s.state === 'running') && log.some((l) => l === 'init:b'), 3000, 'restart')
    after = [...log]
    // Every child answers after the restart.
    for (const n of ['a', 'b', 'c']) assert.equal((await sys.ref(`/root/${n}`).ask({ _tag: 'Ping' }))._tag, 'Pong')
    log.length = 0
  } finally {
    await sys.shutdown()
  }
  assert.deepEqual(log, ['terminate:c', 'terminate:b', 'terminate:a'], 'children stop in reverse order')
  return after
}

describe('restart strategies (crash the middle child of a, b, c)', () => {
  test('one_for_one restarts only the crashed child', T, async () => {
    assert.deepEqual(await crashAndWatch('one_for_one'), ['terminate:b', 'init:b'])
  })
  test('one_for_all stops the others in reverse order, then restarts all in order', T, async () => {
    assert.deepEqual(await crashAndWatch('one_for_all'), ['terminate:b', 'terminate:c', 'terminate:a', 'init:a', 'init:b', 'init:c'])
  })
  test('rest_for_one restarts the crashed child and those started after it', T, async () => {
    assert.deepEqual(await crashAndWatch('rest_for_one'), ['terminate:b', 'terminate:c', 'init:b', 'init:c'])
  })
})

describe('exits overtaken by a group restart', () => {
  test('one_for_all: two children crash at once; the second exit belongs to a replaced incarnation and is ignored', T, async (t) => {
    const log: LogEntry[] = []
    const events: string[] = []
    const sys = await ActorSystem.start(
      {
        kind: 'supervisor',
        id: 'root',
        flags: { strategy: 'one_for_all', intensity: 10, periodMs: 5000 },
        children: ['a', 'b'].map((n) => actor(n, tracker(n, log))),
      },
      { onEvent: (e) => events.push(`${e.type}:${'child' in e ? e.child : e.supervisor}`) },
    )
    t.after(() => sys.shutdown())
    log.length = 0
    const a = sys.ref('/root/a').ask({ _tag: 'Echo', payload: 'throw' })
    const b = sys.ref('/root/b').ask({ _tag: 'Echo', payload: 'throw' })
    await assert.rejects(a, { _tag: 'ActorCrashed' })
    await assert.rejects(b, { _tag: 'ActorCrashed' })
    await until(() => events.filter((e) => e.startsWith('child_restarted')).length >= 2, 3000, 'group restart')
    await new Promise((r) => setTimeout(r, 100))
    assert.deepEqual(log, ['terminate:a', 'terminate:b', 'init:a', 'init:b'], 'one group restart, not two')
    assert.deepEqual(
      sys.stats().map((s) => [s.state, s.restarts]),
      [
        ['running', 1],
        ['running', 1],
      ],
    )
  })
})

describe('restart types', () => {
  test('transient: not restarted after a normal exit, restarted after a crash; temporary: removed', T, async (t) => {
    const log: LogEntry[] = []
    const sys = await ActorSystem.start({
      kind: 'supervisor',
      id: 'root',
      flags: { intensity: 10 },
      children: [
        actor('t1', tracker('t1', log), { restart: 'transient' }),
        actor('t2', tracker('t2', log), { restart: 'transient' }),
        actor('tmp', tracker('tmp', log), { restart: 'temporary' }),
      ],
    })
    t.after(() => sys.shutdown())
    log.length = 0
    await sys.ref('/root/t1').ask({ _tag: 'Echo', payload: 'stop-normal' })
    await assert.rejects(sys.ref('/root/t2').ask({ _tag: 'Echo', payload: 'throw' }), { _tag: 'ActorCrashed' })
    await assert.rejects(sys.ref('/root/tmp').ask({ _tag: 'Echo', payload: 'throw' }), { _tag: 'ActorCrashed' })
    await until(() => log.includes('init:t2'), 3000, 't2 restart')
    await until(() => sys.lookup('/root/tmp') === undefined, 3000, 'tmp removal')
    assert.ok(!log.includes('init:t1'), 'transient child with a normal exit is not restarted')
    assert.ok(!log.includes('init:tmp'), 'temporary child is not restarted')
    assert.throws(() => sys.ref('/root/tmp'), { _tag: 'UnknownActor' })
    assert.equal(sys.stats().find((s) => s.address === '/root/t1')?.state, 'stopped')
    assert.equal(sys.stats().find((s) => s.address === '/root/t2')?.restarts, 1)
  })
})

describe('restart intensity', () => {
  test('exceeding it stops the children and escalates to the parent, which restarts the subtree', T, async (t) => {
    const log: LogEntry[] = []
    const events: string[] = []
    const sys = await ActorSystem.start(
      {
        kind: 'supervisor',
        id: 'root',
        flags: { strategy: 'one_for_one', intensity: 5, periodMs: 5000 },
        children: [
          {
            kind: 'supervisor',
            id: 'sub',
            flags: { strategy: 'one_for_one', intensity: 1, periodMs: 5000 },
            children: [actor('x', tracker('x', log)), actor('y', tracker('y', log))],
          },
          actor('z', tracker('z', log)),
        ],
      },
      { onEvent: (e) => events.push(`${e.type}:${'child' in e ? e.child : e.supervisor}`) },
    )
    t.after(() => sys.shutdown())
    log.length = 0
    const x = sys.ref('/root/sub/x')
    await assert.rejects(x.ask({ _tag: 'Echo', payload: 'throw' }), { _tag: 'ActorCrashed' })
    await until(() => log.includes('init:x'), 3000, 'first restart')
    await assert.rejects(x.ask({ _tag: 'Echo', payload: 'throw' }), { _tag: 'ActorCrashed' })
    // Second crash within 5 s: 'sub' gives up (stops y then x), exits; root restarts 'sub' (x, y in order).
    await until(() => events.includes('child_restarted:/root/sub'), 3000, 'escalation')
    assert.ok(events.includes('gave_up:/root/sub'))
    assert.deepEqual(log, ['terminate:x', 'init:x', 'terminate:x', 'terminate:y', 'init:x', 'init:y'])
    assert.ok(!log.includes('terminate:z'), 'the sibling of the escalating supervisor is untouched (one_for_one)')
    assert.equal((await x.ask({ _tag: 'Ping' }))._tag, 'Pong', 'the same ref works after the subtree restart')
  })

  test('when the root gives up, the system exits with reason shutdown (reached_max_restart_intensity)', T, async (t) => {
    const log: LogEntry[] = []
    const sys = await ActorSystem.start({
      kind: 'supervisor',
      id: 'root',
      flags: { intensity: 0 },
      children: [actor('only', tracker('only', log))],
    })
    t.after(() => sys.shutdown())
    await assert.rejects(sys.ref('/root/only').ask({ _tag: 'Echo', payload: 'throw' }), { _tag: 'ActorCrashed' })
    const reason = await sys.exited
    assert.deepEqual(reason, { _tag: 'shutdown', detail: 'reached_max_restart_intensity' })
    assert.equal(sys.isDown, true)
  })

  test('a restart that fails to start counts toward the intensity (no endless loop)', T, async (t) => {
    let inits = 0
    const sys = await ActorSystem.start({
      kind: 'supervisor',
      id: 'root',
      flags: { intensity: 3, periodMs: 10_000 },
      children: [
        actor('flaky', {
          accepts: ['Echo'],
          init: () => {
            if (++inits > 1) throw new Error('cannot start again')
            return { n: 0 }
          },
          handle: () => {
            throw new Error('crash')
          },
        }),
      ],
    })
    t.after(() => sys.shutdown())
    await assert.rejects(sys.ref('/root/flaky').ask({ _tag: 'Echo', payload: 'x' }), { _tag: 'ActorCrashed' })
    const reason = await sys.exited
    assert.equal(reason._tag, 'shutdown')
    assert.equal(inits, 4, 'one start plus three failed restarts, then give up')
  })
})

describe('specs and start failures', () => {
  test('a bad spec is refused with InvalidSpec naming the field', T, async (t) => {
    const bad = [
      [{ kind: 'supervisor', id: 'root', flags: { strategy: 'one_for_some' }, children: [] }, 'root.flags.strategy'],
      [{ kind: 'supervisor', id: 'root', flags: { intensity: -1 }, children: [] }, 'root.flags.intensity'],
      [{ kind: 'supervisor', id: 'root', children: [{ kind: 'actor', id: 'a', behaviour: 3 }] }, 'root.children[0].behaviour'],
      [{ kind: 'supervisor', id: 'root', children: [{ kind: 'actor', id: 'bad id!', behaviour: { module: 'x' } }] }, 'root.children[0].id'],
      [
        { kind: 'supervisor', id: 'root', children: [{ kind: 'actor', id: 'a', behaviour: tracker('a', []), placement: 'worker' }] },
        'root.children[0].behaviour',
      ],
      [
        {
          kind: 'supervisor',
          id: 'root',
          children: [
            { kind: 'actor', id: 'a', behaviour: { module: 'x' } },
            { kind: 'actor', id: 'a', behaviour: { module: 'x' } },
          ],
        },
        'root.children[1].id',
      ],
      [{ kind: 'supervisor', id: 'root', children: [{ kind: 'actor', id: 'a', behaviour: { module: 'x' }, restart: 'sometimes' }] }, 'root.children[0].restart'],
      [{ kind: 'supervisor', id: 'root', children: [{ kind: 'actor', id: 'a', behaviour: { module: 'x' }, mailbox: { capacity: 0 } }] }, 'root.children[0].mailbox.capacity'],
    ] as const
    for (const [spec, field] of bad) {
      const started = ActorSystem.start(spec as never)
      // Should a start wrongly succeed, that system is shut down rather than left running.
      t.after(async () => (await started.catch(() => undefined))?.shutdown())
      await assert.rejects(started, (e: unknown) => {
        assert.ok(e instanceof InvalidSpec, `expected InvalidSpec for ${field}, got ${String(e)}`)
        assert.equal(e.field, field)
        return true
      })
    }
  })

  test('a child that cannot start stops the ones started before it, in reverse order', T, async (t) => {
    const log: LogEntry[] = []
    const started = ActorSystem.start({
      kind: 'supervisor',
      id: 'root',
      children: [
        actor('a', tracker('a', log)),
        actor('b', tracker('b', log)),
        actor('c', {
          accepts: [],
          init: () => {
            throw new Error('no')
          },
          handle: (s) => ({ _tag: 'Continue', state: s }),
        }),
      ],
    })
    // Should the start wrongly succeed, that system is shut down rather than left running.
    t.after(async () => (await started.catch(() => undefined))?.shutdown())
    await assert.rejects(started, (e: unknown) => e instanceof ChildStartFailed && e.child === 'c')
    assert.deepEqual(log, ['init:a', 'init:b', 'terminate:b', 'terminate:a'])
  })
})

describe('dynamic children', () => {
  test('startChild adds and starts a child in a running tree; terminateChild stops and removes it', T, async (t) => {
    const log: LogEntry[] = []
    const sys = await ActorSystem.start({ kind: 'supervisor', id: 'root', children: [actor('a', tracker('a', log))] })
    t.after(() => sys.shutdown())
    const root = sys.supervisor('/root')
    await root.startChild(actor('b', tracker('b', log)))
    assert.equal((await sys.ref('/root/b').ask({ _tag: 'Ping' }))._tag, 'Pong')
    await assert.rejects(root.startChild(actor('b', tracker('b2', log))), (e: unknown) => e instanceof InvalidSpec && e.field === 'child.id')
    await assert.rejects(
      root.startChild(
        actor('c', {
          accepts: [],
          init: () => {
            throw new Error('no')
          },
          handle: (s) => ({ _tag: 'Continue', state: s }),
        }),
      ),
      { _tag: 'ChildStartFailed' },
    )
    assert.equal(sys.lookup('/root/c'), undefined, 'a child that failed to start is not kept')
    assert.equal(await root.terminateChild('b'), true)
    assert.equal(await root.terminateChild('b'), false)
    assert.throws(() => sys.ref('/root/b'), { _tag: 'UnknownActor' })
    assert.deepEqual(log, ['init:a', 'init:b', 'terminate:b'])
    assert.throws(() => sys.supervisor('/root/a'), { _tag: 'UnknownActor' })
  })
})
