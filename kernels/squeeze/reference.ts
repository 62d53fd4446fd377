/**
 * Cerberus squeeze (whitepaper §5.1), plain TypeScript reference.
 *
 * For an N×M input (N samples of M features), per sample i:
 *   μ_i = (1/M)·Σ_j x_ij,  σ_i = √((1/M)·Σ_j (x_ij − μ_i)²)                 (population standard deviation, §5.1.1)
 *   S_i = α if σ_i > T else 1/α                                            (§5.1.2; strict >, as written)
 *   Δ_i = (max_i − min_i)/(L − 1)                                          (the level spacing of the *unscaled* row)
 *   k_ij = min(L − 1, ⌊(x_ij − min_i)/Δ_i⌋)  ∈ {0 … L−1}                   (the level index; 0 when max_i = min_i)
 *   q_ij = S_i·(k_ij·Δ_i + min_i)
 *
 * The whitepaper's formula q_ij = ⌊(x_ij − min_i)/Q_i⌋·Q_i + min_i leaves Q_i undefined and does not say how S_i
 * enters. We apply it to the *scaled* sample x'_ij = S_i·x_ij with Q_i = S_i·Δ_i: since S_i > 0, min'_i = S_i·min_i
 * and max'_i = S_i·max_i, so Q_i = (max'_i − min'_i)/(L − 1) is exactly the spacing that puts L levels across the
 * scaled range, and ⌊(x'_ij − min'_i)/Q_i⌋ = k_ij. Consequences: the level index is scale-invariant (S_i only
 * rescales the reconstructed values, by α for high-variance samples and 1/α for flat ones), the top of the range maps
 * to level L − 1 (not L), and codes fit in ⌈log2 L⌉ bits (one byte at the default L = 256). Defaults are the seed
 * pseudocode's: L = 256, T = 0.1, α = 0.5.
 *
 * Float semantics: the GPU computes in f32. `squeezeReference` computes statistics in float64 and rounds them to
 * f32; `squeezeCodes` mirrors the GPU's f32 quantization step exactly given a row's (min, inv = (L−1)/(max−min)),
 * so tests compare codes bit for bit against the GPU's own statistics and compare statistics within tolerance.
 */
import { InvalidInput } from '../errors.ts'

export interface SqueezeOptions {
  /** Number of levels L (2 … 65536). Default 256. */
  readonly levels?: number
  /** Threshold T on σ. Default 0.1. */
  readonly threshold?: number
  /** Scale factor α (> 0). Default 0.5. */
  readonly alpha?: number
}

export const SQUEEZE_DEFAULTS = { levels: 256, threshold: 0.1, alpha: 0.5 } as const

/** Per-row statistics, 8 f32 each: mean, sigma, min, max, S, Q (= S·Δ), inv (= (L−1)/(max−min), 0 if flat), Δ. */
export const STAT_WORDS = 8

export interface SqueezeResult {
  readonly rows: number
  readonly cols: number
  readonly levels: number
  /** N×M level indices k_ij. */
  readonly codes: Uint8Array | Uint16Array
  /** N×M reconstructed values q_ij. */
  readonly values: Float32Array
  /** N×8 statistics (see STAT_WORDS). */
  readonly stats: Float32Array
}

export function resolveSqueeze(op: string, x: Float32Array, rows: number, cols: number, o: SqueezeOptions): Required<SqueezeOptions> {
  const levels = o.levels ?? SQUEEZE_DEFAULTS.levels
  const threshold = o.threshold ?? SQUEEZE_DEFAULTS.threshold
  const alpha = o.alpha ?? SQUEEZE_DEFAULTS.alpha
  const bad = (message: string): InvalidInput => new InvalidInput({ op, reason: 'bad_argument', message: `${op}: ${message}` })
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) throw bad(`bad shape ${rows}×${cols}`)
  if (x.length !== rows * cols) {
    throw new InvalidInput({ op, reason: 'bad_shape', message: `${op}: ${x.length} values, expected ${rows}×${cols}` })
  }
  if (!Number.isInteger(levels) || levels < 2 || levels > 65536) throw bad(`levels = ${levels} outside [2, 65536]`)
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw bad(`alpha = ${alpha} must be a positive number`)
  if (!Number.isFinite(threshold)) throw bad(`threshold = ${threshold} must be finite`)
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i] as number)) throw bad(`x[${i}] = ${x[i]} is not finite`)
  return { levels, threshold, alpha }
}

function codeArray(levels: number, len: number): Uint8Array | Uint16Array {
  return levels <= 256 ? new Uint8Array(len) : new Uint16Array(len)
}

/** The f32 quantization step the GPU runs, given a row's min, inv, Δ and S (all f32). */
export function squeezeElement(x: number, min: number, inv: number, delta: number, s: number, levels: number): [number, number] {
  const f = Math.fround
  const k = Math.min(levels - 1, Math.max(0, Math.floor(f(f(x - min) * inv))))
  return [k, f(s * f(f(k * delta) + min))]
}

export function squeezeReference(x: Float32Array, rows: number, cols: number, opts: SqueezeOptions = {}): SqueezeResult {
  const { levels, threshold, alpha } = resolveSqueeze('squeeze', x, rows, cols, opts)
  const f = Math.fround
  const stats = new Float32Array(rows * STAT_WORDS)
  const codes = codeArray(levels, rows * cols)
  const values = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) {
    let sum = 0
    let mn = Infinity
    let mx = -Infinity
    for (let j = 0; j < cols; j++) {
      const v = x[r * cols + j] as number
      sum += v
      if (v < mn) mn = v
      if (v > mx) mx = v
    }
    const mean = sum / cols
    let sq = 0
    for (let j = 0; j < cols; j++) sq += ((x[r * cols + j] as number) - mean) ** 2
    const sigma = Math.sqrt(sq / cols)
    const s = f(sigma > threshold ? alpha : 1 / alpha)
    const range = f(mx - mn)
    const delta = f(range / (levels - 1))
    const inv = range > 0 ? f((levels - 1) / range) : 0
    stats.set([mean, sigma, mn, mx, s, f(s * delta), inv, delta], r * STAT_WORDS)
    for (let j = 0; j < cols; j++) {
      const [k, q] = squeezeElement(x[r * cols + j] as number, mn, inv, delta, s, levels)
      codes[r * cols + j] = k
      values[r * cols + j] = q
    }
  }
  return { rows, cols, levels, codes, values, stats }
}

/** Codes and values recomputed from given statistics (e.g. the GPU's) with the GPU's f32 steps. */
export function squeezeFromStats(x: Float32Array, rows: number, cols: number, stats: Float32Array, levels: number): { codes: Uint8Array | Uint16Array; values: Float32Array } {
  const codes = codeArray(levels, rows * cols)
  const values = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) {
    const o = r * STAT_WORDS
    for (let j = 0; j < cols; j++) {
      const [k, q] = squeezeElement(x[r * cols + j] as number, stats[o + 2] as number, stats[o + 6] as number, stats[o + 7] as number, stats[o + 4] as number, levels)
      codes[r * cols + j] = k
      values[r * cols + j] = q
    }
  }
  return { codes, values }
}
