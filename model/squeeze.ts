/**
 * Cerberus Squeezing (whitepaper §4.2, §5.1, §7.1) as passes over a model.
 *
 * Head significance (§7.1.2): S(l, h) = L(mask with head (l, h) removed) − L(mask), the increase of mean
 * next-token cross-entropy on calibration sequences when that one head is ablated (Michel et al. 2019). The base
 * mask is the model's own (all heads when it has none).
 *
 * Pruning, two ways:
 * - by threshold θ ≥ 0: remove the heads with S(h) ≤ θ. θ = 0 is the identity (nothing removed, output unchanged):
 *   the whitepaper keeps heads with S(h) > θ, which at θ = 0 would also drop heads whose measured S is ≤ 0 on a
 *   finite calibration sample; we read θ = 0 as "pruning off" and require θ > 0 to prune.
 * - by budget C_max (§7.1.3): keep heads in decreasing order of S while the summed encrypted cost of the kept heads
 *   stays ≤ C_max (a greedy knapsack; a head that does not fit is skipped and smaller ones are still tried), so the
 *   budget is never exceeded.
 *
 * Cost: `HeadCostFn` gives the encrypted cost of one head per generated token. The default counts
 * ciphertext×plaintext multiply-accumulates of the head's slice of the fused QKV product (3·d·hd) and of the output
 * projection (hd·d), plus ciphertext×ciphertext products of attention over a full context (2·nCtx·hd). It is a
 * placeholder unit until basedai/fhe reports real operation counts; pass `headCost` to use those.
 *
 * Dynamic quantization (§5.1): per sample i, σᵢ; scale Sᵢ = α if σᵢ > T else 1/α; quantize the scaled row to L
 * levels spanning its own [min, max] (step Qᵢ = (max − min)/(L − 1)), rounding to the nearest level, so the error
 * of every element is ≤ Qᵢ/2 in the scaled domain (≤ Qᵢ/(2Sᵢ) after unscaling). The whitepaper writes ⌊·⌋
 * (error < Qᵢ) while saying "nearest"; we round. Note that with levels spanning each sample's own range the
 * scale Sᵢ cancels out of the reconstruction; it matters only to the integer codes' magnitude downstream.
 */
import { InvalidOption } from './errors.ts'
import { evaluate } from './eval.ts'
import { validateHeadMask, type GptModel, type HeadMask } from './forward.ts'
import type { GptConfig } from './config.ts'
import type { GptWeights, LayerWeights } from './weights.ts'
import { saveGpt2Checkpoint } from './checkpoint.ts'

export interface HeadId {
  readonly layer: number
  readonly head: number
}

export type HeadCostFn = (id: HeadId, config: GptConfig) => number

export const defaultHeadCost: HeadCostFn = (_id, c) => {
  const hd = c.nEmbd / c.nHead
  return 3 * c.nEmbd * hd + hd * c.nEmbd + 2 * c.nCtx * hd
}

function fullMask(c: GptConfig): number[][] {
  return Array.from({ length: c.nLayer }, () => Array.from({ length: c.nHead }, () => 1))
}

/** S[l][h], in nats per token. Costs nLayer·nHead + 1 evaluations of the calibration set. */
export function headSignificance(model: GptModel, calibration: readonly (readonly number[])[]): number[][] {
  const base = (model.headMask ?? fullMask(model.config)).map((r) => [...r])
  const baseLoss = evaluate(model, calibration, { headMask: base }).loss
  return base.map((row, l) => row.map((m, h) => {
    if (m === 0) return 0
    const mask = base.map((r) => [...r])
    mask[l][h] = 0
    return evaluate(model, calibration, { headMask: mask }).loss - baseLoss
  }))
}

export type SqueezeRule = { readonly theta: number } | { readonly budget: number }

export interface SqueezeOptions {
  readonly headCost?: HeadCostFn
  /** Reuse significance scores already computed (same calibration set). */
  readonly significance?: readonly (readonly number[])[]
}

export interface SqueezeReport {
  readonly rule: SqueezeRule
  readonly significance: readonly (readonly number[])[]
  readonly kept: readonly HeadId[]
  readonly pruned: readonly HeadId[]
  /** Summed head cost before (all heads active in the input model) and after. */
  readonly headCostBefore: number
  readonly headCostAfter: number
  readonly calibrationLossBefore: number
  readonly calibrationLossAfter: number
}

export interface SqueezeResult {
  readonly model: GptModel
  readonly report: SqueezeReport
}

/**
 * Prune attention heads by θ or by budget. The returned model shares the input's weights and carries the new
 * head mask. Throws `InvalidOption` for θ < 0, a negative budget, or non-finite values.
 */
