import { test } from 'node:test'
import assert from 'node:assert/strict'
import { State, activeMask, applyTx, cappedStake, nearestRankPercentile, testKeyPair, tokens } from 'basedai/ledger'
import { emit } from '../../ledger/emission.ts'
import { EMPTY, assertSupply, copyState, expectReject, fixture, run, type Fixture } from './helpers.ts'

/** Emits one block's reward on a copy of the state; returns what Brains #7 and #8 gained. */
function emitForTest(f: Fixture): { p7: bigint; p8: bigint } {
  const st = new State(copyState(f.store))
  const b7 = st.brain(7)!.pending
  const b8 = st.brain(8)!.pending
  const g = st.globals()
  emit(st, g, st.params(), f.ledger.head().height + 1)
  return { p7: st.brain(7)!.pending - b7, p8: st.brain(8)!.pending - b8 }
}

test('registration pays the Brain\'s fee to its owner; a fee change affects only later registrations', () => {
  const f = fixture()
  run(f, ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }]) // #7
  const ck1 = testKeyPair('ck1').publicKey
  const ck2 = testKeyPair('ck2').publicKey
  const a0 = f.based('alice')
  const b0 = f.based('bob')
  run(f, ['bob', { kind: 'register', brain: 7, computeKey: ck1, role: 'miner', maxFee: tokens(100) }])
  assert.equal(f.based('alice') - a0, tokens(100))
  assert.ok(b0 - f.based('bob') > tokens(100)) // fee + tx fee
  run(f, ['alice', { kind: 'setBrain', brain: 7, setting: 'registrationFee', text: '', key: EMPTY, value: tokens(250) }])
  const a1 = f.based('alice')
  const b1 = f.based('bob')
  // Front-running protection: a registrant who signed for ≤ 100 is refused, not charged 250.
  expectReject(f, f.tx('carol', { kind: 'register', brain: 7, computeKey: ck2, role: 'miner', maxFee: tokens(100) }), 'RegistrationFeeAboveMax')
  run(f, ['carol', { kind: 'register', brain: 7, computeKey: ck2, role: 'miner', maxFee: tokens(250) }])
  assert.equal(f.based('alice') - a1, tokens(250))
  // bob (registered at the old fee) paid nothing more and keeps his record of the fee he paid.
  assert.equal(f.based('bob'), b1)
  assert.equal(f.ledger.participant(7, ck1)?.feePaid, tokens(100))
  assert.equal(f.ledger.participant(7, ck2)?.feePaid, tokens(250))
})

test('full slots: the lowest-scoring participant outside its immunity period is replaced; all immune → SlotsFull', () => {
  const f = fixture({ params: { minerSlots: 2, validatorSlots: 1, immunityPeriod: 10, tempo: 2 } })
  run(f, ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }]) // #7 at height 1
  const m = [0, 1, 2].map((i) => testKeyPair(`miner-${i}`).publicKey)
  const v = [0, 1].map((i) => testKeyPair(`validator-${i}`).publicKey)
  run(f,
    ['bob', { kind: 'register', brain: 7, computeKey: m[0]!, role: 'miner', maxFee: tokens(100) }], // h2
    ['carol', { kind: 'register', brain: 7, computeKey: m[1]!, role: 'miner', maxFee: tokens(100) }], // h3
    ['bob', { kind: 'register', brain: 7, computeKey: v[0]!, role: 'validator', maxFee: tokens(100) }], // h4
    ['dave', { kind: 'addStake', brain: 7, target: v[0]!, amount: tokens(40) }], // h5
  )
  expectReject(f, f.tx('dave', { kind: 'register', brain: 7, computeKey: m[2]!, role: 'miner', maxFee: tokens(100) }), 'SlotsFull')
  expectReject(f, f.tx('dave', { kind: 'register', brain: 7, computeKey: v[1]!, role: 'validator', maxFee: tokens(100) }), 'SlotsFull')
  // Give m1 a higher score than m0 (scores normally come from consensus epochs): edit a copy of the state.
  f.advance(12)
  const kv = copyState(f.store)
  const st = new State(kv)
  const hex = (k: Uint8Array) => Buffer.from(k).toString('hex')
  const p1 = st.participant(7, hex(m[1]!))!
  p1.score = 5n
  st.setParticipant(7, hex(m[1]!), p1)
  const ctx = { height: f.ledger.head().height + 1, time: 0, proposer: f.keys.proposer!.publicKey, params: f.ledger.params() }
  const r = applyTx(kv, f.tx('dave', { kind: 'register', brain: 7, computeKey: m[2]!, role: 'miner', maxFee: tokens(100) }), ctx)
  assert.equal(r.ok, true)
  assertSupply(kv)
  assert.equal(st.participant(7, hex(m[0]!)), undefined, 'lowest score (m0, score 0) replaced')
  assert.ok(st.participant(7, hex(m[1]!)))
  assert.ok(st.participant(7, hex(m[2]!)))
  assert.equal(st.brain(7)!.miners, 2)
  // With equal scores the oldest goes: on the real ledger m0 (h2) is older than m1 (h3).
  run(f, ['dave', { kind: 'register', brain: 7, computeKey: m[2]!, role: 'miner', maxFee: tokens(100) }])
  assert.equal(f.ledger.participant(7, m[0]!), undefined)
  assert.ok(f.ledger.participant(7, m[1]!))
  // A replaced validator's stakers get their stake back.
  const dave0 = f.based('dave')
  run(f, ['carol', { kind: 'register', brain: 7, computeKey: v[1]!, role: 'validator', maxFee: tokens(100) }])
  assert.equal(f.ledger.participant(7, v[0]!), undefined)
  assert.ok(f.based('dave') >= dave0 + tokens(40))
  assert.equal(f.ledger.stake(7, f.keys.dave!.publicKey, v[0]!), 0n)
  assert.equal(f.ledger.globals().totalStake, 0n)
  assertSupply(f.store)
})

