import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { CREDIT_ONE, FRAC_BITS, runEpoch, type EpochOptions } from 'basedai/consensus'
import { referenceEpoch } from './reference.ts'

const zeros = (n: number): number[][] => Array.from({ length: n }, () => new Array<number>(n).fill(0))
const toCredits = (x: bigint): number => Number(x) / 2 ** FRAC_BITS

// 4 validators (0–3) and 4 miners (4–7).
const n = 8
const stake = [40, 30, 20, 10, 0, 0, 0, 0]
const permit = stake.map((s) => s > 0)
const honest = (i: number): number[] => Array.from({ length: n }, (_, j) => (j >= 4 ? 1 + ((i + j) % 4) : 0))
const base: EpochOptions = {
  stake,
  weights: Array.from({ length: n }, (_, i) => (i < 4 ? honest(i) : new Array<number>(n).fill(0))),
  validatorPermit: permit,
  bonds: zeros(n),
}

describe('Credits (§3.4.3): ΔCredits_i = S_i · Σ_j W̄_ij', () => {
  test('one epoch: the delta is S_i times validator trust (double-precision reference)', () => {
    const out = runEpoch({ ...base, credits: new Array<bigint>(n).fill(0n) })
    const ref = referenceEpoch(base)
    const S = stake.map((s) => s / 100)
    out.creditsDelta.forEach((d, i) => {
      assert.ok(Math.abs(toCredits(d) - (S[i] as number) * (ref.validatorTrust[i] as number)) < 1e-9, `uid ${i}`)
    })
    assert.equal(toCredits(out.creditsDelta[4] as bigint), 0)
  })

  test('Credits accumulate over epochs: credits = previous + delta, exactly', () => {
    let credits = new Array<bigint>(n).fill(0n)
    let bonds = zeros(n)
    const deltas: bigint[][] = []
    for (let e = 0; e < 4; e++) {
      const out = runEpoch({ ...base, bonds, credits })
      out.credits.forEach((c, i) => assert.equal(c, (credits[i] as bigint) + (out.creditsDelta[i] as bigint)))
      deltas.push(out.creditsDelta)
      credits = out.credits
      bonds = out.bonds
    }
    for (let i = 0; i < n; i++) assert.equal(credits[i], deltas.reduce((a, d) => a + (d[i] as bigint), 0n))
    assert.ok((credits[0] as bigint) > 0n)
  })

  test('self-weighting cannot farm Credits: a self-weight is zeroed, so it earns nothing', () => {
    const weights = base.weights.map((r, i) => (i === 3 ? r.map((_, j) => (j === 3 ? 1 : 0)) : r))
    const out = runEpoch({ ...base, weights, credits: new Array<bigint>(n).fill(0n) })
    assert.equal(out.creditsDelta[3], 0n)
    assert.equal(out.validatorTrust[3], 0)
  })

  test('a minority cartel weighting its own members gains no Credits from it', () => {
    // Validators 2 and 3 (30% of stake) weight each other and miner 7 only; the majority never weights them.
    const cartel = (i: number): number[] => Array.from({ length: n }, (_, j) => (j === 7 || (j === 5 - i) ? 1 : 0))
    const honestOnly = base.weights.map((r, i) => (i < 2 ? r.map((x, j) => (j === 7 ? 0 : x)) : r))
    const withCartel = honestOnly.map((r, i) => (i === 2 || i === 3 ? cartel(i) : r))
    const outCartel = runEpoch({ ...base, weights: withCartel, credits: new Array<bigint>(n).fill(0n) })
    assert.equal(outCartel.creditsDelta[2], 0n)
    assert.equal(outCartel.creditsDelta[3], 0n)
    const outHonest = runEpoch({ ...base, weights: honestOnly, credits: new Array<bigint>(n).fill(0n) })
    assert.ok((outHonest.creditsDelta[2] as bigint) > 0n, 'honest weighting earns Credits')
  })

  test('influence: a bounded multiplier on bond accrual', () => {
    const credits = [0n, 1000n * CREDIT_ONE, 0n, 0n, 0n, 0n, 0n, 0n]
    const plain = runEpoch({ ...base, credits: new Array<bigint>(n).fill(0n) })
    const boosted = runEpoch({ ...base, credits, creditInfluence: { maxBoostPpm: 250_000, halfCredits: 10n * CREDIT_ONE } })
    const m = boosted.bondMultiplier[1] as number
    assert.ok(m > 1.24 && m < 1.25, `multiplier ${m} within (1, 1.25)`)
    assert.equal(boosted.bondMultiplier[0], 1)
    assert.ok((boosted.dividends[1] as number) > (plain.dividends[1] as number))
    // Influence never touches consensus itself.
    assert.deepEqual(boosted.incentive, plain.incentive)
    assert.deepEqual(boosted.consensus, plain.consensus)
    // Turned off: identical to no credits.
    const off = runEpoch({ ...base, credits, creditInfluence: null })
    assert.deepEqual(off.dividends, plain.dividends)
  })
})
