/**
 * WebGPU host for quantized causal attention with a resident KV cache (attention.wgsl). A step appends the new keys
 * and values with queue writes (the cache is token-major, so T new tokens are one contiguous write per tensor),
 * then dispatches the scores kernel and the softmax·V kernel over (active head × new token) workgroups only —
 * pruned heads launch nothing — and reads back outputs and per-head workgroup counts (plus scores and probabilities
 * unless `withScores: false`) in one submission.
 */
import { loadWgsl } from '../wgsl.ts'
import { InvalidInput } from '../errors.ts'
import { STORAGE, type GpuRuntime, type ReadRequest } from '../runtime.ts'
import { packInt8Rows } from '../matmul/reference.ts'
import { checkShape, checkStep, type AttentionResult, type AttentionShape, type AttentionStep } from './reference.ts'

export interface GpuAttentionResult extends AttentionResult {
  /** `work`: workgroups each head executed in this step (2 kernels × T for an active head, 0 for a pruned one). */
  /** Workgroups launched in total (the grids' sizes): 2·T·(active heads), rounded up to the grid. */
  readonly launched: number
}

export class GpuKvCache {
  readonly shape: AttentionShape
  readonly rt: GpuRuntime
  length = 0
  readonly d4: number
  readonly #kv: GPUBuffer
  readonly #kvs: GPUBuffer
  readonly #layout: GPUBindGroupLayout
  readonly #pipelineLayout: GPUPipelineLayout
  readonly #code: string
  #destroyed = false

