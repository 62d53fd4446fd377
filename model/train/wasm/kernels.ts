/**
 * `TrainKernels` on the AssemblyScript SIMD module (assembly/train.ts). Loaded once per process (top-level await):
 * from the cache that build.ts fills, or built from source on first use. `wasmTrainKernels` is undefined where the
 * engine has no WebAssembly SIMD or the compiler is absent and nothing is cached; training then uses the TypeScript
 * loops (kernels.ts), which are also the oracle the tests compare this module with.
 *
 * Memory: operands are copied into the module's memory from its heap base (a bump region reset by every call), the
 * kernel runs, results are copied out. Each call lays out all its buffers before creating views, so a grow never
 * invalidates a view in use.
 */
import { jsKernels, type TrainKernels } from '../kernels.ts'
import { buildTrainWasm, cachedTrainWasm } from './build.ts'

interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> }
  validate(bytes: Uint8Array): boolean
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly

interface TrainExports {
  readonly memory: WasmMemory
  heapBase(): number
  gemm(M: number, N: number, K: number, A: number, sai: number, sak: number, B: number, ldb: number, C: number, ldc: number, accumulate: number, tri: number): void
  transpose(src: number, rows: number, cols: number, ld: number, dst: number): void
  attnForward(qkv: number, probs: number, att: number, B: number, T: number, H: number, hd: number, scale: number, scratch: number): void
  attnBackward(qkv: number, probs: number, datt: number, dqkv: number, B: number, T: number, H: number, hd: number, scale: number, scratch: number): void
  geluForward(x: number, y: number, n: number): void
  geluBackward(x: number, g: number, n: number): void
}

const PAGE = 65536
/** (module (func (result v128) (v128.const i32x4 0 0 0 0))) */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11])

/** The module's raw exports plus a bump allocator over its memory (for tests and benchmarks of single kernels). */
export interface TrainWasm {
  readonly ex: TrainExports
  /** Start a new layout: every earlier pointer may be reused. */
  reset(): void
  /** Reserve n floats (16-byte aligned); returns the byte offset. Grows the memory when needed. */
  alloc(n: number): number
  /** A view of n floats at byte offset p (valid until the next alloc). */
  view(p: number, n: number): Float32Array
  /** alloc + copy in. */
  put(a: Float32Array): number
}

function instantiate(bytes: Uint8Array): TrainWasm {
  if (!wasmApi) throw new Error('no WebAssembly')
  const instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { abort: () => { throw new Error('wasm abort') } } })
  const ex = instance.exports as unknown as TrainExports
  const base = (ex.heapBase() + 15) & ~15
  let top = base
  const w: TrainWasm = {
    ex,
    reset: () => { top = base },
    alloc: (n) => {
      const p = top
      top = (top + n * 4 + 15) & ~15
      const len = ex.memory.buffer.byteLength
      if (top > len) ex.memory.grow(Math.ceil((top - len) / PAGE))
      return p
    },
    view: (p, n) => new Float32Array(ex.memory.buffer, p, n),
    put: (a) => {
      const p = w.alloc(a.length)
      new Float32Array(ex.memory.buffer, p, a.length).set(a)
      return p
    },
  }
  return w
}

async function load(): Promise<TrainWasm | undefined> {
  if (!wasmApi || !wasmApi.validate(SIMD_PROBE)) return undefined
  let bytes = cachedTrainWasm()
  if (!bytes) {
    try {
      bytes = await buildTrainWasm()
    } catch (e) {
      process.emitWarning(`model: could not build the WebAssembly training kernels (${String(e)}); training uses the TypeScript loops`)
      return undefined
    }
  }
  return instantiate(bytes)
}

/** The loaded module, or undefined (no SIMD, or no compiler and no cached build). */
export const trainWasm: TrainWasm | undefined = await load()

