/**
 * int8 matrix product, plain TypeScript reference, and symmetric int8 quantization helpers.
 *
 * Shapes: activations A (M×K, int8, row-major) with one f32 scale per row `aScale[m]`; weights W (N×K, int8, one row
 * per output channel) with one f32 scale per channel `wScale[n]`; optional f32 `bias[n]`.
 *   acc[m][n] = Σ_k A[m][k]·W[n][k]                      (int32, exact: |acc| ≤ 127·128·K < 2^31 for K ≤ 131072)
 *   y[m][n]   = f32(f32(f32(acc)·aScale[m])·wScale[n]) + bias[n]   (f32 rounding at each step, as the GPU does)
 */
import { InvalidInput } from '../errors.ts'

/** acc = 128·128·K must stay below 2^31. */
export const MAX_K = 131072

export interface MatmulInput {
  readonly a: Int8Array
  readonly aScale: Float32Array
  readonly m: number
  readonly k: number
}

export interface Int8Weights {
  readonly w: Int8Array
  readonly wScale: Float32Array
  readonly n: number
  readonly k: number
  readonly bias?: Float32Array
}

export interface MatmulResult {
  /** M×N int32 accumulators (exact). */
  readonly acc: Int32Array
  /** M×N dequantized outputs. */
  readonly y: Float32Array
}

function bad(op: string, message: string): InvalidInput {
  return new InvalidInput({ op, reason: 'bad_shape', message: `${op}: ${message}` })
}

export function checkMatmul(op: string, x: MatmulInput, wt: Int8Weights): void {
  const { m, k } = x
  if (!Number.isInteger(m) || m < 1 || !Number.isInteger(k) || k < 1) throw bad(op, `bad dims m=${m} k=${k}`)
  if (k !== wt.k) throw bad(op, `activation K = ${k} but weight K = ${wt.k}`)
  if (k > MAX_K) throw new InvalidInput({ op, reason: 'too_large', message: `${op}: K = ${k} > ${MAX_K} could overflow int32` })
  if (x.a.length !== m * k) throw bad(op, `a has ${x.a.length} values, expected ${m}×${k}`)
  if (x.aScale.length !== m) throw bad(op, `aScale has ${x.aScale.length} values, expected ${m}`)
  checkWeights(op, wt)
}

export function checkWeights(op: string, wt: Int8Weights): void {
  const { n, k } = wt
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(k) || k < 1) throw bad(op, `bad dims n=${n} k=${k}`)
  if (wt.w.length !== n * k) throw bad(op, `w has ${wt.w.length} values, expected ${n}×${k}`)
  if (wt.wScale.length !== n) throw bad(op, `wScale has ${wt.wScale.length} values, expected ${n}`)
  if (wt.bias && wt.bias.length !== n) throw bad(op, `bias has ${wt.bias.length} values, expected ${n}`)
}

export function matmulInt8Reference(x: MatmulInput, wt: Int8Weights): MatmulResult {
  checkMatmul('matmulInt8', x, wt)
  const { m, k } = x
  const n = wt.n
  const acc = new Int32Array(m * n)
  const y = new Float32Array(m * n)
  const f = Math.fround
  for (let r = 0; r < m; r++) {
    const ao = r * k
    for (let c = 0; c < n; c++) {
      const wo = c * k
      let s = 0
      for (let i = 0; i < k; i++) s += (x.a[ao + i] as number) * (wt.w[wo + i] as number)
      acc[r * n + c] = s
      let v = f(f(f(s) * (x.aScale[r] as number)) * (wt.wScale[c] as number))
      if (wt.bias) v = f(v + (wt.bias[c] as number))
      y[r * n + c] = v
    }
  }
  return { acc, y }
}

/** Symmetric per-row int8 quantization: scale = max|x|/127 (1 for an all-zero row), q = round(x/scale) ∈ [−127, 127]. */
export function quantizeRows(x: Float32Array, rows: number, cols: number): { q: Int8Array; scale: Float32Array } {
  if (x.length !== rows * cols) throw bad('quantizeRows', `${x.length} values, expected ${rows}×${cols}`)
  const q = new Int8Array(rows * cols)
  const scale = new Float32Array(rows)
  for (let r = 0; r < rows; r++) {
    let mx = 0
    for (let c = 0; c < cols; c++) mx = Math.max(mx, Math.abs(x[r * cols + c] as number))
    const s = mx > 0 ? mx / 127 : 1
    scale[r] = s
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.max(-127, Math.min(127, Math.round((x[r * cols + c] as number) / s)))
  }
  return { q, scale }
}

/** Packs rows of int8 (length `cols`) into u32 words, four per word along the row, zero-padded to ⌈cols/4⌉ words. */
export function packInt8Rows(x: Int8Array, rows: number, cols: number): Uint32Array {
  const k4 = Math.ceil(cols / 4)
  if (cols % 4 === 0 && x.byteOffset % 4 === 0) return new Uint32Array(x.buffer, x.byteOffset, rows * k4)
  const bytes = new Uint8Array(rows * k4 * 4)
  for (let r = 0; r < rows; r++) bytes.set(new Uint8Array(x.buffer, x.byteOffset + r * cols, cols), r * k4 * 4)
  return new Uint32Array(bytes.buffer)
}
