/**
 * WebGPU host of the device-resident BFV multiply + relinearize (bfv.wgsl + ntt.wgsl): a batch of B ciphertext pairs
 * is uploaded once, and one compute pass records every step — lift (exact, Q → Q ∪ P), forward NTT, tensor, inverse
 * NTT, scale-and-round into P and exactly back to Q, relinearization digits, their forward NTT, the key products,
 * inverse NTT, the final additions — then one submission and one read-back of the B results. Nothing returns to the
 * host in between. Relinearization keys are uploaded once and stay on the device (`uploadKeys`). Batches larger than
 * the storage-binding limit are split into chunks of whole pairs, one submission each.
 */
import { InvalidInput } from '../errors.ts'
import type { NttKernels, RnsPlan } from '../ntt/gpu.ts'
import { STORAGE, type GpuRuntime } from '../runtime.ts'
import { loadWgsl } from '../wgsl.ts'
import { checkBfvKeys, checkBfvOperands, makeBfvMulTables, montgomeryTriples, type BfvMulSpec, type BfvMulTables } from './bfv.ts'

interface BfvPlan {
  readonly tb: BfvMulTables
  readonly tab: GPUBuffer
  /** o_mont, o_up, o_sc, o_down, o_one. */
  readonly offsets: readonly [number, number, number, number, number]
  readonly qpPlan: RnsPlan
  readonly qPlan: RnsPlan
}

/** Relinearization keys of one level resident on the device. */
export interface GpuBfvKeys {
  readonly n: number
  readonly q: readonly number[]
  readonly buf: GPUBuffer
}

function concat(parts: ReadonlyArray<ArrayLike<number>>): { words: Uint32Array; starts: number[] } {
  const total = parts.reduce((s, p) => s + p.length, 0)
  const words = new Uint32Array(total)
  const starts: number[] = []
  let o = 0
  for (const p of parts) {
    starts.push(o)
    words.set(p, o)
    o += p.length
  }
  return { words, starts }
}

/** Level shapes whose tables stay on the device (a process uses a handful: one per level of each parameter set). */
const MAX_PLANS = 16

export class BfvKernels {
  readonly rt: GpuRuntime
  readonly ntt: NttKernels
  readonly wg = 64
  readonly #plans = new Map<string, BfvPlan>()
  readonly #code: string
  /** Submissions made by `mulRelin` (one per chunk of pairs). */
  submissions = 0

  constructor(rt: GpuRuntime, ntt: NttKernels) {
    this.rt = rt
    this.ntt = ntt
    this.#code = loadWgsl(import.meta.url, './bfv.wgsl')
  }

  plan(spec: BfvMulSpec): BfvPlan {
    const key = `${spec.n}:${spec.q.join(',')}:${spec.p.join(',')}:${spec.t}`
    const hit = this.#plans.get(key)
    if (hit) {
      // most recently used last (the eviction below drops the least recently used)
      this.#plans.delete(key)
      this.#plans.set(key, hit)
      return hit
    }
    const tb = makeBfvMulTables(spec)
    const { q, p } = tb.spec
    const block = (c: BfvMulTables['up']) => concat([c.qhatInv, c.qhatInvShoup, c.qhatMod, c.qhatModShoup, c.prodMod, c.prodModShoup, c.invFix]).words
    const oneP = Uint32Array.from(p, (pj) => Math.floor(2 ** 32 / pj))
    const sc = concat([tb.yInv, tb.yInvShoup, tb.omega, tb.omegaShoup, tb.tQinv, tb.tQinvShoup, tb.two32, tb.two32Shoup, oneP, tb.thetaFix]).words
    const oneQ = Uint32Array.from(q, (qi) => Math.floor(2 ** 32 / qi))
    const { words, starts } = concat([montgomeryTriples([...q, ...p]), block(tb.up), sc, block(tb.down), oneQ])
    // the NTT plans first: they refuse an unsupported n before any buffer exists
    const qpPlan = this.ntt.plan(spec.n, [...q, ...p])
    const qPlan = this.ntt.plan(spec.n, q)
    const tab = this.rt.device.createBuffer({ label: `bfv_tables_${key}`, size: words.byteLength, usage: STORAGE })
    this.rt.device.queue.writeBuffer(tab, 0, words)
    const plan: BfvPlan = { tb, tab, offsets: starts as unknown as BfvPlan['offsets'], qpPlan, qPlan }
    this.#plans.set(key, plan)
    // a bounded cache: shapes come from callers (p and t too), so tables of shapes no longer used are freed
    while (this.#plans.size > MAX_PLANS) {
      const [oldest, old] = this.#plans.entries().next().value as [string, BfvPlan]
      this.#plans.delete(oldest)
      old.tab.destroy()
    }
    return plan
  }

