/**
 * The paper's epoch rules on the chain (docs/CONSENSUS.md "On the chain"): the governable parameters `epochRule`
 * (Yuma or the seed's sigmoid rule) and Credits (`creditMaxBoostPpm`, `creditHalfCredits`), the one emission split
 * (consensus's `splitEmissionUnits`) and what happens to an emission nobody can receive. Every test that moves value
 * audits the total supply.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { spawnSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { ActorSystem } from '../../supervisor/index.ts'
import {
  LmdbStore, auditSupply, devKeys, signTx, testKeyPair, toHex, tokens, withMinFee, type KeyPair,
} from '../../ledger/index.ts'
import { runEpoch, type ConsensusRule } from '../../consensus/index.ts'
import { consensusEpochHook } from '../../ledger/consensus-hook.ts'
import { CreditKeys, decodeCredits } from '../../ledger/credits.ts'
import { EPOCH_RULES, GOVERNABLE, decodeParams, defaultParams, encodeParams, withParam } from '../../ledger/params.ts'
import { DecodeError } from '../../ledger/codec.ts'
import { assertSupply, fixture, run } from './helpers.ts'

const url = (p: string): string => new URL(p, import.meta.url).href

test('params: the epoch rule and Credits round-trip, append to the governable list (old wire ids kept), reject unknown codes', () => {
  const p = defaultParams({ epochRule: 'sigmoid', creditMaxBoostPpm: 250_000, creditHalfCredits: 3 })
  assert.deepEqual(decodeParams(encodeParams(p)), p)
  assert.equal(defaultParams().epochRule, 'yuma')
  assert.equal(defaultParams().creditMaxBoostPpm, 0, 'Credits off by default, as subtensor')
  assert.deepEqual(GOVERNABLE.slice(12, 15), ['epochRule', 'creditMaxBoostPpm', 'creditHalfCredits'])
  assert.equal(GOVERNABLE.indexOf('doubleSignSlashBps'), 15, 'appended after them')
  // the block-agreement section: absent at its default (old bytes unchanged), present (with escrow's) otherwise
  assert.deepEqual(encodeParams(defaultParams({ doubleSignSlashBps: 1000 })), encodeParams(defaultParams()))
  const slash = defaultParams({ doubleSignSlashBps: 2500 })
  assert.deepEqual(decodeParams(encodeParams(slash)), slash)
  const both = defaultParams({ doubleSignSlashBps: 0, queryMinerBps: 6000 })
  assert.deepEqual(decodeParams(encodeParams(both)), both)
  assert.equal(GOVERNABLE.indexOf('forecastBlocksPerYear'), 11, 'earlier proposals keep their wire ids')
  assert.equal(withParam(defaultParams(), 'epochRule', BigInt(EPOCH_RULES.indexOf('sigmoid'))).epochRule, 'sigmoid')
  // A params record whose rule code is out of range is malformed, not silently Yuma.
  const bytes = encodeParams(defaultParams())
  const good = encodeParams(defaultParams({ epochRule: 'sigmoid' }))
  const at = bytes.findIndex((b, i) => b !== good[i])
  assert.ok(at > 0)
  const bad = Uint8Array.from(bytes)
  bad[at] = 7
  assert.throws(() => decodeParams(bad), DecodeError)
})

test('governance switches a live chain to the sigmoid rule and turns Credits on (the proposal value is the rule\'s wire code)', () => {
  const f = fixture({ epochHook: consensusEpochHook, params: { tempo: 5, votingPeriod: 3 } })
  run(f, ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }])
  assert.equal(f.ledger.params().epochRule, 'yuma')
  run(f,
    ['foundation', { kind: 'propose', param: 'epochRule', value: BigInt(EPOCH_RULES.indexOf('sigmoid')) }],
    ['foundation', { kind: 'propose', param: 'creditMaxBoostPpm', value: 100_000n }],
  )
  f.advance(4) // past both deadlines: year one, nobody voted no → passed
  assert.equal(f.ledger.params().epochRule, 'sigmoid')
  assert.equal(f.ledger.params().creditMaxBoostPpm, 100_000)
  // A value outside the bounds is refused at admission (the rule code must name a rule).
  const r = f.block([f.tx('foundation', { kind: 'propose', param: 'epochRule', value: 2n })], { allowReject: true })
  assert.deepEqual([...r.rejected, ...r.failed].map((x) => x.error._tag), ['MalformedTx'])
})

interface Uids {
  readonly miner: readonly number[]
  readonly validator: readonly number[]
}

/** One in-process cluster: the ledger writer with the dev network (1 Brain, 2 miners, 3 validators), genesis `params`. */
async function cluster(params: Record<string, unknown>, weights: (u: Uids) => Array<readonly [number, number[], number[]]>): Promise<{
  epochs: Array<Map<number, bigint>>
  uids: Uids
  credits: Map<number, bigint>
}> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-epoch-rules-'))
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      {
        kind: 'actor', id: 'ledger', behaviour: { module: url('../../actors/ledger-shard.ts') },
        args: { dataDir, shards: 1, autoBlocks: false, dev: { brains: 1, miners: 2, validators: 3 }, params: { tempo: 10, ...params } },
      },
    ],
  })
  try {
    const ledger = sys.ref('/root/ledger')
    const [brain] = (await ledger.ask({ _tag: 'GetBrains' })).ids
    const uidOf = async (k: KeyPair): Promise<number> => (await ledger.ask({ _tag: 'GetParticipant', brain: brain as number, computeKey: toHex(k.publicKey) })).uid
    const uids: Uids = {
      miner: [await uidOf(devKeys.minerCompute(1)), await uidOf(devKeys.minerCompute(2))],
      validator: [await uidOf(devKeys.validatorCompute(1)), await uidOf(devKeys.validatorCompute(2)), await uidOf(devKeys.validatorCompute(3))],
    }
    const defaults = defaultParams()
    for (const [v, targets, w] of weights(uids)) {
      const key = devKeys.validator(v)
      const tx = withMinFee({ chainId: 'basedai-dev', from: key.publicKey, nonce: 2n, body: { kind: 'setWeights', brain: brain as number, computeKey: devKeys.validatorCompute(v).publicKey, uids: targets, weights: w } }, defaults.baseFee, defaults.byteFee)
      await ledger.ask({ _tag: 'SubmitTx', tx: signTx(tx, key.secretKey).bytes })
    }
    // Two epochs from the block with the weights (its own epoch counts: the weights apply before the block's end):
    // the first with no Credits yet, the second with the Credits the first accrued.
    const epochs: Array<Map<number, bigint>> = []
    let last = (await ledger.ask({ _tag: 'GetMetagraph', brain: brain as number })).lastEpoch
    assert.equal((await ledger.ask({ _tag: 'ProduceBlock' })).included, weights(uids).length, 'the setWeights transactions are in the block')
    for (let first = true; epochs.length < 2; first = false) {
      if (!first) await ledger.ask({ _tag: 'ProduceBlock' })
      const g = await ledger.ask({ _tag: 'GetMetagraph', brain: brain as number })
      if (g.lastEpoch !== last) {
        last = g.lastEpoch
        epochs.push(new Map(g.rows.map((r) => [r.uid, BigInt(r.emission ?? '0')] as const)))
      }
    }
    const stats = await ledger.ask({ _tag: 'GetLedgerStats' })
    assert.equal(JSON.stringify(stats).includes('"ok":false'), false, 'the live supply audit holds')
    await sys.shutdown()
    const store = LmdbStore.open({ path: path.join(dataDir, 'ledger'), shards: 1 })
    try {
      assert.ok(auditSupply(store).ok, 'supply conserved through bootstrap, weights and epochs')
      const key = CreditKeys.brain(brain as number)
      const raw = store.get(key)
      const credits = new Map((raw ? decodeCredits(key, raw) : []).map((e) => [e.uid, e.credits] as const))
      return { epochs, uids, credits }
    } finally {
      await store.close()
    }
  } finally {
    await sys.shutdown()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

/**
 * Validators 1 and 2 weight miner 1 only; validator 3 splits its weight between both miners. Equal stakes (1/3 each):
 * miner 1 has the whole stake behind it, miner 2 a third — below κ = 1/2.
 */
const SCENARIO = (u: Uids): Array<readonly [number, number[], number[]]> => {
  const [m1, m2] = u.miner as [number, number]
  const both = m1 < m2 ? [[m1, m2], [65535, 65535]] : [[m2, m1], [65535, 65535]]
  return [[1, [m1], [65535]], [2, [m1], [65535]], [3, both[0] as number[], both[1] as number[]]]
}

/** The consensus module's incentive for the scenario under `rule` (the column the ledger pays miners by). */
function expectedIncentive(u: Uids, rule: ConsensusRule): Map<number, number> {
  const all = [...u.miner, ...u.validator].sort((a, b) => a - b)
  const n = all.length
  const at = new Map(all.map((uid, i) => [uid, i] as const))
  const weights = all.map(() => new Array<number>(n).fill(0))
  for (const [v, targets] of SCENARIO(u)) for (const t of targets) (weights[at.get(u.validator[v - 1] as number) as number] as number[])[at.get(t) as number] = 65535
  const isV = all.map((uid) => u.validator.includes(uid))
  const out = runEpoch({ stake: isV.map((x) => (x ? 1000 : 0)), weights, validatorPermit: isV, bonds: weights.map((r) => r.map(() => 0)), rule })
  return new Map(all.map((uid, i) => [uid, out.incentive[i] as number] as const))
}

test('a cluster started with the sigmoid rule or Credits pays out per those rules; supply conserved', { timeout: 120_000 }, async () => {
  const yuma = await cluster({}, SCENARIO)
  const sigmoid = await cluster({ epochRule: 'sigmoid' }, SCENARIO)
  const credits = await cluster({ creditMaxBoostPpm: 250_000, creditHalfCredits: 1 }, SCENARIO)
  const [m1, m2] = yuma.uids.miner as [number, number]
  const [v1, v2, v3] = yuma.uids.validator as [number, number, number]
  for (const e of [0, 1]) {
    const y = yuma.epochs[e] as Map<number, bigint>
    const s = sigmoid.epochs[e] as Map<number, bigint>
    // Yuma: miner 2's weight (a third of the stake, below κ) is clipped to consensus 0 — it earns nothing.
    assert.ok((y.get(m1) ?? 0n) > 0n)
    assert.equal(y.get(m2), 0n, 'Yuma clips the minority-supported miner to 0')
    // Sigmoid rule: C = σ(ρ(T − κ)) > 0 for any support, so miner 2 earns, in the ratio the consensus module gives.
    assert.ok((s.get(m2) ?? 0n) > 0n, 'the sigmoid rule pays the minority-supported miner')
    const want = expectedIncentive(sigmoid.uids, 'sigmoid')
    const ratio = Number(s.get(m2)) / Number(s.get(m1))
    const wantRatio = (want.get(m2) as number) / (want.get(m1) as number)
    assert.ok(Math.abs(ratio / wantRatio - 1) < 1e-6, `miner 2 / miner 1 = ${ratio}, consensus says ${wantRatio}`)
    // Both chains paid the same total for the epoch (only the rule differs).
    const total = (m: Map<number, bigint>): bigint => [...m.values()].reduce((a, b) => a + b, 0n)
    assert.equal(total(s), total(y))
  }
  assert.equal(expectedIncentive(yuma.uids, 'yuma').get(m2), 0)

  // Credits: validators 1 and 2 keep all their weight through consensus (Tv = 1), validator 3 half of it, so they
  // accrue Credits 2:2:1 and, from the second epoch on, validator 3's share of the bonds — and of dividends — falls.
  assert.equal(yuma.credits.size, 0, 'Credits off: nothing stored')
  const c1 = credits.credits.get(v1) ?? 0n
  const c3 = credits.credits.get(v3) ?? 0n
  assert.ok(c1 > 0n && c3 > 0n)
  assert.equal(credits.credits.get(v2), c1)
  assert.ok(c1 > c3 && c1 < 3n * c3, `Credits ${c1} vs ${c3}: about 2 : 1`)
  assert.equal(credits.credits.has(m1), false, 'miners accrue no Credits')
  const first = credits.epochs[0] as Map<number, bigint>
  const second = credits.epochs[1] as Map<number, bigint>
  const plain = yuma.epochs[1] as Map<number, bigint>
  assert.deepEqual([...first], [...(yuma.epochs[0] as Map<number, bigint>)], 'first epoch: no Credits yet, same payout as Yuma alone')
  assert.ok((second.get(v3) ?? 0n) < (plain.get(v3) ?? 0n), `validator 3 earns less with Credits: ${second.get(v3)} vs ${plain.get(v3)}`)
  assert.ok((second.get(v1) ?? 0n) > (plain.get(v1) ?? 0n), 'validator 1 earns more with Credits')
  assert.equal(second.get(m1), plain.get(m1), 'Credits never touch incentive: miners are paid the same')
})

test('nobody can receive: a Brain with no participant and no stake pays its whole emission to the owner; supply conserved', () => {
  const f = fixture({ params: { tempo: 3, foundation: new Uint8Array(32) } })
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }],
    ['alice', { kind: 'setBrain', brain: 7, setting: 'rewardTo', text: '', key: f.keys.erin!.publicKey, value: 0n }],
  )
  const e0 = f.based('erin')
  const pending = f.ledger.brain(7)!.pending
  f.advance(3)
  assert.equal(f.ledger.brain(7)!.pending, 0n, 'an epoch ran')
  assert.ok(f.based('erin') - e0 > pending, 'the owner received all of it, not only its 25% cut')
  assertSupply(f.store)
})

