/**
 * Parallel signature verification: a small pool of worker threads, each verifying a contiguous slice of a batch.
 * Signature checks are the ledger's CPU bottleneck (node:crypto ed25519 verify ≈ 12k/s per core); a producer can
 * verify block n+1 here while it applies block n, then pass `verified` flags to `produceBlock` / `applyBlock`.
 * The state machine itself never trusts a flag it did not get from its caller: without flags it verifies inline.
 */
import os from 'node:os'
import { Worker } from 'node:worker_threads'
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

export class SignatureVerifier {
  private readonly workers: Worker[]
  private nextId = 0
  private readonly waiting = new Map<number, { resolve: (out: Uint8Array) => void; reject: (e: Error) => void }>()

  private constructor(threads: number) {
    const url = new URL('./verify-worker.ts', import.meta.url)
    this.workers = Array.from({ length: threads }, () => {
      const w = new Worker(url)
      w.on('message', (m: { id: number; out: Uint8Array }) => {
        const r = this.waiting.get(m.id)
        this.waiting.delete(m.id)
        r?.resolve(m.out)
      })
      w.on('error', (e: Error) => {
        for (const r of this.waiting.values()) r.reject(e)
        this.waiting.clear()
      })
      return w
    })
  }

  /** A pool of `threads` workers (default: available parallelism). */
  static create(threads = os.availableParallelism()): SignatureVerifier {
    return new SignatureVerifier(Math.max(1, threads))
  }

  /** Resolves once every worker has loaded and answered a one-item batch (keeps start-up out of measurements). */
  async ready(): Promise<void> {
    const n = this.workers.length
    const probe = { tx: { from: new Uint8Array(32), sig: new Uint8Array(64) }, payload: new Uint8Array(1) } as unknown as PreparedTx
    await this.verify(Array.from({ length: n }, () => probe))
  }

  get threads(): number {
    return this.workers.length
  }

  /** verified[i] = the signature of txs[i] verifies over its payload with its `from` key. */
  async verify(txs: readonly PreparedTx[]): Promise<boolean[]> {
    if (txs.length === 0) return []
    const n = this.workers.length
    const per = Math.ceil(txs.length / n)
    const parts: Array<Promise<Uint8Array>> = []
    for (let w = 0; w < n && w * per < txs.length; w++) {
      const slice = txs.slice(w * per, (w + 1) * per)
      const buf = pack(slice)
      const id = this.nextId++
      parts.push(new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject })))
      ;(this.workers[w] as Worker).postMessage({ id, buf, count: slice.length }, [buf.buffer as ArrayBuffer])
    }
    const outs = await Promise.all(parts)
    const res: boolean[] = []
    for (const o of outs) for (const x of o) res.push(x === 1)
    return res
  }

  /** Terminates the workers (they keep the process alive until then). */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

/**
 * Verifies every transaction's signature on libuv's threadpool (UV_THREADPOOL_SIZE threads, 4 by default) — the
 * alternative to {@link SignatureVerifier} that needs no worker threads. verified[i] ↔ txs[i].
 */
export function verifyTxsAsync(txs: readonly PreparedTx[]): Promise<boolean[]> {
  return verifyAsync(txs.map((t) => ({ publicKey: t.tx.from, message: t.payload, signature: t.tx.sig })))
}
