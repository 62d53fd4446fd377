import { test } from 'node:test'
import assert from 'node:assert/strict'
import { State, blockReward, defaultParams, endBlock, splitProportional, testKeyPair, tokens } from 'basedai/ledger'
import fc from 'fast-check'
import { EMPTY, assertSupply, copyState, fixture, run } from './helpers.ts'

test('halving boundary: block 3,155,759 pays 10 $BASED, block 3,155,760 pays 5', () => {
  const p = defaultParams()
  assert.equal(p.halvingInterval, 3_155_760)
  assert.equal(blockReward(p, 1), tokens(10))
  assert.equal(blockReward(p, 3_155_759), tokens(10))
  assert.equal(blockReward(p, 3_155_760), tokens(5))
  assert.equal(blockReward(p, 2 * 3_155_760 - 1), tokens(5))
  assert.equal(blockReward(p, 2 * 3_155_760), 2_500_000_000n)
  assert.equal(blockReward(p, 200 * 3_155_760), 0n)
})

test('halving boundary through the state machine: emitted grows by exactly 10 then 5 $BASED', () => {
  const f = fixture()
  run(f, ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }])
  for (const [h, want] of [[3_155_759, tokens(10)], [3_155_760, tokens(5)]] as const) {
    const st = new State(copyState(f.store))
    const g = st.globals()
    const e0 = g.emitted
    const p0 = g.brains.reduce((s, id) => s + st.brain(id)!.pending, 0n)
    endBlock(st, g, st.params(), h, () => ({}))
    st.setGlobals(g)
    assertSupply(st.kv)
    assert.equal(g.emitted - e0, want)
    assert.equal(g.brains.reduce((s, id) => s + st.brain(id)!.pending, 0n) - p0, want)
  }
})

test('largest remainder: parts sum exactly to the total, ties to the lower index', () => {
  assert.deepEqual(splitProportional(10n, [1n, 1n, 1n]), [4n, 3n, 3n])
  assert.deepEqual(splitProportional(7n, [0n, 0n]), [4n, 3n])
  assert.deepEqual(splitProportional(100n, [1n, 3n]), [25n, 75n])
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.array(fc.bigInt({ min: 0n, max: 10n ** 15n }), { minLength: 1, maxLength: 30 }), (t, ws) => {
    const parts = splitProportional(t, ws)
    assert.equal(parts.reduce((a, b) => a + b, 0n), t)
    const sum = ws.reduce((a, b) => a + b, 0n)
    parts.forEach((p, i) => {
      const exact = sum === 0n ? t : t * ws[i]!
      const den = sum === 0n ? BigInt(ws.length) : sum
      assert.ok(p * den >= exact - den && p * den <= exact + den, 'each part within 1 unit of its exact share')
    })
  }), { seed: 3, numRuns: 300 })
})

test('epoch: 25% to the owner\'s reward address, 75% to participants (miners by minerBps, then stakers); exact', () => {
  const f = fixture({ params: { tempo: 4, foundation: new Uint8Array(32) } })
  const ckM = testKeyPair('m').publicKey
  const ckV = testKeyPair('v').publicKey
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }], // #7, the only Brain
    ['alice', { kind: 'setBrain', brain: 7, setting: 'rewardTo', text: '', key: f.keys.erin!.publicKey, value: 0n }],
    ['bob', { kind: 'register', brain: 7, computeKey: ckM, role: 'miner', maxFee: tokens(100) }],
    ['carol', { kind: 'register', brain: 7, computeKey: ckV, role: 'validator', maxFee: tokens(100) }],
    ['carol', { kind: 'addStake', brain: 7, target: ckV, amount: tokens(30) }],
    ['dave', { kind: 'addStake', brain: 7, target: ckV, amount: tokens(10) }],
  )
  // Step to just before the next epoch of #7, then run that one block by hand and compare.
  while ((f.ledger.head().height + 2 + 7) % 4 !== 0) f.advance(1)
  f.advance(1)
  const h = f.ledger.head().height + 1
  assert.equal((h + 7) % 4, 0)
  const st = new State(copyState(f.store))
  const hex = (n: string) => Buffer.from(f.keys[n]!.publicKey).toString('hex')
  const bal = (n: string) => st.account(hex(n))?.based ?? 0n
  const before = Object.fromEntries(['erin', 'bob', 'carol', 'dave'].map((n) => [n, bal(n)]))
  const P = st.brain(7)!.pending + tokens(10)
  const g = st.globals()
  endBlock(st, g, st.params(), h, () => ({}))
  st.setGlobals(g)
  assertSupply(st.kv)
  const gain = (n: string) => bal(n) - (before[n] as bigint)
  const owner = (P * 2500n) / 10_000n
  const miners = ((P - owner) * 5000n) / 10_000n
  const stakers = P - owner - miners
  assert.equal(gain('erin'), owner)
  assert.equal(gain('bob'), miners)
  assert.equal(gain('carol') + gain('dave'), stakers)
  assert.deepEqual(splitProportional(stakers, [tokens(30), tokens(10)]), [gain('carol'), gain('dave')])
  assert.equal(st.brain(7)!.pending, 0n)
})

test('owner-adjustable split: ownerBps 0 and minerBps 10000 send everything to miners', () => {
  const f = fixture({ params: { tempo: 2, foundation: new Uint8Array(32) } })
  const ckM = testKeyPair('m').publicKey
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }],
    ['alice', { kind: 'setBrain', brain: 7, setting: 'ownerBps', text: '', key: EMPTY, value: 0n }],
    ['alice', { kind: 'setBrain', brain: 7, setting: 'minerBps', text: '', key: EMPTY, value: 10_000n }],
    ['bob', { kind: 'register', brain: 7, computeKey: ckM, role: 'miner', maxFee: tokens(100) }],
  )
  const a0 = f.based('alice')
  const b0 = f.based('bob')
  f.advance(6)
  assert.equal(f.based('alice'), a0)
  assert.ok(f.based('bob') > b0)
})

test('no Brains → nothing emitted; emitted = Σ rewards once Brains exist', () => {
  const f = fixture({ params: { foundation: new Uint8Array(32) } })
  f.advance(5)
  assert.equal(f.ledger.globals().emitted, 0n)
  run(f, ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }])
  const h0 = f.ledger.head().height
  f.advance(20)
  assert.equal(f.ledger.globals().emitted, tokens(10) * BigInt(f.ledger.head().height - h0 + 1))
})
