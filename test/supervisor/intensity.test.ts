import { test } from 'node:test'
import assert from 'node:assert/strict'
import { addRestart } from '../../supervisor/index.ts'

test('OTP default (1 in 5 s): first restart allowed, second within the period gives up', { timeout: 10_000 }, () => {
  const f = { intensity: 1, periodMs: 5000 }
  const a = addRestart([], 1000, f)
  assert.equal(a.verdict, 'restart')
  const b = addRestart(a.times, 5999, f)
  assert.equal(b.verdict, 'give_up')
})

test('restarts older than the period fall out of the window', { timeout: 10_000 }, () => {
  const f = { intensity: 1, periodMs: 5000 }
  const a = addRestart([], 1000, f)
  const b = addRestart(a.times, 6000, f)
  assert.equal(b.verdict, 'restart')
  assert.deepEqual(b.times, [6000])
})

test('intensity 0 never restarts; intensity 3 allows exactly three in the window', { timeout: 10_000 }, () => {
  assert.equal(addRestart([], 0, { intensity: 0, periodMs: 1000 }).verdict, 'give_up')
  const f = { intensity: 3, periodMs: 1000 }
  let times: readonly number[] = []
  const verdicts: string[] = []
  for (const t of [0, 10, 20, 30]) {
    const v = addRestart(times, t, f)
    verdicts.push(v.verdict)
    times = v.times
  }
  assert.deepEqual(verdicts, ['restart', 'restart', 'restart', 'give_up'])
})
