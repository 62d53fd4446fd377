/**
 * An int8 `LinearFn` on the CPU: the reference for the int8 kernel path.
 *
 * Weights are quantized once per tensor, symmetric per output channel (scale = max|w|/127, stored transposed as
 * [out, in] int8 rows); activations per row at call time (scale = max|x|/127). The product accumulates exactly in
 * integers, then y = acc · aScale · wScale + b. This is the same contract as basedai/kernels' int8 matmul
 * (A: M×K int8 with per-row scales, W: N×K int8 with per-channel scales), so the WGSL kernel can replace
 * `int8Linear()` behind the same `LinearFn` hook without touching the model.
 */
import type { LinearFn } from './forward.ts'
import { InvalidOption } from './errors.ts'
import { dynamicQuantize, type QuantizeOptions } from './squeeze.ts'

export interface Int8Matrix {
  /** [outDim, inDim] row-major int8. */
  readonly q: Int8Array
  /** Per output channel. */
  readonly scale: Float32Array
  readonly inDim: number
  readonly outDim: number
}

/** Symmetric per-output-channel int8 quantization of a Conv1D-layout weight w [inDim, outDim]. */
export function quantizeWeightInt8(w: Float32Array, inDim: number, outDim: number): Int8Matrix {
  const q = new Int8Array(inDim * outDim)
  const scale = new Float32Array(outDim)
  for (let j = 0; j < outDim; j++) {
    let max = 0
    for (let k = 0; k < inDim; k++) max = Math.max(max, Math.abs(w[k * outDim + j]))
    const s = max === 0 ? 1 : max / 127
    scale[j] = s
    for (let k = 0; k < inDim; k++) q[j * inDim + k] = Math.round(w[k * outDim + j] / s)
  }
  return { q, scale, inDim, outDim }
}

/**
 * How activations become int8 before a product (and before encryption, on the encrypted path):
 * - 'absmax': per row, symmetric: x ≈ step·q with step = max|x|/127.
 * - §5.1 dynamic quantization (`QuantizeOptions`, levels must be 256): per row, the whitepaper's σ-adaptive scale
 *   S and L = 256 levels, x ≈ (min + Q·c)/S with c ∈ 0…255; shifted to int8 as q = c − 128, so
 *   x ≈ offset + step·q with offset = (min + 128·Q)/S and step = Q/S. The offset is folded back after the integer
 *   product using the public weights' row sums, so the encrypted product is still one int8 × int8 accumulation.
 */
export type ActivationQuant = 'absmax' | QuantizeOptions

export interface QuantizedRows {
  readonly q: Int8Array
  /** Per row; null for 'absmax' (no offset). */
  readonly offset: Float64Array | null
  readonly step: Float64Array
  readonly rows: number
  readonly cols: number
}

export function quantizeRowsInt8(x: ArrayLike<number>, rows: number, cols: number, mode: ActivationQuant = 'absmax'): QuantizedRows {
  const q = new Int8Array(rows * cols)
  const step = new Float64Array(rows)
  if (mode === 'absmax') {
    for (let r = 0; r < rows; r++) {
      const xo = r * cols
      let max = 0
      for (let k = 0; k < cols; k++) max = Math.max(max, Math.abs(x[xo + k] as number))
      const as = max === 0 ? 1 : max / 127
      step[r] = as
      for (let k = 0; k < cols; k++) q[xo + k] = Math.round((x[xo + k] as number) / as)
    }
    return { q, offset: null, step, rows, cols }
  }
  if (mode.levels !== 256) throw new InvalidOption({ option: 'levels', reason: `int8 activations need L = 256 levels, got ${mode.levels}` })
  const d = dynamicQuantize(x, rows, cols, mode)
  const offset = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    const S = d.scale[r] as number
    offset[r] = ((d.min[r] as number) + 128 * (d.step[r] as number)) / S
    step[r] = (d.step[r] as number) / S
    for (let k = 0; k < cols; k++) q[r * cols + k] = (d.codes[r * cols + k] as number) - 128
  }
  return { q, offset, step, rows, cols }
}

const rowSumCache = new WeakMap<Int8Array, Int32Array>()
/** Σ_k W[j][k] of each output row of the int8 weights (public: the client folds activation offsets with it). */
export function weightRowSums(m: Int8Matrix): Int32Array {
  let s = rowSumCache.get(m.q)
  if (!s) {
    s = new Int32Array(m.outDim)
    for (let j = 0; j < m.outDim; j++) {
      let acc = 0
      for (let k = 0; k < m.inDim; k++) acc += m.q[j * m.inDim + k] as number
      s[j] = acc
    }
    rowSumCache.set(m.q, s)
  }
  return s
}

/** y = the float product from exact int32 accumulators acc [rows, outDim]: the one rescaling every int8 path uses. */
export function rescaleInt8(acc: ArrayLike<number>, a: QuantizedRows, m: Int8Matrix, b: Float32Array): Float32Array {
  const outDim = m.outDim
  const y = new Float32Array(a.rows * outDim)
  const sums = a.offset ? weightRowSums(m) : null
  for (let r = 0; r < a.rows; r++) {
    const as = a.step[r] as number
    const off = a.offset ? (a.offset[r] as number) : 0
    for (let j = 0; j < outDim; j++) {
      const v = acc[r * outDim + j] as number
      y[r * outDim + j] = sums ? (off * (sums[j] as number) + as * v) * (m.scale[j] as number) + (b[j] as number) : v * as * (m.scale[j] as number) + (b[j] as number)
    }
  }
  return y
}

/**
 * A `LinearFn` computing every dense product in int8 (weights quantized lazily and cached per tensor; activations
 * per row by `mode`, default 'absmax'). The plaintext twin of the encrypted path: same quantization, same exact
 * integer accumulation, same rescaling (`rescaleInt8`), so the two agree bit for bit.
 */
export function int8Linear(mode: ActivationQuant = 'absmax'): LinearFn {
  const cache = new WeakMap<Float32Array, Int8Matrix>()
  return (x, rows, inDim, outDim, w, b) => {
    let m = cache.get(w)
    if (m === undefined || m.inDim !== inDim || m.outDim !== outDim) {
      m = quantizeWeightInt8(w, inDim, outDim)
      cache.set(w, m)
    }
    const a = quantizeRowsInt8(x, rows, inDim, mode)
    const acc = new Int32Array(rows * outDim)
    for (let r = 0; r < rows; r++) {
      const xo = r * inDim
      for (let j = 0; j < outDim; j++) {
        const wo = j * inDim
        let s = 0
        for (let k = 0; k < inDim; k++) s += (a.q[xo + k] as number) * (m.q[wo + k] as number)
        acc[r * outDim + j] = s
      }
    }
    return rescaleInt8(acc, a, m, b)
  }
}
