/**
 * GpuRuntime: one device with its pipeline cache and buffer pool, plus the submit/readback plumbing every kernel
 * host uses. Work for one call is encoded into one command buffer (many dispatches, then copies into staging
 * buffers), submitted once, and read back asynchronously with `mapAsync`.
 *
 * DEBUG_GPU=1 (or `debug: true`): buffers are never reused, calls are serialized, and each call runs inside
 * validation / out-of-memory / internal error scopes whose errors are thrown as `GpuError`. Otherwise uncaptured
 * device errors are logged and make the next call fail with `GpuError`; a lost device fails every later call.
 */
import { acquireGpu, adapterLabel, type AcquireOptions, type AdapterDescription, type GpuHandle } from './device.ts'
import { BufferPool } from './buffers.ts'
import { PipelineCache, type PipelineDesc } from './cache.ts'
import { grid2d, type Grid } from './dispatch.ts'
import { GpuError } from './errors.ts'

export interface RuntimeOptions extends AcquireOptions {
  /** Error scopes, no buffer reuse, serialized calls. Default: process.env.DEBUG_GPU is set and not '0'. */
  readonly debug?: boolean
  /** Log sink (adapter line, uncaptured errors). Default: stderr. */
  readonly log?: (line: string) => void
}

export interface ReadRequest {
  readonly buffer: GPUBuffer
  readonly bytes: number
  readonly offset?: number
}

export const STORAGE = 0x80 | 0x04 | 0x08 // STORAGE | COPY_SRC | COPY_DST (GPUBufferUsage values; globals may be absent at load)
export const UNIFORM = 0x40 | 0x08 // UNIFORM | COPY_DST
export const READBACK = 0x01 | 0x08 // MAP_READ | COPY_DST
/** WebGPU's minUniformBufferOffsetAlignment default; uniform slots are this far apart. */
export const UNIFORM_SLOT = 256

export function debugFromEnv(): boolean {
  const v = process.env.DEBUG_GPU
  return v !== undefined && v !== '' && v !== '0' && v !== 'false'
}

export class GpuRuntime {
  readonly device: GPUDevice
  readonly adapter: AdapterDescription
  readonly features: ReadonlySet<string>
  readonly pipelines: PipelineCache
  readonly pool: BufferPool
  readonly debug: boolean
  readonly limits: GPUSupportedLimits
  readonly #log: (line: string) => void
  #pendingError: GpuError | undefined
  #lost: GpuError | undefined
  #chain: Promise<unknown> = Promise.resolve()
  /** Dispatches issued (workgroups launched are counted by kernels that need to prove work was skipped). */
  dispatches = 0

