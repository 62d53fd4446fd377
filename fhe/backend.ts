/**
 * `FheBackend`: the one interface a Brain's task configuration names (`{ backend: 'bfv', preset: … }`), so clients and
 * miners agree on a scheme without importing its internals. Ciphertexts and evaluation keys cross it as bytes (what
 * travels between client and miner); secret material stays inside an opaque `FheKeys` handle that only the backend
 * that made it can open.
 *
 * Backends:
 * - `bfv` (this package): everything — keygen, encrypt, decrypt, add/sub/negate, plaintext and ciphertext multiply,
 *   and encrypted int8 linear layers.
 * - `tfhe` (Zama TFHE-rs compiled to wasm, `createTfheBackend` in tfhe.ts): its JS API offers key generation,
 *   encryption, decryption and serialization only — no homomorphic operations, and the server key cannot be
 *   serialized from JS — so every evaluation method fails with `BackendUnsupported`. It is a client-side peer, not
 *   something a miner can run.
 */
import { Either, Schema } from 'effect'
import type { FheContext } from './context.ts'
import { InvalidParams } from './errors.ts'
import { Bfv } from './frontend.ts'
import { multiplyRelin as multiplyRelinSync } from './evaluate.ts'
import { evaluateLinear, type LinearPlan, type LinearShape, type PreparedLinear } from './linear.ts'
import type { presets } from './presets.ts'
import {
  deserializeCiphertext,
  deserializePartial,
  deserializeRelinKeys,
  serializeCiphertext,
  serializePartial,
  serializeRelinKeys,
} from './serialize.ts'
import type { SecretKey } from './types.ts'

/** An opaque key handle; only the backend that created it can use it. */
export interface FheKeys {
  readonly backend: string
  readonly paramsId: string
  /** What a miner needs to evaluate (relinearization keys), serialized; empty when the backend cannot evaluate. */
  readonly evaluationKeys: Uint8Array
}

/** A linear layer's public weights, prepared by a miner for one plan. */
export interface LinearLayerHandle {
  readonly backend: string
  readonly plan: LinearPlan
}

export interface FheBackend {
  readonly name: 'bfv' | 'tfhe'
  readonly paramsId: string
  /** False when the backend cannot run any homomorphic operation (tfhe from JS). */
  readonly canEvaluate: boolean
  // Client side.
  keygen(): FheKeys
  encrypt(keys: FheKeys, values: Int32Array): Uint8Array
  decrypt(keys: FheKeys, ciphertext: Uint8Array, count: number): Int32Array
  // Miner side (elementwise on coefficient-encoded vectors; multiply is the negacyclic polynomial product).
  add(a: Uint8Array, b: Uint8Array): Uint8Array
  sub(a: Uint8Array, b: Uint8Array): Uint8Array
  negate(a: Uint8Array): Uint8Array
  multiplyPlain(a: Uint8Array, values: Int32Array): Uint8Array
  multiply(a: Uint8Array, b: Uint8Array, evaluationKeys: Uint8Array): Uint8Array
  // Encrypted linear layers y = W·x.
  planLinear(shape: LinearShape): LinearPlan
  encryptLinearInput(keys: FheKeys, plan: LinearPlan, x: Int8Array): Uint8Array[]
  prepareLinear(plan: LinearPlan, w: Int8Array): LinearLayerHandle
  evaluateLinear(layer: LinearLayerHandle, inputs: readonly Uint8Array[]): Uint8Array[]
  decryptLinearOutput(keys: FheKeys, plan: LinearPlan, outputs: readonly Uint8Array[]): Int32Array
}

/** A Brain task's choice of FHE backend. */
export const FheTaskConfig = Schema.Struct({
  backend: Schema.Literal('bfv', 'tfhe'),
  preset: Schema.optional(Schema.Literal('bfv4096', 'bfv4096Linear', 'bfv8192', 'bfv8192Linear')),
})
export type FheTaskConfig = typeof FheTaskConfig.Type

export function decodeFheTaskConfig(input: unknown): FheTaskConfig {
  const r = Schema.decodeUnknownEither(FheTaskConfig)(input)
  if (Either.isLeft(r)) throw new InvalidParams({ reason: 'schema', message: `bad FHE task config: ${String(r.left.message)}` })
  return r.right
}

const bfvSecrets = new WeakMap<FheKeys, SecretKey>()
const bfvLayers = new WeakMap<LinearLayerHandle, PreparedLinear>()

/**
 * The BFV backend over a context (default preset: bfv4096Linear, which the linear layers need): the byte-level face
 * of the `Bfv` front end (frontend.ts), synchronous, on the context's CPU backend.
 */
export function createBfvBackend(ctxOrPreset: FheContext | keyof typeof presets = 'bfv4096Linear'): FheBackend {
  const bfv = Bfv.create(ctxOrPreset)
  const ctx = bfv.ctx
  const coder = bfv.encoder()
  const planner = bfv.linearPlanner()
  const open = (keys: FheKeys): SecretKey => {
    const sk = bfvSecrets.get(keys)
    if (!sk || keys.paramsId !== ctx.paramsId) {
      throw new InvalidParams({ reason: 'schema', message: 'these keys were not made by this BFV backend' })
    }
    return sk
  }
  const ct = (b: Uint8Array) => deserializeCiphertext(ctx, b)
  const out = (c: Parameters<typeof serializeCiphertext>[1]) => serializeCiphertext(ctx, c)
  const evaluator = bfv.evaluator()
  return {
    name: 'bfv',
    paramsId: ctx.paramsId,
    canEvaluate: true,
    keygen() {
      const kg = bfv.keyGenerator()
      const keys: FheKeys = { backend: 'bfv', paramsId: ctx.paramsId, evaluationKeys: serializeRelinKeys(ctx, kg.createRelinKeys()) }
      bfvSecrets.set(keys, kg.secretKey)
      return keys
    },
    encrypt(keys, values) {
      return out(bfv.encryptor(open(keys)).encrypt(coder.encode(values)))
    },
    decrypt(keys, bytes, count) {
      return coder.decode(bfv.decryptor(open(keys)).decrypt(ct(bytes)), count)
    },
    add: (a, b) => out(evaluator.add(ct(a), ct(b))),
    sub: (a, b) => out(evaluator.sub(ct(a), ct(b))),
    negate: (a) => out(evaluator.negate(ct(a))),
    multiplyPlain: (a, values) => out(evaluator.multiplyPlain(ct(a), coder.encode(values))),
    // Synchronous by this interface's contract: the CPU path of Evaluator.multiplyRelin.
    multiply: (a, b, evk) => out(multiplyRelinSync(ctx, ct(a), ct(b), deserializeRelinKeys(ctx, evk))),
    planLinear: (shape) => planner.plan(shape),
    encryptLinearInput: (keys, plan, x) => planner.encryptInputs(open(keys), plan, x).map(out),
    prepareLinear(plan, w) {
      const handle: LinearLayerHandle = { backend: 'bfv', plan }
      bfvLayers.set(handle, planner.prepare(plan, w))
      return handle
    },
    evaluateLinear(layer, inputs) {
      const prepared = bfvLayers.get(layer)
      if (!prepared) throw new InvalidParams({ reason: 'schema', message: 'linear layer was not prepared by this backend' })
      return evaluateLinear(ctx, prepared, inputs.map(ct)).map((p) => serializePartial(ctx, p))
    },
    decryptLinearOutput: (keys, plan, outputs) => planner.decrypt(open(keys), plan, outputs.map((b) => deserializePartial(ctx, b))),
  }
}
