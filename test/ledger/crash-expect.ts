/**
 * Shared by the fault-injection crash tests (crash-fault.test.ts: throw in process; crash-kill.test.ts: SIGKILL a
 * child): the block whose commit is broken, the two states a reopened store may hold (computed independently in
 * memory), and the check that a reopened store holds exactly one of them.
 */
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Ledger, LmdbStore, MemoryStore, auditSupply, computeStateRoot, toHex, type Head } from 'basedai/ledger'
import { commitWrites, type BlockRecord } from '../../ledger/store.ts'
import { PROPOSER, genesis, nextTxs } from './workload.ts'

/** The block whose commit is broken: block 13 stakes into Brain 7 (shard 3) from accounts in other shards and pays
 * Brain 7's epoch (tempo 5), so its writes cross shards and move emission. */
export const H = 13
export const PER_BLOCK = 4

export function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-fault-'))
}

export function produce(ledger: Ledger, target: number): void {
  while (ledger.head().height < target) {
    const r = ledger.produceBlock(nextTxs(ledger, PER_BLOCK), { time: ledger.nextBlockTime(), proposer: PROPOSER })
    assert.equal(r.rejected.length, 0, `rejections at ${r.block.header.height}`)
  }
}

export interface Snapshot {
  readonly height: number
  readonly hash: string
  readonly state: ReadonlyMap<string, string>
}
function snapshot(head: Head, entries: Iterable<readonly [string, Uint8Array]>): Snapshot {
  return { height: head.height, hash: toHex(head.hash), state: new Map([...entries].map(([k, v]) => [k, toHex(v)])) }
}

/** Expected states before and after block H, and the number of writes of its commit, from an in-memory run. */
function expected(): { prev: Snapshot; next: Snapshot; writes: number } {
  let writes = -1
  class Recording extends MemoryStore {
    override commit(changes: ReadonlyMap<string, Uint8Array | null>, block: BlockRecord, head: Head): void {
      if (block.height === H) writes = commitWrites(changes)
      super.commit(changes, block, head)
    }
  }
  const store = new Recording()
  const ledger = Ledger.open({ store, genesis: genesis() })
  produce(ledger, H - 1)
  const prev = snapshot(ledger.head(), store.scan(''))
  produce(ledger, H)
  const next = snapshot(ledger.head(), store.scan(''))
  assert.notEqual(prev.hash, next.hash)
  return { prev, next, writes }
}
export const EXP = expected()

/** Reopens the store at `dir` and checks it holds exactly `want` (and is not the other block). */
export async function assertExactly(dir: string, want: Snapshot, other: Snapshot, what: string): Promise<void> {
  const store = LmdbStore.open({ path: dir })
  try {
    const head = store.head()
    assert.ok(head !== undefined, what)
    assert.equal(head.height, want.height, what)
    assert.equal(toHex(head.hash), want.hash, what)
    const entries = store.scan('')
    assert.equal(toHex(computeStateRoot(entries)), toHex(head.stateRoot), `${what}: stored state does not hash to the head's root`)
    const got = snapshot(head, entries)
    assert.deepEqual(got.state, want.state, what)
    assert.notDeepEqual(got.state, other.state, what)
    assert.ok(auditSupply(store).ok, what)
    assert.equal(store.block(H) !== undefined, want.height === H, `${what}: block record ${H}`)
    Ledger.open({ store })
  } finally {
    await store.close()
  }
}

