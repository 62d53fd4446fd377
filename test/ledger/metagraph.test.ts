/**
 * The Brain's last epoch outputs stored in the ledger state (`e:<id>`, `u:<id>:<ck>`) and returned by GetMetagraph
 * (ledger/queries.ts metagraphOf): the stored rank / trust / consensus / incentive / dividends equal a recomputation
 * with consensus's `epoch()` on the same inputs, the per-uid emission sums with the owner cut and the Brain pool's
 * part to exactly what the epoch distributed (and to the balances that moved), and the last update follows setWeights.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { epoch } from 'basedai/consensus'
import {
  Overlay, State, StateKeys, activeMask, applyTx, blockReward, testKeyPair, toAddress, toHex, tokens, yumaEpochHook,
} from 'basedai/ledger'
import { metagraphOf } from '../../ledger/queries.ts'
import { decodeEpochRecord, encodeEpochRecord } from '../../ledger/records.ts'
import { assertSupply, copyState, ctxAt, fixture, run, type Fixture } from './helpers.ts'

const BRAIN = 7
const TEMPO = 5

function setup(tempo = TEMPO) {
  const f = fixture({ epochHook: yumaEpochHook, params: { tempo, foundation: new Uint8Array(32) } })
  const v = [0, 1].map((i) => testKeyPair(`mv${i}`).publicKey)
  const m = [0, 1, 2].map((i) => testKeyPair(`mm${i}`).publicKey)
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }], // #7
    ['bob', { kind: 'register', brain: BRAIN, computeKey: v[0]!, role: 'validator', maxFee: tokens(100) }], // uid 0
    ['carol', { kind: 'register', brain: BRAIN, computeKey: v[1]!, role: 'validator', maxFee: tokens(100) }], // uid 1
    ['dave', { kind: 'register', brain: BRAIN, computeKey: m[0]!, role: 'miner', maxFee: tokens(100) }], // uid 2
    ['alice', { kind: 'register', brain: BRAIN, computeKey: m[1]!, role: 'miner', maxFee: tokens(100) }], // uid 3
    ['alice', { kind: 'register', brain: BRAIN, computeKey: m[2]!, role: 'miner', maxFee: tokens(100) }], // uid 4
    ['bob', { kind: 'addStake', brain: BRAIN, target: v[0]!, amount: tokens(60) }],
    ['carol', { kind: 'addStake', brain: BRAIN, target: v[1]!, amount: tokens(40) }],
  )
  return { f, v, m }
}

const isEpoch = (h: number): boolean => (h + BRAIN) % TEMPO === 0
/** Advances to the block just before the Brain's next epoch. */
function toEpochEve(f: Fixture): void {
  while (!isEpoch(f.ledger.head().height + 1)) f.advance(1)
}
const score = (x: number): string => String(BigInt(Math.round(Math.max(0, x) * 1e9)))

/** consensus's epoch() on the inputs the ledger will pass at the next epoch (state as committed now). */
function recompute(f: Fixture) {
  const st = new State(new Overlay(f.store))
  const parts = (['validator', 'miner'] as const)
    .flatMap((role) => st.members(BRAIN, role).map((k) => ({ role, hex: toHex(k), p: st.participant(BRAIN, toHex(k))! })))
    .sort((a, b) => a.p.uid - b.p.uid)
  const n = parts.length
  const index = new Map(parts.map((x, i) => [x.p.uid, i]))
  const validators = parts.filter((x) => x.role === 'validator')
  const active = activeMask(validators.map((x) => x.p.stake), f.ledger.params().activeValidatorPercentile)
  const permit = parts.map((x) => x.role === 'validator' && active[validators.indexOf(x)] === true)
  const weights = parts.map((x) => {
    const row = new Array<number>(n).fill(0)
    if (x.role === 'validator') for (const [uid, w] of st.weights(BRAIN, x.hex)) row[index.get(uid)!] = w
    return row
  })
  const bonds = parts.map(() => new Array<number>(n).fill(0))
  for (const [i, j, val] of st.bonds(BRAIN)) bonds[index.get(i)!]![index.get(j)!] = val
  const out = epoch({ stake: parts.map((x) => (x.role === 'validator' ? Number(x.p.stake) : 0)), weights, validatorPermit: permit, bonds })
  return { uids: parts.map((x) => x.p.uid), out }
}

