/**
 * Transactions on the gossip topic `basedai/<chain>/tx`: many per message.
 *
 * A gossipsub message costs its publisher a signature and every receiver a signature check, a protobuf decode and a
 * Noise frame, whatever it carries; one transaction per message made that the cost of a burst. A node therefore
 * gathers the transactions it admits for a few milliseconds and publishes them as one batch:
 * `kind (varint, 0x7b)` · `count (varint, ≤ MAX_TX_BATCH)` · count × `bytes` (each a transaction's wire bytes,
 * ledger/tx.ts). A message whose first byte is a transaction version (1) is a single transaction, as before, so an
 * older publisher is still understood. Anything else is {@link MalformedBftMessage}. Each transaction inside is
 * still judged on its own (decoded, its signature verified, admitted) by every receiver.
 */
import { DecodeError, Reader, Writer } from '../ledger/codec.ts'
import { TX_VERSION } from '../ledger/tx.ts'
import { MalformedBftMessage } from './wire.ts'

const TX_BATCH_KIND = 0x7b
/** Most transactions one gossip message carries. */
export const MAX_TX_BATCH = 5_000
/** Largest transaction accepted inside a batch. */
const MAX_TX_BYTES = 1 << 20
/** Largest batch a publisher builds (well under the gossip message cap). */
export const MAX_TX_BATCH_BYTES = 4 * 1024 * 1024

export function encodeTxBatch(txs: readonly Uint8Array[]): Uint8Array {
  if (txs.length > MAX_TX_BATCH) throw new RangeError(`a batch carries at most ${MAX_TX_BATCH} transactions`)
  let size = 16
  for (const t of txs) size += t.length + 5
  const w = new Writer(size).uint(TX_BATCH_KIND).uint(txs.length)
  for (const t of txs) w.bytes(t)
  return w.finish()
}

/** The transactions' wire bytes a gossip message carries (one, or a batch). */
export function decodeTxGossip(bytes: Uint8Array): Uint8Array[] {
  if (bytes[0] === TX_VERSION) return [bytes]
  try {
    const r = new Reader(bytes)
    if (r.uint('kind') !== TX_BATCH_KIND) throw new DecodeError('kind', 'neither a transaction nor a batch of them')
    const n = r.uint('count')
    if (n > MAX_TX_BATCH) throw new DecodeError('count', `more than ${MAX_TX_BATCH}`)
    const out: Uint8Array[] = []
    for (let i = 0; i < n; i++) out.push(r.bytes('tx', MAX_TX_BYTES))
    r.end()
    return out
  } catch (e) {
    if (e instanceof DecodeError) throw new MalformedBftMessage({ field: e.field, reason: e.reason })
    throw e
  }
}

/**
 * Gathers transactions for one gossip message: `add` queues one; the batch is handed to `flush` after `delayMs`, or
 * at once when it holds `maxCount` transactions or `maxBytes` bytes.
 */
export class TxBatcher {
  private readonly flush: (batch: Uint8Array) => void
  private readonly delayMs: number
  private readonly maxCount: number
  private readonly maxBytes: number
  private txs: Uint8Array[] = []
  private bytes = 0
  private timer: NodeJS.Timeout | undefined

  constructor(flush: (batch: Uint8Array) => void, o: { delayMs?: number; maxCount?: number; maxBytes?: number } = {}) {
    this.flush = flush
    this.delayMs = o.delayMs ?? 5
    this.maxCount = Math.min(o.maxCount ?? 1000, MAX_TX_BATCH)
    this.maxBytes = Math.min(o.maxBytes ?? 1024 * 1024, MAX_TX_BATCH_BYTES)
  }

  add(tx: Uint8Array): void {
    if (this.bytes + tx.length > this.maxBytes && this.txs.length > 0) this.send()
    this.txs.push(tx)
    this.bytes += tx.length
    if (this.txs.length >= this.maxCount || this.bytes >= this.maxBytes) this.send()
    else this.timer ??= setTimeout(() => this.send(), this.delayMs)
  }

  /** Sends what is queued now. */
  send(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (this.txs.length === 0) return
    const batch = encodeTxBatch(this.txs)
    this.txs = []
    this.bytes = 0
    this.flush(batch)
  }

  /** Drops what is queued (the node stops). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.txs = []
    this.bytes = 0
  }
}
