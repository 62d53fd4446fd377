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
import type { AsyncLinearFn, LinearFn, LinearSite } from '../model/forward.ts'
import type { LinearOpCounter } from '../model/encrypted-ops.ts'
import { quantizeRowsInt8, quantizeWeightInt8, rescaleInt8, type ActivationQuant, type Int8Matrix, type QuantizedRows } from '../model/int8.ts'
import type { AsyncPolyBackend } from './async.ts'
import type { FheContext } from './context.ts'
import { Bfv, preparedFor } from './frontend.ts'
import { evaluateLinear, type LinearPlan, type PreparedLinear } from './linear.ts'
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
  /** Activation quantization before encryption (default 'absmax', as `int8Linear()`). */
  readonly activations?: ActivationQuant
}

/** The client's half of one product, before it goes to the miner. */
export interface EncryptedLinearRequest {
  readonly plan: LinearPlan
  /** The int8 activations' per-row scales and offsets (kept by the client for rescaling; `q` is what is encrypted). */
  readonly quant: QuantizedRows
  /** Serialized input ciphertexts (what goes up). */
  readonly inputs: Uint8Array[]
}

/**
 * Client: int8 quantization of the activations (`mode`: 'absmax' as `int8Linear()`, or the whitepaper's §5.1
 * dynamic quantization), planning, encryption.
 */
export function clientEncryptLinear(
  ctx: FheContext, secretKey: SecretKey, x: Float32Array, rows: number, inDim: number, outDim: number,
  rng: RandomSource = cryptoRandom, mode: ActivationQuant = 'absmax',
): EncryptedLinearRequest {
  const quant = quantizeRowsInt8(x, rows, inDim, mode)
  const planner = Bfv.create(ctx).linearPlanner()
  const plan = planner.plan({ dIn: inDim, dOut: outDim, tokens: rows })
  return { plan, quant, inputs: planner.encryptInputs(secretKey, plan, quant.q, rng).map((c) => serializeCiphertext(ctx, c)) }
}

/**
 * Miner: evaluates one product on ciphertexts with the public int8 weights, synchronously on the context's CPU
 * backend (`LinearPlanner.evaluateSerialized` is the same on an injected accelerator, e.g. a GPU kernel worker).
 * Never sees a key or a plaintext. Weights are prepared once per (weights, plan) in `cache`. Throws the FHE errors
 * (CiphertextDecodeError for corrupt or mismatched ciphertexts, InvalidOperand for wrong shapes).
 */
export function minerEvaluateLinear(
  ctx: FheContext, plan: LinearPlan, weights: Int8Matrix, inputs: readonly Uint8Array[], cache: Map<string, PreparedLinear>,
): { outputs: Uint8Array[]; prepareMs: number } {
  const cts = inputs.map((u) => deserializeCiphertext(ctx, u))
  const { prepared, prepareMs } = preparedFor(Bfv.create(ctx).linearPlanner(), plan, weights.q, cache)
  return { outputs: evaluateLinear(ctx, prepared, cts).map((p) => serializePartial(ctx, p)), prepareMs }
}

/** Client: decrypts the exact int32 accumulators and rescales exactly as `int8Linear` does (`rescaleInt8`). */
export function clientDecryptLinear(
  ctx: FheContext, secretKey: SecretKey, req: EncryptedLinearRequest, outputs: readonly Uint8Array[], weights: Int8Matrix, b: Float32Array,
): Float32Array {
  const acc = Bfv.create(ctx).linearPlanner().decrypt(secretKey, req.plan, outputs.map((d) => deserializePartial(ctx, d)))
  return rescaleInt8(acc, req.quant, weights, b)
}

