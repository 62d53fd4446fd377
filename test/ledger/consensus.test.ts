/**
 * The ledger wired to `basedai/consensus`: validators' weights (setWeights) drive Yuma consensus every tempo blocks;
 * miners are paid by incentive, validator pools by dividends, bonds persist between epochs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { StateKeys, testKeyPair, tokens, yumaEpochHook } from 'basedai/ledger'
import { assertSupply, expectReject, fixture, run } from './helpers.ts'

function setup() {
  const f = fixture({ epochHook: yumaEpochHook, params: { tempo: 5, foundation: new Uint8Array(32) } })
  const v = [0, 1].map((i) => testKeyPair(`cv${i}`).publicKey)
  const m = [0, 1, 2].map((i) => testKeyPair(`cm${i}`).publicKey)
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }], // #7
    ['bob', { kind: 'register', brain: 7, computeKey: v[0]!, role: 'validator', maxFee: tokens(100) }], // uid 0
    ['carol', { kind: 'register', brain: 7, computeKey: v[1]!, role: 'validator', maxFee: tokens(100) }], // uid 1
    ['dave', { kind: 'register', brain: 7, computeKey: m[0]!, role: 'miner', maxFee: tokens(100) }], // uid 2
    ['alice', { kind: 'register', brain: 7, computeKey: m[1]!, role: 'miner', maxFee: tokens(100) }], // uid 3
    ['alice', { kind: 'register', brain: 7, computeKey: m[2]!, role: 'miner', maxFee: tokens(100) }], // uid 4
    ['bob', { kind: 'addStake', brain: 7, target: v[0]!, amount: tokens(60) }],
    ['carol', { kind: 'addStake', brain: 7, target: v[1]!, amount: tokens(60) }],
  )
  return { f, v, m }
}

test('setWeights: only the validator\'s personal key, only for a validator, canonical uids', () => {
  const { f, v, m } = setup()
  expectReject(f, f.tx('carol', { kind: 'setWeights', brain: 7, computeKey: v[0]!, uids: [2], weights: [1] }), 'PermissionDenied')
  expectReject(f, f.tx('dave', { kind: 'setWeights', brain: 7, computeKey: m[0]!, uids: [2], weights: [1] }), 'UnknownParticipant')
  expectReject(f, f.tx('bob', { kind: 'setWeights', brain: 9, computeKey: v[0]!, uids: [2], weights: [1] }), 'UnknownBrain')
  assert.throws(() => f.tx('bob', { kind: 'setWeights', brain: 7, computeKey: v[0]!, uids: [3, 2], weights: [1, 1] }), (e: { _tag: string }) => e._tag === 'MalformedTx')
})

test('Yuma epoch: miners paid by consensus incentive, bonds stored, performance from agreement; supply exact', () => {
  const { f, v, m } = setup()
  // Both validators put most weight on miner uid 2 (dave), some on uid 3 (alice's m1), none on uid 4.
  run(f,
    ['bob', { kind: 'setWeights', brain: 7, computeKey: v[0]!, uids: [2, 3], weights: [60_000, 20_000] }],
    ['carol', { kind: 'setWeights', brain: 7, computeKey: v[1]!, uids: [2, 3], weights: [50_000, 30_000] }],
  )
  const tempo = 5
  // Advance through two epochs of #7 ((h + 7) % 5 = 0).
  let epochs = 0
  while (epochs < 2) {
    f.advance(1)
    if ((f.ledger.head().height + 7) % tempo === 0) epochs++
  }
  const p2 = f.ledger.participant(7, m[0]!)!
  const p3 = f.ledger.participant(7, m[1]!)!
  const p4 = f.ledger.participant(7, m[2]!)!
  assert.ok(p2.score > p3.score && p3.score > 0n, `incentive order ${p2.score} > ${p3.score} > 0`)
  assert.equal(p4.score, 0n, 'no weight → no incentive')
  assert.ok(f.store.get(StateKeys.bonds(7)), 'bonds stored')
  assert.ok(f.ledger.brain(7)!.performance > 1n, 'validators agree → performance above the floor')
  assert.ok((f.ledger.participant(7, v[0]!)!.score) > 0n, 'validators earn dividends')
  assertSupply(f.store)
})

test('Yuma epoch without weights: miners get nothing, the participants\' part goes to stakers', () => {
  const { f } = setup()
  const dave0 = f.based('dave')
  const bob0 = f.based('bob')
  f.advance(12)
  assert.equal(f.based('dave'), dave0, 'miner without consensus weight is not paid')
  assert.ok(f.based('bob') > bob0, 'validator staker is paid')
  assert.equal(f.ledger.brain(7)!.performance, 1n)
  assert.equal(f.ledger.stake(7, f.keys.bob!.publicKey, testKeyPair('cv0').publicKey), tokens(60))
})