test('metagraph before any epoch: consensus columns and emission null, last update = registration', () => {
  const { f } = setup(1000) // the first epoch of #7 is at height 993
  const g = metagraphOf(f.ledger, BRAIN)!
  assert.equal(g.lastEpoch, null)
  assert.equal(g.epoch, null)
  assert.equal(f.store.get(StateKeys.epoch(BRAIN)), undefined)
  for (const r of g.rows) {
    assert.deepEqual([r.rank, r.trust, r.consensus, r.incentive, r.dividends, r.emission], [null, null, null, null, null, null])
    assert.equal(r.lastUpdate, r.registeredAt)
  }
})

test('stored epoch columns equal consensus epoch() on the same inputs; emission per uid sums to what was paid', () => {
  const { f, v } = setup()
  run(f,
    ['bob', { kind: 'setWeights', brain: BRAIN, computeKey: v[0]!, uids: [2, 3], weights: [60_000, 20_000] }],
    ['carol', { kind: 'setWeights', brain: BRAIN, computeKey: v[1]!, uids: [2, 3, 4], weights: [10_000, 30_000, 40_000] }],
  )
  // Two epochs: the second runs with the bonds the first stored, so they are part of the recomputed input.
  for (let e = 0; e < 2; e++) {
    toEpochEve(f)
    const { uids, out } = recompute(f)
    const pendingBefore = f.ledger.brain(BRAIN)!.pending
    const who = ['alice', 'bob', 'carol', 'dave'] as const
    const before = Object.fromEntries(who.map((w) => [w, f.based(w)]))
    f.advance(1) // the epoch block (empty: no fees move); advance() checks the supply identity
    const h = f.ledger.head().height
    assert.ok(isEpoch(h))
    const distributed = pendingBefore + blockReward(f.ledger.params(), h) // the only Brain receives the whole reward
    assert.equal(f.ledger.brain(BRAIN)!.pending, 0n)

    const g = metagraphOf(f.ledger, BRAIN)!
    assert.deepEqual(g.epoch && { height: g.epoch.height }, { height: h })
    assert.deepEqual(g.rows.map((r) => r.uid), uids)
    for (const r of g.rows) {
      const i = uids.indexOf(r.uid)
      assert.equal(r.rank, score(out.rank[i]!), `rank uid ${r.uid}`)
      assert.equal(r.trust, score(out.trust[i]!), `trust uid ${r.uid}`)
      assert.equal(r.consensus, score(out.consensus[i]!), `consensus uid ${r.uid}`)
      assert.equal(r.incentive, score(out.incentive[i]!), `incentive uid ${r.uid}`)
      assert.equal(r.dividends, score(out.dividends[i]!), `dividends uid ${r.uid}`)
      // The score the ledger pays by is the same column (miners: incentive, validators: dividends).
      assert.equal(r.score, r.role === 'miner' ? r.incentive : r.dividends)
    }
    // The recomputation is not vacuous: weighted miners rank, the unweighted-by-bob miner still gets carol's weight.
    assert.ok(out.rank.some((x) => x > 0) && out.dividends.some((x) => x > 0))

    const em = (uid: number): bigint => BigInt(g.rows.find((r) => r.uid === uid)!.emission!)
    const total = g.rows.reduce((a, r) => a + BigInt(r.emission!), 0n) + BigInt(g.epoch!.ownerCut) + BigInt(g.epoch!.brainPool)
    assert.equal(total, distributed, 'Σ emission per uid + owner cut + Brain pool = pending distributed')
    assert.equal(g.epoch!.brainPool, '0', 'no stake on the Brain\'s own pool')
    // Who received it: bob and carol are their pools' only stakers, dave owns miner uid 2, alice owns uids 3, 4 and the Brain.
    const delta = (w: (typeof who)[number]): bigint => f.based(w) - (before[w] as bigint)
    assert.equal(delta('bob'), em(0))
    assert.equal(delta('carol'), em(1))
    assert.equal(delta('dave'), em(2))
    assert.equal(delta('alice'), em(3) + em(4) + BigInt(g.epoch!.ownerCut))
    assert.ok(em(2) > 0n && em(0) > 0n, 'miner and validator paid')
  }
})