  private constructor(h: GpuHandle, opts: RuntimeOptions) {
    this.device = h.device
    this.adapter = h.adapter
    this.features = h.features
    this.limits = h.device.limits
    this.debug = opts.debug ?? debugFromEnv()
    this.#log = opts.log ?? ((line) => process.stderr.write(`${line}\n`))
    this.pipelines = new PipelineCache(h.device)
    this.pool = new BufferPool(h.device, { reuse: !this.debug })
    h.device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      const msg = ev.error.message
      this.#log(`[kernels] uncaptured GPU error: ${msg}`)
      this.#pendingError ??= new GpuError({ op: 'uncaptured', kind: 'validation', message: msg })
    }
    void h.lost.then((info) => {
      this.#lost = new GpuError({ op: 'device', kind: 'device-lost', message: `device lost (${info.reason}): ${info.message}` })
      if (info.reason !== 'destroyed') this.#log(`[kernels] ${this.#lost.message}`)
    })
  }

  /** Acquires a device (throws `GpuUnavailable` without one) and logs the adapter line. */
  static async create(opts: RuntimeOptions = {}): Promise<GpuRuntime> {
    const h = await acquireGpu(opts)
    const rt = new GpuRuntime(h, opts)
    rt.#log(`[kernels] WebGPU adapter: ${adapterLabel(h.adapter)}${rt.debug ? ' (DEBUG_GPU: error scopes, no buffer reuse)' : ''}`)
    return rt
  }

  get label(): string {
    return adapterLabel(this.adapter)
  }

  get isLost(): boolean {
    return this.#lost !== undefined
  }

  pipeline(desc: PipelineDesc): GPUComputePipeline {
    return this.pipelines.get(desc)
  }

  /** Grid for `count` workgroups within this device's per-dimension limit. */
  grid(count: number): Grid {
    return grid2d(count, this.limits.maxComputeWorkgroupsPerDimension)
  }

  /** A pooled storage buffer (STORAGE | COPY_SRC | COPY_DST) of at least `bytes`, optionally filled. */
  storage(bytes: number, label: string, data?: ArrayBufferView): GPUBuffer {
    const buf = this.pool.acquire(Math.max(bytes, 4), STORAGE, label)
    if (data) this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength)
    return buf
  }

  /** A pooled uniform buffer holding `slots` (each UNIFORM_SLOT bytes apart) written from `words` (u32 per slot). */
  uniforms(slots: ReadonlyArray<ArrayLike<number>>, label: string): GPUBuffer {
    const words = new Uint32Array((slots.length * UNIFORM_SLOT) / 4)
    slots.forEach((s, i) => words.set(s, (i * UNIFORM_SLOT) / 4))
    const buf = this.pool.acquire(words.byteLength, UNIFORM, label)
    this.device.queue.writeBuffer(buf, 0, words)
    return buf
  }

  release(...bufs: GPUBuffer[]): void {
    for (const b of bufs) this.pool.release(b)
  }

  /**
   * Runs one call: `encode` records dispatches into a fresh encoder and returns what to read back; the command buffer
   * is submitted once and the reads resolve to fresh ArrayBuffers. Serialized in debug mode (error scopes are a
   * device-wide stack); otherwise calls may overlap (the queue orders them).
   */
  async run(op: string, encode: (enc: GPUCommandEncoder) => readonly ReadRequest[]): Promise<ArrayBuffer[]> {
    if (this.#lost) throw this.#lost
    if (this.#pendingError) {
      const e = this.#pendingError
      this.#pendingError = undefined
      throw new GpuError({ op, kind: e.kind, message: `earlier uncaptured error: ${e.message}` })
    }
    if (!this.debug) return this.#runOnce(op, encode)
    const next = this.#chain.then(() => this.#runScoped(op, encode))
    this.#chain = next.catch(() => undefined)
    return next
  }

  async #runScoped(op: string, encode: (enc: GPUCommandEncoder) => readonly ReadRequest[]): Promise<ArrayBuffer[]> {
    const d = this.device
    d.pushErrorScope('internal')
    d.pushErrorScope('out-of-memory')
    d.pushErrorScope('validation')
    let result: ArrayBuffer[] | undefined
    let thrown: unknown
    try {
      result = await this.#runOnce(op, encode)
    } catch (e) {
      thrown = e
    }
    const kinds = ['validation', 'out-of-memory', 'internal'] as const
    for (const kind of kinds) {
      const err = await d.popErrorScope()
      if (err && thrown === undefined) thrown = new GpuError({ op, kind, message: err.message })
    }
    if (thrown !== undefined) throw thrown
    return result ?? []
  }

  async #runOnce(op: string, encode: (enc: GPUCommandEncoder) => readonly ReadRequest[]): Promise<ArrayBuffer[]> {
    const enc = this.device.createCommandEncoder({ label: op })
    const reads = encode(enc)
    const staging = reads.map((r) => {
      const s = this.pool.acquire(r.bytes, READBACK, `${op}_read`)
      enc.copyBufferToBuffer(r.buffer, r.offset ?? 0, s, 0, Math.ceil(r.bytes / 4) * 4)
      return s
    })
    this.device.queue.submit([enc.finish()])
    try {
      await Promise.all(staging.map((s) => s.mapAsync(0x0001 /* GPUMapMode.READ */)))
    } catch (e) {
      for (const s of staging) s.destroy()
      throw this.#lost ?? new GpuError({ op, kind: 'map-failed', message: String(e) })
    }
    const out = staging.map((s, i) => {
      const bytes = (reads[i] as ReadRequest).bytes
      const copy = s.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0, bytes)
      s.unmap()
      return copy
    })
    for (const s of staging) this.pool.release(s)
    return out
  }

  /** Records one dispatch of `grid` into an open compute pass (dispatches in one pass see each other's writes). */
  dispatch(
    pass: GPUComputePassEncoder,
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    grid: Grid,
    dynamicOffsets?: readonly number[],
  ): void {
    if (grid.launched === 0) return
    pass.setPipeline(pipeline)
    if (dynamicOffsets) pass.setBindGroup(0, bindGroup, dynamicOffsets)
    else pass.setBindGroup(0, bindGroup)
    pass.dispatchWorkgroups(grid.x, grid.y)
    this.dispatches += 1
  }

  destroy(): void {
    this.pool.destroy()
    this.device.destroy()
  }
}
