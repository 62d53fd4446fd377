import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Worker } from 'node:worker_threads'
import { epoch, splitEmission, BLOCKS_PER_YEAR, beta } from '../../consensus/index.ts'
import {
  Q40_ONE, accuracyQ40, assertUniqueCommitments, commitForecast, decodeForecast, encodeForecast, forecastIncentive,
  quantileLossPpm, scoreRound, toForecastRecord, verifyReveal, type Commit, type Reveal, type RoundSpec,
} from '../../forecast/scoring.ts'
import { simulateChain } from '../../forecast/simulate.ts'
import { chainPanel } from '../../forecast/dataset.ts'
import { seasonalNaive } from '../../forecast/evaluate.ts'

const key = (i: number): Uint8Array => new Uint8Array(32).fill(i + 1)
const salt = (i: number): Uint8Array => new Uint8Array(16).fill(0xa0 + i)
const PPM = [100_000, 500_000, 900_000]
/** Each suite takes under 4 s on this loaded 2-core machine; the limit is far below the runner's 300 s. */
const T = { timeout: 30_000 }

// A real round: Brain 0's queries settled over 12 windows of the simulated chain; the good validator forecasts with
// the seasonal-naive model (weekly season), the poor one with a flat line at half the level.
const chain = simulateChain({ seed: 3, days: 40 })
const panel = chainPanel(chain)
const tau = 12
const origin = panel.validEnd
const round: RoundSpec = {
  brain: 0, originHeight: chain.height[origin] as number, blocksPerStep: chain.blocksPerStep, quantilesPpm: PPM, horizon: tau,
}
const realised = Array.from({ length: tau }, (_, h) => BigInt((chain.queries[0] as Float64Array)[origin + h] as number))
const good = toForecastRecord(round, seasonalNaive(panel, 168, tau).forecast(0, origin))
const level = Number(realised.reduce((a, b) => a + b, 0n)) / tau
const poor = toForecastRecord(round, new Float64Array(tau * 3).fill(level / 2))

function committed(i: number, f = i === 0 ? good : poor): { commit: Commit; reveal: Reveal } {
  return { commit: { validator: key(i), commitment: commitForecast(key(i), f, salt(i)) }, reveal: { validator: key(i), forecast: f, salt: salt(i) } }
}

