/**
 * Persistence. A {@link Store} is the committed state plus the block log, and commits one block atomically.
 *
 * {@link LmdbStore}: one LMDB environment (one memory-mapped file, one writer) holding
 *  - `state-0` … `state-{K−1}`: the K state shards. A key's shard: accounts, compute keys and mint refs by the
 *    first byte of their public key / hash; every Brain-scoped key (`b:`, `n:`, `l:`, `s:`, `p:`, `w:`, `o:`) by
 *    Brain id;
 *    params, globals and proposals in shard 0. Each shard is what one ledger-shard actor owns.
 *  - `blocks`: height → encoded block (header + signed txs), so any node can replay from genesis.
 *  - `certs`: height → the block's commit certificate (the precommit signatures of more than 2/3 of the height's
 *    stake, encoded by bft/wire.ts; the store keeps the bytes opaque), for blocks agreed by several validators. A
 *    block the single-node default produced on its own has none. Written in the same transaction as its block.
 *  - `meta`: `head` (height, block hash, state root) and `shards` (K, fixed at creation).
 * Cross-shard atomicity: a block's writes to every shard, its block record and the new head are written in ONE
 * LMDB write transaction (`transactionSync`). LMDB commits by switching a meta page after the data pages are
 * written, so after a crash at any point either the whole block (all shards, record, head) is there or none of it.
 * A stake from an account in shard 1 into a Brain in shard 3 therefore happens on both sides or on neither.
 * Durability: a block is committed once `commit` returns (process crash / SIGKILL safe); lmdb-js's default
 * `overlappingSync` flushes to disk right after, so an OS crash or power loss may lose the last few blocks but
 * never tears one.
 *
 * Fault injection (tests only): {@link FaultPlan} makes the commit of one block height throw {@link InjectedFault}
 * or SIGKILL its own process at a chosen write point, set by `LmdbStoreOptions.fault` or the environment variable
 * `BASEDAI_STORE_FAULT` (`kill@<height>:<point>` / `throw@<height>:<point>`), which production never sets. Unset,
 * the cost is one integer comparison per write. test/ledger/crash-fault.test.ts runs every point of a commit.
 */
import fs from 'node:fs'
import { Data } from 'effect'
import { open, type Database, type RootDatabase } from 'lmdb'
import { Reader, Writer } from './codec.ts'
import { CorruptState } from './errors.ts'
import { MemoryKV, type KVRead } from './kv.ts'

export interface Head {
  readonly height: number
  readonly hash: Uint8Array
  readonly stateRoot: Uint8Array
}
export interface BlockRecord {
  readonly height: number
  readonly bytes: Uint8Array
  /** The block's commit certificate (opaque bytes), stored atomically with it. */
  readonly certificate?: Uint8Array
}
export interface Store extends KVRead {
  head(): Head | undefined
  /** Encoded block at a height (0 = genesis header only). */
  block(height: number): Uint8Array | undefined
  /** The commit certificate stored with the block at a height (none for a single node's own blocks). */
  certificate?(height: number): Uint8Array | undefined
  /** Atomically writes the state changes, the block record and the new head. */
  commit(changes: ReadonlyMap<string, Uint8Array | null>, block: BlockRecord, head: Head): void
  close(): Promise<void>
}

export function encodeHead(h: Head): Uint8Array {
  return new Writer(80).uint(h.height).fixed(h.hash, 32).fixed(h.stateRoot, 32).finish()
}
export function decodeHead(b: Uint8Array): Head {
  try {
    const r = new Reader(b)
    const h = { height: r.uint('height'), hash: r.fixed(32, 'hash'), stateRoot: r.fixed(32, 'stateRoot') }
    r.end()
    return h
  } catch (e) {
    throw new CorruptState({ key: 'meta:head', reason: String(e) })
  }
}

