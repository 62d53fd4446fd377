/**
 * WebGPU host for the negacyclic NTT and pointwise kernels (ntt.wgsl, pointwise.wgsl).
 *
 * Data layout: a batch is `rows` rows of n u32 residues, row r reduced modulo primes[r % L] — B polynomials × L RNS
 * primes are rows b·L + l. One call uploads the batch once, records every pass of every row into one command buffer,
 * submits once and reads back asynchronously. Two pass shapes (`strategy`): 'workgroup' — global radix-2 stages
 * while the span is ≥ the tile, then all remaining stages in workgroup memory; 'registers' — passes of up to four
 * stages held in registers by each invocation (no barriers), the fast shape on CPU adapters. Batches larger than the storage-binding limit are split on whole polynomials.
 * Twiddle tables (ψ powers and Shoup quotients, from `makeNttTables`) are uploaded once per (n, primes) plan.
 */
import { InvalidInput } from '../errors.ts'
import { chunkRows, planNtt, planNttRegisters, type NttPass } from '../dispatch.ts'
import { loadWgsl } from '../wgsl.ts'
import { STORAGE, UNIFORM_SLOT, type GpuRuntime } from '../runtime.ts'
import { checkPoly, makeNttTables, montgomeryConstants, type NttTables } from './reference.ts'

export type PointwiseOp = 'mul' | 'add' | 'sub'
const OP_CODE: Record<PointwiseOp, number> = { mul: 0, add: 1, sub: 2 }

export interface RnsPlan {
  readonly n: number
  readonly logN: number
  readonly primes: readonly number[]
  readonly tables: readonly NttTables[]
  readonly tw: GPUBuffer
  readonly primeBuf: GPUBuffer
}

/** Packs per-prime constants as the WGSL `Prime` struct (8 u32 each). */
export function packPrimes(primes: readonly number[], n: number): Uint32Array {
  const out = new Uint32Array(primes.length * 8)
  primes.forEach((q, i) => {
    const t = makeNttTables(n, q)
    const c = montgomeryConstants(q)
    out.set([q, t.nInv, t.nInvShoup, c.qInvNeg, c.r2, 0, 0, 0], i * 8)
  })
  return out
}

/** Validates a batch: length a multiple of n, every residue of row r below primes[r % L]. Returns the row count. */
export function checkBatch(op: string, data: Uint32Array, n: number, primes: readonly number[]): number {
  if (primes.length === 0) throw new InvalidInput({ op, reason: 'bad_argument', message: `${op}: no primes` })
  if (data.length % n !== 0) {
    throw new InvalidInput({ op, reason: 'length_mismatch', message: `${op}: ${data.length} words is not a multiple of n = ${n}` })
  }
  const rows = data.length / n
  for (let r = 0; r < rows; r++) checkPoly(op, data.subarray(r * n, (r + 1) * n), n, primes[r % primes.length] as number)
  return rows
}

export interface NttKernelOptions {
  /** Workgroup size (invocations). Default 64 for register passes, 256 for workgroup passes. */
  readonly workgroupSize?: number
  /** Words per workgroup tile (power of two; ≤ maxComputeWorkgroupStorageSize / 4). Default 4096 or what fits. */
  readonly tile?: number
  /** Override the per-binding byte limit used to split batches (tests). Default: the device's. */
  readonly maxBindingBytes?: number
  /**
   * 'workgroup': global radix-2 stages, then the rest in workgroup memory (few passes; fits GPUs with fast barriers).
   * 'registers': passes of up to 4 stages held in registers, no barriers (much faster on CPU adapters: lavapipe).
   * 'auto' (default): 'registers' on a software adapter, 'workgroup' otherwise.
   */
  readonly strategy?: 'auto' | 'workgroup' | 'registers'
}

export class NttKernels {
  readonly rt: GpuRuntime
  readonly wg: number
  readonly tile: number
  readonly maxBindingBytes: number
  readonly strategy: 'workgroup' | 'registers'
  readonly #plans = new Map<string, RnsPlan>()
  readonly #layout: GPUBindGroupLayout
  readonly #pipelineLayout: GPUPipelineLayout
  readonly #code: string
  readonly #pwCode: string

