/**
 * Parallel signature verification: a piscina pool of worker threads, each verifying a contiguous slice of a batch.
 * Signature checks are the ledger's CPU bottleneck (node:crypto ed25519 verify ≈ 12k/s per core); a producer can
 * verify block n+1 here while it applies block n, then pass `verified` flags to `produceBlock` / `applyBlock`.
 * The state machine itself never trusts a flag it did not get from its caller: without flags it verifies inline.
 */
import os from 'node:os'
import { Piscina } from 'piscina'
import type { PreparedTx } from './tx.ts'
import { verifyAsync } from './ed25519.ts'

function pack(txs: readonly PreparedTx[]): Uint8Array {
  let size = 0
  for (const t of txs) size += 100 + t.payload.length
  const buf = new Uint8Array(size)
  const dv = new DataView(buf.buffer)
  let off = 0
  for (const t of txs) {
    buf.set(t.tx.from, off)
    buf.set(t.tx.sig, off + 32)
    dv.setUint32(off + 96, t.payload.length, true)
    buf.set(t.payload, off + 100)
    off += 100 + t.payload.length
  }
  return buf
}

interface VerifyJob {
  readonly buf: Uint8Array
  readonly count: number
}

export class SignatureVerifier {
  private readonly pool: Piscina<VerifyJob, Uint8Array>
  private readonly size: number

  private constructor(threads: number) {
    this.size = threads
    this.pool = new Piscina<VerifyJob, Uint8Array>({
      filename: new URL('./verify-worker.ts', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
    })
  }

  /** A pool of `threads` workers (default: available parallelism). */
  static create(threads = os.availableParallelism()): SignatureVerifier {
    return new SignatureVerifier(Math.max(1, threads))
  }

  /** Resolves once every worker has loaded and answered a one-item batch (keeps start-up out of measurements). */
  async ready(): Promise<void> {
    const probe = { tx: { from: new Uint8Array(32), sig: new Uint8Array(64) }, payload: new Uint8Array(1) } as unknown as PreparedTx
    await this.verify(Array.from({ length: this.size }, () => probe))
  }

  get threads(): number {
    return this.size
  }

  /** verified[i] = the signature of txs[i] verifies over its payload with its `from` key. */
  async verify(txs: readonly PreparedTx[]): Promise<boolean[]> {
    if (txs.length === 0) return []
    const per = Math.ceil(txs.length / this.size)
    const parts: Array<Promise<Uint8Array>> = []
    for (let w = 0; w * per < txs.length; w++) {
      const slice = txs.slice(w * per, (w + 1) * per)
      const buf = pack(slice)
      parts.push(this.pool.run({ buf, count: slice.length }, { transferList: [buf.buffer as ArrayBuffer] }))
    }
    const outs = await Promise.all(parts)
    const res: boolean[] = []
    for (const o of outs) for (const x of o) res.push(x === 1)
    return res
  }

  /** Stops the workers (they keep the process alive until then). */
  async close(): Promise<void> {
    await this.pool.destroy()
  }
}

/**
 * Verifies every transaction's signature on libuv's threadpool (UV_THREADPOOL_SIZE threads, 4 by default) — the
 * alternative to {@link SignatureVerifier} that needs no worker threads. verified[i] ↔ txs[i].
 */
export function verifyTxsAsync(txs: readonly PreparedTx[]): Promise<boolean[]> {
  return verifyAsync(txs.map((t) => ({ publicKey: t.tx.from, message: t.payload, signature: t.tx.sig })))
}
