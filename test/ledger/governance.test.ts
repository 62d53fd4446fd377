import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isGigaBrain, tokens } from 'basedai/ledger'
import { EMPTY, expectReject, fixture, run, type Fixture } from './helpers.ts'

/** Four Brains #7–#10 owned by alice, bob, carol, dave with the given direct stakes (staked by their owners). */
function setup(stakes: [bigint, bigint, bigint, bigint], over: Record<string, number> = {}): Fixture {
  const f = fixture({ params: { votingPeriod: 5, halvingInterval: 60, ...over } })
  const owners = ['alice', 'bob', 'carol', 'dave']
  owners.forEach((o) => run(f, [o, { kind: 'acquireBrainBurn', maxCost: tokens(10_000) }]))
  owners.forEach((o, i) => {
    if (stakes[i]! > 0n) run(f, [o, { kind: 'addStake', brain: 7 + i, target: EMPTY, amount: stakes[i]! }])
  })
  return f
}

function giga(f: Fixture, id: number): boolean {
  return isGigaBrain(f.ledger.brain(id)!, f.ledger.globals(), f.ledger.params())
}

test('GigaBrain threshold: ≥ 0.5% of total stake (exactly 0.5% qualifies, one unit less does not)', () => {
  // total = 200_000 units·10^9; 0.5% = 1000 tokens.
  const f = setup([tokens(198_000), tokens(1000), tokens(1000) - 1n, 1n])
  assert.equal(f.ledger.globals().totalStake, tokens(200_000))
  assert.equal(giga(f, 7), true)
  assert.equal(giga(f, 8), true)
  assert.equal(giga(f, 9), false)
  assert.equal(giga(f, 10), false)
  expectReject(f, f.tx('carol', { kind: 'propose', param: 'bonusBps', value: 1n }), 'PermissionDenied')
  run(f, ['bob', { kind: 'propose', param: 'bonusBps', value: 1n }]) // a GigaBrain owner may propose
  expectReject(f, f.tx('carol', { kind: 'vote', proposal: 0, brain: 9, approve: true }), 'NotGigaBrain')
})

test('one vote per GigaBrain however large; year one: passes unless a majority of GigaBrains votes no', () => {
  // #7 holds 97% of stake, yet its single "no" cannot block: 1 of 3 GigaBrains is not a majority.
  const f = setup([tokens(9700), tokens(150), tokens(150), 0n])
  assert.deepEqual([7, 8, 9, 10].map((i) => giga(f, i)), [true, true, true, false])
  run(f, ['foundation', { kind: 'propose', param: 'bonusBps', value: 2000n }])
  run(f, ['alice', { kind: 'vote', proposal: 0, brain: 7, approve: false }])
  expectReject(f, f.tx('alice', { kind: 'vote', proposal: 0, brain: 7, approve: false }), 'AlreadyVoted')
  f.advance(6)
  assert.equal(f.ledger.proposal(0)?.status, 'passed')
  assert.equal(f.ledger.params().bonusBps, 2000)
  // Two of three vote no → rejected, parameter unchanged.
  run(f, ['foundation', { kind: 'propose', param: 'bonusBps', value: 3000n }])
  run(f, ['alice', { kind: 'vote', proposal: 1, brain: 7, approve: false }], ['bob', { kind: 'vote', proposal: 1, brain: 8, approve: false }])
  f.advance(6)
  assert.equal(f.ledger.proposal(1)?.status, 'rejected')
  assert.equal(f.ledger.params().bonusBps, 2000)
})

test('after year one a proposal needs a majority of GigaBrains voting yes', () => {
  const f = setup([tokens(100), tokens(100), tokens(100), 0n], { halvingInterval: 30 })
  while (f.ledger.head().height < 30) f.advance(1)
  run(f, ['foundation', { kind: 'propose', param: 'tempo', value: 50n }])
  f.advance(6) // nobody voted
  assert.equal(f.ledger.proposal(0)?.status, 'rejected')
  run(f, ['foundation', { kind: 'propose', param: 'tempo', value: 50n }])
  run(f, ['alice', { kind: 'vote', proposal: 1, brain: 7, approve: true }])
  f.advance(6) // 1 of 3
  assert.equal(f.ledger.proposal(1)?.status, 'rejected')
  run(f, ['foundation', { kind: 'propose', param: 'tempo', value: 50n }])
  run(f, ['alice', { kind: 'vote', proposal: 2, brain: 7, approve: true }], ['carol', { kind: 'vote', proposal: 2, brain: 9, approve: true }])
  f.advance(6) // 2 of 3
  assert.equal(f.ledger.proposal(2)?.status, 'passed')
  assert.equal(f.ledger.params().tempo, 50)
})

test('a vote stops counting if its Brain falls below the threshold before the tally', () => {
  const f = setup([tokens(100), tokens(100), tokens(100), 0n], { halvingInterval: 10 })
  while (f.ledger.head().height < 10) f.advance(1)
  run(f, ['foundation', { kind: 'propose', param: 'tempo', value: 7n }])
  run(f, ['alice', { kind: 'vote', proposal: 0, brain: 7, approve: true }], ['bob', { kind: 'vote', proposal: 0, brain: 8, approve: true }])
  // bob unstakes everything: #8 is no longer a GigaBrain, so only 1 of 2 GigaBrains said yes.
  run(f, ['bob', { kind: 'removeStake', brain: 8, target: EMPTY, amount: tokens(100) }])
  f.advance(6)
  assert.equal(f.ledger.proposal(0)?.status, 'rejected')
})

test('the double-sign slash rule is governable: doubleSignSlashBps passes a vote, out-of-range values are malformed', () => {
  const f = setup([tokens(9700), tokens(150), tokens(150), 0n])
  assert.equal(f.ledger.params().doubleSignSlashBps, 1000, 'default: 10% per offence height')
  expectReject(f, f.tx('foundation', { kind: 'propose', param: 'doubleSignSlashBps', value: 10_001n }), 'MalformedTx')
  run(f, ['foundation', { kind: 'propose', param: 'doubleSignSlashBps', value: 5000n }])
  f.advance(6)
  assert.equal(f.ledger.proposal(0)?.status, 'passed')
  assert.equal(f.ledger.params().doubleSignSlashBps, 5000)
})