function kernelsOn(w: TrainWasm): TrainKernels {
  const { ex } = w
  return {
    name: 'wasm-simd',
    linear(x, rows, n, m, wt, b) {
      w.reset()
      const px = w.put(x), pw = w.put(wt), py = w.alloc(rows * m)
      const y = w.view(py, rows * m)
      for (let r = 0; r < rows; r++) y.set(b, r * m)
      ex.gemm(rows, m, n, px, n, 1, pw, m, py, m, 1, 0)
      return w.view(py, rows * m).slice()
    },
    linearBack(x, dy, rows, n, m, wt, dW, db) {
      for (let r = 0; r < rows; r++) {
        const o = r * m
        for (let j = 0; j < m; j++) db[j] += dy[o + j]
      }
      w.reset()
      const px = w.put(x), pdy = w.put(dy), pw = w.put(wt), pdW = w.put(dW), pwt = w.alloc(n * m), pdx = w.alloc(rows * n)
      ex.gemm(n, m, rows, px, 1, n, pdy, m, pdW, m, 1, 0)
      ex.transpose(pw, n, m, m, pwt)
      ex.gemm(rows, n, m, pdy, m, 1, pwt, n, pdx, n, 0, 0)
      dW.set(w.view(pdW, n * m))
      return w.view(pdx, rows * n).slice()
    },
    attention(qkv, B, T, H, hd, scale) {
      const d = H * hd
      w.reset()
      const pq = w.put(qkv), pp = w.alloc(B * H * T * T), pa = w.alloc(B * T * d), ps = w.alloc(hd * T)
      ex.attnForward(pq, pp, pa, B, T, H, hd, scale, ps)
      return { probs: w.view(pp, B * H * T * T).slice(), att: w.view(pa, B * T * d).slice() }
    },
    attentionBack(qkv, probs, datt, B, T, H, hd, scale) {
      const d = H * hd
      w.reset()
      const pq = w.put(qkv), pp = w.put(probs), pd = w.put(datt), pg = w.alloc(B * T * 3 * d), ps = w.alloc(hd * T + T * T)
      w.view(pg, B * T * 3 * d).fill(0)
      ex.attnBackward(pq, pp, pd, pg, B, T, H, hd, scale, ps)
      return w.view(pg, B * T * 3 * d).slice()
    },
    lmHead(hf, N, d, wte, V, targets, norm, dwte) {
      w.reset()
      const ph = w.put(hf), pe = w.put(wte), pet = w.alloc(d * V), pl = w.alloc(N * V), pdh = w.alloc(N * d), pdw = w.put(dwte)
      ex.transpose(pe, V, d, d, pet)
      ex.gemm(N, V, d, ph, d, 1, pet, V, pl, V, 0, 0)
      const logits = w.view(pl, N * V)
      let lossSum = 0
      for (let r = 0; r < N; r++) {
        const o = r * V
        let max = -Infinity
        for (let v = 0; v < V; v++) if (logits[o + v] > max) max = logits[o + v]
        let sum = 0
        for (let v = 0; v < V; v++) { const e = Math.exp(logits[o + v] - max); logits[o + v] = e; sum += e }
        const target = targets[r]
        lossSum -= Math.log(logits[o + target] / sum)
        const inv = 1 / (sum * norm)
        for (let v = 0; v < V; v++) logits[o + v] *= inv
        logits[o + target] -= 1 / norm
      }
      ex.gemm(N, d, V, pl, V, 1, pe, d, pdh, d, 0, 0)
      ex.gemm(V, d, N, pl, 1, V, ph, d, pdw, d, 1, 0)
      dwte.set(w.view(pdw, V * d))
      return { lossSum, dhf: w.view(pdh, N * d).slice() }
    },
    gelu(x) {
      w.reset()
      const px = w.put(x), py = w.alloc(x.length)
      ex.geluForward(px, py, x.length)
      return w.view(py, x.length).slice()
    },
    geluBack(x, g) {
      w.reset()
      const px = w.put(x), pg = w.put(g)
      ex.geluBackward(px, pg, x.length)
      g.set(w.view(pg, g.length))
    },
  }
}

/** The SIMD kernels, or undefined where they cannot run. */
export const wasmTrainKernels: TrainKernels | undefined = trainWasm ? kernelsOn(trainWasm) : undefined

/** The fastest kernels available here (`BASEDAI_TRAIN_KERNELS=js` forces the TypeScript loops). */
export const defaultTrainKernels: TrainKernels = process.env['BASEDAI_TRAIN_KERNELS'] === 'js' ? jsKernels : (wasmTrainKernels ?? jsKernels)