/** In-memory store (tests, clean replays). */
export class MemoryStore implements Store {
  readonly kv = new MemoryKV()
  private readonly blocks = new Map<number, Uint8Array>()
  private readonly certs = new Map<number, Uint8Array>()
  private headRec: Head | undefined
  get(key: string): Uint8Array | undefined {
    return this.kv.get(key)
  }
  scan(prefix: string): Array<readonly [string, Uint8Array]> {
    return this.kv.scan(prefix)
  }
  head(): Head | undefined {
    return this.headRec
  }
  block(height: number): Uint8Array | undefined {
    return this.blocks.get(height)
  }
  certificate(height: number): Uint8Array | undefined {
    return this.certs.get(height)
  }
  commit(changes: ReadonlyMap<string, Uint8Array | null>, block: BlockRecord, head: Head): void {
    for (const [k, v] of changes) {
      if (v === null) this.kv.del(k)
      else this.kv.put(k, v)
    }
    this.blocks.set(block.height, block.bytes)
    if (block.certificate) this.certs.set(block.height, block.certificate)
    this.headRec = head
  }
  async close(): Promise<void> {}
}

export interface LmdbStoreOptions {
  /** Directory of the environment (created if missing). */
  readonly path: string
  /** Number of state shards K (default 4). Fixed when the environment is created. */
  readonly shards?: number
  /** Tests only: fail the commit of one block (overrides `BASEDAI_STORE_FAULT`). */
  readonly fault?: FaultPlan
}

/**
 * A fault injected into the commit of block `height`. A commit of c state changes makes c + 2 writes (each state
 * put or delete in the map's order, then the block record, then the head), and has c + 4 points: point k < c + 2
 * is just before write k, point c + 2 after the last write but before the transaction ends, point c + 3 after the
 * transaction has committed, before `commit` returns. At the point, `throw` raises {@link InjectedFault} and `kill`
 * SIGKILLs the process.
 */
export interface FaultPlan {
  readonly height: number
  readonly point: number
  readonly mode: 'throw' | 'kill'
}
/** Raised by a `throw` {@link FaultPlan}. */
export class InjectedFault extends Data.TaggedError('InjectedFault')<{ readonly height: number; readonly point: number }> {}
/** `BASEDAI_STORE_FAULT` (or a {@link FaultPlan}) is not well formed. */
export class InvalidFaultPlan extends Data.TaggedError('InvalidFaultPlan')<{ readonly spec: string }> {}

export const FAULT_ENV = 'BASEDAI_STORE_FAULT'

/** Parses `kill@<height>:<point>` or `throw@<height>:<point>` (decimal, no sign). */
export function parseFaultPlan(spec: string): FaultPlan {
  const m = /^(kill|throw)@(\d{1,9}):(\d{1,9})$/.exec(spec)
  if (m === null) throw new InvalidFaultPlan({ spec })
  return { mode: m[1] as 'kill' | 'throw', height: Number(m[2]), point: Number(m[3]) }
}

/** Number of writes `LmdbStore.commit` makes for a change set: one per change, the block record, the head. */
export function commitWrites(changes: ReadonlyMap<string, Uint8Array | null>): number {
  return changes.size + 2
}

/** Shard of a state key (see module doc). */
export function shardOf(key: string, k: number): number {
  if (k === 1) return 0
  const c = key.charCodeAt(0)
  // 'a', 'c', 'r': hex-keyed → first byte of the key material.
  if (c === 97 || c === 99 || c === 114) return parseInt(key.slice(2, 4), 16) % k
  // Brain-scoped: 'b', 'n', 'l', 's', 'p', 'w', 'o' → Brain id.
  if (c === 98 || c === 110 || c === 108 || c === 115 || c === 112 || c === 119 || c === 111) {
    const end = key.indexOf(':', 2)
    return Number(key.slice(2, end < 0 ? undefined : end)) % k
  }
  return 0
}

export class LmdbStore implements Store {
  readonly env: RootDatabase
  readonly shards: ReadonlyArray<Database<Uint8Array, string>>
  private readonly blocks: Database<Uint8Array, number>
  private readonly certs: Database<Uint8Array, number>
  private readonly meta: Database<Uint8Array, string>
  private headRec: Head | undefined
  private readonly fault: FaultPlan | undefined
  readonly k: number

