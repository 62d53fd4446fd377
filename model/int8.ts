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

/** A `LinearFn` computing every dense product in int8 (weights quantized lazily and cached per tensor). */
export function int8Linear(): LinearFn {
  const cache = new WeakMap<Float32Array, Int8Matrix>()
  return (x, rows, inDim, outDim, w, b) => {
    let m = cache.get(w)
    if (m === undefined || m.inDim !== inDim || m.outDim !== outDim) {
      m = quantizeWeightInt8(w, inDim, outDim)
      cache.set(w, m)
    }
    const y = new Float32Array(rows * outDim)
    const qa = new Int8Array(inDim)
    for (let r = 0; r < rows; r++) {
      const xo = r * inDim
      let max = 0
      for (let k = 0; k < inDim; k++) max = Math.max(max, Math.abs(x[xo + k]))
      const as = max === 0 ? 1 : max / 127
      for (let k = 0; k < inDim; k++) qa[k] = Math.round(x[xo + k] / as)
      for (let j = 0; j < outDim; j++) {
        const wo = j * inDim
        let acc = 0
        for (let k = 0; k < inDim; k++) acc += qa[k] * m.q[wo + k]
        y[r * outDim + j] = acc * as * m.scale[j] + b[j]
      }
    }
    return y
  }
}