test('no validator permit, stake on the Brain\'s own pool: the stakers\' side is paid to that pool by stake; a miner with no stakers takes the whole participants\' part', () => {
  const f = fixture({ params: { tempo: 3, foundation: new Uint8Array(32) } })
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }],
    ['alice', { kind: 'setBrain', brain: 7, setting: 'rewardTo', text: '', key: f.keys.erin!.publicKey, value: 0n }],
    ['bob', { kind: 'register', brain: 7, computeKey: testKeyPair('m').publicKey, role: 'miner', maxFee: tokens(100) }],
  )
  // Miner only: the stakers' pool has no recipient and passes to the miners (one split: consensus's rule).
  const state = (): { erin: bigint; bob: bigint; dave: bigint } => ({ erin: f.based('erin'), bob: f.based('bob'), dave: f.based('dave') })
  const epochOnce = (): { erin: bigint; bob: bigint; dave: bigint; pending: bigint } => {
    while ((f.ledger.head().height + 1 + 7) % 3 !== 0) f.advance(1)
    const before = state()
    const pending = f.ledger.brain(7)!.pending + tokens(10)
    f.advance(1)
    const after = state()
    return { erin: after.erin - before.erin, bob: after.bob - before.bob, dave: after.dave - before.dave, pending }
  }
  f.advance(1)
  const a = epochOnce()
  const owner = (a.pending * 2500n) / 10_000n
  assert.equal(a.erin, owner, 'owner: its cut only')
  assert.equal(a.bob, a.pending - owner, 'the miner: the whole participants\' part')
  // Direct stake on the Brain's own pool, no validator at all (nobody holds a permit): the stakers' side goes to it.
  run(f, ['dave', { kind: 'addStake', brain: 7, target: new Uint8Array(0), amount: tokens(50) }])
  const b = epochOnce()
  const ownerB = (b.pending * 2500n) / 10_000n
  const minersB = ((b.pending - ownerB) * 5000n) / 10_000n
  assert.equal(b.erin, ownerB)
  assert.equal(b.bob, minersB)
  assert.equal(b.dave, b.pending - ownerB - minersB, 'the Brain pool\'s staker')
  assertSupply(f.store)
})

