/**
 * The f32 reference forward pass of a GPT-2 model in plain TypeScript.
 *
 * x₀ = wte[token] + wpe[pos]; for each block: x += proj(attn(LN₁(x))); x += fcProj(gelu(fc(LN₂(x))));
 * logits = LN_f(x)·wteᵀ. Attention is causal multi-head with scale 1/√hd; GELU is GPT-2's tanh approximation.
 *
 * A `KvCache` holds the keys and values of positions already processed, so `forward` can be called on a whole
 * sequence at once or on one new token at a time with the same results. A head mask multiplies each head's output
 * (1 keeps, 0 removes the head) before the output projection — the hook Cerberus Squeezing prunes through; a head
 * whose entry is 0 is sliced out of the fused QKV and output projections (`attentionSlice`), so it costs nothing. The
 * `linear` option replaces every dense product (QKV, attention projection, MLP) — the hook for an int8 kernel path.
 */
import type { GptConfig } from './config.ts'
import { ContextOverflow, InvalidOption, InvalidToken } from './errors.ts'
import type { GptWeights, LayerWeights } from './weights.ts'

/** Per layer, per head multipliers; `headMask[l][h] = 0` removes head h of layer l. */
export type HeadMask = readonly (readonly number[])[]

export interface GptModel {
  readonly config: GptConfig
  readonly weights: GptWeights
  /** Applied when a forward call passes no head mask of its own (set by the squeeze pass). */
  readonly headMask?: HeadMask
}

/** Where a dense product happens: its layer and which of the four projections it is. */
export interface LinearSite {
  readonly layer: number
  readonly name: 'attn' | 'proj' | 'fc' | 'fcProj'
}

/**
 * The attention weights a layer actually uses under a head mask: the fused QKV columns and output-projection rows of
 * the heads it keeps (mask entry ≠ 0), in head order. Pruned heads are sliced out, so their products are never
 * computed (nor sent encrypted): QKV is d → 3·hd·k and the output projection hd·k → d for k kept heads. With no
 * pruned head these are the layer's own arrays. A layer that keeps no head skips both products (its output is the
 * projection's bias alone).
 */
export interface AttentionSlice {
  /** Kept heads, ascending. */
  readonly heads: readonly number[]
  /** [d, 3·hd·k]: q of the kept heads, then k, then v. */
  readonly attnW: Float32Array
  readonly attnB: Float32Array
  /** [hd·k, d]. */
  readonly projW: Float32Array
  readonly projB: Float32Array
}

const slices = new WeakMap<LayerWeights, Map<string, AttentionSlice>>()

/**
 * The slice of `layer` for one head-mask row (undefined: all heads). Cached per layer and mask, so a `linear` hook
 * that caches per weight array (int8 quantization, GPU uploads, the encrypted session) sees the same arrays every
 * call. The cache assumes the layer's weights are not modified in place afterwards.
 */
export function attentionSlice(config: GptConfig, layer: LayerWeights, maskRow: readonly number[] | undefined): AttentionSlice {
  const H = config.nHead
  const heads = maskRow === undefined ? [...Array(H).keys()] : [...Array(H).keys()].filter((h) => maskRow[h] !== 0)
  const key = heads.join(',')
  let perLayer = slices.get(layer)
  if (!perLayer) {
    perLayer = new Map()
    slices.set(layer, perLayer)
  }
  const hit = perLayer.get(key)
  if (hit) return hit
  let slice: AttentionSlice
  if (heads.length === H) {
    slice = { heads, attnW: layer.attnW, attnB: layer.attnB, projW: layer.projW, projB: layer.projB }
  } else {
    const d = config.nEmbd
    const hd = d / H
    const k = heads.length
    const w3 = 3 * hd * k
    const attnW = new Float32Array(d * w3)
    const attnB = new Float32Array(w3)
    const projW = new Float32Array(hd * k * d)
    for (let j = 0; j < k; j++) {
      const h = heads[j]
      for (let part = 0; part < 3; part++) {
        const src = part * d + h * hd
        const dst = part * hd * k + j * hd
        attnB.set(layer.attnB.subarray(src, src + hd), dst)
        for (let i = 0; i < d; i++) attnW.set(layer.attnW.subarray(i * 3 * d + src, i * 3 * d + src + hd), i * w3 + dst)
      }
      projW.set(layer.projW.subarray(h * hd * d, (h + 1) * hd * d), j * hd * d)
    }
    slice = { heads, attnW, attnB, projW, projB: layer.projB }
  }
  perLayer.set(key, slice)
  return slice
}