describe('forecast commit–reveal', T, () => {
  test('encoding round-trips; malformed records are typed errors', () => {
    assert.deepEqual(decodeForecast(encodeForecast(good)), good)
    assert.throws(() => encodeForecast({ ...good, quantilesPpm: [500_000, 100_000, 900_000] }), { _tag: 'InvalidForecastRecord' })
    assert.throws(() => encodeForecast({ ...good, values: good.values.slice(1) }), { _tag: 'InvalidForecastRecord' })
    assert.throws(() => encodeForecast({ ...good, values: [1n << 64n, 0n, 0n] }), { _tag: 'InvalidForecastRecord' })
    assert.throws(() => decodeForecast(encodeForecast(good).slice(0, 30)), { _tag: 'InvalidForecastRecord' })
    assert.throws(() => commitForecast(key(0), good, new Uint8Array(8)), { _tag: 'InvalidForecastRecord' })
  })

  test('a reveal opens its own commitment only', () => {
    const a = committed(0)
    verifyReveal(a.commit, a.reveal)
    assert.throws(() => verifyReveal(a.commit, { ...a.reveal, salt: salt(5) }), { _tag: 'RevealMismatch' })
    const changed = { ...good, values: good.values.map((v, i) => (i === 4 ? v + 1n : v)) }
    assert.throws(() => verifyReveal(a.commit, { ...a.reveal, forecast: changed }), { _tag: 'RevealMismatch' })
    // a copier posting A's hash cannot open it with its own key, even revealing A's forecast and salt
    const copier: Commit = { validator: key(1), commitment: a.commit.commitment }
    assert.throws(() => verifyReveal(copier, { validator: key(1), forecast: good, salt: salt(0) }), { _tag: 'RevealMismatch' })
  })

  test('a copied commitment is caught (typed error) and scored as the worst', () => {
    const a = committed(0)
    const copier: Commit = { validator: key(1), commitment: a.commit.commitment }
    assert.throws(() => assertUniqueCommitments([a.commit, copier]), (e: unknown) => {
      const err = e as { _tag: string; validator: string; original: string }
      return err._tag === 'CopiedCommitment' && err.validator === Buffer.from(key(1)).toString('hex') &&
        err.original === Buffer.from(key(0)).toString('hex')
    })
    assertUniqueCommitments([a.commit, committed(1).commit])
    const scores = scoreRound({ round, commits: [a.commit, copier], reveals: [a.reveal, { validator: key(1), forecast: good, salt: salt(0) }], realised })
    assert.equal(scores[0]?.status, 'revealed')
    assert.equal(scores[1]?.status, 'copied')
    assert.equal(scores[1]?.accuracyQ40, 0n)
    assert.ok((scores[0]?.accuracyQ40 as bigint) > 0n)
    // front-running: the copier's identical commitment lands first; the original still opens it and keeps its score
    const front = scoreRound({ round, commits: [copier, a.commit], reveals: [a.reveal], realised })
    assert.deepEqual(front.map((s) => s.status), ['copied', 'revealed'])
    assert.equal(front[1]?.accuracyQ40, scores[0]?.accuracyQ40)
    // nobody opens a duplicated commitment: both holders are copiers, both score 0
    const none = scoreRound({ round, commits: [a.commit, copier], reveals: [], realised })
    assert.deepEqual(none.map((s) => [s.status, s.accuracyQ40]), [['copied', 0n], ['copied', 0n]])
  })

  test('unrevealed, mismatching and wrong-round reveals score worst (0), below any honest forecast', () => {
    const v = [0, 1, 2, 3, 4].map((i) => committed(i))
    const wrongRound = { ...poor, brain: 1 }
    const w = { commit: { validator: key(4), commitment: commitForecast(key(4), wrongRound, salt(4)) }, reveal: { validator: key(4), forecast: wrongRound, salt: salt(4) } }
    const scores = scoreRound({
      round,
      commits: [v[0]!.commit, v[1]!.commit, v[2]!.commit, v[3]!.commit, w.commit],
      reveals: [v[0]!.reveal, v[1]!.reveal, { ...v[3]!.reveal, salt: salt(9) }, w.reveal], // 2 never reveals
      realised,
    })
    assert.deepEqual(scores.map((s) => s.status), ['revealed', 'revealed', 'unrevealed', 'mismatch', 'wrong-round'])
    const [g, p, u, m, wr] = scores.map((s) => s.accuracyQ40)
    assert.ok((g as bigint) > (p as bigint), 'the seasonal-naive forecaster is more accurate than the flat one')
    assert.ok((p as bigint) > 0n)
    assert.equal(u, 0n)
    assert.equal(m, 0n)
    assert.equal(wr, 0n)
  })

  test('scores do not depend on the order of reveals, and follow the validators when commits are permuted', () => {
    const v = [0, 1, 2, 3].map((i) => committed(i))
    const commits = v.map((x) => x.commit)
    const reveals = [v[0]!.reveal, v[1]!.reveal, v[3]!.reveal]
    const base = scoreRound({ round, commits, reveals, realised })
    const shuffled = scoreRound({ round, commits, reveals: [reveals[2]!, reveals[0]!, reveals[1]!], realised })
    assert.deepEqual(shuffled, base)
    const perm = [2, 0, 3, 1]
    const permuted = scoreRound({ round, commits: perm.map((i) => commits[i]!), reveals, realised })
    assert.deepEqual(permuted, perm.map((i) => base[i]))
  })

  test('quantile loss and accuracy are exact integers matching the float formula', () => {
    const L = quantileLossPpm([90n, 100n, 120n], PPM, [110n])
    // y = 110: q=0.1 → 0.1·20 = 2; q=0.5 → 0.5·10 = 5; q=0.9 → (1−0.9)·10 = 1 ⇒ 8 → 8·10^6
    assert.equal(L, 8_000_000n)
    const A = accuracyQ40(L, 3, [110n])
    // S = 3·10^6·110 = 3.3e8; A = S/(S + 2L) = 330/346
    assert.equal(A, (330n << 40n) / 346n)
    assert.equal(accuracyQ40(0n, 3, [0n]), Q40_ONE)
    assert.equal(accuracyQ40(0n, 3, [5n, -5n]), Q40_ONE)
  })
})