export function squeezeHeads(model: GptModel, calibration: readonly (readonly number[])[], rule: SqueezeRule, options: SqueezeOptions = {}): SqueezeResult {
  const c = model.config
  const cost = options.headCost ?? defaultHeadCost
  if ('theta' in rule && (!Number.isFinite(rule.theta) || rule.theta < 0)) throw new InvalidOption({ option: 'theta', reason: `must be a finite number ≥ 0, got ${rule.theta}` })
  if ('budget' in rule && (!Number.isFinite(rule.budget) || rule.budget < 0)) throw new InvalidOption({ option: 'budget', reason: `must be a finite number ≥ 0, got ${rule.budget}` })
  const base = (model.headMask ?? fullMask(c)).map((r) => [...r])
  const S = options.significance ?? headSignificance(model, calibration)
  validateHeadMask(c, S)
  const active: HeadId[] = []
  base.forEach((row, layer) => row.forEach((m, head) => { if (m !== 0) active.push({ layer, head }) }))
  const costOf = (id: HeadId): number => {
    const v = cost(id, c)
    if (!Number.isFinite(v) || v < 0) throw new InvalidOption({ option: 'headCost', reason: `cost of head ${id.layer}.${id.head} is ${v}` })
    return v
  }
  let keep: HeadId[]
  if ('theta' in rule) {
    keep = rule.theta === 0 ? active : active.filter((id) => S[id.layer][id.head] > rule.theta)
  } else {
    const order = [...active].sort((a, b) => S[b.layer][b.head] - S[a.layer][a.head] || a.layer - b.layer || a.head - b.head)
    keep = []
    let used = 0
    for (const id of order) {
      const k = costOf(id)
      if (used + k <= rule.budget) { keep.push(id); used += k }
    }
  }
  const keepSet = new Set(keep.map((id) => `${id.layer}.${id.head}`))
  const mask = base.map((row, l) => row.map((m, h) => (keepSet.has(`${l}.${h}`) ? m : 0)))
  const pruned = active.filter((id) => !keepSet.has(`${id.layer}.${id.head}`))
  const squeezed: GptModel = { ...model, headMask: mask }
  const sum = (ids: readonly HeadId[]): number => ids.reduce((a, id) => a + costOf(id), 0)
  return {
    model: squeezed,
    report: {
      rule,
      significance: S,
      kept: keep.sort((a, b) => a.layer - b.layer || a.head - b.head),
      pruned,
      headCostBefore: sum(active),
      headCostAfter: sum(keep),
      calibrationLossBefore: evaluate(model, calibration).loss,
      calibrationLossAfter: evaluate(squeezed, calibration).loss,
    },
  }
}

/**
 * Weights in which every masked head is removed for any GPT-2 runner: its Q, K, V columns and its rows of the
 * output projection are zeroed (so the head contributes exactly nothing), and fractional mask entries are folded
 * into those c_proj rows. Returns a model without a head mask that computes what the masked model computes.
 */
export function foldHeadMask(model: GptModel): GptModel {
  const mask = model.headMask
  if (mask === undefined) return model
  validateHeadMask(model.config, mask)
  const d = model.config.nEmbd
  const hd = d / model.config.nHead
  const layers = model.weights.layers.map((L, l): LayerWeights => {
    const attnW = Float32Array.from(L.attnW)
    const attnB = Float32Array.from(L.attnB)
    const projW = Float32Array.from(L.projW)
    mask[l].forEach((m, h) => {
      for (let r = h * hd; r < (h + 1) * hd; r++) for (let j = 0; j < d; j++) projW[r * d + j] *= m
      if (m !== 0) return
      for (const part of [0, 1, 2]) {
        for (let col = part * d + h * hd; col < part * d + (h + 1) * hd; col++) {
          attnB[col] = 0
          for (let k = 0; k < d; k++) attnW[k * 3 * d + col] = 0
        }
      }
    })
    return { ...L, attnW, attnB, projW }
  })
  const weights: GptWeights = { ...model.weights, layers }
  return { config: model.config, weights }
}

export interface QuantizeOptions {
  /** σ threshold T. */
  readonly threshold: number
  /** Scale α > 0: rows with σ > T are multiplied by α, the others by 1/α. */
  readonly alpha: number
  /** Number of levels L ≥ 2. */
  readonly levels: number
}

export interface Quantized {
  /** Integer level of each element, 0 … L−1. */
  readonly codes: Uint32Array
  /** Per row: the scale Sᵢ, the scaled minimum and the step Qᵢ (0 for a constant row). */
  readonly scale: Float64Array
  readonly min: Float64Array
  readonly step: Float64Array
  readonly rows: number
  readonly cols: number
}

