/**
 * The forecasting Enforcer on the chain (issue 15): commitForecast / revealForecast transactions, scoring of the
 * Brain's transaction series with the exact quantile loss, and I = R·C + β(t)·Accuracy in the Brain's epoch.
 * β's year is a (governable) parameter, so a year of 25 blocks lets the test reach β > 0 at height 51.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import {
  ForecastKeys, Ledger, MemoryStore, Overlay, State, decodeBlock, forecastCommitment, readAccuracySums, readCommit,
  realisedSeries, testKeyPair, toHex, verifyStateProof, yumaEpochHook, type PreparedTx, type TxBody,
} from 'basedai/ledger'
import { Q40_ONE } from '../../forecast/scoring.ts'
import { Mempool } from '../../ledger/mempool.ts'
import { betaRational } from 'basedai/consensus'
import { EMPTY, assertSupply, expectReject, fixture, tokens, type Fixture } from './helpers.ts'

const FORECAST = {
  tempo: 10, foundation: new Uint8Array(32), forecastPeriod: 10, forecastBlocksPerStep: 2, forecastHorizon: 3,
  forecastCommitLead: 5, forecastRevealWindow: 4, forecastBlocksPerYear: 25,
}
const BRAIN = 7
const V = ['bob', 'carol', 'dave', 'erin'] as const
type Who = (typeof V)[number]
const ck = (who: string): Uint8Array => testKeyPair(`fc-${who}`).publicKey
const MINER = testKeyPair('fc-miner').publicKey

/** Brain #7 (alice), validators bob, carol, dave, erin (uids 0–3, 60 $BASED each on themselves), miner of alice (uid 4). */
function setup(over: Record<string, unknown> = {}): Fixture {
  const f = fixture({
    epochHook: yumaEpochHook,
    params: { ...FORECAST, ...over },
    accounts: Object.fromEntries(['alice', ...V, 'frank'].map((n) => [n, { based: tokens(1_000_000), pepe: tokens(10_000) }])),
  })
  f.block([f.tx('alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) })])
  f.block([
    ...V.map((w) => f.tx(w, { kind: 'register', brain: BRAIN, computeKey: ck(w), role: 'validator', maxFee: tokens(100) })),
    f.tx('alice', { kind: 'register', brain: BRAIN, computeKey: MINER, role: 'miner', maxFee: tokens(100) }),
  ])
  f.block(V.map((w) => f.tx(w, { kind: 'addStake', brain: BRAIN, target: ck(w), amount: tokens(60) })))
  f.block(V.map((w) => f.tx(w, { kind: 'setWeights', brain: BRAIN, computeKey: ck(w), uids: [4], weights: [65_535] })))
  return f
}

/** Scripted Brain traffic: block h carries (7h mod 4) setBrain transactions from the owner. */
const traffic = (h: number): number => (h * 7) % 4
/** Realised value of window w (2 blocks per window). */
const windowCount = (w: number): bigint => BigInt(traffic(2 * w) + traffic(2 * w + 1))
/** The true series of the round at `origin`: τ = 3 windows. */
const truth = (origin: number): bigint[] => [0, 1, 2].map((k) => windowCount(origin / 2 + k))
/** P10 = P50 = P90 = value, window-major. */
const asQuantiles = (ys: readonly bigint[]): bigint[] => ys.flatMap((y) => [y, y, y])

function commitBody(f: Fixture, who: string, origin: number, values: readonly bigint[], salt: Uint8Array): TxBody {
  return {
    kind: 'commitForecast', brain: BRAIN, computeKey: ck(who), originHeight: origin,
    commitment: forecastCommitment(f.ledger.params(), BRAIN, origin, ck(who), values, salt),
  }
}
const revealBody = (who: string, origin: number, values: readonly bigint[], salt: Uint8Array): TxBody =>
  ({ kind: 'revealForecast', brain: BRAIN, computeKey: ck(who), originHeight: origin, values, salt })

const view = (f: Fixture): State => new State(new Overlay(f.store))

test('forecasting validators: a good forecast earns more once β(t) > 0, equal at β = 0; copies caught, silence scores 0; replay is deterministic', (t) => {
  const f = setup()
  const fees = new Map<string, bigint>()
  const send = (who: string, body: TxBody, nonceOffset = 0n): PreparedTx => {
    const t = f.tx(who, body, { nonceOffset })
    fees.set(who, (fees.get(who) ?? 0n) + t.tx.fee)
    return t
  }
  /** $BASED earned by each validator's personal key since `from`: balance change plus the fees it paid. */
  const snapshot = (): Map<string, bigint> => new Map(V.map((w) => [w, f.based(w) + (fees.get(w) ?? 0n)]))
  const earned = (from: Map<string, bigint>): Record<Who, bigint> =>
    Object.fromEntries(V.map((w) => [w, f.based(w) + (fees.get(w) ?? 0n) - (from.get(w) as bigint)])) as Record<Who, bigint>

  const salts = new Map<string, Uint8Array>()
  const good = (o: number): bigint[] => asQuantiles(truth(o))
  const bad = (o: number): bigint[] => asQuantiles(truth(o).map((y) => y + 4n))
  let copies = 0
  let phase1: Map<string, bigint> | undefined
  let phase2: Map<string, bigint> | undefined
  let e1: Record<Who, bigint> | undefined
  let e2: Record<Who, bigint> | undefined
  for (let h = f.ledger.head().height + 1; h <= 94; h++) {
    const txs: PreparedTx[] = []
    for (let i = 0; i < traffic(h); i++)
      txs.push(send('alice', { kind: 'setBrain', brain: BRAIN, setting: 'name', text: `b${h}.${i}`, key: EMPTY, value: 0n }, BigInt(i)))
    if (h % 10 === 7) {
      const o = h + 3
      for (const w of ['bob', 'carol', 'erin'] as const) salts.set(`${w}${o}`, randomBytes(16))
      txs.push(send('bob', commitBody(f, 'bob', o, good(o), salts.get(`bob${o}`) as Uint8Array)))
      txs.push(send('carol', commitBody(f, 'carol', o, bad(o), salts.get(`carol${o}`) as Uint8Array)))
      txs.push(send('erin', commitBody(f, 'erin', o, good(o), salts.get(`erin${o}`) as Uint8Array))) // never revealed
    }
    if (h % 10 === 8) {
      // dave copies bob's commitment from the chain: refused at admission, and failed (fee paid) in the block.
      const o = h + 2
      const bobs = readCommit(view(f), BRAIN, o, toHex(ck('bob')))
      assert.ok(bobs)
      const copy: TxBody = { kind: 'commitForecast', brain: BRAIN, computeKey: ck('dave'), originHeight: o, commitment: bobs.commitment }
      expectReject(f, f.tx('dave', copy), 'CopiedCommitment')
      txs.push(send('dave', copy))
    }
    if (h % 10 === 1 && h > 10) {
      const o = h - 1
      txs.push(send('bob', revealBody('bob', o, good(o), salts.get(`bob${o}`) as Uint8Array)))
      txs.push(send('carol', revealBody('carol', o, bad(o), salts.get(`carol${o}`) as Uint8Array)))
    }
    const r = f.block(txs)
    copies += r.failed.filter((x) => x.error._tag === 'CopiedCommitment').length
    assert.deepEqual(r.failed.map((x) => x.error._tag).filter((t) => t !== 'CopiedCommitment'), [])
    if (h === 16) {
      // Round 10 scored at 10 + max(4, 3·2) = 16: the realised series is the scripted traffic, counted exactly.
      const st = view(f)
      assert.deepEqual(realisedSeries(st, f.ledger.params(), BRAIN, 10), truth(10))
      const acc = readAccuracySums(st, BRAIN)
      assert.ok(acc)
      assert.equal(acc.rounds, 1)
      assert.equal(acc.sums.get(toHex(ck('bob'))), Q40_ONE, 'exact forecast: Accuracy 1')
      // Biased by +4 at every quantile: L = Σ_windows Σ_q (10^6 − q)·4, S = 3·10^6·Σy, A = ⌊2^40·S / (S + 2L)⌋.
      const S = 3n * 1_000_000n * truth(10).reduce((a, y) => a + y, 0n)
      const L = 3n * 4n * (900_000n + 500_000n + 100_000n)
      const c = acc.sums.get(toHex(ck('carol'))) as bigint
      assert.equal(c, (S << 40n) / (S + 2n * L), 'biased forecast: the exact quantile-loss accuracy')
      assert.ok(c > 0n && c < Q40_ONE)
      assert.equal(acc.sums.get(toHex(ck('erin'))), 0n, 'committed, never revealed: the worst')
      assert.equal(acc.sums.get(toHex(ck('dave'))), undefined, 'the copy was never recorded')
      assert.equal(readCommit(st, BRAIN, 10, toHex(ck('bob'))), undefined, 'a scored round is deleted')
    }
    if (h === 14) phase1 = snapshot()
    if (h === 44) e1 = earned(phase1 as Map<string, bigint>)
    if (h === 54) phase2 = snapshot()
    if (h === 94) e2 = earned(phase2 as Map<string, bigint>)
  }
  assert.equal(copies, 9, 'every copy failed in its block')
  assert.ok(e1 && e2)
  t.diagnostic(`earned at β = 0: ${JSON.stringify(e1, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`)
  t.diagnostic(`earned at β > 0: ${JSON.stringify(e2, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`)
  // β = 0 (epochs 23, 33, 43 ≤ 2 years of 25 blocks): forecasts change nothing; equal stake and weights earn alike.
  for (const w of V) assert.ok(e1[w] > 0n)
  const spread1 = Math.max(...V.map((w) => Number(e1[w]))) - Math.min(...V.map((w) => Number(e1[w])))
  assert.ok(spread1 <= 100, `β = 0: equal earnings up to rounding, spread ${spread1} units`)
  // β > 0 (epochs 63 … 93: β from 0.23 to 0.77): the exact forecaster earns most, the biased one less, the copier
  // and the silent validator only their dividends (the same as each other).
  assert.ok(e2.bob > e2.carol, `good ${e2.bob} > biased ${e2.carol}`)
  assert.ok(e2.carol > e2.dave && e2.carol > e2.erin, `biased ${e2.carol} > copier ${e2.dave}, silent ${e2.erin}`)
 assert.ok(Math.abs(Number(e2.dave - e2.erin)) <= 100, `copier ${e2.dave} ≈ silent ${e2.erin}`)
  assert.ok(e2.bob > e2.dave + e2.dave / 10n, 'the forecaster term is a visible share')
  assertSupply(f.store)

  // Determinism: a follower replaying every block reaches the same state root and head.
  const follower = Ledger.open({ store: new MemoryStore(), genesis: f.genesis, epochHook: yumaEpochHook })
  for (let h = 1; h <= f.ledger.head().height; h++) follower.applyBlock(decodeBlock(f.store.block(h) as Uint8Array))
  assert.equal(toHex(follower.head().stateRoot), toHex(f.ledger.head().stateRoot))
  assert.equal(toHex(follower.head().hash), toHex(f.ledger.head().hash))
  assertSupply(follower.store)
})

test('commit and reveal: typed errors, state unchanged; a front-run copy cannot be opened and scores 0', () => {
  const f = setup()
  f.advance(1) // head 5: the commit window of round 10 is [5, 10)
  const vals = asQuantiles([0n, 0n, 0n]) // no Brain traffic in this test: the true series is all zeros
  const salt = new Uint8Array(16).fill(7)
  const c = commitBody(f, 'bob', 10, vals, salt)
  expectReject(f, f.tx('bob', c), 'OutOfRoundWindow', 10)
  expectReject(f, f.tx('bob', c), 'OutOfRoundWindow', 4)
  expectReject(f, f.tx('bob', { ...c, originHeight: 15 } as TxBody), 'InvalidForecast')
  // A round whose end would pass 2^53 is a typed refusal, not an untyped throw out of execution.
  expectReject(f, f.tx('bob', { ...c, originHeight: Math.floor(Number.MAX_SAFE_INTEGER / 10) * 10 } as TxBody), 'InvalidForecast')
  expectReject(f, f.tx('carol', c), 'PermissionDenied')
  expectReject(f, f.tx('alice', { ...c, computeKey: MINER } as TxBody), 'UnknownParticipant')
  expectReject(f, f.tx('bob', { ...c, brain: 9 } as TxBody), 'UnknownBrain')
  expectReject(f, f.tx('bob', revealBody('bob', 10, vals, salt)), 'OutOfRoundWindow')
  assert.throws(() => f.tx('bob', revealBody('bob', 10, vals, new Uint8Array(15))), { _tag: 'MalformedTx' })

  // Front-running: dave posts bob's commitment first; bob's own is then a copy and fails; bob re-commits.
  // A replacement is allowed while the window is open (carol commits, then replaces).
  f.block([f.tx('dave', { ...c, computeKey: ck('dave') } as TxBody), f.tx('carol', commitBody(f, 'carol', 10, vals, new Uint8Array(16).fill(1)))])
  const r = f.block([f.tx('bob', c)])
  assert.deepEqual(r.failed.map((x) => x.error._tag), ['CopiedCommitment'])
  const salt2 = new Uint8Array(16).fill(9)
  f.block([
    f.tx('bob', commitBody(f, 'bob', 10, vals, salt2)),
    f.tx('carol', commitBody(f, 'carol', 10, asQuantiles([9n, 9n, 9n]), new Uint8Array(16).fill(2))),
  ])
  assert.equal(f.ledger.head().height, 8)
  // The commitment is state: proven against the block header's state root.
  const key = ForecastKeys.commit(BRAIN, 10, toHex(ck('bob')))
  const proved = f.ledger.prove(key)
  assert.ok(proved)
  assert.ok(verifyStateProof(f.ledger.head().stateRoot, key, proved.value, proved.proof))
  assert.deepEqual([...(readCommit(view(f), BRAIN, 10, toHex(ck('bob')))?.commitment ?? [])], [...(commitBody(f, 'bob', 10, vals, salt2) as { commitment: Uint8Array }).commitment])
  f.advance(1) // head 9: the next block is the origin

  // Reveal window [10, 14).
  expectReject(f, f.tx('dave', revealBody('dave', 10, vals, salt)), 'RevealMismatch') // bob's key is inside the hash
  expectReject(f, f.tx('bob', revealBody('bob', 10, vals, salt)), 'RevealMismatch') // the old salt
  expectReject(f, f.tx('bob', revealBody('bob', 10, vals.slice(1), salt2)), 'InvalidForecast')
  expectReject(f, f.tx('erin', revealBody('erin', 10, vals, salt2)), 'InvalidForecast') // no commitment
  expectReject(f, f.tx('carol', revealBody('carol', 10, vals, new Uint8Array(16).fill(1))), 'RevealMismatch') // replaced
  expectReject(f, f.tx('bob', commitBody(f, 'bob', 10, vals, salt2)), 'OutOfRoundWindow') // commits closed
  f.block([f.tx('bob', revealBody('bob', 10, vals, salt2))])
  expectReject(f, f.tx('bob', revealBody('bob', 10, vals, salt2)), 'InvalidForecast') // already revealed
  const d = f.block([f.tx('dave', revealBody('dave', 10, vals, salt))])
  assert.deepEqual(d.failed.map((x) => x.error._tag), ['RevealMismatch'])
  f.advance(16 - f.ledger.head().height)
  const acc = readAccuracySums(view(f), BRAIN)
  assert.ok(acc)
  assert.ok((acc.sums.get(toHex(ck('bob'))) as bigint) > 0n)
  assert.equal(acc.sums.get(toHex(ck('dave'))), 0n, 'the front-run copy is never opened: worst')
  assert.equal(acc.sums.get(toHex(ck('bob'))), Q40_ONE, 'all-zero series forecast exactly')
  assert.equal(acc.sums.get(toHex(ck('carol'))), 0n, 'committed, did not reveal: worst')
  assertSupply(f.store)
})

test('forecasting off: commit refused with InvalidForecast; β\'s year is governable', () => {
  const off = setup({ forecastPeriod: 0 })
  expectReject(off, off.tx('bob', commitBody(off, 'bob', 10, asQuantiles([1n, 1n, 1n]), new Uint8Array(16))), 'InvalidForecast', 7)

  // β(t) with the year in blocks: 0 through 2 years, 0.9·(t − 2Y)/(2Y) after (the test above: Y = 25).
  assert.deepEqual(betaRational(50, 25), { num: 0n, den: 1n })
  assert.deepEqual(betaRational(51, 25), { num: 9n, den: 500n })
  assert.deepEqual(betaRational(101, 25), { num: 1n, den: 1n })
  assert.throws(() => betaRational(51, 0), { _tag: 'InvalidForecastInput' })

  const f = fixture({ params: { votingPeriod: 3 } })
  assert.equal(f.ledger.params().forecastBlocksPerYear, 3_155_760)
  expectReject(f, f.tx('foundation', { kind: 'propose', param: 'forecastBlocksPerYear', value: 0n }), 'MalformedTx')
  f.block([f.tx('foundation', { kind: 'propose', param: 'forecastBlocksPerYear', value: 8640n * 365n })])
  f.advance(4)
  assert.equal(f.ledger.proposal(0)?.status, 'passed')
  assert.equal(f.ledger.params().forecastBlocksPerYear, 8640 * 365)
  assertSupply(f.store)
})

test('deactivating a Brain deletes its forecasting records (commitments, counters, accuracy sums)', () => {
  const f = fixture({ epochHook: yumaEpochHook, params: { ...FORECAST, stakeLockBlocks: 8 } })
  f.block([f.tx('alice', { kind: 'acquireBrainStake' })])
  assert.equal(f.ledger.brain(BRAIN)?.method, 'stake')
  f.block([f.tx('bob', { kind: 'register', brain: BRAIN, computeKey: ck('bob'), role: 'validator', maxFee: tokens(100) })])
  f.block([f.tx('bob', { kind: 'addStake', brain: BRAIN, target: ck('bob'), amount: tokens(10) })])
  f.advance(2) // head 5: round 10's commit window is open
  f.block([f.tx('bob', commitBody(f, 'bob', 10, asQuantiles([0n, 0n, 0n]), new Uint8Array(16).fill(3)))])
  const keys = (): string[] => f.store.scan(`f:${BRAIN}:`).map(([k]) => k)
  assert.ok(keys().some((k) => k.includes(':c:')), 'commitment stored')
  assert.ok(keys().some((k) => k.includes(':t:')), 'window counters stored')
  f.advance(9 - f.ledger.head().height)
  f.block([f.tx('alice', { kind: 'deactivateBrain', brain: BRAIN })])
  assert.equal(f.ledger.brain(BRAIN), undefined)
  assert.deepEqual(keys(), [])
  assertSupply(f.store)
})

test('through the mempool\'s admission: a copy of a committed commitment is refused; two queued at once race into the block', () => {
  const f = setup()
  f.advance(1) // head 5, next block 6 is inside round 10's commit window
  const mp = new Mempool(f.ledger, f.keys.proposer!.publicKey)
  const vals = asQuantiles([0n, 0n, 0n])
  const bobs = commitBody(f, 'bob', 10, vals, new Uint8Array(16).fill(4))
  const copy = { ...bobs, computeKey: ck('dave') } as TxBody
  // Both queued before either is in a block: lanes are per sender, so neither sees the other (admitted).
  mp.admit(f.tx('bob', bobs).bytes)
  mp.admit(f.tx('dave', copy).bytes)
  assert.throws(() => mp.admit(f.tx('carol', revealBody('carol', 10, vals, new Uint8Array(16)), { nonceOffset: 0n }).bytes), { _tag: 'OutOfRoundWindow' })
  const r = f.block(mp.take())
  assert.deepEqual(r.failed.map((x) => x.error._tag), ['CopiedCommitment'], 'the later copy fails in the block, fee paid')
  mp.afterBlock()
  // Once bob's commitment is on chain, a copy is refused at admission with the same typed error.
  assert.throws(() => mp.admit(f.tx('erin', { ...bobs, computeKey: ck('erin') } as TxBody).bytes), { _tag: 'CopiedCommitment' })
  assert.equal(mp.size, 0)
  assertSupply(f.store)
})

test('only permitted validators earn the forecaster term: an unstaked validator forecasting exactly earns nothing', () => {
  const f = setup({ forecastBlocksPerYear: 1 }) // β = 1 from height 5
  f.block([f.tx('frank', { kind: 'register', brain: BRAIN, computeKey: ck('frank'), role: 'validator', maxFee: tokens(100) })])
  const vals = asQuantiles(truth(10))
  const fees = new Map<string, bigint>()
  const send = (who: string, body: TxBody): PreparedTx => {
    const t = f.tx(who, body)
    fees.set(who, (fees.get(who) ?? 0n) + t.tx.fee)
    return t
  }
  const worth = (who: string): bigint => f.based(who) + (fees.get(who) ?? 0n)
  const start = new Map(['bob', 'carol', 'frank'].map((w) => [w, worth(w)]))
  for (let h = f.ledger.head().height + 1; h <= 23; h++) {
    const txs: PreparedTx[] = []
    for (let i = 0; i < traffic(h); i++)
      txs.push(f.tx('alice', { kind: 'setBrain', brain: BRAIN, setting: 'name', text: `b${h}.${i}`, key: EMPTY, value: 0n }, { nonceOffset: BigInt(i) }))
    if (h === 7) for (const w of ['bob', 'frank']) txs.push(send(w, commitBody(f, w, 10, vals, new Uint8Array(16).fill(5))))
    if (h === 11) for (const w of ['bob', 'frank']) txs.push(send(w, revealBody(w, 10, vals, new Uint8Array(16).fill(5))))
    f.block(txs)
    if (h === 16) {
      const acc = readAccuracySums(view(f), BRAIN)
      assert.equal(acc?.sums.get(toHex(ck('frank'))), Q40_ONE, 'frank forecast exactly')
    }
  }
  const gain = (w: string): bigint => worth(w) - (start.get(w) as bigint)
  assert.equal(gain('frank'), 0n, 'no stake, no permit: no forecaster term')
  assert.ok(gain('bob') > gain('carol') && gain('carol') > 0n, `permitted forecaster ${gain('bob')} > non-forecaster ${gain('carol')}`)
})
