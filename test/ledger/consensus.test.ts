/**
 * The ledger wired to `basedai/consensus`: validators' weights (setWeights) drive Yuma consensus every tempo blocks;
 * miners are paid by incentive, validator pools by dividends, bonds persist between epochs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { State, StateKeys, endBlock, testKeyPair, toHex, tokens, yumaEpochHook, type TxBody } from 'basedai/ledger'
import { CREDIT_ONE } from 'basedai/consensus'
import { consensusEpochHook } from '../../ledger/consensus-hook.ts'
import { brainCredits, setBrainCredits } from '../../ledger/credits.ts'
import { assertSupply, copyState, expectReject, fixture, run } from './helpers.ts'

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

test('Credits on the chain: accrued per participant at each epoch, stored under k:<id>, an entry of another compute key ignored; supply exact', () => {
  const f = fixture({ epochHook: consensusEpochHook, params: { tempo: 5, foundation: new Uint8Array(32), creditMaxBoostPpm: 250_000, creditHalfCredits: 1 } })
  const v = [0, 1, 2].map((i) => testKeyPair(`cv${i}`).publicKey)
  const m = [0, 1].map((i) => testKeyPair(`cm${i}`).publicKey)
  const who = ['bob', 'carol', 'dave'] as const
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }], // #7
    ...who.map((w, i) => [w, { kind: 'register', brain: 7, computeKey: v[i]!, role: 'validator', maxFee: tokens(100) }] as [string, TxBody]), // uids 0, 1, 2
    ['alice', { kind: 'register', brain: 7, computeKey: m[0]!, role: 'miner', maxFee: tokens(100) }], // uid 3
    ['alice', { kind: 'register', brain: 7, computeKey: m[1]!, role: 'miner', maxFee: tokens(100) }], // uid 4
    ...who.map((w, i) => [w, { kind: 'addStake', brain: 7, target: v[i]!, amount: tokens(60) }] as [string, TxBody]),
  )
  // Equal stakes. Bob's and carol's weight all survives consensus; dave puts half on uid 4, which only he (a third of
  // the stake, below κ) supports: clipped to 0. All three in one block, so every epoch sees the same weights.
  f.block([
    f.tx('bob', { kind: 'setWeights', brain: 7, computeKey: v[0]!, uids: [3], weights: [65_535] }),
    f.tx('carol', { kind: 'setWeights', brain: 7, computeKey: v[1]!, uids: [3], weights: [65_535] }),
    f.tx('dave', { kind: 'setWeights', brain: 7, computeKey: v[2]!, uids: [3, 4], weights: [65_535, 65_535] }),
  ])
  const credits = (st = new State(copyState(f.store))): bigint[] => {
    const byUid = new Map(brainCredits(st, 7).map((e) => [e.uid, e.credits] as const))
    return [0, 1, 2, 3, 4].map((u) => byUid.get(u) ?? 0n)
  }
  const toEpoch = (): void => {
    do f.advance(1)
    while ((f.ledger.head().height + 7) % 5 !== 0)
  }
  // ΔCredits_i = ⌊S_i·Σ_j W̄_ij·2^40⌋: a third for bob and carol, a sixth for dave, nothing for miners.
  const delta = [CREDIT_ONE / 3n, CREDIT_ONE / 3n, CREDIT_ONE / 6n, 0n, 0n]
  const c0 = credits()
  toEpoch()
  const c1 = credits()
  assert.deepEqual(c1.map((c, i) => c - (c0[i] as bigint)), delta)
  toEpoch()
  assert.deepEqual(credits().map((c, i) => c - (c1[i] as bigint)), delta, 'accumulated epoch after epoch')
  // An entry naming another compute key for a uid counts for nothing (it was that uid's previous participant's).
  const st = new State(copyState(f.store))
  setBrainCredits(st, 7, [
    { uid: 0, computeKey: toHex(testKeyPair('someone-else').publicKey), credits: 50n * CREDIT_ONE },
    { uid: 1, computeKey: toHex(v[1]!), credits: 5n * CREDIT_ONE },
  ])
  const g = st.globals()
  let h = g.height + 1
  while ((h + 7) % 5 !== 0) h++
  endBlock(st, g, st.params(), h, consensusEpochHook)
  st.setGlobals(g)
  assert.deepEqual(credits(st), [delta[0], 5n * CREDIT_ONE + (delta[1] as bigint), delta[2], 0n, 0n])
  assertSupply(st.kv)
  assertSupply(f.store)
})