describe('forecast incentive I = R·C + β(t)·Accuracy', T, () => {
  // two validators (uids 0, 1) with equal stake and identical weights, two miners
  const stake = [100, 100, 0, 0]
  const weights = [[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]]
  const out = epoch({ stake, weights, validatorPermit: [true, true, false, false], bonds: weights.map(() => [0, 0, 0, 0]) })
  const a = committed(0)
  const b = committed(1)
  const scores = scoreRound({ round, commits: [a.commit, b.commit], reveals: [a.reveal, b.reveal], realised })
  const acc = [scores[0]!.accuracyQ40, scores[1]!.accuracyQ40, 0n, 0n]

  test('β(t) = 0 in the first two years: the forecaster term changes nothing', () => {
    const block = BLOCKS_PER_YEAR
    assert.equal(beta(block), 0)
    const r = forecastIncentive({ consensusIncentive: out.incentive, accuracyQ40: acc, block })
    r.incentive.forEach((x, i) => assert.ok(Math.abs(x - (out.incentive[i] as number)) < 1e-12))
  })

  test('once β(t) > 0 the better forecaster earns more, and the emission is conserved', () => {
    const block = 3 * BLOCKS_PER_YEAR // β = 0.45
    assert.ok(beta(block) > 0.4)
    const r = forecastIncentive({ consensusIncentive: out.incentive, accuracyQ40: acc, block })
    assert.ok((r.incentive[0] as number) > (r.incentive[1] as number))
    assert.ok((r.incentive[1] as number) > 0)
    assert.ok(r.incentiveQ40.reduce((s, x) => s + x, 0n) <= Q40_ONE)
    assert.ok(r.incentiveQ40.reduce((s, x) => s + x, 0n) >= Q40_ONE - 4n)
    const amount = 1_000_000_007n
    const paid = splitEmission({ amount, incentive: r.incentive, dividends: out.dividends, stake, validatorPermit: [true, true, false, false] })
    const early = splitEmission({ amount, incentive: out.incentive, dividends: out.dividends, stake, validatorPermit: [true, true, false, false] })
    assert.ok((paid.total[0] as bigint) > (paid.total[1] as bigint), 'good forecaster paid more')
    assert.equal(early.total[0], early.total[1])
    for (const p of [paid, early]) assert.equal(p.total.reduce((s, x) => s + x, 0n) + p.undistributed, amount)
    // the larger β, the larger the good forecaster's lead
    const later = forecastIncentive({ consensusIncentive: out.incentive, accuracyQ40: acc, block: 5 * BLOCKS_PER_YEAR })
    assert.ok((later.incentive[0] as number) - (later.incentive[1] as number) > (r.incentive[0] as number) - (r.incentive[1] as number))
  })

  test('bad input is a typed error', () => {
    assert.throws(() => forecastIncentive({ consensusIncentive: [0.5, 0.5], accuracyQ40: [0n], block: 1 }), { _tag: 'InvalidForecastRecord' })
    assert.throws(() => forecastIncentive({ consensusIncentive: [Number.NaN], accuracyQ40: [0n], block: 1 }), { _tag: 'InvalidForecastRecord' })
    assert.throws(() => forecastIncentive({ consensusIncentive: [1], accuracyQ40: [Q40_ONE + 1n], block: 1 }), { _tag: 'InvalidForecastRecord' })
    assert.throws(() => forecastIncentive({ consensusIncentive: [1], accuracyQ40: [0n], block: -1 }), { _tag: 'InvalidForecastInput' })
  })

  test('deterministic: the same round scored in a worker thread gives identical integers', async (t) => {
    const here = scoreRound({ round, commits: [a.commit, b.commit], reveals: [a.reveal, b.reveal], realised })
    const inc = forecastIncentive({ consensusIncentive: out.incentive, accuracyQ40: acc, block: 3 * BLOCKS_PER_YEAR })
    const src = `
      const { parentPort, workerData } = require('node:worker_threads')
      import(workerData.url).then((m) => {
        const d = workerData
        const s = m.scoreRound({ round: d.round, commits: d.commits, reveals: d.reveals, realised: d.realised })
        const i = m.forecastIncentive({ consensusIncentive: d.inc, accuracyQ40: d.acc, block: d.block })
        parentPort.postMessage({ s: s.map((x) => [x.status, String(x.loss), String(x.accuracyQ40)]), i: i.incentiveQ40.map(String) })
      })`
    const url = new URL('../../forecast/scoring.ts', import.meta.url).href
    const w = new Worker(src, { eval: true, workerData: { url, round, commits: [a.commit, b.commit], reveals: [a.reveal, b.reveal], realised, inc: out.incentive, acc, block: 3 * BLOCKS_PER_YEAR } })
    t.after(async () => {
      await w.terminate()
    })
    const res = await new Promise<{ s: string[][]; i: string[] }>((resolve, reject) => {
      w.once('message', resolve)
      w.once('error', reject)
      w.once('exit', (code) => reject(new Error(`scoring worker exited with code ${code} before answering`)))
    })
    assert.deepEqual(res.s, here.map((x) => [x.status, String(x.loss), String(x.accuracyQ40)]))
    assert.deepEqual(res.i, inc.incentiveQ40.map(String))
  })
})

describe('exact scoring properties', T, () => {
  test('integer quantile loss equals the pinball loss × 10^6; Accuracy is the floor of S/(S + 2L) and falls as the loss grows', async () => {
    const fc = await import('fast-check')
    fc.assert(fc.property(
      fc.array(fc.integer({ min: -1000, max: 100_000 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: 24, maxLength: 24 }),
      (ys, noise) => {
        const realisedR = ys.map(BigInt)
        const values = ys.flatMap((y, h) => PPM.map((_, k) => BigInt(y + (noise[(h * 3 + k) % 24] as number))))
        const L = quantileLossPpm(values, PPM, realisedR)
        let ref = 0
        ys.forEach((y, h) => PPM.forEach((q, k) => {
          const d = y - Number(values[h * 3 + k])
          ref += d >= 0 ? q * d : (q - 1_000_000) * d
        }))
        assert.equal(L, BigInt(ref))
        const A = accuracyQ40(L, 3, realisedR)
        const S = 3n * 1_000_000n * realisedR.reduce((s, y) => s + (y < 0n ? -y : y), 0n)
        if (S + 2n * L > 0n) {
          assert.ok(A * (S + 2n * L) <= S << 40n && (A + 1n) * (S + 2n * L) > S << 40n)
          assert.ok(accuracyQ40(L + 1n, 3, realisedR) <= A)
        }
      },
    ), { seed: 15, numRuns: 200 })
  })
})
