/**
 * Quantized causal multi-head attention with a KV cache, plain TypeScript reference.
 *
 * Tensors are token-major: x[t][h][d] for T new tokens, H heads, head size D; int8 with one f32 scale per
 * (token, head) row. One step appends the T new keys/values at positions len … len+T−1 of the cache, then for every
 * *active* head h (headMask[h] true) and new token t at absolute position p = len + t:
 *   score[s] = Σ_d q[t][h][d]·k[s][h][d]                                  (int32, exact), s ≤ p (causal)
 *   logit[s] = f32(score[s])·qScale[t][h]·kScale[s][h] / √D
 *   prob[s]  = exp(logit[s] − max) / Σ exp(logit − max)                   (softmax in f32 on the GPU)
 *   out[t][h][d] = Σ_s prob[s]·f32(v[s][h][d])·vScale[s][h]
 * Pruned heads (headMask[h] false) get no work at all and output zeros. The reference computes the float parts in
 * float64; the GPU's f32 results are compared within 1e-5 (probabilities).
 */
import { InvalidInput } from '../errors.ts'

export interface AttentionShape {
  readonly heads: number
  readonly headDim: number
  /** Cache capacity in tokens. */
  readonly capacity: number
}

export interface AttentionStep {
  /** Number of new tokens T. */
  readonly tokens: number
  readonly q: Int8Array
  readonly qScale: Float32Array
  readonly k: Int8Array
  readonly kScale: Float32Array
  readonly v: Int8Array
  readonly vScale: Float32Array
  /** length H, true = head active. Default: all active. */
  readonly headMask?: ArrayLike<boolean>
  /** Return the int32 scores and the probabilities (default true). False skips their readback on the GPU. */
  readonly withScores?: boolean
}

export interface AttentionResult {
  /** T×H×D outputs (zeros for pruned heads). */
  readonly out: Float32Array
  /** Active head indices, in order; `scores`/`probs` are [active][T][S] with S = cache length after the step. */
  readonly activeHeads: readonly number[]
  readonly keys: number
  /** Exact int32 QKᵀ for s ≤ p (0 above the diagonal); empty when the step set `withScores: false`. */
  readonly scores: Int32Array
  readonly probs: Float32Array
  /** Work done per head, length H: GPU — workgroups executed (counted by the kernels); reference — query rows. */
  readonly work: Uint32Array
}

function bad(message: string, reason: 'bad_shape' | 'too_large' = 'bad_shape'): InvalidInput {
  return new InvalidInput({ op: 'attention', reason, message: `attention: ${message}` })
}

export function checkShape(s: AttentionShape): void {
  for (const [name, v] of Object.entries({ heads: s.heads, headDim: s.headDim, capacity: s.capacity })) {
    if (!Number.isInteger(v) || v < 1) throw bad(`${name} = ${v} must be a positive integer`)
  }
}

/** Validates a step against the shape and current cache length; returns the active heads. */
export function checkStep(shape: AttentionShape, length: number, st: AttentionStep): number[] {
  const { heads: H, headDim: D, capacity } = shape
  const T = st.tokens
  if (!Number.isInteger(T) || T < 1) throw bad(`tokens = ${T} must be a positive integer`)
  if (length + T > capacity) throw bad(`cache full: ${length} + ${T} > capacity ${capacity}`, 'too_large')
  for (const [name, arr, want] of [
    ['q', st.q, T * H * D],
    ['k', st.k, T * H * D],
    ['v', st.v, T * H * D],
    ['qScale', st.qScale, T * H],
    ['kScale', st.kScale, T * H],
    ['vScale', st.vScale, T * H],
  ] as const) {
    if (arr.length !== want) throw bad(`${name} has ${arr.length} values, expected ${want}`)
  }
  const mask = st.headMask
  if (mask && mask.length !== H) throw bad(`headMask has ${mask.length} entries, expected ${H}`)
  const active: number[] = []
  for (let h = 0; h < H; h++) if (!mask || mask[h]) active.push(h)
  return active
}

/** CPU KV cache + attention step, the reference for the GPU kernels. */
export class AttentionReference {
  readonly shape: AttentionShape
  length = 0
  readonly #k: Int8Array
  readonly #v: Int8Array
  readonly #ks: Float32Array
  readonly #vs: Float32Array

  constructor(shape: AttentionShape) {
    checkShape(shape)
    this.shape = shape
    const { heads: H, headDim: D, capacity: C } = shape
    this.#k = new Int8Array(C * H * D)
    this.#v = new Int8Array(C * H * D)
    this.#ks = new Float32Array(C * H)
    this.#vs = new Float32Array(C * H)
  }

  reset(): void {
    this.length = 0
  }

  /** Drops tokens past `length` (0 ≤ length ≤ current length), e.g. to roll back a speculative step. */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.length) {
      throw new InvalidInput({ op: 'attention', reason: 'bad_argument', message: `truncate to ${length}: cache holds ${this.length}` })
    }
    this.length = length
  }

  step(st: AttentionStep): AttentionResult {
    const active = checkStep(this.shape, this.length, st)
    const { heads: H, headDim: D } = this.shape
    const T = st.tokens
    const len0 = this.length
    this.#k.set(st.k, len0 * H * D)
    this.#v.set(st.v, len0 * H * D)
    this.#ks.set(st.kScale, len0 * H)
    this.#vs.set(st.vScale, len0 * H)
    this.length += T
    const S = this.length
    const out = new Float32Array(T * H * D)
    const scores = new Int32Array(active.length * T * S)
    const probs = new Float32Array(active.length * T * S)
    const inv = 1 / Math.sqrt(D)
    const logits = new Float64Array(S)
    const work = new Uint32Array(H)
    active.forEach((h, a) => {
      for (let t = 0; t < T; t++) {
        work[h] = (work[h] as number) + 1
        const p = len0 + t
        const qo = (t * H + h) * D
        const row = (a * T + t) * S
        let mx = -Infinity
        for (let s = 0; s <= p; s++) {
          const ko = (s * H + h) * D
          let acc = 0
          for (let d = 0; d < D; d++) acc += (st.q[qo + d] as number) * (this.#k[ko + d] as number)
          scores[row + s] = acc
          const l = acc * (st.qScale[t * H + h] as number) * (this.#ks[s * H + h] as number) * inv
          logits[s] = l
          if (l > mx) mx = l
        }
        let sum = 0
        for (let s = 0; s <= p; s++) {
          const e = Math.exp((logits[s] as number) - mx)
          logits[s] = e
          sum += e
        }
        for (let s = 0; s <= p; s++) probs[row + s] = (logits[s] as number) / sum
        for (let d = 0; d < D; d++) {
          let o = 0
          for (let s = 0; s <= p; s++) {
            o += ((logits[s] as number) / sum) * (this.#v[(s * H + h) * D + d] as number) * (this.#vs[s * H + h] as number)
          }
          out[(t * H + h) * D + d] = o
        }
      }
    })
    if (st.withScores === false) return { out, activeHeads: active, keys: S, scores: new Int32Array(0), probs: new Float32Array(0), work }
    return { out, activeHeads: active, keys: S, scores, probs, work }
  }
}
