/**
 * `npm run bench -- ledger`: signed transfers applied and persisted (LMDB, one write transaction per block) per
 * second, beside raw LMDB puts in the same run. Target ≥ 10k transfers/s on the project's 2-core machine.
 *
 * Rows: node:crypto verify alone (one thread), raw LMDB puts (the peer: the same number of key/value writes a
 * transfer block makes, in one transactionSync per block), the ledger with inline verification, with a worker pool
 * verifying block n+1 while block n is applied, and with signatures pre-verified (the state machine + root + LMDB
 * alone). Signing is client work and is done before timing.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { open } from 'lmdb'
import {
  Ledger, LmdbStore, SignatureVerifier, verifyTxsAsync, defaultParams, signTx, testKeyPair, tokens, verify, withMinFee,
  type GenesisConfig, type KeyPair, type PreparedTx,
} from '../ledger/index.ts'
import { cpuDescription, fmt, type BenchContext, type BenchSection } from './harness.ts'

export async function bench(ctx: BenchContext): Promise<BenchSection> {
  const nAccounts = 2000
  const perBlock = 2000
  const blocks = ctx.quick ? 5 : 15
  const total = perBlock * blocks
  const keys: KeyPair[] = Array.from({ length: nAccounts }, (_, i) => testKeyPair(`bench-${i}`))
  const params = defaultParams({ chainId: 'bench' })
  const genesis: GenesisConfig = {
    params, time: 1_700_000_000_000, accounts: keys.map((k) => ({ publicKey: k.publicKey, based: tokens(1_000_000) })),
  }
  ctx.progress(`signing ${total} transfers`)
  const nonces = new Array<bigint>(nAccounts).fill(0n)
  const txBlocks: PreparedTx[][] = []
  for (let b = 0; b < blocks; b++) {
    const txs: PreparedTx[] = []
    for (let i = 0; i < perBlock; i++) {
      const from = (b * perBlock + i) % nAccounts
      const to = (from * 7 + 13 + b) % nAccounts
      const k = keys[from] as KeyPair
      const nonce = nonces[from] as bigint
      nonces[from] = nonce + 1n
      txs.push(signTx(withMinFee({ chainId: 'bench', from: k.publicKey, nonce, body: { kind: 'transfer', to: (keys[to] as KeyPair).publicKey, amount: 1000n + BigInt(i) } }, params.baseFee, params.byteFee), k.secretKey))
    }
    txBlocks.push(txs)
  }
  const proposer = testKeyPair('bench-proposer').publicKey
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-bench-'))
  const rows: Array<Record<string, string | number>> = []

  // 1. Verification alone, one thread (measured before and after the ledger runs; the machine's load varies).
  const verifyRate = (): number => {
    const sample = [...(txBlocks[0] as PreparedTx[]), ...(txBlocks[1] as PreparedTx[])]
    const t0 = performance.now()
    for (const t of sample) verify(t.tx.from, t.payload, t.tx.sig)
    return sample.length / ((performance.now() - t0) / 1000)
  }
  const verifyBefore = verifyRate()

  // 2. Peer: raw LMDB puts — per block, 2 account writes per transfer + 1, in one transactionSync.
  let rawPerS = 0
  {
    ctx.progress('raw LMDB puts')
    const env = open({ path: path.join(root, 'raw'), noSubdir: false, maxDbs: 8 })
    const db = env.openDB<Uint8Array, string>({ name: 'state-0', encoding: 'binary' })
    const value = new Uint8Array(12).fill(7)
    const t0 = performance.now()
    for (let b = 0; b < blocks; b++) {
      env.transactionSync(() => {
        for (const t of txBlocks[b] as PreparedTx[]) {
          db.putSync(`a:${Buffer.from(t.tx.from).toString('hex')}`, value)
          db.putSync(`a:${Buffer.from((t.tx.body as { to: Uint8Array }).to).toString('hex')}`, value)
        }
      })
    }
    const s = (performance.now() - t0) / 1000
    rawPerS = (2 * total) / s
    rows.push({ what: 'raw LMDB putSync, 1 txn per block (peer)', ops: 2 * total, 'ops/s': fmt(rawPerS), note: `${fmt(total / s)} transfer-equivalents/s (2 puts each)` })
    await env.close()
  }

  async function runLedger(name: string, mode: 'inline' | 'pool' | 'threadpool' | 'preverified'): Promise<number> {
    ctx.progress(name)
    const store = LmdbStore.open({ path: path.join(root, mode), shards: 4 })
    const ledger = Ledger.open({ store, genesis })
    const workers = mode === 'pool' ? SignatureVerifier.create(os.availableParallelism()) : undefined
    await workers?.ready()
    const pool = workers ?? (mode === 'threadpool' ? { verify: verifyTxsAsync } : undefined)
    const all = txBlocks.map((txs) => txs.map(() => true))
    let applied = 0
    const t0 = performance.now()
    let next = pool?.verify(txBlocks[0] as PreparedTx[])
    for (let b = 0; b < blocks; b++) {
      let verified: readonly boolean[] | undefined
      if (pool && next) {
        verified = await next
        next = b + 1 < blocks ? pool.verify(txBlocks[b + 1] as PreparedTx[]) : undefined
      } else if (mode === 'preverified') verified = all[b]
      const r = ledger.produceBlock(txBlocks[b] as PreparedTx[], { time: ledger.nextBlockTime(), proposer, verified })
      applied += r.included
      if (r.rejected.length > 0) throw new Error(`bench: ${r.rejected.length} rejected (${r.rejected[0]?.error._tag})`)
    }
    const s = (performance.now() - t0) / 1000
    await workers?.close()
    await store.close()
    const perS = applied / s
    rows.push({ what: name, ops: applied, 'ops/s': fmt(perS), note: `${fmt(perS / (rawPerS / 2), 2)}× raw-put transfer-equivalents` })
    return perS
  }
  const inline = await runLedger('ledger: verify inline + apply + root + LMDB commit', 'inline')
  const pooled = await runLedger(`ledger: ${os.availableParallelism()}-worker verify pipelined + apply + root + commit`, 'pool')
  const uv = await runLedger('ledger: libuv-threadpool verify pipelined + apply + root + commit', 'threadpool')
  const pre = await runLedger('ledger: pre-verified (state machine + root + commit only)', 'preverified')
  const verifyAfter = verifyRate()
  rows.unshift({
    what: 'node:crypto ed25519 verify, 1 thread', ops: 4000, 'ops/s': `${fmt(verifyBefore)} / ${fmt(verifyAfter)}`,
    note: 'signature check only, before / after the ledger runs',
  })
  fs.rmSync(root, { recursive: true, force: true })
  const best = Math.max(inline, pooled, uv)
  return {
    title: 'Ledger: signed transfers applied and persisted',
    device: cpuDescription(),
    columns: ['what', 'ops', 'ops/s', 'note'],
    rows,
    notes: [
      `${blocks} blocks × ${perBlock} signed transfers among ${nAccounts} accounts; every block is one LMDB write transaction over 4 shard sub-DBs plus the block record.`,
      `Best end-to-end: ${fmt(best)} transfers/s — target ≥ 10,000/s: ${best >= 10_000 ? 'met' : 'NOT met'} in this run.`,
      `Ledger / raw LMDB puts (transfer-equivalents): ${fmt(best / (rawPerS / 2), 2)}×; without verification: ${fmt(pre / (rawPerS / 2), 2)}×.`,
      `Verification bound: end-to-end pooled rate = ${fmt(pooled / ((verifyBefore + verifyAfter) / 2), 2)}× the one-thread verify rate of this run; the state machine alone (pre-verified) runs ${fmt(pre / best, 2)}× faster than the best end-to-end.`,
      `Load average during the run: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} cores (shared machine: other work competes).`,
    ],
  }
}
