/**
 * Child process of the crash test: opens the LMDB ledger at argv[2], applies deterministic blocks until height
 * argv[3], printing `committed <height>` after each block's commit returns. The parent SIGKILLs it at random.
 */
import { Ledger, LmdbStore } from 'basedai/ledger'
import { PROPOSER, genesis, nextTxs } from './workload.ts'

const [path, target] = [process.argv[2] as string, Number(process.argv[3])]
const ledger = Ledger.open({ store: LmdbStore.open({ path, shards: 4 }), genesis: genesis() })
process.stdout.write(`ready ${ledger.head().height}\n`)
while (ledger.head().height < target) {
  const r = ledger.produceBlock(nextTxs(ledger, 12), { time: ledger.nextBlockTime(), proposer: PROPOSER })
  if (r.rejected.length > 0) {
    process.stderr.write(`unexpected rejections at ${r.block.header.height}: ${r.rejected.map((x) => x.error._tag).join(',')}\n`)
    process.exit(3)
  }
  process.stdout.write(`committed ${r.block.header.height}\n`)
}
await ledger.store.close()
process.stdout.write('done\n')
