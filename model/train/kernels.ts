/**
 * The hot loops of training behind one interface, so the same forward/backward code (backprop.ts) runs on the plain
 * TypeScript loops here (the oracle, and the fallback where WebAssembly SIMD is missing) or on the AssemblyScript
 * SIMD module (wasm/kernels.ts). Shapes: rows = B·T positions; linear weights are [in, out] (GPT-2 Conv1D layout).
 */
import { gelu } from '../forward.ts'

export interface TrainKernels {
  readonly name: string
  /** y[rows, m] = x[rows, n] · w[n, m] + b. */
  linear(x: Float32Array, rows: number, n: number, m: number, w: Float32Array, b: Float32Array): Float32Array
  /** dW += xᵀ·dy, db += Σ_rows dy; returns dx = dy·Wᵀ. */
  linearBack(x: Float32Array, dy: Float32Array, rows: number, n: number, m: number, w: Float32Array, dW: Float32Array, db: Float32Array): Float32Array
  /** Causal attention over qkv [B·T, 3d]: softmax rows probs [B, H, T, T] (zero above the diagonal) and att [B·T, d]. */
  attention(qkv: Float32Array, B: number, T: number, H: number, hd: number, scale: number): { probs: Float32Array; att: Float32Array }
  /** The gradient of attention with respect to qkv. */
  attentionBack(qkv: Float32Array, probs: Float32Array, datt: Float32Array, B: number, T: number, H: number, hd: number, scale: number): Float32Array
  /**
   * Tied LM head and cross-entropy: logits = hf·wteᵀ, summed loss over rows (targets[r]), dwte += its gradient
   * (each row's dlogits divided by `norm`), returns dhf.
   */
  lmHead(hf: Float32Array, N: number, d: number, wte: Float32Array, V: number, targets: Int32Array, norm: number, dwte: Float32Array): { lossSum: number; dhf: Float32Array }
  gelu(x: Float32Array): Float32Array
  /** g[i] *= gelu'(x[i]), in place. */
  geluBack(x: Float32Array, g: Float32Array): void
}

const GC = Math.sqrt(2 / Math.PI)
export function geluGrad(x: number): number {
  const u = GC * (x + 0.044715 * x * x * x)
  const t = Math.tanh(u)
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GC * (1 + 3 * 0.044715 * x * x)
}

/** The plain TypeScript loops (float32 storage, float64 temporaries). */
export const jsKernels: TrainKernels = {
  name: 'js',
  linear(x, rows, n, m, w, b) {
    const y = new Float32Array(rows * m)
    for (let r = 0; r < rows; r++) {
      const yo = r * m
      y.set(b, yo)
      const xo = r * n
      for (let k = 0; k < n; k++) {
        const a = x[xo + k]
        const wo = k * m
        for (let j = 0; j < m; j++) y[yo + j] += a * w[wo + j]
      }
    }
    return y
  },
  linearBack(x, dy, rows, n, m, w, dW, db) {
    const dx = new Float32Array(rows * n)
    for (let r = 0; r < rows; r++) {
      const yo = r * m
      const xo = r * n
      for (let j = 0; j < m; j++) db[j] += dy[yo + j]
      for (let k = 0; k < n; k++) {
        const a = x[xo + k]
        const wo = k * m
        let s = 0
        for (let j = 0; j < m; j++) {
          const g = dy[yo + j]
          dW[wo + j] += a * g
          s += g * w[wo + j]
        }
        dx[xo + k] = s
      }
    }
    return dx
  },
  attention: (qkv, B, T, H, hd, scale) => attentionLoops(qkv, B, T, H, hd, scale),
  attentionBack: (qkv, probs, datt, B, T, H, hd, scale) => attentionBackLoops(qkv, probs, datt, B, T, H, hd, scale),
  lmHead(hf, N, d, wte, V, targets, norm, dwte) {
    const dhf = new Float32Array(N * d)
    const row = new Float32Array(V)
    let lossSum = 0
    for (let r = 0; r < N; r++) {
      const ho = r * d
      let max = -Infinity
      for (let v = 0; v < V; v++) {
        const eo = v * d
        let s = 0
        for (let i = 0; i < d; i++) s += hf[ho + i] * wte[eo + i]
        row[v] = s
        if (s > max) max = s
      }
      let sum = 0
      for (let v = 0; v < V; v++) { const e = Math.exp(row[v] - max); row[v] = e; sum += e }
      const target = targets[r]
      lossSum -= Math.log(row[target] / sum)
      for (let v = 0; v < V; v++) {
        const g = (row[v] / sum - (v === target ? 1 : 0)) / norm
        const eo = v * d
        for (let i = 0; i < d; i++) {
          dwte[eo + i] += g * hf[ho + i]
          dhf[ho + i] += g * wte[eo + i]
        }
      }
    }
    return { lossSum, dhf }
  },
  gelu(x) {
    const y = new Float32Array(x.length)
    for (let i = 0; i < x.length; i++) y[i] = gelu(x[i])
    return y
  },
  geluBack(x, g) {
    for (let i = 0; i < x.length; i++) g[i] *= geluGrad(x[i])
  },
}

