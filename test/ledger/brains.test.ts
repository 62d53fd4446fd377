import { test } from 'node:test'
import assert from 'node:assert/strict'
import { State, applyTx, auditSupply, defaultParams, endBlock, tokens, type PreparedTx } from 'basedai/ledger'
import { EMPTY, assertSupply, copyState, ctxAt, expectReject, fixture, run } from './helpers.ts'

/** Total Pepecoin the burn rule gives for n Brains: Σ_{k=1..n} (1000 + 200(k−1)). */
function burnTotal(n: number): bigint {
  return BigInt(n) * 1000n + 200n * BigInt((n * (n - 1)) / 2)
}

test('burn price sequence: k-th Brain costs 1000 + 200(k−1) Pepecoin, ids skip reserved #0–#6 and #47', () => {
  const f = fixture()
  const txs: PreparedTx[] = []
  for (let i = 0; i < 42; i++) txs.push(f.tx('alice', { kind: 'acquireBrainBurn', maxCost: tokens(1_000_000) }, { nonceOffset: BigInt(i) }))
  const pepe0 = f.pepe('alice')
  f.block(txs.slice(0, 1))
  assert.equal(pepe0 - f.pepe('alice'), tokens(1000))
  f.block(txs.slice(1, 2))
  assert.equal(pepe0 - f.pepe('alice'), tokens(1000 + 1200))
  f.block(txs.slice(2))
  assert.equal(pepe0 - f.pepe('alice'), burnTotal(42) * 10n ** 9n)
  const ids = f.ledger.globals().brains
  // Reserved 0..6 and 47 exist (foundation genesis); burned Brains are 7..46, 48, 49.
  assert.deepEqual(ids.filter((i) => i >= 7 && i !== 47), [...Array(40).keys()].map((i) => i + 7).concat([48, 49]))
  const burned = ids.filter((i) => f.ledger.brain(i)?.method === 'burn').map((i) => f.ledger.brain(i)!.burnedPepe)
  assert.deepEqual(burned, [...Array(42).keys()].map((k) => tokens(1000 + 200 * k)))
  assert.equal(f.ledger.brain(47)?.method, 'reserved')
})

test('the rule gives 104,140,000 Pepecoin for all 1016 burnable Brains (105,779,200 for 1024), not the seed\'s 107,563,530', () => {
  assert.equal(burnTotal(1016), 104_140_000n)
  assert.equal(burnTotal(1024), 105_779_200n)
  assert.notEqual(burnTotal(1016), 107_563_530n)
  assert.notEqual(burnTotal(1024), 107_563_530n)
})

test('1024 cap: all 1016 non-reserved Brains by burn, then BrainCapReached; burned total matches the rule', () => {
  const f = fixture({ accounts: { alice: { based: tokens(1_000_000), pepe: tokens(200_000_000) } } })
  const per = 254
  for (let b = 0; b < 4; b++) {
    const txs: PreparedTx[] = []
    for (let i = 0; i < per; i++) txs.push(f.tx('alice', { kind: 'acquireBrainBurn', maxCost: tokens(1_000_000) }, { nonceOffset: BigInt(i) }))
    f.block(txs)
  }
  const g = f.ledger.globals()
  assert.equal(g.brains.length, 1024)
  assert.equal(g.burnCount, 1016)
  assert.equal(g.pepeBurned, burnTotal(1016) * 10n ** 9n)
  for (const r of [0, 1, 2, 3, 4, 5, 6, 47]) assert.equal(f.ledger.brain(r)?.method, 'reserved')
  expectReject(f, f.tx('alice', { kind: 'acquireBrainBurn', maxCost: tokens(1_000_000) }), 'BrainCapReached')
  expectReject(f, f.tx('alice', { kind: 'acquireBrainStake' }), 'BrainCapReached')
})

