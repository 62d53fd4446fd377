/**
 * Training-time forward and backward pass of the GPT-2 architecture, written by hand over Float32Arrays, plus AdamW.
 *
 * `lossAndGrad(model, batch)` runs B sequences of T+1 tokens (inputs are the first T, targets the last T), keeps
 * every activation the backward pass needs, and returns the mean next-token cross-entropy and the gradient of every
 * weight (same layout as GptWeights). It computes exactly what model/forward.ts computes (tests check the losses
 * agree and the gradients against finite differences).
 */
import type { GptModel } from '../forward.ts'
import { namedTensors, type GptWeights, type LayerWeights } from '../weights.ts'
import { attentionBackLoops, attentionLoops, type TrainKernels } from './kernels.ts'
import { defaultTrainKernels } from './wasm/kernels.ts'

export function zerosLike(w: GptWeights): GptWeights {
  const z = (a: Float32Array): Float32Array => new Float32Array(a.length)
  return {
    wte: z(w.wte), wpe: z(w.wpe), lnfG: z(w.lnfG), lnfB: z(w.lnfB),
    layers: w.layers.map((L): LayerWeights => ({
      ln1G: z(L.ln1G), ln1B: z(L.ln1B), attnW: z(L.attnW), attnB: z(L.attnB), projW: z(L.projW), projB: z(L.projB),
      ln2G: z(L.ln2G), ln2B: z(L.ln2B), fcW: z(L.fcW), fcB: z(L.fcB), fcProjW: z(L.fcProjW), fcProjB: z(L.fcProjB),
    })),
  }
}

interface LnCache { readonly xhat: Float32Array; readonly rstd: Float32Array }

function lnForward(x: Float32Array, rows: number, d: number, g: Float32Array, b: Float32Array, eps: number): { y: Float32Array; c: LnCache } {
  const y = new Float32Array(rows * d)
  const xhat = new Float32Array(rows * d)
  const rstd = new Float32Array(rows)
  for (let r = 0; r < rows; r++) {
    const o = r * d
    let mean = 0
    for (let i = 0; i < d; i++) mean += x[o + i]
    mean /= d
    let v = 0
    for (let i = 0; i < d; i++) { const c = x[o + i] - mean; v += c * c }
    const rs = 1 / Math.sqrt(v / d + eps)
    rstd[r] = rs
    for (let i = 0; i < d; i++) {
      const xh = (x[o + i] - mean) * rs
      xhat[o + i] = xh
      y[o + i] = xh * g[i] + b[i]
    }
  }
  return { y, c: { xhat, rstd } }
}

function lnBackward(dy: Float32Array, c: LnCache, rows: number, d: number, g: Float32Array, dg: Float32Array, db: Float32Array): Float32Array {
  const dx = new Float32Array(rows * d)
  for (let r = 0; r < rows; r++) {
    const o = r * d
    let m1 = 0
    let m2 = 0
    for (let i = 0; i < d; i++) {
      const dxh = dy[o + i] * g[i]
      m1 += dxh
      m2 += dxh * c.xhat[o + i]
      dg[i] += dy[o + i] * c.xhat[o + i]
      db[i] += dy[o + i]
    }
    m1 /= d
    m2 /= d
    const rs = c.rstd[r]
    for (let i = 0; i < d; i++) dx[o + i] = rs * (dy[o + i] * g[i] - m1 - c.xhat[o + i] * m2)
  }
  return dx
}

interface LayerCache {
  readonly xIn: Float32Array
  readonly ln1: LnCache
  readonly h1: Float32Array
  readonly qkv: Float32Array
  readonly probs: Float32Array
  readonly att: Float32Array
  readonly ln2: LnCache
  readonly h2: Float32Array
  readonly fPre: Float32Array
  readonly fAct: Float32Array
}

export interface LossAndGrad {
  readonly loss: number
  readonly grad: GptWeights
}

/**
 * Mean cross-entropy of predicting seq[t+1] from seq[0..t] over every sequence of `batch` (all the same length
 * T+1 ≤ nCtx+1), and its gradient. An optional head mask is honoured (masked heads get zero gradient through
 * attention), so the same code can fine-tune a pruned model.
 */
