/**
 * The abstract key-value interface the state machine runs over, an in-memory implementation, and the write
 * overlay that makes every transaction all-or-nothing.
 *
 * Keys are short ASCII strings (see records.ts for the scheme); values are canonical bytes. `scan(prefix)` yields
 * entries in ascending key order (code-unit order), so anything computed from a scan is deterministic.
 */
export interface KVRead {
  get(key: string): Uint8Array | undefined
  scan(prefix: string): Iterable<readonly [string, Uint8Array]>
}
export interface KV extends KVRead {
  put(key: string, value: Uint8Array): void
  del(key: string): void
}

function byKey(a: readonly [string, unknown], b: readonly [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
}

/** Plain Map-backed store (tests, replay, the clean side of the crash test). */
export class MemoryKV implements KV {
  readonly map = new Map<string, Uint8Array>()
  get(key: string): Uint8Array | undefined {
    return this.map.get(key)
  }
  put(key: string, value: Uint8Array): void {
    this.map.set(key, value)
  }
  del(key: string): void {
    this.map.delete(key)
  }
  scan(prefix: string): Array<readonly [string, Uint8Array]> {
    const out: Array<readonly [string, Uint8Array]> = []
    for (const e of this.map) if (e[0].startsWith(prefix)) out.push(e)
    return out.sort(byKey)
  }
}

/**
 * Buffered writes over a base: reads see the buffer first. `commit()` pushes the buffer into the base; dropping
 * the overlay discards it. Transactions run in an overlay over the block's overlay, so a rejected transaction
 * leaves nothing behind.
 */
export class Overlay implements KV {
  readonly writes = new Map<string, Uint8Array | null>()
  readonly base: KVRead
  constructor(base: KVRead) {
    this.base = base
  }
  get(key: string): Uint8Array | undefined {
    const w = this.writes.get(key)
    if (w !== undefined) return w === null ? undefined : w
    return this.base.get(key)
  }
  put(key: string, value: Uint8Array): void {
    this.writes.set(key, value)
  }
  del(key: string): void {
    this.writes.set(key, null)
  }
  scan(prefix: string): Array<readonly [string, Uint8Array]> {
    const merged = new Map<string, Uint8Array>()
    for (const [k, v] of this.base.scan(prefix)) merged.set(k, v)
    for (const [k, v] of this.writes) {
      if (!k.startsWith(prefix)) continue
      if (v === null) merged.delete(k)
      else merged.set(k, v)
    }
    return [...merged].sort(byKey)
  }
  /** Applies the buffered writes to `target` (normally the base) and clears the buffer. */
  commitTo(target: KV): void {
    for (const [k, v] of this.writes) {
      if (v === null) target.del(k)
      else target.put(k, v)
    }
    this.writes.clear()
  }
}