test('90-day lock: default is 777,600 blocks; deactivation refused at unlockAt−1, allowed at unlockAt; it returns the Pepecoin, every stake, and frees the slot', () => {
  assert.equal(defaultParams().stakeLockBlocks, 777_600)
  const f = fixture()
  run(f,
    ['bob', { kind: 'acquireBrainStake' }], // #7, acquired at height 1
    ['carol', { kind: 'addStake', brain: 7, target: EMPTY, amount: tokens(50) }],
    ['bob', { kind: 'register', brain: 7, computeKey: f.keys.dave!.publicKey, role: 'validator', maxFee: tokens(100) }],
    ['dave', { kind: 'addStake', brain: 7, target: f.keys.dave!.publicKey, amount: tokens(30) }],
  )
  const brain = f.ledger.brain(7)!
  assert.equal(brain.method, 'stake')
  assert.equal(brain.lockedPepe, tokens(100_000))
  assert.equal(brain.unlockAt, 1 + 777_600)
  const deactivate = f.tx('bob', { kind: 'deactivateBrain', brain: 7 })
  expectReject(f, deactivate, 'StillLocked', brain.unlockAt - 1)
  const kv = copyState(f.store)
  const st = new State(kv)
  const bobPepe = st.account(Buffer.from(f.keys.bob!.publicKey).toString('hex'))!.pepe
  const carolBased = f.based('carol')
  const daveBased = f.based('dave')
  const r = applyTx(kv, deactivate, ctxAt(f, brain.unlockAt))
  assert.equal(r.ok, true)
  assert.equal(st.brain(7), undefined)
  assert.equal(st.account(Buffer.from(f.keys.bob!.publicKey).toString('hex'))!.pepe, bobPepe + tokens(100_000))
  // Stakes returned (plus whatever the final epoch paid them).
  assert.ok(st.account(Buffer.from(f.keys.carol!.publicKey).toString('hex'))!.based >= carolBased + tokens(50))
  assert.ok(st.account(Buffer.from(f.keys.dave!.publicKey).toString('hex'))!.based >= daveBased + tokens(30))
  assert.equal(st.globals().totalStake, 0n)
  assert.equal(kv.scan('s:').length + kv.scan('n:').length + kv.scan('p:').length + kv.scan('l:').length, 0)
  assert.ok(auditSupply(kv).ok)
  // The slot is free again: the next acquisition gets id 7.
  const again = f.tx('alice', { kind: 'acquireBrainStake' })
  assert.equal(applyTx(kv, again, ctxAt(f, brain.unlockAt + 1)).ok, true)
  assert.equal(st.brain(7)?.owner.length, 32)
  assert.ok(auditSupply(kv).ok)
})

test('a staked Brain\'s owner earns only after the lock; until then the owner cut goes to participants', () => {
  const f = fixture({ params: { tempo: 5 } })
  run(f,
    ['bob', { kind: 'acquireBrainStake' }], // #7
    ['carol', { kind: 'addStake', brain: 7, target: EMPTY, amount: tokens(50) }],
  )
  const unlockAt = f.ledger.brain(7)!.unlockAt
  const hex = (n: string) => Buffer.from(f.keys[n]!.publicKey).toString('hex')
  const due = (from: number) => from + ((((5 - ((from + 7) % 5)) % 5) + 5) % 5)
  const before = due(unlockAt - 5)
  assert.ok(before < unlockAt)
  for (const [height, ownerEarns] of [[before, false], [due(unlockAt), true]] as const) {
    const kv = copyState(f.store)
    const st = new State(kv)
    const g = st.globals()
    const p = st.params()
    const bob0 = st.account(hex('bob'))!.based
    const carol0 = st.account(hex('carol'))!.based
    assert.equal((height + 7) % p.tempo, 0)
    const pending = st.brain(7)!.pending
    endBlock(st, g, p, height, () => ({}))
    st.setGlobals(g)
    const total = pending + tokens(10)
    const bobGain = st.account(hex('bob'))!.based - bob0
    const carolGain = st.account(hex('carol'))!.based - carol0
    assert.equal(bobGain + carolGain, total)
    assert.equal(bobGain, ownerEarns ? (total * 2500n) / 10_000n : 0n)
    assert.ok(auditSupply(kv).ok)
  }
  assertSupply(f.store)
})