test('based cluster up --epoch-rule / --credits: the writer child carries them as genesis params; a bad rule is refused', async () => {
  const { clusterSpec, DEFAULT_CLUSTER } = await import('../../cli/cluster.ts')
  const { InvalidArgs } = await import('../../supervisor/errors.ts')
  const writerArgs = (epochParams: Record<string, unknown>): Record<string, unknown> | undefined => {
    const spec = clusterSpec({ ...DEFAULT_CLUSTER, listen: [], epochParams } as Parameters<typeof clusterSpec>[0], () => undefined)
    const ledger = spec.children?.find((c) => c.id === 'ledger')
    const writer = ledger?.kind === 'supervisor' ? ledger.children?.find((c) => c.id === 'writer') : undefined
    return writer?.kind === 'actor' ? (writer.args?.params as Record<string, unknown> | undefined) : undefined
  }
  assert.deepEqual(writerArgs({ epochRule: 'sigmoid', creditMaxBoostPpm: 250_000 }), { epochRule: 'sigmoid', creditMaxBoostPpm: 250_000 })
  assert.throws(() => writerArgs({ epochRule: 'median' }), (e: unknown) => e instanceof InvalidArgs && e.role === 'ledger')
  // The command line refuses an unknown rule before starting anything.
  const based = new URL('../../cli/based.ts', import.meta.url).pathname
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'based-epoch-rule-cli-')), 'data')
  const r = spawnSync(process.execPath, [based, 'cluster', 'up', '--epoch-rule', 'median', '--once', '--data-dir', dir], { encoding: 'utf8' })
  assert.notEqual(r.status, 0)
  assert.equal(fs.existsSync(dir), false, 'refused before the data dir was touched')
  fs.rmSync(path.dirname(dir), { recursive: true, force: true })
})