test('last update moves when a validator sets weights; epoch outputs are in the state root', () => {
  const { f, v, m } = setup()
  const lu = (ck: Uint8Array): number => metagraphOf(f.ledger, BRAIN)!.rows.find((r) => r.computeKey === toAddress(ck))!.lastUpdate
  const reg0 = f.ledger.participant(BRAIN, v[0]!)!.registeredAt
  assert.equal(lu(v[0]!), reg0)
  run(f, ['bob', { kind: 'setWeights', brain: BRAIN, computeKey: v[0]!, uids: [2], weights: [1] }])
  const h1 = f.ledger.head().height
  assert.ok(h1 > reg0)
  assert.equal(lu(v[0]!), h1)
  assert.equal(lu(v[1]!), f.ledger.participant(BRAIN, v[1]!)!.registeredAt, 'the other validator did not move')
  f.advance(3)
  run(f, ['bob', { kind: 'setWeights', brain: BRAIN, computeKey: v[0]!, uids: [2, 3], weights: [1, 2] }])
  const h2 = f.ledger.head().height
  assert.ok(h2 > h1)
  assert.equal(lu(v[0]!), h2)
  assert.equal(lu(m[0]!), f.ledger.participant(BRAIN, m[0]!)!.registeredAt)
  // The stored keys hold these values (so they are under the state root like every other record).
  assert.ok(f.store.get(StateKeys.lastUpdate(BRAIN, toHex(v[0]!))))
  toEpochEve(f)
  f.advance(1)
  const bytes = f.store.get(StateKeys.epoch(BRAIN))
  assert.ok(bytes)
  const rec = decodeEpochRecord(StateKeys.epoch(BRAIN), bytes)
  assert.equal(rec.height, f.ledger.head().height)
  assert.deepEqual(encodeEpochRecord(rec), bytes, 'canonical encoding')
})

test('deactivating a staked Brain removes its epoch record and last-update keys', () => {
  const f = fixture({ epochHook: yumaEpochHook, params: { tempo: TEMPO, foundation: new Uint8Array(32) } })
  const ck = testKeyPair('mv-deact').publicKey
  run(f,
    ['bob', { kind: 'acquireBrainStake' }], // #7
    ['bob', { kind: 'register', brain: BRAIN, computeKey: ck, role: 'validator', maxFee: tokens(100) }],
    ['dave', { kind: 'addStake', brain: BRAIN, target: ck, amount: tokens(30) }],
    ['bob', { kind: 'setWeights', brain: BRAIN, computeKey: ck, uids: [0], weights: [1] }],
  )
  toEpochEve(f)
  f.advance(1)
  assert.ok(f.store.get(StateKeys.epoch(BRAIN)) && f.store.get(StateKeys.lastUpdate(BRAIN, toHex(ck))))
  const kv = copyState(f.store)
  const r = applyTx(kv, f.tx('bob', { kind: 'deactivateBrain', brain: BRAIN }), ctxAt(f, f.ledger.brain(BRAIN)!.unlockAt))
  assert.equal(r.ok, true)
  assert.equal(kv.scan('e:').length + kv.scan('u:').length, 0)
  assertSupply(kv)
})

test('a corrupt epoch record is a typed CorruptState, not a crash', () => {
  const good = encodeEpochRecord({ height: 9, ownerCut: 5n, brainPool: 0n, rows: [{ uid: 0, emission: 3n, metrics: { rank: 1n, trust: 2n, consensus: 3n, incentive: 4n, dividends: 5n } }, { uid: 1, emission: 0n }] })
  assert.deepEqual(decodeEpochRecord('e:1', good).rows[1], { uid: 1, emission: 0n })
  assert.throws(() => decodeEpochRecord('e:1', good.subarray(0, good.length - 2)), (e: { _tag: string }) => e._tag === 'CorruptState')
  assert.throws(() => decodeEpochRecord('e:1', new Uint8Array([...good, 0])), (e: { _tag: string }) => e._tag === 'CorruptState')
})
