/** Shared fixtures for the ledger tests. */
import assert from 'node:assert/strict'
import {
  Ledger, MemoryStore, MemoryKV, applyTx, equalPerformance, type EpochHook, auditSupply, defaultParams, signTx, testKeyPair, tokens, toHex, withMinFee,
  type BlockContext, type GenesisConfig, type KeyPair, type Params, type PreparedTx, type TxBody, type KV, type Store,
} from 'basedai/ledger'

export const CHAIN = 'test-chain'

export function params(over: Partial<Params> = {}): Params {
  return defaultParams({ chainId: CHAIN, ...over })
}

export interface Fixture {
  readonly genesis: GenesisConfig
  readonly ledger: Ledger
  readonly store: MemoryStore
  readonly params: Params
  readonly keys: Record<string, KeyPair>
  /** Signs a tx from `who` with its next nonce (as of the committed state, plus `nonceOffset`). */
  tx(who: string, body: TxBody, opts?: { nonceOffset?: bigint; fee?: bigint; chainId?: string }): PreparedTx
  /** Produces a block with these txs; asserts all were included unless `allowReject`. */
  block(txs: PreparedTx[], opts?: { allowReject?: boolean; proposer?: string }): ReturnType<Ledger['produceBlock']>
  /** Produces n empty blocks. */
  advance(n: number): void
  based(who: string): bigint
  pepe(who: string): bigint
}

/**
 * A ledger on a MemoryStore. The epoch hook defaults to `equalPerformance` (miners share equally without weights),
 * which most tests assume; consensus tests pass `yumaEpochHook`.
 */
export function fixture(opts: { params?: Partial<Params>; accounts?: Record<string, { based?: bigint; pepe?: bigint }>; epochHook?: EpochHook } = {}): Fixture {
  const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'bridge', 'foundation', 'proposer']
  const keys: Record<string, KeyPair> = {}
  for (const n of names) keys[n] = testKeyPair(n)
  const p = params({
    bridgeAuthority: (keys.bridge as KeyPair).publicKey,
    foundation: (keys.foundation as KeyPair).publicKey,
    ...opts.params,
  })
  const accounts = opts.accounts ?? {
    alice: { based: tokens(1_000_000), pepe: tokens(10_000_000) },
    bob: { based: tokens(1_000_000), pepe: tokens(10_000_000) },
    carol: { based: tokens(1_000_000), pepe: tokens(1_000_000) },
    dave: { based: tokens(1_000_000), pepe: tokens(1_000_000) },
    bridge: { based: tokens(10) },
    foundation: { based: tokens(10) },
  }
  const store = new MemoryStore()
  const genesis: GenesisConfig = {
    params: p,
    time: 1_700_000_000_000,
    accounts: Object.entries(accounts).map(([n, a]) => ({ publicKey: (keys[n] as KeyPair).publicKey, ...a })),
  }
  const ledger = Ledger.open({ store, genesis, epochHook: opts.epochHook ?? equalPerformance })
  const f: Fixture = {
    genesis, ledger, store, params: p, keys,
    tx(who, body, o = {}) {
      const k = keys[who] as KeyPair
      const nonce = ledger.nonce(k.publicKey) + (o.nonceOffset ?? 0n)
      const cp = ledger.params()
      const u = withMinFee({ chainId: o.chainId ?? cp.chainId, from: k.publicKey, nonce, body }, cp.baseFee, cp.byteFee)
      return signTx(o.fee !== undefined ? { ...u, fee: o.fee } : u, k.secretKey)
    },
    block(txs, o = {}) {
      const r = ledger.produceBlock(txs, { time: ledger.nextBlockTime(), proposer: (keys[o.proposer ?? 'proposer'] as KeyPair).publicKey })
      if (!o.allowReject) assert.deepEqual(r.rejected.map((x) => x.error._tag), [], 'unexpected rejection')
      assertSupply(store)
      return r
    },
    advance(n) {
      for (let i = 0; i < n; i++) ledger.produceBlock([], { time: ledger.nextBlockTime(), proposer: (keys.proposer as KeyPair).publicKey })
      assertSupply(store)
    },
    based(who) {
      return ledger.account((keys[who] as KeyPair).publicKey)?.based ?? 0n
    },
    pepe(who) {
      return ledger.account((keys[who] as KeyPair).publicKey)?.pepe ?? 0n
    },
  }
  return f
}

/** Sends txs one block each, in order (so nonces are fresh). */
export function run(f: Fixture, ...steps: Array<[string, TxBody]>): void {
  for (const [who, body] of steps) f.block([f.tx(who, body)])
}

export function assertSupply(store: Store | KV): void {
  const r = auditSupply(store)
  assert.equal(r.basedHeld, r.basedIssued, 'BASED supply identity')
  assert.equal(r.pepeHeld, r.pepeIssued, 'Pepecoin supply identity')
  assert.equal(r.staked, r.totalStake, 'positions = totalStake')
  assert.equal(r.brainStake, r.totalStake, 'Σ brain.stake = totalStake')
  assert.ok(r.ok)
}

/** Snapshot of a MemoryKV as comparable data. */
export function snapshot(kv: MemoryKV): string[] {
  return [...kv.map].map(([k, v]) => `${k}=${toHex(v)}`).sort()
}

/** Copies the fixture's committed state into a fresh MemoryKV. */
export function copyState(store: MemoryStore): MemoryKV {
  const kv = new MemoryKV()
  for (const [k, v] of store.kv.map) kv.map.set(k, v)
  return kv
}

/** Context for applying a tx directly at a chosen height. */
export function ctxAt(f: Fixture, height: number): BlockContext {
  return { height, time: 0, proposer: (f.keys.proposer as KeyPair).publicKey, params: f.ledger.params() }
}

/**
 * Applies `tx` directly to a copy of the committed state and asserts it is rejected with `tag`, leaving the copy
 * byte-for-byte unchanged.
 */
export function expectReject(f: Fixture, tx: PreparedTx, tag: string, height?: number): void {
  const kv = copyState(f.store)
  const before = snapshot(kv)
  const r = applyTx(kv, tx, ctxAt(f, height ?? f.ledger.head().height + 1))
  assert.equal(r.ok, false, `expected ${tag}, tx was accepted`)
  if (!r.ok) assert.equal(r.error._tag, tag)
  assert.deepEqual(snapshot(kv), before, 'rejected tx changed state')
}

export const EMPTY = new Uint8Array(0)
export { tokens }