/** §5.1 dynamic quantization of x [rows, cols]. Throws `InvalidOption` for bad T, α, L or shapes. */
export function dynamicQuantize(x: ArrayLike<number>, rows: number, cols: number, o: QuantizeOptions): Quantized {
  if (!Number.isInteger(o.levels) || o.levels < 2 || o.levels > 2 ** 32) throw new InvalidOption({ option: 'levels', reason: `must be an integer in [2, 2^32], got ${o.levels}` })
  if (!(o.alpha > 0) || !Number.isFinite(o.alpha)) throw new InvalidOption({ option: 'alpha', reason: `must be a finite number > 0, got ${o.alpha}` })
  if (!Number.isFinite(o.threshold)) throw new InvalidOption({ option: 'threshold', reason: 'must be finite' })
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 1 || x.length !== rows * cols) {
    throw new InvalidOption({ option: 'shape', reason: `[${rows}, ${cols}] does not match ${x.length} values` })
  }
  const codes = new Uint32Array(rows * cols)
  const scale = new Float64Array(rows), min = new Float64Array(rows), step = new Float64Array(rows)
  for (let i = 0; i < rows; i++) {
    const o0 = i * cols
    let mu = 0
    for (let j = 0; j < cols; j++) mu += x[o0 + j]
    mu /= cols
    let v = 0
    for (let j = 0; j < cols; j++) v += (x[o0 + j] - mu) ** 2
    const sigma = Math.sqrt(v / cols)
    const s = sigma > o.threshold ? o.alpha : 1 / o.alpha
    let lo = Infinity, hi = -Infinity
    for (let j = 0; j < cols; j++) { const y = x[o0 + j] * s; if (y < lo) lo = y; if (y > hi) hi = y }
    const q = (hi - lo) / (o.levels - 1)
    scale[i] = s; min[i] = lo; step[i] = q
    for (let j = 0; j < cols; j++) codes[o0 + j] = q === 0 ? 0 : Math.min(o.levels - 1, Math.round((x[o0 + j] * s - lo) / q))
  }
  return { codes, scale, min, step, rows, cols }
}

/** Reconstruct x ≈ (min + code·Q) / S. */
export function dequantize(q: Quantized): Float64Array {
  const out = new Float64Array(q.rows * q.cols)
  for (let i = 0; i < q.rows; i++) {
    for (let j = 0; j < q.cols; j++) out[i * q.cols + j] = (q.min[i] + q.codes[i * q.cols + j] * q.step[i]) / q.scale[i]
  }
  return out
}

/** The head-mask fraction kept, for reports. */
export function keptFraction(mask: HeadMask): number {
  const all = mask.flat()
  return all.filter((m) => m !== 0).length / all.length
}

/**
 * A squeezed model as safetensors bytes: the head mask folded into the weights (so any GPT-2 runner computes the
 * same function), the mask kept in metadata (so ours skips the pruned heads), and the report as JSON metadata.
 */
export function saveSqueezed(result: SqueezeResult): Uint8Array {
  const folded = foldHeadMask(result.model)
  return saveGpt2Checkpoint({ ...folded, ...(result.model.headMask !== undefined ? { headMask: result.model.headMask } : {}) }, {
    metadata: { 'basedai.squeezeReport': JSON.stringify(result.report) },
  })
}

/**
 * Operation merging: fold each block's LayerNorm gain and bias into the dense product that follows it
 * (W' = diag(γ)·W, b' = β·W + b for ln_1 → c_attn and ln_2 → c_fc), leaving those LayerNorms as pure
 * normalisations. The encrypted products are unchanged in shape; the client's per-token plaintext work loses the
 * 2·d multiply-adds of each folded affine. ln_f is not folded: its product is the tied LM head.
 * The result computes the same function up to f32 rounding.
 */
export function foldLayerNormAffine(model: GptModel): GptModel {
  const d = model.config.nEmbd
  const fold = (g: Float32Array, beta: Float32Array, w: Float32Array, b: Float32Array, out: number): { w: Float32Array; b: Float32Array } => {
    const w2 = new Float32Array(w.length)
    const b2 = Float32Array.from(b)
    for (let k = 0; k < d; k++) {
      for (let j = 0; j < out; j++) {
        w2[k * out + j] = g[k] * w[k * out + j]
        b2[j] += beta[k] * w[k * out + j]
      }
    }
    return { w: w2, b: b2 }
  }
  const layers = model.weights.layers.map((L): LayerWeights => {
    const a = fold(L.ln1G, L.ln1B, L.attnW, L.attnB, 3 * d)
    const f = fold(L.ln2G, L.ln2B, L.fcW, L.fcB, 4 * d)
    return {
      ...L, attnW: a.w, attnB: a.b, fcW: f.w, fcB: f.b,
      ln1G: new Float32Array(d).fill(1), ln1B: new Float32Array(d), ln2G: new Float32Array(d).fill(1), ln2B: new Float32Array(d),
    }
  })
  return { ...model, weights: { ...model.weights, layers } }
}
