/**
 * Encrypted linear layers inside a model's forward pass: an int8 `LinearFn` (basedai/model's hook) whose every dense
 * product runs through the encrypted linear layer — the client quantizes and encrypts its activations, the miner
 * evaluates on ciphertexts with the public int8 weights, the client decrypts the exact int32 accumulators and
 * rescales. Client and miner run in one process here, with the bytes each side would send serialized and parsed, so
 * tests and benches see the real wire sizes; the split across machines is the actor layer's job.
 *
 * Its output is bit-identical to `int8Linear()` from basedai/model (same per-channel weight quantization, same
 * per-row activation quantization, exact int32 accumulators, same float rescaling), which the tests check on the
 * shipped model. Non-linear layers (LayerNorm, softmax, GELU) stay with the client, in plaintext.
 */
import type { LinearFn, LinearSite } from '../model/forward.ts'
import { quantizeWeightInt8, type Int8Matrix } from '../model/int8.ts'
import type { FheContext } from './context.ts'
import {
  decryptLinear,
  encryptActivations,
  evaluateLinear,
  planLinear,
  prepareLinear,
  type LinearPlan,
  type PreparedLinear,
} from './linear.ts'
import { cryptoRandom, type RandomSource } from './rng.ts'
import { deserializeCiphertext, deserializePartial, serializeCiphertext, serializePartial } from './serialize.ts'
import type { SecretKey } from './types.ts'

/** What one encrypted dense product cost. */
export interface EncryptedLinearRecord {
  readonly site: LinearSite
  readonly rows: number
  readonly inDim: number
  readonly outDim: number
  readonly plan: LinearPlan
  readonly bytesUp: number
  readonly bytesDown: number
  readonly clientMs: number
  /** Miner evaluation time, excluding weight preparation. */
  readonly minerMs: number
  /** One-off weight preparation on this call (0 when the prepared weights were cached). */
  readonly prepareMs: number
}

export interface EncryptedLinearOptions {
  readonly ctx: FheContext
  /** The client's key (the miner half below never reads it). */
  readonly secretKey: SecretKey
  readonly rng?: RandomSource
  /** Called after every product with its sizes and timings. */
  readonly onProduct?: (r: EncryptedLinearRecord) => void
}

/** An int8 `LinearFn` computing every dense product under BFV encryption. */
export function encryptedInt8Linear(opts: EncryptedLinearOptions): LinearFn {
  const { ctx, secretKey } = opts
  const rng = opts.rng ?? cryptoRandom
  const weights = new WeakMap<Float32Array, Int8Matrix>()
  const prepared = new WeakMap<Float32Array, Map<string, PreparedLinear>>()
  return (x, rows, inDim, outDim, w, b, site) => {
    let m = weights.get(w)
    if (m === undefined || m.inDim !== inDim || m.outDim !== outDim) {
      m = quantizeWeightInt8(w, inDim, outDim)
      weights.set(w, m)
    }
    // Client: per-row activation quantization (as int8Linear does), then encryption.
    const t0 = performance.now()
    const qa = new Int8Array(rows * inDim)
    const aScale = new Float64Array(rows)
    for (let r = 0; r < rows; r++) {
      const xo = r * inDim
      let max = 0
      for (let k = 0; k < inDim; k++) max = Math.max(max, Math.abs(x[xo + k] as number))
      const as = max === 0 ? 1 : max / 127
      aScale[r] = as
      for (let k = 0; k < inDim; k++) qa[xo + k] = Math.round((x[xo + k] as number) / as)
    }
    const plan = planLinear(ctx, { dIn: inDim, dOut: outDim, tokens: rows })
    const up = encryptActivations(ctx, secretKey, plan, qa, rng).map((c) => serializeCiphertext(ctx, c))
    const t1 = performance.now()
    // Miner: public weights, prepared once per (tensor, plan).
    let byPlan = prepared.get(w)
    if (!byPlan) {
      byPlan = new Map()
      prepared.set(w, byPlan)
    }
    const key = `${plan.ni}/${plan.mt}/${plan.no}/${rows}`
    let pw = byPlan.get(key)
    let prepareMs = 0
    if (!pw) {
      const tp = performance.now()
      pw = prepareLinear(ctx, plan, m.q)
      byPlan.set(key, pw)
      prepareMs = performance.now() - tp
    }
    const down = evaluateLinear(ctx, pw, up.map((u) => deserializeCiphertext(ctx, u))).map((p) => serializePartial(ctx, p))
    const t2 = performance.now()
    // Client: decrypt the exact accumulators and rescale exactly as int8Linear does.
    const acc = decryptLinear(ctx, secretKey, plan, down.map((d) => deserializePartial(ctx, d)))
    const y = new Float32Array(rows * outDim)
    for (let r = 0; r < rows; r++) {
      const as = aScale[r] as number
      for (let j = 0; j < outDim; j++) y[r * outDim + j] = (acc[r * outDim + j] as number) * as * (m.scale[j] as number) + (b[j] as number)
    }
    const t3 = performance.now()
    opts.onProduct?.({
      site,
      rows,
      inDim,
      outDim,
      plan,
      bytesUp: up.reduce((s, u) => s + u.length, 0),
      bytesDown: down.reduce((s, d) => s + d.length, 0),
      clientMs: t1 - t0 + (t3 - t2),
      minerMs: t2 - t1 - prepareMs,
      prepareMs,
    })
    return y
  }
}
