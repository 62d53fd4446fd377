/**
 * Property test of the forecast rounds (fast-check, fixed seed): random commits, reveals (right and wrong), copies,
 * Brain traffic and weights over many rounds and epochs with β(t) > 0. After every block the supply is conserved;
 * at the end no record of a scored round and no window counter a round can no longer use is left, the incremental
 * state root equals a from-scratch one, and a follower replaying the blocks reaches the same root and head.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  Ledger, MemoryStore, Overlay, State, computeStateRoot, decodeBlock, decodeTx, forecastCommitment, readCommit,
  scoreDelay, testKeyPair, toHex, yumaEpochHook, type PreparedTx, type TxBody,
} from 'basedai/ledger'
import { EMPTY, fixture, tokens } from './helpers.ts'

const BRAIN = 7
const V = ['bob', 'carol', 'dave', 'erin'] as const
const ck = (i: number): Uint8Array => testKeyPair(`fp-${i}`).publicKey
const MINER = testKeyPair('fp-miner').publicKey
const PARAMS = {
  tempo: 5, foundation: new Uint8Array(32), forecastPeriod: 4, forecastBlocksPerStep: 2, forecastHorizon: 2,
  forecastCommitLead: 3, forecastRevealWindow: 2, forecastBlocksPerYear: 3,
}

type Op = { v: number; op: 'commit' | 'reveal' | 'copy' | 'weights' | 'idle'; variant: number; shift: number }
const op: fc.Arbitrary<Op> = fc.record({
  v: fc.nat({ max: 3 }),
  op: fc.constantFrom('commit', 'commit', 'reveal', 'reveal', 'copy', 'weights', 'idle'),
  variant: fc.nat({ max: 1000 }),
  shift: fc.constantFrom(0, 0, 0, 0, -1, 1),
})
const block = fc.record({ ops: fc.array(op, { maxLength: 6 }), traffic: fc.nat({ max: 3 }) })

test('forecast rounds: supply conserved, scored rounds and stale counters pruned, replay deterministic', (t) => {
  const applied = new Map<string, number>()
  const tags = new Map<string, number>()
  fc.assert(
    fc.property(fc.array(block, { minLength: 20, maxLength: 40 }), (blocks) => {
      const f = fixture({
        epochHook: yumaEpochHook,
        params: PARAMS,
        accounts: Object.fromEntries(['alice', ...V].map((n) => [n, { based: tokens(100_000), pepe: tokens(10_000) }])),
      })
      f.block([f.tx('alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) })])
      f.block([
        ...V.map((w, i) => f.tx(w, { kind: 'register', brain: BRAIN, computeKey: ck(i), role: 'validator', maxFee: tokens(100) })),
        f.tx('alice', { kind: 'register', brain: BRAIN, computeKey: MINER, role: 'miner', maxFee: tokens(100) }),
      ])
      f.block(V.map((w, i) => f.tx(w, { kind: 'addStake', brain: BRAIN, target: ck(i), amount: tokens(10 + 5 * i) })))
      /** What each validator committed to, by `v:origin`, so a reveal can open it. */
      const opened = new Map<string, { values: bigint[]; salt: Uint8Array }>()
      const p = f.ledger.params()
      for (const b of blocks) {
        const next = f.ledger.head().height + 1
        const txs: PreparedTx[] = []
        for (let i = 0; i < b.traffic; i++)
          txs.push(f.tx('alice', { kind: 'setBrain', brain: BRAIN, setting: 'name', text: `t${next}.${i}`, key: EMPTY, value: 0n }, { nonceOffset: BigInt(i) }))
        const used = new Set<number>()
        for (const o of b.ops) {
          if (used.has(o.v) || o.op === 'idle') continue
          used.add(o.v)
          const who = V[o.v] as string
          let body: TxBody
          if (o.op === 'weights') {
            body = { kind: 'setWeights', brain: BRAIN, computeKey: ck(o.v), uids: [4], weights: [1 + (o.variant % 60_000)] }
          } else if (o.op === 'commit' || o.op === 'copy') {
            const origin = (Math.floor(next / p.forecastPeriod) + 1 + o.shift) * p.forecastPeriod
            if (o.op === 'copy') {
              const victim = (o.v + 1 + (o.variant % 3)) % 4
              const c = readCommit(new State(new Overlay(f.store)), BRAIN, origin, toHex(ck(victim)))
              if (!c) continue
              body = { kind: 'commitForecast', brain: BRAIN, computeKey: ck(o.v), originHeight: origin, commitment: c.commitment }
            } else {
              const values = Array.from({ length: p.forecastHorizon * 3 }, (_, i) => BigInt((o.variant * (i + 1)) % 9) - 1n)
              const salt = new Uint8Array(16).fill(1 + (o.variant % 250))
              opened.set(`${o.v}:${origin}`, { values, salt })
              body = { kind: 'commitForecast', brain: BRAIN, computeKey: ck(o.v), originHeight: origin, commitment: forecastCommitment(p, BRAIN, origin, ck(o.v), values, salt) }
            }
          } else {
            const origin = (Math.floor(next / p.forecastPeriod) + o.shift) * p.forecastPeriod
            const mine = opened.get(`${o.v}:${origin}`)
            const wrong = o.variant % 4 === 0 || !mine
            const values = wrong ? Array.from({ length: p.forecastHorizon * 3 }, () => BigInt(o.variant % 5)) : mine.values
            body = { kind: 'revealForecast', brain: BRAIN, computeKey: ck(o.v), originHeight: origin, values, salt: mine?.salt ?? new Uint8Array(16) }
          }
          txs.push(f.tx(who, body))
        }
        const r = f.block(txs, { allowReject: true }) // audits the supply
        r.block.txs.forEach((t, i) => {
          if (r.receipts[i]?.error === undefined) {
            const kind = decodeTx(t).tx.body.kind
            applied.set(kind, (applied.get(kind) ?? 0) + 1)
          }
        })
        for (const x of [...r.rejected, ...r.failed]) tags.set(x.error._tag, (tags.get(x.error._tag) ?? 0) + 1)
      }
      // Pruning: no record of a round already scored, no counter of a window no pending round needs.
      const head = f.ledger.head().height
      const D = scoreDelay(p)
      for (const [k] of f.store.scan(`f:${BRAIN}:`)) {
        const parts = k.split(':')
        if (parts[2] === 't') {
          assert.ok(Number(parts[3]) >= Math.floor((head - D) / p.forecastBlocksPerStep), `stale counter ${k} at ${head}`)
        } else if (parts[2] !== 'a') {
          assert.ok(Number(parts[2]) + D > head, `scored round left behind: ${k} at ${head}`)
        }
      }
      assert.equal(toHex(computeStateRoot(f.store.scan(''))), toHex(f.ledger.head().stateRoot))
      const follower = Ledger.open({ store: new MemoryStore(), genesis: f.genesis, epochHook: yumaEpochHook })
      for (let h = 1; h <= head; h++) follower.applyBlock(decodeBlock(f.store.block(h) as Uint8Array))
      assert.equal(toHex(follower.head().hash), toHex(f.ledger.head().hash))
    }),
    { seed: 15, numRuns: 12 },
  )
  t.diagnostic(`applied ${JSON.stringify([...applied])}; refused or failed ${JSON.stringify([...tags])}`)
  // Every path is exercised.
  assert.ok((applied.get('commitForecast') ?? 0) > 30, `applied ${JSON.stringify([...applied])}`)
  assert.ok((applied.get('revealForecast') ?? 0) > 10, `applied ${JSON.stringify([...applied])}`)
  for (const tag of ['CopiedCommitment', 'RevealMismatch', 'OutOfRoundWindow', 'InvalidForecast'])
    assert.ok((tags.get(tag) ?? 0) > 0, `${tag} never occurred: ${JSON.stringify([...tags])}`)
})