/** One product's client and miner halves around `miner` (sync or async), with the record `onProduct` gets. */
function encryptedProduct<R>(opts: EncryptedLinearOptions, miner: (plan: LinearPlan, m: Int8Matrix, inputs: Uint8Array[], cache: Map<string, PreparedLinear>) => R) {
  const { ctx, secretKey } = opts
  const rng = opts.rng ?? cryptoRandom
  const weights = new WeakMap<Float32Array, Int8Matrix>()
  const prepared = new WeakMap<Float32Array, Map<string, PreparedLinear>>()
  return (x: Float32Array, rows: number, inDim: number, outDim: number, w: Float32Array, b: Float32Array, site: LinearSite) => {
    let m = weights.get(w)
    if (m === undefined || m.inDim !== inDim || m.outDim !== outDim) {
      m = quantizeWeightInt8(w, inDim, outDim)
      weights.set(w, m)
    }
    const t0 = performance.now()
    const req = clientEncryptLinear(ctx, secretKey, x, rows, inDim, outDim, rng, opts.activations ?? 'absmax')
    const t1 = performance.now()
    let cache = prepared.get(w)
    if (!cache) {
      cache = new Map()
      prepared.set(w, cache)
    }
    const finish = ({ outputs, prepareMs }: { outputs: Uint8Array[]; prepareMs: number }): Float32Array => {
      const t2 = performance.now()
      const y = clientDecryptLinear(ctx, secretKey, req, outputs, m, b)
      const t3 = performance.now()
      opts.onProduct?.({
        site,
        rows,
        inDim,
        outDim,
        plan: req.plan,
        bytesUp: req.inputs.reduce((s, u) => s + u.length, 0),
        bytesDown: outputs.reduce((s, d) => s + d.length, 0),
        clientMs: t1 - t0 + (t3 - t2),
        minerMs: t2 - t1 - prepareMs,
        prepareMs,
      })
      return y
    }
    return { result: miner(req.plan, m, req.inputs, cache), finish }
  }
}

/** An int8 `LinearFn` computing every dense product under BFV encryption (client and miner in this process). */
export function encryptedInt8Linear(opts: EncryptedLinearOptions): LinearFn {
  const product = encryptedProduct(opts, (plan, m, inputs, cache) => minerEvaluateLinear(opts.ctx, plan, m, inputs, cache))
  return (x, rows, inDim, outDim, w, b, site) => {
    const { result, finish } = product(x, rows, inDim, outDim, w, b, site)
    return finish(result)
  }
}

/**
 * `encryptedInt8Linear` with the miner's half on an accelerator (`LinearPlanner.evaluateSerialized` over
 * `accelerator`, e.g. `kernelPolyBackend(KernelService)`): an `AsyncLinearFn` for `forwardAsync`. Same words.
 */
export function encryptedInt8LinearAsync(opts: EncryptedLinearOptions & { readonly accelerator: AsyncPolyBackend }): AsyncLinearFn {
  const planner = Bfv.create(opts.ctx, { accelerator: opts.accelerator }).linearPlanner()
  const product = encryptedProduct(opts, (plan, m, inputs, cache) => planner.evaluateSerialized(plan, m.q, inputs, cache))
  return async (x, rows, inDim, outDim, w, b, site) => {
    const { result, finish } = product(x, rows, inDim, outDim, w, b, site)
    return finish(await result)
  }
}

/**
 * basedai/model's `LinearOpCounter` from the FHE planner: what one dense product really costs under the packing
 * `planLinear` chooses (ciphertext × plaintext products, ciphertexts each way; no rotations, no ct×ct multiplies).
 */
export function plannerOpCounter(ctx: FheContext): LinearOpCounter {
  const planner = Bfv.create(ctx).linearPlanner()
  return ({ dIn, dOut, tokens }) => {
    const p = planner.plan({ dIn, dOut, tokens })
    return {
      ctPtProducts: p.rowBlocks * p.inChunks * p.tokenBlocks,
      rotations: 0,
      ctCtMultiplies: 0,
      ciphertextsUp: p.inputCiphertexts,
      ciphertextsDown: p.outputCiphertexts,
    }
  }
}