/**
 * The weight matrix [inDim, outDim] and bias of one dense product of `model`, as the forward pass computes it under
 * the model's own head mask (pruned heads sliced out of 'attn' and 'proj'); undefined for a layer it lacks, and for
 * the 'attn' and 'proj' products of a layer that keeps no head (they are skipped).
 */
export function linearWeights(
  model: GptModel, site: LinearSite,
): { readonly w: Float32Array; readonly b: Float32Array; readonly inDim: number; readonly outDim: number } | undefined {
  const l = model.weights.layers[site.layer]
  if (!l) return undefined
  const d = model.config.nEmbd
  const hd = d / model.config.nHead
  switch (site.name) {
    case 'attn':
    case 'proj': {
      const sl = attentionSlice(model.config, l, model.headMask?.[site.layer])
      const k = sl.heads.length
      if (k === 0) return undefined
      return site.name === 'attn' ? { w: sl.attnW, b: sl.attnB, inDim: d, outDim: 3 * hd * k } : { w: sl.projW, b: sl.projB, inDim: hd * k, outDim: d }
    }
    case 'fc':
      return { w: l.fcW, b: l.fcB, inDim: d, outDim: 4 * d }
    case 'fcProj':
      return { w: l.fcProjW, b: l.fcProjB, inDim: 4 * d, outDim: d }
  }
}

/**
 * A dense product y[rows, outDim] = x[rows, inDim]·w[inDim, outDim] + b. Implementations must not modify x, w or b.
 */
export type LinearFn = (
  x: Float32Array, rows: number, inDim: number, outDim: number, w: Float32Array, b: Float32Array, site: LinearSite,
) => Float32Array

export interface KvCache {
  /** Per layer, [nCtx, nEmbd] keys of the positions seen so far (row p is position p). */
  readonly keys: readonly Float32Array[]
  readonly values: readonly Float32Array[]
  /** Number of positions filled. */
  length: number
}

export interface ForwardOptions {
  /** Continue from (and extend) this cache. Without one, the tokens start at position 0. */
  readonly cache?: KvCache
  readonly headMask?: HeadMask
  readonly linear?: LinearFn
  /** Return the logits of the last position only (vocabSize floats) instead of all of them. */
  readonly lastOnly?: boolean
}

export function createKvCache(config: GptConfig): KvCache {
  const n = config.nCtx * config.nEmbd
  return {
    keys: Array.from({ length: config.nLayer }, () => new Float32Array(n)),
    values: Array.from({ length: config.nLayer }, () => new Float32Array(n)),
    length: 0,
  }
}

/** The plain f32 dense product (the reference `LinearFn`). */
export const linearF32: LinearFn = (x, rows, inDim, outDim, w, b) => {
  const y = new Float32Array(rows * outDim)
  for (let r = 0; r < rows; r++) {
    const yo = r * outDim
    for (let j = 0; j < outDim; j++) y[yo + j] = b[j]
    const xo = r * inDim
    for (let k = 0; k < inDim; k++) {
      const a = x[xo + k]
      if (a === 0) continue
      const wo = k * outDim
      for (let j = 0; j < outDim; j++) y[yo + j] += a * w[wo + j]
    }
  }
  return y
}

/** LayerNorm over rows of width d. */
export function layerNorm(x: Float32Array, rows: number, d: number, g: Float32Array, b: Float32Array, eps: number): Float32Array {
  const y = new Float32Array(rows * d)
  for (let r = 0; r < rows; r++) {
    const o = r * d
    let mean = 0
    for (let i = 0; i < d; i++) mean += x[o + i]
    mean /= d
    let v = 0
    for (let i = 0; i < d; i++) {
      const c = x[o + i] - mean
      v += c * c
    }
    const inv = 1 / Math.sqrt(v / d + eps)
    for (let i = 0; i < d; i++) y[o + i] = (x[o + i] - mean) * inv * g[i] + b[i]
  }
  return y
}

