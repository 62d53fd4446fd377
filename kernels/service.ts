/**
 * KernelService: the one object callers hold. It owns a `GpuRuntime` when an adapter exists and otherwise runs the
 * TypeScript references (`backend: 'reference'`, `slow: true`, announced once on the log with the fix). Every method
 * is async and takes/returns typed arrays only, so the service can live in a worker thread (a Dawn device per worker
 * works) behind a message channel.
 */
import { adapterLabel, GPU_FIX, type AdapterDescription } from './device.ts'
import { GpuRuntime } from './runtime.ts'
import { NttKernels, checkBatch, type PointwiseOp } from './ntt/gpu.ts'
import { BaseConvKernels } from './rns/gpu.ts'
import { BfvKernels, type GpuBfvKeys } from './rns/bfv-gpu.ts'
import { bfvMulRelinReference, checkBfvKeys, makeBfvMulTables, type BfvMulSpec, type BfvMulTables } from './rns/bfv.ts'
import {
  addMod,
  forwardNttUnchecked,
  inverseNttUnchecked,
  makeNttTables,
  mulMod,
  subMod,
} from './ntt/reference.ts'
import { fastBaseConvert, makeBaseConvTables } from './rns/reference.ts'
import { InvalidInput } from './errors.ts'
import { MatmulKernels, type GpuWeights, type MatmulKernel } from './matmul/gpu.ts'
import { checkWeights, matmulInt8Reference, type Int8Weights, type MatmulInput, type MatmulResult } from './matmul/reference.ts'
import { GpuKvCache } from './attention/gpu.ts'
import { AttentionReference, checkShape, type AttentionResult, type AttentionShape, type AttentionStep } from './attention/reference.ts'
import { SqueezeKernels } from './squeeze/gpu.ts'
import { squeezeReference, type SqueezeOptions, type SqueezeResult } from './squeeze/reference.ts'

/** A weight matrix resident on the device (or held by the reference path); plain data, so it crosses postMessage. */
export interface WeightsHandle {
  readonly kind: 'weights'
  readonly id: number
  readonly n: number
  readonly k: number
}

/** A KV cache resident on the device (or held by the reference path). */
export interface KvCacheHandle {
  readonly kind: 'kv-cache'
  readonly id: number
  readonly shape: AttentionShape
}

/** One level's BFV relinearization keys held by the service (resident on the device on the WebGPU path). */
export interface BfvKeysHandle {
  readonly kind: 'bfv-keys'
  readonly id: number
  readonly n: number
  readonly q: readonly number[]
}

export interface KernelServiceInit {
  /** Fall back to the TypeScript references when no adapter exists (default true); false rethrows GpuUnavailable. */
  readonly allowFallback?: boolean
  /** Skip the GPU entirely (tests, comparisons). */
  readonly forceReference?: boolean
  /** DEBUG_GPU behaviour (default from the environment). */
  readonly debug?: boolean
  readonly log?: (line: string) => void
}

/** Whether a GPU test suite should fail or skip when no adapter could be acquired. */
export function gpuSkipDecision(env: Readonly<Record<string, string | undefined>>, err: unknown): { fail: boolean; message: string } {
  const why = err instanceof Error ? err.message : String(err)
  if (env.CI === 'true') return { fail: true, message: `CI=true and no WebGPU adapter: ${why}` }
  const withFix = why.includes(GPU_FIX) ? why : `${why}. Fix: ${GPU_FIX}`
  return { fail: false, message: `GPU TESTS SKIPPED — ${withFix}` }
}