export function lossAndGrad(model: GptModel, batch: readonly (readonly number[])[], headMask?: readonly (readonly number[])[], kernels: TrainKernels = defaultTrainKernels): LossAndGrad {
  const K = kernels
  const { config: c, weights: w } = model
  const B = batch.length
  const T = batch[0].length - 1
  const d = c.nEmbd, H = c.nHead, hd = d / H, V = c.vocabSize, N = B * T
  const scale = 1 / Math.sqrt(hd)
  const eps = c.layerNormEps
  const mask = headMask ?? model.headMask

  let x = new Float32Array(N * d)
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const te = batch[b][t] * d, pe = t * d, o = (b * T + t) * d
      for (let i = 0; i < d; i++) x[o + i] = w.wte[te + i] + w.wpe[pe + i]
    }
  }
  const caches: LayerCache[] = []
  for (let l = 0; l < c.nLayer; l++) {
    const L = w.layers[l]
    const xIn = x
    const { y: h1, c: ln1 } = lnForward(xIn, N, d, L.ln1G, L.ln1B, eps)
    const qkv = K.linear(h1, N, d, 3 * d, L.attnW, L.attnB)
    const { probs, att } = mask === undefined ? K.attention(qkv, B, T, H, hd, scale) : attentionLoops(qkv, B, T, H, hd, scale, mask[l])
    const o = K.linear(att, N, d, d, L.projW, L.projB)
    const xMid = new Float32Array(N * d)
    for (let i = 0; i < N * d; i++) xMid[i] = xIn[i] + o[i]
    const { y: h2, c: ln2 } = lnForward(xMid, N, d, L.ln2G, L.ln2B, eps)
    const fPre = K.linear(h2, N, d, 4 * d, L.fcW, L.fcB)
    const fAct = K.gelu(fPre)
    const o2 = K.linear(fAct, N, 4 * d, d, L.fcProjW, L.fcProjB)
    x = new Float32Array(N * d)
    for (let i = 0; i < N * d; i++) x[i] = xMid[i] + o2[i]
    caches.push({ xIn, ln1, h1, qkv, probs, att, ln2, h2, fPre, fAct })
  }
  const { y: hf, c: lnf } = lnForward(x, N, d, w.lnfG, w.lnfB, eps)

  const grad = zerosLike(w)
  const targets = new Int32Array(N)
  for (let r = 0; r < N; r++) targets[r] = batch[Math.floor(r / T)][(r % T) + 1]
  const { lossSum, dhf } = K.lmHead(hf, N, d, w.wte, V, targets, N, grad.wte)
  const loss = lossSum / N

  let dx = lnBackward(dhf, lnf, N, d, w.lnfG, grad.lnfG, grad.lnfB)
  for (let l = c.nLayer - 1; l >= 0; l--) {
    const L = w.layers[l]
    const G = grad.layers[l]
    const k = caches[l]
    // MLP branch
    const dfAct = K.linearBack(k.fAct, dx, N, 4 * d, d, L.fcProjW, G.fcProjW, G.fcProjB)
    K.geluBack(k.fPre, dfAct)
    const dh2 = K.linearBack(k.h2, dfAct, N, d, 4 * d, L.fcW, G.fcW, G.fcB)
    const dxMidLn = lnBackward(dh2, k.ln2, N, d, L.ln2G, G.ln2G, G.ln2B)
    const dxMid = new Float32Array(N * d)
    for (let i = 0; i < N * d; i++) dxMid[i] = dx[i] + dxMidLn[i]
    // attention branch
    const datt = K.linearBack(k.att, dxMid, N, d, d, L.projW, G.projW, G.projB)
    const dqkv = mask === undefined ? K.attentionBack(k.qkv, k.probs, datt, B, T, H, hd, scale) : attentionBackLoops(k.qkv, k.probs, datt, B, T, H, hd, scale, mask[l])
    const dh1 = K.linearBack(k.h1, dqkv, N, d, 3 * d, L.attnW, G.attnW, G.attnB)
    const dxInLn = lnBackward(dh1, k.ln1, N, d, L.ln1G, G.ln1G, G.ln1B)
    const dxIn = new Float32Array(N * d)
    for (let i = 0; i < N * d; i++) dxIn[i] = dxMid[i] + dxInLn[i]
    dx = dxIn
  }
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const te = batch[b][t] * d, pe = t * d, o = (b * T + t) * d
      for (let i = 0; i < d; i++) { grad.wte[te + i] += dx[o + i]; grad.wpe[pe + i] += dx[o + i] }
    }
  }
  return { loss, grad }
}

export interface AdamWOptions {
  readonly lr: number
  readonly beta1?: number
  readonly beta2?: number
  readonly eps?: number
  readonly weightDecay?: number
  /** Clip the global gradient norm to this value (0 = no clipping). */
  readonly clip?: number
}

/** AdamW state over every tensor of a model (decoupled weight decay on matrices only, not on biases/LN/embeddings of positions). */
export class AdamW {
  private readonly m: Float32Array[]
  private readonly v: Float32Array[]
  private step = 0
  private readonly model: GptModel

  constructor(model: GptModel) {
    this.model = model
    const ts = namedTensors(model.config, model.weights)
    this.m = ts.map((t) => new Float32Array(t.data.length))
    this.v = ts.map((t) => new Float32Array(t.data.length))
  }

  /** Apply one update; returns the gradient norm before clipping. */
  update(grad: GptWeights, o: AdamWOptions): number {
    const params = namedTensors(this.model.config, this.model.weights)
    const grads = namedTensors(this.model.config, grad)
    let sq = 0
    for (const g of grads) for (let i = 0; i < g.data.length; i++) sq += g.data[i] * g.data[i]
    const norm = Math.sqrt(sq)
    const clip = o.clip ?? 1
    const gs = clip > 0 && norm > clip ? clip / norm : 1
    this.step++
    const b1 = o.beta1 ?? 0.9, b2 = o.beta2 ?? 0.95, eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0.1
    const c1 = 1 - b1 ** this.step, c2 = 1 - b2 ** this.step
    params.forEach((p, t) => {
      const g = grads[t].data, m = this.m[t], v = this.v[t], x = p.data
      const decay = p.shape.length === 2 ? wd : 0
      for (let i = 0; i < x.length; i++) {
        const gi = g[i] * gs
        m[i] = b1 * m[i] + (1 - b1) * gi
        v[i] = b2 * v[i] + (1 - b2) * gi * gi
        x[i] -= o.lr * ((m[i] / c1) / (Math.sqrt(v[i] / c2) + eps) + decay * x[i])
      }
    })
    return norm
  }
}