const GELU_C = Math.sqrt(2 / Math.PI)
/** GPT-2's GELU: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)))
}

/** Throw `InvalidOption` unless the mask is [nLayer][nHead] of finite numbers. */
export function validateHeadMask(config: GptConfig, mask: HeadMask): void {
  if (mask.length !== config.nLayer) {
    throw new InvalidOption({ option: 'headMask', reason: `has ${mask.length} layers, model has ${config.nLayer}` })
  }
  mask.forEach((row, l) => {
    if (row.length !== config.nHead) {
      throw new InvalidOption({ option: 'headMask', reason: `layer ${l} has ${row.length} heads, model has ${config.nHead}` })
    }
    for (const v of row) if (!Number.isFinite(v)) throw new InvalidOption({ option: 'headMask', reason: `layer ${l} has a non-finite entry` })
  })
}

/** Throw `InvalidToken` for any id that is not an integer in [0, vocabSize). */
export function validateTokens(config: GptConfig, tokens: readonly number[]): void {
  for (const t of tokens) {
    if (!Number.isInteger(t) || t < 0 || t >= config.vocabSize) throw new InvalidToken({ token: t, vocabSize: config.vocabSize })
  }
}

/** One dense product the forward pass needs: y[rows, outDim] = x·w + b at `site`. */
export interface LinearRequest {
  readonly x: Float32Array
  readonly rows: number
  readonly inDim: number
  readonly outDim: number
  readonly w: Float32Array
  readonly b: Float32Array
  readonly site: LinearSite
}

/**
 * The forward pass as a coroutine: it yields every dense product it needs and is resumed with the product's
 * result, so the same code runs with a synchronous `LinearFn` (`forward`) or an asynchronous one such as a GPU
 * kernel (`forwardAsync`).
 */
