import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { epoch, runEpoch, type EpochOutput } from 'basedai/consensus'
import { maxDiff, referenceEpoch } from './reference.ts'

const zeros = (n: number): number[][] => Array.from({ length: n }, () => new Array<number>(n).fill(0))

function close(actual: readonly number[], expected: readonly number[], label: string, tol = 1e-9): void {
  assert.equal(actual.length, expected.length, `${label}: length`)
  actual.forEach((x, i) => {
    assert.ok(Math.abs(x - (expected[i] as number)) <= tol, `${label}[${i}] = ${x}, expected ${expected[i]}`)
  })
}

function closeOutput(out: EpochOutput, exp: EpochOutput): void {
  close(out.consensus, exp.consensus, 'consensus')
  close(out.rank, exp.rank, 'rank')
  close(out.trust, exp.trust, 'trust')
  close(out.incentive, exp.incentive, 'incentive')
  close(out.validatorTrust, exp.validatorTrust, 'validatorTrust')
  close(out.dividends, exp.dividends, 'dividends')
  out.bonds.forEach((row, i) => close(row, exp.bonds[i] as number[], `bonds[${i}]`))
}

describe('epoch: hand-computed cases', () => {
  // uids 0, 1: validators (stake 3 : 1 → S = 0.75, 0.25); uids 2, 3, 4: miners.
  // v0 sets 2:1:1 on the miners (and 5 on itself, dropped); v1 sets 1:1:2.
  const twoByThree = {
    stake: [3, 1, 0, 0, 0],
    weights: [
      [5, 0, 2, 1, 1],
      [0, 0, 1, 1, 2],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
    ],
    validatorPermit: [true, true, false, false, false],
    bonds: zeros(5),
  }
  // By hand: W = [.5 .25 .25], [.25 .25 .5]; prerank P = .4375, .25, .3125.
  // C2 = .5 (.75 of stake at ≥ .5), C3 = .25, C4 = .25 (only .25 of stake at ≥ .5).
  // W̄ = [.5 .25 .25], [.25 .25 .25]; Tv = 1, .75; R = .4375, .25, .25; T = 1, 1, .8; I = 7/15, 4/15, 4/15.
  // ΔB = S·W̄ = [.375 .1875 .1875], [.0625 .0625 .0625] → columns normalised [6/7 .75 .75], [1/7 .25 .25].
  // D0 = 6/7·7/15 + .75·4/15·2 = 12/15, D1 = 3/15.
  const expectedTwoByThree: EpochOutput = {
    consensus: [0, 0, 0.5, 0.25, 0.25],
    rank: [0, 0, 0.4375, 0.25, 0.25],
    trust: [0, 0, 1, 1, 0.8],
    incentive: [0, 0, 7 / 15, 4 / 15, 4 / 15],
    validatorTrust: [1, 0.75, 0, 0, 0],
    dividends: [0.8, 0.2, 0, 0, 0],
    bonds: [[0, 0, 6 / 7, 0.75, 0.75], [0, 0, 1 / 7, 0.25, 0.25], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
  }

  test('2 validators × 3 miners, first epoch: every output', () => {
    closeOutput(epoch(twoByThree), expectedTwoByThree)
  })

  test('2 validators × 3 miners, second epoch with previous bonds all held by v1', () => {
    const prev = zeros(5)
    prev[1] = [0, 0, 4, 4, 4]
    // Previous bonds normalised: v1 holds every column. B = .1·ΔB + .9·B_prev:
    // column 2: v0 .1·6/7, v1 .1/7 + .9; columns 3, 4: v0 .075, v1 .925.
    // D0 = (.6/7)·(7/15) + .075·(4/15)·2 = .6/15 + .6/15 = .08, D1 = .92.
    const out = epoch({ ...twoByThree, bonds: prev })
    closeOutput(out, {
      ...expectedTwoByThree,
      dividends: [0.08, 0.92, 0, 0, 0],
      bonds: [
        [0, 0, 0.6 / 7, 0.075, 0.075],
        [0, 0, 0.1 / 7 + 0.9, 0.925, 0.925],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
      ],
    })
  })

  test('a non-permitted validator: its stake and weights are ignored', () => {
    // uids 0, 1 permitted (stake 3 : 1), uid 2 a validator without a permit (stake 10), miners 3, 4.
    const input = {
      stake: [3, 1, 10, 0, 0],
      weights: [
        [0, 0, 0, 3, 1],
        [0, 0, 0, 1, 3],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
      ],
      validatorPermit: [true, true, false, false, false],
      bonds: zeros(5),
    }
    // S = .75, .25, 0. W = [.75 .25], [.25 .75]. P = .625, .375. C3 = .75, C4 = .25.
    // W̄ = [.75 .25], [.25 .25]; Tv = 1, .5. R = .625, .25; T = 1, 2/3; I = 5/7, 2/7.
    // ΔB = [.5625 .1875], [.0625 .0625] → [.9 .75], [.1 .25]. D0 = (.9·5 + .75·2)/7 = 6/7, D1 = 1/7.
    closeOutput(epoch(input), {
      consensus: [0, 0, 0, 0.75, 0.25],
      rank: [0, 0, 0, 0.625, 0.25],
      trust: [0, 0, 0, 1, 2 / 3],
      incentive: [0, 0, 0, 5 / 7, 2 / 7],
      validatorTrust: [1, 0.5, 0, 0, 0],
      dividends: [6 / 7, 1 / 7, 0, 0, 0],
      bonds: [[0, 0, 0, 0.9, 0.75], [0, 0, 0, 0.1, 0.25], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
    })
  })

  test('the hand cases agree with the double-precision reference', () => {
    const out = epoch(twoByThree)
    assert.ok(maxDiff(out, referenceEpoch(twoByThree)).diff < 1e-12)
  })

  test('no weights at all: incentive and dividends all 0, fallback to stake flagged', () => {
    const out = runEpoch({ ...twoByThree, weights: zeros(5) })
    assert.deepEqual(out.incentive, [0, 0, 0, 0, 0])
    assert.deepEqual(out.dividends, [0, 0, 0, 0, 0])
    assert.equal(out.fallbackToStake, true)
    assert.deepEqual(out.stakeShare, [0.75, 0.25, 0, 0, 0])
  })

  test('bondsMovingAverage 0 and 10^6 (α = 1 and α = 0)', () => {
    const prev = zeros(5)
    prev[1] = [0, 0, 4, 4, 4]
    const fresh = epoch({ ...twoByThree, bonds: prev, bondsMovingAverage: 0 })
    close(fresh.bonds[0] as number[], [0, 0, 6 / 7, 0.75, 0.75], 'α=1 bonds[0]')
    const frozen = epoch({ ...twoByThree, bonds: prev, bondsMovingAverage: 1_000_000 })
    close(frozen.bonds[1] as number[], [0, 0, 1, 1, 1], 'α=0 bonds[1]')
    close(frozen.dividends, [0, 1, 0, 0, 0], 'α=0 dividends')
  })

  test('empty metagraph', () => {
    const out = epoch({ stake: [], weights: [], validatorPermit: [], bonds: [] })
    assert.deepEqual(out, { consensus: [], rank: [], trust: [], incentive: [], validatorTrust: [], dividends: [], bonds: [] })
  })
})

describe('epoch: minority cartel', () => {
  // 10 validators (uids 0–9) and 20 miners (uids 10–29). Honest validators (0–6, 80% of stake) weight the
  // honest miners 10–26; the cartel (7–9, 20% of stake) puts its weight on its own miners 27–29.
  const n = 30
  const stake = [16, 12, 12, 10, 10, 10, 10, 8, 7, 5].concat(new Array<number>(20).fill(0))
  const permit = stake.map((_, i) => i < 10)
  const honestRow = (i: number): number[] => Array.from({ length: n }, (_, j) => (j >= 10 && j < 27 ? 1 + ((i + j) % 3) : 0))
  const cartelRow = (): number[] => Array.from({ length: n }, (_, j) => (j >= 27 ? 1 : 0))
  const empty = (): number[] => new Array<number>(n).fill(0)

  test('cartel miners are clipped to consensus 0 and earn nothing', () => {
    const weights = Array.from({ length: n }, (_, i) => (i < 7 ? honestRow(i) : i < 10 ? cartelRow() : empty()))
    const out = epoch({ stake, weights, validatorPermit: permit, bonds: zeros(n) })
    for (const j of [27, 28, 29]) {
      assert.equal(out.consensus[j], 0)
      assert.equal(out.incentive[j], 0)
    }
    for (const i of [7, 8, 9]) {
      assert.equal(out.validatorTrust[i], 0)
      assert.equal(out.dividends[i], 0)
    }
    const honestIncentive = out.incentive.slice(10, 27).reduce((a, b) => a + b, 0)
    assert.ok(Math.abs(honestIncentive - 1) < 1e-9)
  })

  test('a cartel that splits its weight keeps only what consensus supports', () => {
    const mixed = (i: number): number[] => honestRow(i).map((x, j) => (j >= 27 ? 20 : x))
    const weights = Array.from({ length: n }, (_, i) => (i < 7 ? honestRow(i) : i < 10 ? mixed(i) : empty()))
    const out = epoch({ stake, weights, validatorPermit: permit, bonds: zeros(n) })
    const cartelIncentive = out.incentive[27]! + out.incentive[28]! + out.incentive[29]!
    assert.equal(cartelIncentive, 0)
    const honestOut = epoch({
      stake,
      weights: Array.from({ length: n }, (_, i) => (i < 10 ? honestRow(i) : empty())),
      validatorPermit: permit,
      bonds: zeros(n),
    })
    for (const i of [7, 8, 9]) assert.ok(out.dividends[i]! < honestOut.dividends[i]!, `cartel validator ${i} loses by cheating`)
  })
})

describe('epoch: the median is exact', () => {
  test('stakes one ulp apart (not exactly representable in 53 bits) are told apart at κ = 0.5', () => {
    // v0 and v1 hold 999999.9999999986 and 999999.9999999987: v1 has strictly more than half the stake, v0 strictly
    // less. v0 weights only miner 2, v1 only miner 3. Exactly: C = (0, 0, 0, 1). (In float64 both shares round to 0.5.)
    const weights = [
      [0, 0, 1, 0],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]
    const input = { weights, validatorPermit: [true, true, false, false], bonds: zeros(4) }
    const a = epoch({ ...input, stake: [999999.9999999986, 999999.9999999987, 0, 0] })
    assert.deepEqual(a.consensus, [0, 0, 0, 1])
    assert.deepEqual(a.incentive, [0, 0, 0, 1])
    const b = epoch({ ...input, stake: [999999.9999999987, 999999.9999999986, 0, 0] })
    assert.deepEqual(b.consensus, [0, 0, 1, 0])
  })

  test('exactly half the stake reaches κ = 0.5 (≥, not >)', () => {
    const out = epoch({
      stake: [0.1, 0.1, 0, 0],
      weights: [[0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
      validatorPermit: [true, true, false, false],
      bonds: zeros(4),
    })
    assert.deepEqual(out.consensus, [0, 0, 1, 1])
  })
})