export class KernelService {
  readonly backend: 'webgpu' | 'reference'
  readonly adapter: AdapterDescription | null
  /** True on the reference path: correct but orders of magnitude slower than a GPU. */
  readonly slow: boolean
  readonly rt: GpuRuntime | undefined
  readonly #ntt: NttKernels | undefined
  readonly #conv: BaseConvKernels | undefined
  readonly #mm: MatmulKernels | undefined
  readonly #sq: SqueezeKernels | undefined
  readonly #bfv: BfvKernels | undefined
  readonly #bfvKeys = new Map<number, GpuBfvKeys | Uint32Array>()
  readonly #bfvTables = new Map<string, BfvMulTables>()
  readonly #weights = new Map<number, GpuWeights | Int8Weights>()
  readonly #caches = new Map<number, GpuKvCache | AttentionReference>()
  // Handle ids start at a random point, so a handle kept across a restart of this service (a kernel worker's fresh
  // device) names nothing instead of whatever the new service numbered the same.
  #nextId = 1 + Math.floor(Math.random() * 2 ** 40)

  private constructor(rt: GpuRuntime | undefined) {
    this.rt = rt
    this.backend = rt ? 'webgpu' : 'reference'
    this.adapter = rt ? rt.adapter : null
    this.slow = rt === undefined
    this.#ntt = rt ? new NttKernels(rt) : undefined
    this.#conv = rt ? new BaseConvKernels(rt) : undefined
    this.#mm = rt ? new MatmulKernels(rt) : undefined
    this.#sq = rt ? new SqueezeKernels(rt) : undefined
    this.#bfv = rt && this.#ntt ? new BfvKernels(rt, this.#ntt) : undefined
  }

  static async create(init: KernelServiceInit = {}): Promise<KernelService> {
    const log = init.log ?? ((line: string) => process.stderr.write(`${line}\n`))
    if (init.forceReference) return new KernelService(undefined)
    try {
      const rt = await GpuRuntime.create({ log, ...(init.debug !== undefined ? { debug: init.debug } : {}) })
      return new KernelService(rt)
    } catch (e) {
      if (init.allowFallback === false) throw e
      log(`[kernels] WARNING: ${e instanceof Error ? e.message : String(e)}`)
      log(`[kernels] falling back to the TypeScript reference path (SLOW). Fix: ${GPU_FIX}`)
      return new KernelService(undefined)
    }
  }

  /** One line naming where kernels run, for logs and benchmark results. */
  get label(): string {
    return adapterLabel(this.adapter)
  }