test('stakes are per Brain: a stake on one Brain cannot be withdrawn from another', () => {
  const f = fixture()
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }], // #7
    ['bob', { kind: 'acquireBrainBurn', maxCost: tokens(2000) }], // #8
    ['carol', { kind: 'addStake', brain: 7, target: EMPTY, amount: tokens(100) }],
    ['carol', { kind: 'addStake', brain: 8, target: EMPTY, amount: tokens(5) }],
  )
  const c = f.keys.carol!.publicKey
  assert.equal(f.ledger.stake(7, c), tokens(100))
  assert.equal(f.ledger.stake(8, c), tokens(5))
  expectReject(f, f.tx('carol', { kind: 'removeStake', brain: 8, target: EMPTY, amount: tokens(6) }), 'InsufficientFunds')
  const before = f.based('carol')
  run(f, ['carol', { kind: 'removeStake', brain: 8, target: EMPTY, amount: tokens(5) }])
  assert.ok(f.based('carol') > before + tokens(5) - tokens(1))
  assert.equal(f.ledger.stake(8, c), 0n)
  assert.equal(f.ledger.brain(8)!.stake, 0n)
  assert.equal(f.ledger.globals().totalStake, tokens(100))
})

test('70th percentile: nearest rank; the figure-4 style example; only active validators\' stakers are paid', () => {
  assert.equal(nearestRankPercentile([10n, 20n, 30n, 40n, 50n, 60n, 70n, 80n, 90n, 100n], 70), 70n)
  assert.deepEqual(activeMask([10n, 20n, 30n, 40n, 50n, 60n, 70n, 80n, 90n, 100n], 70), [false, false, false, false, false, false, true, true, true, true])
  assert.deepEqual(activeMask([5n], 70), [true])
  assert.deepEqual(activeMask([0n, 0n], 70), [false, false])
  assert.deepEqual(activeMask([40n, 40n, 10n], 70), [true, true, false])
  const f = fixture({ params: { tempo: 3 } })
  run(f, ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }]) // #7
  const stakers = ['alice', 'bob', 'carol', 'dave']
  const vs = stakers.map((_, i) => testKeyPair(`v${i}`).publicKey)
  vs.forEach((k, i) => run(f,
    [stakers[i]!, { kind: 'register', brain: 7, computeKey: k, role: 'validator', maxFee: tokens(100) }],
    [stakers[i]!, { kind: 'addStake', brain: 7, target: k, amount: tokens(10 * (i + 1)) }],
  ))
  // stakes 10, 20, 30, 40 → rank ⌈2.8⌉ = 3 → threshold 30 → v2, v3 active.
  const before = stakers.map((s) => f.based(s))
  // Run until Brain #7's next epoch with nothing else moving.
  const tempo = f.ledger.params().tempo
  let h = f.ledger.head().height
  do {
    f.advance(1)
    h++
  } while ((h + 7) % tempo !== 0)
  const gains = stakers.map((s, i) => f.based(s) - before[i]!)
  assert.equal(gains[1], 0n)
  assert.ok(gains[2]! > 0n && gains[3]! > 0n)
  // alice is also the owner (25% cut), so only check bob (inactive validator) got nothing and v3 > v2 (by stake).
  assert.ok(gains[3]! > gains[2]!)
})

test('0.5% cap: a Brain\'s stake counted for emission is capped at 0.5% of total stake', () => {
  // No foundation → no reserved Brains, so only #7 and #8 share emission.
  const f = fixture({ params: { foundation: new Uint8Array(32) } })
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }], // #7
    ['bob', { kind: 'acquireBrainBurn', maxCost: tokens(2000) }], // #8
    ['carol', { kind: 'addStake', brain: 7, target: EMPTY, amount: tokens(990) }],
    ['dave', { kind: 'addStake', brain: 8, target: EMPTY, amount: tokens(10) }],
  )
  const g = f.ledger.globals()
  const cap = (g.totalStake * 50n) / 10_000n
  assert.equal(cap, tokens(5))
  assert.equal(cappedStake(f.ledger.brain(7)!, g, f.ledger.params()), tokens(5))
  assert.equal(cappedStake(f.ledger.brain(8)!, g, f.ledger.params()), tokens(5))
  // One block's emission: base (90%) splits equally despite 99:1 raw stake; the top-30% bonus (⌈0.6⌉ = 1 Brain)
  // goes to the first by (performance, weight, id) = #7.
  const { p7, p8 } = emitForTest(f)
  assert.equal(p7, tokens(10) * 45n / 100n + tokens(1))
  assert.equal(p8, tokens(10) * 45n / 100n)
})