/**
 * Causal attention (TrainKernels.attention) in plain loops, with an optional head mask: head h's output is scaled by
 * mask[h] (1 when no mask is given), so a pruned model (mask 0) can be fine-tuned with the same code.
 */
export function attentionLoops(
  qkv: Float32Array, B: number, T: number, H: number, hd: number, scale: number, mask?: readonly number[],
): { probs: Float32Array; att: Float32Array } {
  const d = H * hd
  const probs = new Float32Array(B * H * T * T)
  const att = new Float32Array(B * T * d)
  for (let b = 0; b < B; b++) {
    for (let hh = 0; hh < H; hh++) {
      const m = mask === undefined ? 1 : (mask[hh] as number)
      const po = (b * H + hh) * T * T
      for (let t = 0; t < T; t++) {
        const qo = (b * T + t) * 3 * d + hh * hd
        let max = -Infinity
        for (let j = 0; j <= t; j++) {
          const ko = (b * T + j) * 3 * d + d + hh * hd
          let s = 0
          for (let i = 0; i < hd; i++) s += qkv[qo + i] * qkv[ko + i]
          s *= scale
          probs[po + t * T + j] = s
          if (s > max) max = s
        }
        let sum = 0
        for (let j = 0; j <= t; j++) { const e = Math.exp(probs[po + t * T + j] - max); probs[po + t * T + j] = e; sum += e }
        const ao = (b * T + t) * d + hh * hd
        for (let j = 0; j <= t; j++) {
          const p = probs[po + t * T + j] / sum
          probs[po + t * T + j] = p
          const a = p * m
          if (a === 0) continue
          const vo = (b * T + j) * 3 * d + 2 * d + hh * hd
          for (let i = 0; i < hd; i++) att[ao + i] += a * qkv[vo + i]
        }
      }
    }
  }
  return { probs, att }
}

/** The gradient of {@link attentionLoops} with respect to qkv (a head masked to 0 gets none). */
export function attentionBackLoops(
  qkv: Float32Array, probs: Float32Array, datt: Float32Array, B: number, T: number, H: number, hd: number, scale: number, mask?: readonly number[],
): Float32Array {
  const d = H * hd
  const dqkv = new Float32Array(B * T * 3 * d)
  const dP = new Float32Array(T)
  for (let b = 0; b < B; b++) {
    for (let hh = 0; hh < H; hh++) {
      const m = mask === undefined ? 1 : (mask[hh] as number)
      if (m === 0) continue
      const po = (b * H + hh) * T * T
      for (let t = 0; t < T; t++) {
        const ao = (b * T + t) * d + hh * hd
        let dot = 0
        for (let j = 0; j <= t; j++) {
          const vo = (b * T + j) * 3 * d + 2 * d + hh * hd
          const p = probs[po + t * T + j]
          let s = 0
          for (let i = 0; i < hd; i++) {
            const g = datt[ao + i] * m
            s += g * qkv[vo + i]
            dqkv[vo + i] += p * g
          }
          dP[j] = s
          dot += p * s
        }
        const qo = (b * T + t) * 3 * d + hh * hd
        for (let j = 0; j <= t; j++) {
          const dS = probs[po + t * T + j] * (dP[j] - dot) * scale
          if (dS === 0) continue
          const ko = (b * T + j) * 3 * d + d + hh * hd
          for (let i = 0; i < hd; i++) {
            dqkv[qo + i] += dS * qkv[ko + i]
            dqkv[ko + i] += dS * qkv[qo + i]
          }
        }
      }
    }
  }
  return dqkv
}
