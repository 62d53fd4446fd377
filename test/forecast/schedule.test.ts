import { test } from 'node:test'
import assert from 'node:assert/strict'
import { roundSchedule, roundPhase, checkRoundWindow } from 'basedai/forecast'

test('a round: commits before the origin, reveals after, scoring once every window is realised', () => {
  const s = roundSchedule({ originHeight: 10_000, blocksPerStep: 360, horizon: 12, commitLead: 200, revealWindow: 100 })
  assert.deepEqual(s, { commitFrom: 9800, commitUntil: 10_000, revealFrom: 10_000, revealUntil: 10_100, scoreAt: 14_320 })
  assert.deepEqual([9799, 9800, 9999, 10_000, 10_099, 10_100, 14_319, 14_320].map((h) => roundPhase(s, h)),
    ['pending', 'commit', 'commit', 'reveal', 'reveal', 'realising', 'realising', 'scorable'])
  checkRoundWindow(s, 'commit', 9800)
  checkRoundWindow(s, 'reveal', 10_099)
  assert.throws(() => checkRoundWindow(s, 'commit', 10_000), { _tag: 'OutOfRoundWindow', action: 'commit' })
  assert.throws(() => checkRoundWindow(s, 'reveal', 9999), { _tag: 'OutOfRoundWindow', action: 'reveal' })
  assert.throws(() => checkRoundWindow(s, 'reveal', 10_100), { _tag: 'OutOfRoundWindow' })
  // a reveal window longer than the horizon delays scoring to its close
  assert.equal(roundSchedule({ originHeight: 50, blocksPerStep: 1, horizon: 2, commitLead: 100, revealWindow: 30 }).scoreAt, 80)
  assert.equal(roundSchedule({ originHeight: 50, blocksPerStep: 1, horizon: 2, commitLead: 100, revealWindow: 30 }).commitFrom, 0)
})

test('bad schedules are typed errors', () => {
  const ok = { originHeight: 10, blocksPerStep: 1, horizon: 1, commitLead: 1, revealWindow: 1 }
  assert.throws(() => roundSchedule({ ...ok, commitLead: 0 }), { _tag: 'InvalidForecastRecord' })
  assert.throws(() => roundSchedule({ ...ok, horizon: 1.5 }), { _tag: 'InvalidForecastRecord' })
  assert.throws(() => roundSchedule({ ...ok, originHeight: -1 }), { _tag: 'InvalidForecastRecord' })
  assert.throws(() => roundSchedule({ ...ok, originHeight: Number.MAX_SAFE_INTEGER }), { _tag: 'InvalidForecastRecord' })
})