  private constructor(env: RootDatabase, k: number, fault: FaultPlan | undefined) {
    this.env = env
    this.k = k
    this.fault = fault
    this.shards = Array.from({ length: k }, (_, i) => env.openDB<Uint8Array, string>({ name: `state-${i}`, encoding: 'binary' }))
    this.blocks = env.openDB<Uint8Array, number>({ name: 'blocks', encoding: 'binary' })
    this.certs = env.openDB<Uint8Array, number>({ name: 'certs', encoding: 'binary' })
    this.meta = env.openDB<Uint8Array, string>({ name: 'meta', encoding: 'binary' })
    const h = this.meta.get('head')
    this.headRec = h ? decodeHead(h) : undefined
  }

  static open(opts: LmdbStoreOptions): LmdbStore {
    const want = opts.shards ?? 4
    if (!Number.isInteger(want) || want < 1 || want > 256) throw new RangeError('shards must be 1..256')
    const env0 = process.env[FAULT_ENV]
    const fault = opts.fault ?? (env0 === undefined || env0 === '' ? undefined : parseFaultPlan(env0))
    if (fault !== undefined && !(Number.isSafeInteger(fault.height) && fault.height >= 0 && Number.isSafeInteger(fault.point) && fault.point >= 0))
      throw new InvalidFaultPlan({ spec: `${fault.mode}@${fault.height}:${fault.point}` })
    fs.mkdirSync(opts.path, { recursive: true })
    // noSubdir: false — always a directory (lmdb-js otherwise treats a path with a dot as a file name).
    const env = open({ path: opts.path, noSubdir: false, maxDbs: want + 4, mapSize: 2 ** 34 })
    const metaDb = env.openDB<Uint8Array, string>({ name: 'meta', encoding: 'binary' })
    const stored = metaDb.get('shards')
    let k = want
    if (stored) {
      k = stored[0] as number
      if (opts.shards !== undefined && k !== opts.shards)
        throw new CorruptState({ key: 'meta:shards', reason: `environment has ${k} shards, asked for ${opts.shards}` })
    } else {
      metaDb.putSync('shards', new Uint8Array([k]))
    }
    return new LmdbStore(env, k, fault)
  }

  private db(key: string): Database<Uint8Array, string> {
    return this.shards[shardOf(key, this.k)] as Database<Uint8Array, string>
  }
  get(key: string): Uint8Array | undefined {
    return this.db(key).get(key)
  }
  scan(prefix: string): Array<readonly [string, Uint8Array]> {
    const out: Array<readonly [string, Uint8Array]> = []
    for (const db of this.shards)
      for (const { key, value } of db.getRange({ start: prefix, end: `${prefix}\uffff` })) out.push([key, value])
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }
  head(): Head | undefined {
    return this.headRec
  }
  block(height: number): Uint8Array | undefined {
    return this.blocks.get(height)
  }
  certificate(height: number): Uint8Array | undefined {
    return this.certs.get(height)
  }
  commit(changes: ReadonlyMap<string, Uint8Array | null>, block: BlockRecord, head: Head): void {
    // Fault points (see FaultPlan): `at` is -1 unless a fault is planned for this height, so `p++ === at` never holds.
    const at = this.fault !== undefined && this.fault.height === block.height ? this.fault.point : -1
    let p = 0
    this.env.transactionSync(() => {
      for (const [k, v] of changes) {
        if (p++ === at) this.trip(block.height, at)
        const db = this.db(k)
        if (v === null) db.removeSync(k)
        else db.putSync(k, v)
      }
      if (p++ === at) this.trip(block.height, at)
      this.blocks.putSync(block.height, block.bytes)
      if (block.certificate) this.certs.putSync(block.height, block.certificate)
      if (p++ === at) this.trip(block.height, at)
      this.meta.putSync('head', encodeHead(head))
      if (p++ === at) this.trip(block.height, at)
    })
    this.headRec = head
    if (p === at) this.trip(block.height, at)
  }
  private trip(height: number, point: number): void {
    if (this.fault?.mode === 'kill') process.kill(process.pid, 'SIGKILL')
    throw new InjectedFault({ height, point })
  }
  async close(): Promise<void> {
    await this.env.close()
  }
}
