/**
 * Buffer pool. Creating GPU buffers is expensive, so buffers are recycled by (usage, size class): sizes round up to
 * a power of two (16-byte minimum, 4-byte copy alignment). With `reuse: false` (DEBUG_GPU) every released buffer is
 * destroyed instead, so a use-after-release shows up as a validation error rather than silent corruption.
 */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 4) * 4)
  return 2 ** Math.ceil(Math.log2(b))
}

export interface PoolStats {
  created: number
  reused: number
  live: number
  pooledBytes: number
}

export class BufferPool {
  readonly #device: GPUDevice
  readonly #reuse: boolean
  readonly #free = new Map<string, GPUBuffer[]>()
  readonly stats: PoolStats = { created: 0, reused: 0, live: 0, pooledBytes: 0 }
  /** Pooled bytes kept at most; beyond it released buffers are destroyed. */
  readonly maxPooledBytes: number

  constructor(device: GPUDevice, opts: { reuse: boolean; maxPooledBytes?: number }) {
    this.#device = device
    this.#reuse = opts.reuse
    this.maxPooledBytes = opts.maxPooledBytes ?? 512 * 1024 * 1024
  }

  /** A buffer of at least `bytes` with exactly `usage`. Its contents are undefined (previous user's data). */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label = 'pooled'): GPUBuffer {
    const size = sizeClass(bytes)
    const key = `${usage}:${size}`
    const list = this.#free.get(key)
    const hit = this.#reuse ? list?.pop() : undefined
    this.stats.live += 1
    if (hit) {
      this.stats.reused += 1
      this.stats.pooledBytes -= size
      return hit
    }
    this.stats.created += 1
    return this.#device.createBuffer({ label: `${label}_${size}`, size, usage })
  }

  release(buf: GPUBuffer): void {
    this.stats.live -= 1
    if (!this.#reuse || buf.mapState !== 'unmapped' || this.stats.pooledBytes + buf.size > this.maxPooledBytes) {
      buf.destroy()
      return
    }
    const key = `${buf.usage}:${buf.size}`
    let list = this.#free.get(key)
    if (!list) {
      list = []
      this.#free.set(key, list)
    }
    list.push(buf)
    this.stats.pooledBytes += buf.size
  }

  destroy(): void {
    for (const list of this.#free.values()) for (const b of list) b.destroy()
    this.#free.clear()
    this.stats.pooledBytes = 0
  }
}