function* forwardSteps(model: GptModel, tokens: readonly number[], options: Omit<ForwardOptions, 'linear'>): Generator<LinearRequest, Float32Array, Float32Array> {
  const { config: c, weights: w } = model
  validateTokens(c, tokens)
  const cache = options.cache ?? createKvCache(c)
  const past = cache.length
  const T = tokens.length
  if (T === 0) throw new InvalidOption({ option: 'tokens', reason: 'empty token sequence' })
  if (past + T > c.nCtx) throw new ContextOverflow({ position: past + T - 1, nCtx: c.nCtx })
  const mask = options.headMask ?? model.headMask
  if (mask !== undefined) validateHeadMask(c, mask)
  const d = c.nEmbd
  const hd = d / c.nHead
  const scale = 1 / Math.sqrt(hd)

  const x = new Float32Array(T * d)
  for (let t = 0; t < T; t++) {
    const te = tokens[t] * d
    const pe = (past + t) * d
    for (let i = 0; i < d; i++) x[t * d + i] = w.wte[te + i] + w.wpe[pe + i]
  }
  const scores = new Float32Array(c.nCtx)
  for (let l = 0; l < c.nLayer; l++) {
    const L = w.layers[l]
    const sl = attentionSlice(c, L, mask?.[l])
    const k = sl.heads.length
    if (k === 0) {
      // every head pruned: attention contributes only the output projection's bias
      for (let t = 0; t < T; t++) for (let i = 0; i < d; i++) x[t * d + i] += sl.projB[i]
    } else {
      const h = layerNorm(x, T, d, L.ln1G, L.ln1B, c.layerNormEps)
      const hk = hd * k
      const w3 = 3 * hk
      const qkv = yield { x: h, rows: T, inDim: d, outDim: w3, w: sl.attnW, b: sl.attnB, site: { layer: l, name: 'attn' } }
      const K = cache.keys[l]
      const V = cache.values[l]
      for (let t = 0; t < T; t++) {
        for (let j = 0; j < k; j++) {
          const dst = (past + t) * d + sl.heads[j] * hd
          K.set(qkv.subarray(t * w3 + hk + j * hd, t * w3 + hk + (j + 1) * hd), dst)
          V.set(qkv.subarray(t * w3 + 2 * hk + j * hd, t * w3 + 2 * hk + (j + 1) * hd), dst)
        }
      }
      const att = new Float32Array(T * hk)
      for (let t = 0; t < T; t++) {
        const p = past + t
        for (let j = 0; j < k; j++) {
          const hh = sl.heads[j]
          const m = mask === undefined ? 1 : mask[l][hh]
          const qo = t * w3 + j * hd
          let max = -Infinity
          for (let jj = 0; jj <= p; jj++) {
            const ko = jj * d + hh * hd
            let s = 0
            for (let i = 0; i < hd; i++) s += qkv[qo + i] * K[ko + i]
            s *= scale
            scores[jj] = s
            if (s > max) max = s
          }
          let sum = 0
          for (let jj = 0; jj <= p; jj++) {
            const e = Math.exp(scores[jj] - max)
            scores[jj] = e
            sum += e
          }
          const ao = t * hk + j * hd
          for (let jj = 0; jj <= p; jj++) {
            const a = (scores[jj] / sum) * m
            const vo = jj * d + hh * hd
            for (let i = 0; i < hd; i++) att[ao + i] += a * V[vo + i]
          }
        }
      }
      const o = yield { x: att, rows: T, inDim: hk, outDim: d, w: sl.projW, b: sl.projB, site: { layer: l, name: 'proj' } }
      for (let i = 0; i < T * d; i++) x[i] += o[i]
    }
    const h2 = layerNorm(x, T, d, L.ln2G, L.ln2B, c.layerNormEps)
    const f = yield { x: h2, rows: T, inDim: d, outDim: 4 * d, w: L.fcW, b: L.fcB, site: { layer: l, name: 'fc' } }
    for (let i = 0; i < f.length; i++) f[i] = gelu(f[i])
    const o2 = yield { x: f, rows: T, inDim: 4 * d, outDim: d, w: L.fcProjW, b: L.fcProjB, site: { layer: l, name: 'fcProj' } }
    for (let i = 0; i < T * d; i++) x[i] += o2[i]
  }
  cache.length = past + T

  const first = options.lastOnly === true ? T - 1 : 0
  const rows = T - first
  const hf = layerNorm(x.subarray(first * d), rows, d, w.lnfG, w.lnfB, c.layerNormEps)
  const V = c.vocabSize
  const logits = new Float32Array(rows * V)
  for (let r = 0; r < rows; r++) {
    const ho = r * d
    for (let v = 0; v < V; v++) {
      const eo = v * d
      let s = 0
      for (let i = 0; i < d; i++) s += hf[ho + i] * w.wte[eo + i]
      logits[r * V + v] = s
    }
  }
  return logits
}

/**
 * Run the model on `tokens` (positions cache.length … cache.length + tokens.length − 1). Returns logits,
 * [tokens.length, vocabSize] row-major (or only the last row with `lastOnly`). Extends the cache if one is given.
 * Throws `InvalidToken`, `ContextOverflow`, `InvalidOption` (head mask).
 */
export function forward(model: GptModel, tokens: readonly number[], options: ForwardOptions = {}): Float32Array {
  const linear = options.linear ?? linearF32
  const steps = forwardSteps(model, tokens, options)
  let r = steps.next(new Float32Array(0))
  while (r.done !== true) {
    const q = r.value
    r = steps.next(linear(q.x, q.rows, q.inDim, q.outDim, q.w, q.b, q.site))
  }
  return r.value
}

/** An asynchronous dense product (e.g. a GPU kernel); same contract as `LinearFn`. */
export type AsyncLinearFn = (
  x: Float32Array, rows: number, inDim: number, outDim: number, w: Float32Array, b: Float32Array, site: LinearSite,
) => Promise<Float32Array>

export interface AsyncForwardOptions extends Omit<ForwardOptions, 'linear'> {
  readonly linear: AsyncLinearFn
}

/** `forward` with an asynchronous `linear` (the GPU int8 path). Same results contract and errors. */
export async function forwardAsync(model: GptModel, tokens: readonly number[], options: AsyncForwardOptions): Promise<Float32Array> {
  const steps = forwardSteps(model, tokens, options)
  let r = steps.next(new Float32Array(0))
  while (r.done !== true) {
    const q = r.value
    r = steps.next(await options.linear(q.x, q.rows, q.inDim, q.outDim, q.w, q.b, q.site))
  }
  return r.value
}