  constructor(rt: GpuRuntime, opts: NttKernelOptions = {}) {
    this.rt = rt
    const fit = 2 ** Math.floor(Math.log2(rt.limits.maxComputeWorkgroupStorageSize / 4))
    this.tile = Math.min(opts.tile ?? 4096, fit)
    const st = opts.strategy ?? 'auto'
    this.strategy = st === 'auto' ? (rt.adapter.software ? 'registers' : 'workgroup') : st
    this.wg = opts.workgroupSize ?? (this.strategy === 'registers' ? 64 : 256)
    this.maxBindingBytes = Math.min(opts.maxBindingBytes ?? Infinity, rt.limits.maxStorageBufferBindingSize, rt.limits.maxBufferSize)
    const d = rt.device
    const C = 0x4 // GPUShaderStage.COMPUTE
    this.#layout = d.createBindGroupLayout({
      label: 'ntt_layout',
      entries: [
        { binding: 0, visibility: C, buffer: { type: 'storage' } },
        { binding: 1, visibility: C, buffer: { type: 'read-only-storage' } },
        { binding: 2, visibility: C, buffer: { type: 'read-only-storage' } },
        { binding: 3, visibility: C, buffer: { type: 'uniform', hasDynamicOffset: true } },
      ],
    })
    this.#pipelineLayout = d.createPipelineLayout({ label: 'ntt_pipeline_layout', bindGroupLayouts: [this.#layout] })
    this.#code = loadWgsl(import.meta.url, './ntt.wgsl')
    this.#pwCode = loadWgsl(import.meta.url, './pointwise.wgsl')
  }

  /** The plan for (n, primes): validated tables and their GPU copies, built once. Throws `InvalidNttParams`. */
  plan(n: number, primes: readonly number[]): RnsPlan {
    const key = `${n}:${primes.join(',')}`
    const hit = this.#plans.get(key)
    if (hit) return hit
    if (primes.length === 0) throw new InvalidInput({ op: 'ntt.plan', reason: 'bad_argument', message: 'no primes' })
    const tables = primes.map((q) => makeNttTables(n, q))
    const tw = new Uint32Array(4 * n * primes.length)
    tables.forEach((t, i) => {
      const o = 4 * n * i
      tw.set(t.psiRev, o)
      tw.set(t.psiRevShoup, o + n)
      tw.set(t.psiInvRev, o + 2 * n)
      tw.set(t.psiInvRevShoup, o + 3 * n)
    })
    const d = this.rt.device
    const twBuf = d.createBuffer({ label: `ntt_twiddles_${key}`, size: tw.byteLength, usage: STORAGE })
    d.queue.writeBuffer(twBuf, 0, tw)
    const pk = packPrimes(primes, n)
    const primeBuf = d.createBuffer({ label: `ntt_primes_${key}`, size: pk.byteLength, usage: STORAGE })
    d.queue.writeBuffer(primeBuf, 0, pk)
    const plan: RnsPlan = { n, logN: Math.round(Math.log2(n)), primes: [...primes], tables, tw: twBuf, primeBuf }
    this.#plans.set(key, plan)
    return plan
  }

  #pipeline(entry: string, tile: number, stages: number): GPUComputePipeline {
    return this.rt.pipeline({
      key: `ntt_${entry}_wg${this.wg}_tile${tile}_r${stages}`,
      code: this.#code,
      entryPoint: entry,
      constants: { WG: this.wg, TILE: tile, LOG_TILE: Math.log2(tile), R: stages },
      layout: this.#pipelineLayout,
    })
  }

  /**
   * Records a forward or inverse transform of `rows` rows held in `buf` into `pass`. Returns the uniform buffer to
   * release once the submission completes.
   */
  encodeTransform(pass: GPUComputePassEncoder, dir: 'forward' | 'inverse', plan: RnsPlan, buf: GPUBuffer, rows: number): GPUBuffer {
    const { n, logN } = plan
    const passes: NttPass[] = this.strategy === 'registers' ? planNttRegisters(n, 4, dir) : planNtt(n, this.tile, dir)
    const slots: number[][] = []
    const grids = passes.map((p, i) => {
      const last = dir === 'inverse' && i === passes.length - 1
      const count =
        p.kind === 'global'
          ? Math.ceil((rows * n) / 2 / this.wg)
          : p.kind === 'regs'
            ? Math.ceil((rows * (n >> p.stages)) / this.wg)
            : rows * (n / p.tile)
      const g = this.rt.grid(count)
      const logSpan = p.kind === 'local' ? 0 : Math.round(Math.log2(p.span))
      const m = p.kind === 'global' ? p.m : p.kind === 'regs' ? p.span : 0
      const flags = (last ? 1 : 0) | (p.kind === 'regs' ? p.stages << 8 : 0)
      slots.push([n, logN, plan.primes.length, rows, m, logSpan, g.x, flags])
      return g
    })
    const ubuf = this.rt.uniforms(slots, 'ntt_params')
    const bg = this.rt.device.createBindGroup({
      label: 'ntt_bind',
      layout: this.#layout,
      entries: [
        { binding: 0, resource: { buffer: buf, size: rows * n * 4 } },
        { binding: 1, resource: { buffer: plan.tw } },
        { binding: 2, resource: { buffer: plan.primeBuf } },
        { binding: 3, resource: { buffer: ubuf, size: 32 } },
      ],
    })
    const prefix = dir === 'forward' ? 'fwd' : 'inv'
    passes.forEach((p, i) => {
      const pipe = this.#pipeline(`${prefix}_${p.kind}`, Math.min(this.tile, n), p.kind === 'regs' ? p.stages : 4)
      this.rt.dispatch(pass, pipe, bg, grids[i] as ReturnType<GpuRuntime['grid']>, [i * UNIFORM_SLOT])
    })
    return ubuf
  }

  /** Records out = a ∘ b (elementwise mod q) for `rows` rows. Returns the uniform buffer to release. */
  encodePointwise(
    pass: GPUComputePassEncoder,
    op: PointwiseOp,
    plan: RnsPlan,
    a: GPUBuffer,
    b: GPUBuffer,
    out: GPUBuffer,
    rows: number,
  ): GPUBuffer {
    const total = rows * plan.n
    const g = this.rt.grid(Math.ceil(total / this.wg))
    const ubuf = this.rt.uniforms([[plan.n, plan.logN, plan.primes.length, total, g.x, OP_CODE[op], 0, 0]], 'pointwise_params')
    const pipe = this.rt.pipeline({ key: `pointwise_wg${this.wg}`, code: this.#pwCode, entryPoint: 'pointwise', constants: { WG: this.wg } })
    const bytes = total * 4
    const bg = this.rt.device.createBindGroup({
      label: 'pointwise_bind',
      layout: pipe.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: a, size: bytes } },
        { binding: 1, resource: { buffer: b, size: bytes } },
        { binding: 2, resource: { buffer: out, size: bytes } },
        { binding: 3, resource: { buffer: plan.primeBuf } },
        { binding: 4, resource: { buffer: ubuf, size: 32 } },
      ],
    })
    this.rt.dispatch(pass, pipe, bg, g)
    return ubuf
  }

  /** Chunks of whole polynomials (groups of L rows) that fit one storage binding. */
  #chunks(rows: number, n: number, L: number): Array<[number, number]> {
    return chunkRows(rows, n, this.maxBindingBytes, rows % L === 0 ? L : 1)
  }

  /** Forward (or inverse) negacyclic NTT of every row of `data` (not modified); returns the transformed batch. */
  async transform(dir: 'forward' | 'inverse', data: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array> {
    const op = dir === 'forward' ? 'nttForward' : 'nttInverse'
    const plan = this.plan(n, primes)
    const rows = checkBatch(op, data, n, primes)
    const out = new Uint32Array(data.length)
    await Promise.all(
      this.#chunks(rows, n, primes.length).map(async ([r0, cnt]) => {
        const view = data.subarray(r0 * n, (r0 + cnt) * n)
        const buf = this.rt.storage(view.byteLength, 'ntt_data', view)
        const chunkPlan = r0 % primes.length === 0 ? plan : this.plan(n, rotate(primes, r0))
        let ubuf: GPUBuffer | undefined
        try {
          const [res] = await this.rt.run(op, (enc) => {
            const pass = enc.beginComputePass({ label: op })
            ubuf = this.encodeTransform(pass, dir, chunkPlan, buf, cnt)
            pass.end()
            return [{ buffer: buf, bytes: view.byteLength }]
          })
          out.set(new Uint32Array(res as ArrayBuffer), r0 * n)
        } finally {
          this.rt.release(buf)
          if (ubuf) this.rt.release(ubuf)
        }
      }),
    )
    return out
  }

  /** Elementwise a ∘ b for batches laid out as in `transform`. */
  pointwise(op: PointwiseOp, a: Uint32Array, b: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array> {
    return this.#binary(`pointwise_${op}`, 'pw', a, b, n, primes, (pass, plan, ba, bb, bo, cnt) => [
      this.encodePointwise(pass, op, plan, ba, bb, bo, cnt),
    ])
  }

  /** a·b in Z_q[X]/(X^n + 1) for every row (coefficient form in and out): NTT both, multiply, inverse NTT — one submit. */
  polyMul(a: Uint32Array, b: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array> {
    return this.#binary('polyMul', 'pm', a, b, n, primes, (pass, plan, ba, bb, bo, cnt) => [
      this.encodeTransform(pass, 'forward', plan, ba, cnt),
      this.encodeTransform(pass, 'forward', plan, bb, cnt),
      this.encodePointwise(pass, 'mul', plan, ba, bb, bo, cnt),
      this.encodeTransform(pass, 'inverse', plan, bo, cnt),
    ])
  }

  /**
   * A two-input kernel over batches laid out as in `transform`: checks the inputs, splits the batch into chunks that
   * fit the binding limit, uploads each chunk, lets `encode` record its passes (returning the uniform buffers it
   * made) into one submission, and reads the output back.
   */
  async #binary(
    name: string,
    label: string,
    a: Uint32Array,
    b: Uint32Array,
    n: number,
    primes: readonly number[],
    encode: (pass: GPUComputePassEncoder, plan: RnsPlan, ba: GPUBuffer, bb: GPUBuffer, bo: GPUBuffer, rows: number) => GPUBuffer[],
  ): Promise<Uint32Array> {
    if (a.length !== b.length) {
      throw new InvalidInput({ op: name, reason: 'length_mismatch', message: `${name}: lengths ${a.length} and ${b.length}` })
    }
    const rows = checkBatch(name, a, n, primes)
    checkBatch(name, b, n, primes)
    const plan = this.plan(n, primes)
    const out = new Uint32Array(a.length)
    await Promise.all(
      this.#chunks(rows, n, primes.length).map(async ([r0, cnt]) => {
        const va = a.subarray(r0 * n, (r0 + cnt) * n)
        const vb = b.subarray(r0 * n, (r0 + cnt) * n)
        const chunkPlan = r0 % primes.length === 0 ? plan : this.plan(n, rotate(primes, r0))
        const ba = this.rt.storage(va.byteLength, `${label}_a`, va)
        const bb = this.rt.storage(vb.byteLength, `${label}_b`, vb)
        const bo = this.rt.storage(va.byteLength, `${label}_out`)
        const ubufs: GPUBuffer[] = []
        try {
          const [res] = await this.rt.run(name, (enc) => {
            const pass = enc.beginComputePass({ label: name })
            ubufs.push(...encode(pass, chunkPlan, ba, bb, bo, cnt))
            pass.end()
            return [{ buffer: bo, bytes: va.byteLength }]
          })
          out.set(new Uint32Array(res as ArrayBuffer), r0 * n)
        } finally {
          this.rt.release(ba, bb, bo, ...ubufs)
        }
      }),
    )
    return out
  }
}

/** primes rotated so that row r0 of the batch maps to primes[0] of the rotated list. */
function rotate(primes: readonly number[], r0: number): number[] {
  const k = r0 % primes.length
  return [...primes.slice(k), ...primes.slice(0, k)]
}
