import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { simulate, type Byzantine } from '../../bft/index.ts'

const KINDS: readonly Byzantine[] = ['equivocate', 'invalid', 'silent', 'random']

describe('deterministic simulation of block agreement', { timeout: 120_000 }, () => {
  test('the same seed replays the same schedule', () => {
    const c = { seed: 42, powers: [1n, 2n, 3n, 4n], heights: 3, loss: 0.2, gstMs: 1500 }
    assert.deepEqual(simulate(c), simulate(c))
  })

  test('2,000 schedules with a Byzantine minority, loss, reordering and a healed partition: always safe, always final again', () => {
    let schedules = 0
    const failures: string[] = []
    for (let s = 0; s < 2000; s++) {
      const n = 4 + (s % 4)
      // stakes vary; the Byzantine validators hold less than 1/3 of the total
      const powers = Array.from({ length: n }, (_, i) => BigInt(1 + ((s * 7 + i * 13) % 5)))
      const total = powers.reduce((a, b) => a + b, 0n)
      const byz = new Map<number, Byzantine>()
      let byzPower = 0n
      for (let k = 0; k < n; k++) {
        const i = (s + k * 3) % n
        if (3n * (byzPower + powers[i]!) >= total) break
        if (byz.size >= 2) break
        byz.set(i, KINDS[(s + k) % KINDS.length]!)
        byzPower += powers[i]!
      }
      const side = [...Array(n).keys()].filter((i) => (i + s) % 3 === 0)
      const r = simulate({
        seed: s,
        powers,
        heights: 2,
        byzantine: byz,
        loss: (s % 5) * 0.08,
        gstMs: 1000 + (s % 7) * 300,
        partitions: side.length > 0 && side.length < n ? [{ fromMs: 0, toMs: 800 + (s % 5) * 200, side }] : [],
        maxTimeMs: 60_000,
      })
      schedules++
      if (r.safetyViolation) failures.push(`seed ${s}: SAFETY ${r.safetyViolation}`)
      else if (!r.live) failures.push(`seed ${s}: not final after the partition healed`)
    }
    assert.equal(schedules, 2000)
    assert.deepEqual(failures, [])
  })

  test('the bound is tight: Byzantine validators with half the stake can fork the chain, and the check sees it', () => {
    let forks = 0
    for (let s = 0; s < 200; s++) {
      const r = simulate({ seed: s, powers: [1n, 1n, 1n, 1n], heights: 3, byzantine: new Map([[0, 'fork'], [1, 'fork']]), loss: 0.1, gstMs: 1000, maxTimeMs: 20_000 })
      if (r.safetyViolation) forks++
    }
    assert.ok(forks > 0, 'a ≥ 1/3 Byzantine fork attack never forked: the safety check would be blind')
    for (let s = 0; s < 200; s++) {
      const r = simulate({ seed: s, powers: [1n, 1n, 1n, 1n], heights: 3, byzantine: new Map([[0, 'fork']]), loss: 0.1, gstMs: 1000, maxTimeMs: 20_000 })
      assert.equal(r.safetyViolation, undefined, `seed ${s}`)
    }
  })

  test('equivocators are caught: honest nodes record evidence', () => {
    const r = simulate({ seed: 3, powers: [1n, 1n, 1n, 1n], heights: 3, byzantine: new Map([[0, 'equivocate']]) })
    assert.ok(r.live)
    assert.ok(r.evidence.length > 0)
    assert.ok(r.evidence.every((e) => e.validator === 'v000' && e.first.value !== e.second.value))
  })

  test('with two of four validators down, finality halts without a fork; back up, it resumes', () => {
    const halted = simulate({ seed: 5, powers: [1n, 1n, 1n, 1n], heights: 2, byzantine: new Map([[0, 'silent'], [1, 'silent']]), maxTimeMs: 30_000 })
    assert.equal(halted.live, false)
    assert.equal(halted.safetyViolation, undefined)
    assert.ok(halted.decided.every((d) => d.every((x) => x === undefined)))
    // "down then up" is a partition that isolates them and heals
    const resumed = simulate({ seed: 5, powers: [1n, 1n, 1n, 1n], heights: 2, partitions: [{ fromMs: 0, toMs: 20_000, side: [0] }, { fromMs: 0, toMs: 20_000, side: [1] }], gstMs: 20_000, maxTimeMs: 60_000 })
    assert.ok(resumed.live)
    assert.ok(resumed.finalityMs[0]! >= 20_000)
  })
})