  /** Uploads one level's relinearization keys ([b_0 … b_{k−1}, a_0 … a_{k−1}] × k limbs, NTT form). */
  uploadKeys(spec: { readonly n: number; readonly q: readonly number[] }, keys: Uint32Array): GpuBfvKeys {
    checkBfvKeys('uploadBfvKeys', spec, keys)
    const buf = this.rt.device.createBuffer({ label: 'bfv_relin_keys', size: keys.byteLength, usage: STORAGE })
    this.rt.device.queue.writeBuffer(buf, 0, keys)
    return { n: spec.n, q: [...spec.q], buf }
  }

  releaseKeys(keys: GpuBfvKeys): void {
    keys.buf.destroy()
  }

  /** B multiply + relinearize products (layouts in kernels/rns/bfv.ts), bit-identical to `bfvMulRelinReference`. */
  async mulRelin(spec: BfvMulSpec, ops: Uint32Array, keys: GpuBfvKeys): Promise<Uint32Array> {
    const plan = this.plan(spec)
    const B = checkBfvOperands('bfvMulRelin', plan.tb.spec, ops)
    const { n, q } = plan.tb.spec
    const k = q.length
    const L = k + plan.tb.spec.p.length
    if (keys.n !== n || keys.q.length !== k || keys.q.some((x, i) => x !== q[i])) {
      throw new InvalidInput({ op: 'bfvMulRelin', reason: 'bad_argument', message: 'relinearization keys are for another level or ring' })
    }
    const maxBinding = Math.min(this.rt.limits.maxStorageBufferBindingSize, this.rt.limits.maxBufferSize)
    const perPair = Math.max(4 * L, k * k) * n * 4
    if (perPair > maxBinding) throw new InvalidInput({ op: 'bfvMulRelin', reason: 'bad_argument', message: 'one pair exceeds the binding limit' })
    const step = Math.max(1, Math.floor(maxBinding / perPair))
    const out = new Uint32Array(B * 2 * k * n)
    for (let b0 = 0; b0 < B; b0 += step) {
      const cnt = Math.min(step, B - b0)
      const chunk = ops.subarray(b0 * 4 * k * n, (b0 + cnt) * 4 * k * n)
      out.set(await this.#chunk(plan, chunk, cnt, keys), b0 * 2 * k * n)
    }
    return out
  }

  /**
   * One stage alone, for tests of its exactness on chosen inputs: 'lift' maps B × k limbs (base Q) to B × (k + K)
   * (Q limbs copied, P limbs the centred representative's residues); 'scale' maps B × (k + K) limbs (x over Q ∪ P) to
   * B × k limbs: the centred representative of round(t·x/Q) mod P, over Q.
   */
  async stage(entry: 'lift' | 'scale', spec: BfvMulSpec, data: Uint32Array): Promise<Uint32Array> {
    const plan = this.plan(spec)
    const { n, q, p } = plan.tb.spec
    const k = q.length
    const L = k + p.length
    const inL = entry === 'lift' ? k : L
    const outL = entry === 'lift' ? L : k
    if (data.length === 0 || data.length % (inL * n) !== 0) {
      throw new InvalidInput({ op: `bfv ${entry}`, reason: 'length_mismatch', message: `${data.length} words is not B × ${inL} limbs × ${n}` })
    }
    const B = data.length / (inL * n)
    const src = this.rt.storage(data.byteLength, 'bfv_stage_in', data)
    const dst = this.rt.storage(B * outL * n * 4, 'bfv_stage_out')
    try {
      const [res] = await this.rt.run(`bfv_${entry}`, (enc) => {
        const pass = enc.beginComputePass({ label: `bfv_${entry}` })
        this.#dispatch(pass, plan, entry, B * n, src, B * inL * n, dst, B * outL * n)
        pass.end()
        return [{ buffer: dst, bytes: B * outL * n * 4 }]
      })
      return new Uint32Array(res as ArrayBuffer)
    } finally {
      this.rt.release(src, dst, ...this.#pending.splice(0))
    }
  }

  readonly #pending: GPUBuffer[] = []

  /** Records one bfv.wgsl entry point; its uniform buffer is queued on #pending for release after the submission. */
  #dispatch(
    pass: GPUComputePassEncoder, plan: BfvPlan, entry: string, count: number,
    src: GPUBuffer, srcWords: number, dst: GPUBuffer, dstWords: number, aux?: readonly [GPUBuffer, number],
  ): void {
    const rt = this.rt
    const { n, q, p } = plan.tb.spec
    const [oMont, oUp, oSc, oDown, oOne] = plan.offsets
    const shape = { KQ: q.length, KP: p.length, WQ: plan.tb.up.words, WP: plan.tb.down.words }
    const pipe = rt.pipeline({
      key: `bfv_${entry}_wg${this.wg}_k${shape.KQ}_p${shape.KP}_w${shape.WQ}.${shape.WP}`,
      code: this.#code,
      entryPoint: entry,
      constants: { WG: this.wg, ...shape },
    })
    const g = rt.grid(Math.ceil(count / this.wg))
    const ubuf = rt.uniforms([[n, q.length, p.length, count, g.x, plan.tb.up.words, plan.tb.down.words, oMont, oUp, oSc, oDown, oOne, 0, 0, 0, 0]], 'bfv_params')
    this.#pending.push(ubuf)
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: src, size: srcWords * 4 } },
      { binding: 1, resource: { buffer: dst, size: dstWords * 4 } },
      { binding: 2, resource: { buffer: plan.tab } },
      { binding: 3, resource: { buffer: ubuf, size: 64 } },
    ]
    if (aux) entries.push({ binding: 4, resource: { buffer: aux[0], size: aux[1] * 4 } })
    const bg = rt.device.createBindGroup({ label: `bfv_${entry}_bind`, layout: pipe.getBindGroupLayout(0), entries })
    rt.dispatch(pass, pipe, bg, g)
  }

  async #chunk(plan: BfvPlan, ops: Uint32Array, B: number, keys: GpuBfvKeys): Promise<Uint32Array> {
    const rt = this.rt
    const { n, q, p } = plan.tb.spec
    const k = q.length
    const K = p.length
    const L = k + K
    const words = (x: number) => x * n * 4
    const bOps = rt.storage(ops.byteLength, 'bfv_ops', ops)
    const bLift = rt.storage(words(B * 4 * L), 'bfv_lifted')
    const bTen = rt.storage(words(B * 3 * L), 'bfv_tensor')
    const bSc = rt.storage(words(B * 3 * k), 'bfv_scaled')
    const bDig = rt.storage(words(B * k * k), 'bfv_digits')
    const bAcc = rt.storage(words(B * 2 * k), 'bfv_acc')
    const outBytes = words(B * 2 * k)
    const bOut = rt.storage(outBytes, 'bfv_out')
    const ubufs: GPUBuffer[] = []
    const dispatch = (pass: GPUComputePassEncoder, entry: string, count: number, src: GPUBuffer, srcWords: number, dst: GPUBuffer, dstWords: number, aux?: readonly [GPUBuffer, number]) => {
      this.#dispatch(pass, plan, entry, count, src, srcWords, dst, dstWords, aux)
      ubufs.push(...this.#pending.splice(0))
    }
    try {
      const [res] = await rt.run('bfvMulRelin', (enc) => {
        const pass = enc.beginComputePass({ label: 'bfvMulRelin' })
        dispatch(pass, 'lift', B * 4 * n, bOps, B * 4 * k * n, bLift, B * 4 * L * n)
        ubufs.push(this.ntt.encodeTransform(pass, 'forward', plan.qpPlan, bLift, B * 4 * L))
        dispatch(pass, 'tensor', B * L * n, bLift, B * 4 * L * n, bTen, B * 3 * L * n)
        ubufs.push(this.ntt.encodeTransform(pass, 'inverse', plan.qpPlan, bTen, B * 3 * L))
        dispatch(pass, 'scale', B * 3 * n, bTen, B * 3 * L * n, bSc, B * 3 * k * n)
        dispatch(pass, 'digits', B * k * k * n, bSc, B * 3 * k * n, bDig, B * k * k * n)
        ubufs.push(this.ntt.encodeTransform(pass, 'forward', plan.qPlan, bDig, B * k * k))
        dispatch(pass, 'keymul', B * k * n, bDig, B * k * k * n, bAcc, B * 2 * k * n, [keys.buf, 2 * k * k * n])
        ubufs.push(this.ntt.encodeTransform(pass, 'inverse', plan.qPlan, bAcc, B * 2 * k))
        dispatch(pass, 'finish', B * 2 * k * n, bAcc, B * 2 * k * n, bOut, B * 2 * k * n, [bSc, B * 3 * k * n])
        pass.end()
        return [{ buffer: bOut, bytes: outBytes }]
      })
      this.submissions += 1
      return new Uint32Array(res as ArrayBuffer)
    } finally {
      rt.release(bOps, bLift, bTen, bSc, bDig, bAcc, bOut, ...ubufs)
    }
  }
}
