/**
 * Child process of the crash tests: opens the LMDB ledger at argv[2] (4 shards), applies deterministic blocks of
 * argv[4] transactions (default 12) until height argv[3], printing `ready <height>` once open and
 * `committed <height> <blockMs> <commitMs>` after each block's commit returns (the block's wall time and the part
 * spent in `Store.commit`). The parent SIGKILLs it at chosen times (crash-sigkill.test.ts), or sets
 * BASEDAI_STORE_FAULT so the store kills it at one write point of one block's commit (crash-fault.test.ts).
 */
import { Ledger, LmdbStore, type Store } from 'basedai/ledger'
import { PROPOSER, genesis, nextTxs } from './workload.ts'

const [path, target, perBlock] = [process.argv[2] as string, Number(process.argv[3]), Number(process.argv[4] ?? 12)]
const lmdb = LmdbStore.open({ path, shards: 4 })
let commitMs = 0
const timed: Store = {
  get: (k) => lmdb.get(k),
  scan: (p) => lmdb.scan(p),
  head: () => lmdb.head(),
  block: (h) => lmdb.block(h),
  commit(changes, block, head) {
    const t = performance.now()
    lmdb.commit(changes, block, head)
    commitMs = performance.now() - t
  },
  close: () => lmdb.close(),
}
const ledger = Ledger.open({ store: timed, genesis: genesis() })
process.stdout.write(`ready ${ledger.head().height}\n`)
while (ledger.head().height < target) {
  const t = performance.now()
  const r = ledger.produceBlock(nextTxs(ledger, perBlock), { time: ledger.nextBlockTime(), proposer: PROPOSER })
  if (r.rejected.length > 0) {
    process.stderr.write(`unexpected rejections at ${r.block.header.height}: ${r.rejected.map((x) => x.error._tag).join(',')}\n`)
    process.exit(3)
  }
  process.stdout.write(`committed ${r.block.header.height} ${(performance.now() - t).toFixed(3)} ${commitMs.toFixed(3)}\n`)
}
await ledger.store.close()
process.stdout.write('done\n')