  constructor(rt: GpuRuntime, shape: AttentionShape) {
    checkShape(shape)
    this.rt = rt
    this.shape = shape
    const { heads: H, headDim: D, capacity: C } = shape
    this.d4 = Math.ceil(D / 4)
    const d = rt.device
    this.#kv = d.createBuffer({ label: 'kv_cache', size: C * H * 2 * this.d4 * 4, usage: STORAGE })
    this.#kvs = d.createBuffer({ label: 'kv_scales', size: C * H * 2 * 4, usage: STORAGE })
    const C_ = 0x4 // GPUShaderStage.COMPUTE
    const kinds: GPUBufferBindingType[] = ['read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage', 'uniform']
    this.#layout = d.createBindGroupLayout({
      label: 'attention_layout',
      entries: kinds.map((type, binding): GPUBindGroupLayoutEntry => ({ binding, visibility: C_, buffer: { type } })),
    })
    this.#pipelineLayout = d.createPipelineLayout({ label: 'attention_pipeline_layout', bindGroupLayouts: [this.#layout] })
    this.#code = loadWgsl(import.meta.url, './attention.wgsl')
  }

  reset(): void {
    this.length = 0
  }

  /** Drops tokens past `length` (0 ≤ length ≤ current length), e.g. to roll back a speculative step. */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.length) {
      throw new InvalidInput({ op: 'attention', reason: 'bad_argument', message: `truncate to ${length}: cache holds ${this.length}` })
    }
    this.length = length
  }

  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#kv.destroy()
    this.#kvs.destroy()
  }

  async step(st: AttentionStep): Promise<GpuAttentionResult> {
    const active = checkStep(this.shape, this.length, st)
    const { heads: H, headDim: D } = this.shape
    const T = st.tokens
    const d4 = this.d4
    const rt = this.rt
    const q = rt.device.queue
    const len0 = this.length
    // Interleave per (token, head): D4 key words then D4 value words; scales as (k, v) pairs.
    const pk = packInt8Rows(st.k, T * H, D)
    const pv = packInt8Rows(st.v, T * H, D)
    const kvWords = new Uint32Array(T * H * 2 * d4)
    const kvScales = new Float32Array(T * H * 2)
    for (let r = 0; r < T * H; r++) {
      kvWords.set(pk.subarray(r * d4, (r + 1) * d4), r * 2 * d4)
      kvWords.set(pv.subarray(r * d4, (r + 1) * d4), r * 2 * d4 + d4)
      kvScales[2 * r] = st.kScale[r] as number
      kvScales[2 * r + 1] = st.vScale[r] as number
    }
    q.writeBuffer(this.#kv, len0 * H * 2 * d4 * 4, kvWords)
    q.writeBuffer(this.#kvs, len0 * H * 2 * 4, kvScales)
    this.length += T
    const S = this.length
    const A = active.length
    const pq = packInt8Rows(st.q, T * H, D)
    const bq = rt.storage(pq.byteLength, 'attn_q', pq)
    const bqs = rt.storage(st.qScale.byteLength, 'attn_qs', st.qScale)
    const heads = Uint32Array.from(active.length > 0 ? active : [0])
    const bh = rt.storage(heads.byteLength, 'attn_heads', heads)
    const sBytes = Math.max(4, A * T * S * 4)
    const bsp = rt.storage(2 * sBytes, 'attn_scores_probs')
    const outBytes = T * H * D * 4
    const bo = rt.storage(outBytes, 'attn_out')
    const bw = rt.storage(H * 4, 'attn_work')
    const g = rt.grid(A * T)
    const params = new Uint32Array([H, D, d4, T, len0, S, A, g.x, 0, 0, 0, 0])
    new Float32Array(params.buffer).set([1 / Math.sqrt(D)], 8)
    const ub = rt.uniforms([params], 'attn_params')
    const scoresPipe = rt.pipeline({ key: 'attn_scores_wg64', code: this.#code, entryPoint: 'attn_scores', layout: this.#pipelineLayout })
    const softPipe = rt.pipeline({ key: 'attn_softmax_v_wg64', code: this.#code, entryPoint: 'attn_softmax_v', layout: this.#pipelineLayout })
    const bg = rt.device.createBindGroup({
      label: 'attention_bind',
      layout: this.#layout,
      entries: [
        { binding: 0, resource: { buffer: bq, size: pq.byteLength } },
        { binding: 1, resource: { buffer: bqs, size: st.qScale.byteLength } },
        { binding: 2, resource: { buffer: this.#kv } },
        { binding: 3, resource: { buffer: this.#kvs } },
        { binding: 4, resource: { buffer: bh, size: heads.byteLength } },
        { binding: 5, resource: { buffer: bsp, size: 2 * sBytes } },
        { binding: 6, resource: { buffer: bo, size: outBytes } },
        { binding: 7, resource: { buffer: bw, size: H * 4 } },
        { binding: 8, resource: { buffer: ub, size: 48 } },
      ],
    })
    try {
      const withScores = st.withScores !== false
      const [out, work, scores, probs] = await rt.run('attention', (enc) => {
        enc.clearBuffer(bo, 0, outBytes)
        enc.clearBuffer(bw, 0, H * 4)
        const pass = enc.beginComputePass({ label: 'attention' })
        rt.dispatch(pass, scoresPipe, bg, g)
        rt.dispatch(pass, softPipe, bg, g)
        pass.end()
        const reads: ReadRequest[] = [
          { buffer: bo, bytes: outBytes },
          { buffer: bw, bytes: H * 4 },
        ]
        if (withScores) {
          reads.push({ buffer: bsp, bytes: A * T * S * 4 }, { buffer: bsp, bytes: A * T * S * 4, offset: A * T * S * 4 })
        }
        return reads
      })
      return {
        out: new Float32Array(out as ArrayBuffer),
        scores: scores ? new Int32Array(scores) : new Int32Array(0),
        probs: probs ? new Float32Array(probs) : new Float32Array(0),
        work: new Uint32Array(work as ArrayBuffer),
        activeHeads: active,
        keys: S,
        launched: 2 * g.launched,
      }
    } finally {
      rt.release(bq, bqs, bh, bsp, bo, bw, ub)
    }
  }
}