  /** Forward negacyclic NTT of every row (row r mod primes[r % L]); output in bit-reversed order. */
  async nttForward(data: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array> {
    if (this.#ntt) return this.#ntt.transform('forward', data, n, primes)
    return refTransform('forward', data, n, primes)
  }

  /** Inverse of `nttForward`. */
  async nttInverse(data: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array> {
    if (this.#ntt) return this.#ntt.transform('inverse', data, n, primes)
    return refTransform('inverse', data, n, primes)
  }

  /** Elementwise mul/add/sub mod the row's prime. */
  async pointwise(op: PointwiseOp, a: Uint32Array, b: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array> {
    if (this.#ntt) return this.#ntt.pointwise(op, a, b, n, primes)
    return refPointwise(op, a, b, n, primes)
  }

  /** Row-wise products in Z_q[X]/(X^n + 1), coefficient form in and out. */
  async polyMul(a: Uint32Array, b: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array> {
    if (this.#ntt) return this.#ntt.polyMul(a, b, n, primes)
    const fa = refTransform('forward', a, n, primes)
    const fb = refTransform('forward', b, n, primes)
    return refTransform('inverse', refPointwise('mul', fa, fb, n, primes), n, primes)
  }

  /** Fast RNS base conversion (B·k rows in base `from` → B·m rows in base `to`), +α·Q with 0 ≤ α < k. */
  async baseConvert(x: Uint32Array, n: number, from: readonly number[], to: readonly number[]): Promise<Uint32Array> {
    if (this.#conv) return this.#conv.convert(x, n, from, to)
    return fastBaseConvert(x, n, makeBaseConvTables(from, to))
  }

  /**
   * Uploads one level's BFV relinearization keys ([b_0 … b_{k−1}, a_0 … a_{k−1}], each its first k limbs, NTT form)
   * once; pass the handle to `bfvMulRelin`.
   */
  async uploadBfvKeys(n: number, q: readonly number[], keys: Uint32Array): Promise<BfvKeysHandle> {
    const id = this.#nextId++
    if (this.#bfv) this.#bfvKeys.set(id, this.#bfv.uploadKeys({ n, q }, keys))
    else {
      checkBfvKeys('uploadBfvKeys', { n, q }, keys)
      this.#bfvKeys.set(id, keys.slice())
    }
    return { kind: 'bfv-keys', id, n, q: [...q] }
  }

  async releaseBfvKeys(h: BfvKeysHandle): Promise<void> {
    const k = this.#bfvKeys.get(h.id)
    this.#bfvKeys.delete(h.id)
    if (k && this.#bfv && !(k instanceof Uint32Array)) this.#bfv.releaseKeys(k)
  }

  /**
   * B BFV multiply + relinearize products, resident on the device: operands B × [a0 a1 b0 b1] × k limbs (coefficient
   * form) in, B × [c0 c1] × k limbs out, one submission per batch (kernels/rns/bfv.ts has the layouts and the steps).
   */
  async bfvMulRelin(spec: BfvMulSpec, ops: Uint32Array, keys: BfvKeysHandle): Promise<Uint32Array> {
    const held = this.#bfvKeys.get(keys.id)
    if (!held) throw new InvalidInput({ op: 'bfvMulRelin', reason: 'bad_argument', message: `unknown BFV keys handle ${keys.id}` })
    if (this.#bfv && !(held instanceof Uint32Array)) return this.#bfv.mulRelin(spec, ops, held)
    if (keys.n !== spec.n || keys.q.length !== spec.q.length || keys.q.some((q, i) => q !== spec.q[i])) {
      throw new InvalidInput({ op: 'bfvMulRelin', reason: 'bad_argument', message: `keys ${keys.id} were uploaded for n = ${keys.n}, q = [${keys.q.join(', ')}]` })
    }
    const key = `${spec.n}:${spec.q.join(',')}:${spec.p.join(',')}:${spec.t}`
    let tb = this.#bfvTables.get(key)
    if (!tb) {
      tb = makeBfvMulTables(spec)
      this.#bfvTables.set(key, tb)
    }
    return bfvMulRelinReference(tb, ops, held as Uint32Array)
  }

  /** Submissions made by `bfvMulRelin` on the device so far (0 on the reference path). */
  get bfvSubmissions(): number {
    return this.#bfv?.submissions ?? 0
  }

  /** Uploads int8 weights (N×K, per-channel scales, optional bias) once; use the handle in `matmulInt8`. */
  async uploadWeights(w: Int8Weights): Promise<WeightsHandle> {
    checkWeights('uploadWeights', w)
    const id = this.#nextId++
    this.#weights.set(id, this.#mm ? this.#mm.upload(w) : { ...w })
    return { kind: 'weights', id, n: w.n, k: w.k }
  }

  async releaseWeights(h: WeightsHandle): Promise<void> {
    const w = this.#weights.get(h.id)
    this.#weights.delete(h.id)
    if (w && this.#mm && 'destroyed' in w) this.#mm.release(w)
  }

  /** int8 product y = A·Wᵀ with exact int32 accumulators and dequantized f32 outputs. */
  async matmulInt8(x: MatmulInput, weights: WeightsHandle | Int8Weights, kernel: MatmulKernel = 'auto'): Promise<MatmulResult> {
    if ('kind' in weights) {
      const w = this.#weights.get(weights.id)
      if (!w) throw new InvalidInput({ op: 'matmulInt8', reason: 'bad_argument', message: `unknown weights handle ${weights.id}` })
      if (this.#mm && 'destroyed' in w) return this.#mm.run(x, w, kernel)
      return matmulInt8Reference(x, w as Int8Weights)
    }
    if (!this.#mm) return matmulInt8Reference(x, weights)
    const gw = this.#mm.upload(weights)
    try {
      return await this.#mm.run(x, gw, kernel)
    } finally {
      this.#mm.release(gw)
    }
  }

  /** A KV cache of `capacity` tokens for `heads` heads of `headDim`. */
  async createKvCache(shape: AttentionShape): Promise<KvCacheHandle> {
    checkShape(shape)
    const id = this.#nextId++
    this.#caches.set(id, this.rt ? new GpuKvCache(this.rt, shape) : new AttentionReference(shape))
    return { kind: 'kv-cache', id, shape: { ...shape } }
  }

  #cache(h: KvCacheHandle): GpuKvCache | AttentionReference {
    const c = this.#caches.get(h.id)
    if (!c) throw new InvalidInput({ op: 'attention', reason: 'bad_argument', message: `unknown KV cache handle ${h.id}` })
    return c
  }

  /** Appends the step's keys/values to the cache and attends the new queries over it (causal, head mask). */
  async attentionStep(h: KvCacheHandle, step: AttentionStep): Promise<AttentionResult> {
    return this.#cache(h).step(step)
  }

  /** Tokens currently in the cache. */
  async kvCacheLength(h: KvCacheHandle): Promise<number> {
    return this.#cache(h).length
  }

  /** Keeps the first `length` tokens (rollback). */
  async truncateKvCache(h: KvCacheHandle, length: number): Promise<void> {
    this.#cache(h).truncate(length)
  }

  async resetKvCache(h: KvCacheHandle): Promise<void> {
    this.#cache(h).reset()
  }

  async releaseKvCache(h: KvCacheHandle): Promise<void> {
    const c = this.#caches.get(h.id)
    this.#caches.delete(h.id)
    if (c instanceof GpuKvCache) c.destroy()
  }

  /** Cerberus squeeze (§5.1) of an N×M input: per-sample σ, adaptive scale, L-level quantization. */
  async squeeze(x: Float32Array, rows: number, cols: number, opts: SqueezeOptions = {}): Promise<SqueezeResult> {
    if (this.#sq) return this.#sq.run(x, rows, cols, opts)
    return squeezeReference(x, rows, cols, opts)
  }

  destroy(): void {
    for (const c of this.#caches.values()) if (c instanceof GpuKvCache) c.destroy()
    this.#caches.clear()
    this.#weights.clear()
    for (const k of this.#bfvKeys.values()) if (this.#bfv && !(k instanceof Uint32Array)) this.#bfv.releaseKeys(k)
    this.#bfvKeys.clear()
    this.rt?.destroy()
  }
}

function refTransform(dir: 'forward' | 'inverse', data: Uint32Array, n: number, primes: readonly number[]): Uint32Array {
  const rows = checkBatch(dir === 'forward' ? 'nttForward' : 'nttInverse', data, n, primes)
  const out = data.slice()
  for (let r = 0; r < rows; r++) {
    const t = makeNttTables(n, primes[r % primes.length] as number)
    if (dir === 'forward') forwardNttUnchecked(out, r * n, t)
    else inverseNttUnchecked(out, r * n, t)
  }
  return out
}

function refPointwise(op: PointwiseOp, a: Uint32Array, b: Uint32Array, n: number, primes: readonly number[]): Uint32Array {
  if (a.length !== b.length) {
    throw new InvalidInput({ op: `pointwise_${op}`, reason: 'length_mismatch', message: `lengths ${a.length} and ${b.length}` })
  }
  const rows = checkBatch(`pointwise_${op}`, a, n, primes)
  checkBatch(`pointwise_${op}`, b, n, primes)
  const f = op === 'mul' ? mulMod : op === 'add' ? addMod : subMod
  const out = new Uint32Array(a.length)
  for (let r = 0; r < rows; r++) {
    const q = primes[r % primes.length] as number
    for (let i = r * n; i < (r + 1) * n; i++) out[i] = f(a[i] as number, b[i] as number, q)
  }
  return out
}
