/**
 * `basedai/fhe`: BFV over RNS (HPS variant), and encrypted linear layers — one front end, shaped as SEAL's.
 *
 * The front end (frontend.ts): `Bfv.create(preset | params | context, { backend?, accelerator? })` is the context
 * (validated parameters, precomputed tables, the injected polynomial backend) → `keyGenerator()`, `encoder()`,
 * `encryptor(key)`, `decryptor(secretKey)`, `evaluator()`, and `linearPlanner()` on top (plan, client encryption,
 * miner preparation and evaluation, client decryption). The backend is injected: `backend` is the synchronous CPU
 * `PolyBackend` (default `defaultPolyBackend`: WebAssembly SIMD built from fhe/wasm/assembly/poly.ts, else scalar
 * wasm, else the TypeScript reference `cpuBackend`); `accelerator` is an optional `AsyncPolyBackend` for the batched
 * NTTs of multiply, relinearize and linear-layer evaluation — `kernelPolyBackend(service)` over basedai/kernels (a
 * `KernelService` in this thread, or `kernelWorkerClient(ask)` for a kernel-worker actor). Over a `KernelService`
 * with an adapter, `Evaluator.multiplyRelin(Many)` runs resident on the device (lift, NTTs, tensor, t/Q scaling and
 * relinearization in one submission per batch; every rounding exact in integers). Results are bit-identical on
 * every backend. Only parameter sets inside the HomomorphicEncryption.org 128-bit classical table are accepted.
 *
 * Compatibility: what this package exported before the front end keeps working, as aliases of it.
 * - The free functions (`createFheContext`, `createKeyGenerator`, `encryptPublic`, `encryptSymmetric`, `decrypt`,
 *   `noiseBudget`, `add`, `multiply`, `relinearize`, `multiplyRelin`, …) are the front end's synchronous CPU layer:
 *   `Bfv`'s roles call them.
 * - linear.ts (`planLinear`, `encryptActivations`, `prepareLinear`, `evaluateLinear`, `decryptLinear`, …) is what
 *   `LinearPlanner` calls; `evaluateLinear` = `planner.evaluate` without an accelerator.
 * - async.ts (`multiplyAsync`, `relinearizeAsync`, `multiplyRelinAsync`, `evaluateLinearFullAsync`) = the
 *   `Evaluator`/`LinearPlanner` methods with an accelerator; `asyncPolyBackend` and `kernelPolyBackend` build one.
 * - backend.ts (`createBfvBackend`, `FheBackend`): the byte-level face of `Bfv` that a Brain's task config names
 *   (`{ backend: 'bfv' | 'tfhe' }`), synchronous, on the CPU.
 * - inference.ts (`clientEncryptLinear`, `minerEvaluateLinear`, `clientDecryptLinear`, `encryptedInt8Linear`,
 *   `plannerOpCounter`): the model-level halves (int8 quantization around `LinearPlanner`); `minerEvaluateLinear`
 *   is the synchronous CPU form of `LinearPlanner.evaluateSerialized`.
 * - `DecodeError` is the deprecated name of `CiphertextDecodeError` (its tag changed to that).
 *
 * @example
 * ```ts
 * import { Bfv } from 'basedai/fhe'
 * const bfv = Bfv.create('bfv4096')
 * const keys = bfv.keyGenerator()
 * const coder = bfv.encoder()
 * const ct = bfv.encryptor(keys.createPublicKey()).encrypt(coder.encode([1, -2, 3]))
 * const twice = bfv.evaluator().multiplyPlain(ct, coder.encode([2]))
 * coder.decode(bfv.decryptor(keys.secretKey).decrypt(twice), 3) // Int32Array [2, -4, 6]
 * ```
 */
export { Bfv, Decryptor, Encryptor, Evaluator, IntegerEncoder, LinearPlanner, preparedFor, type BfvOptions } from './frontend.ts'
export { createFheContext, makeFheContext, validateParams, type FheContext, type LevelData } from './context.ts'
export { decrypt, decryptCoefficients, decryptPartial, noiseBudget } from './decrypt.ts'
export { centre, decodeSigned, encodeIntegers } from './encoder.ts'
export { encryptPublic, encryptSymmetric } from './encrypt.ts'
export * from './errors.ts'
export {
  add,
  addPlain,
  modSwitchTo,
  modSwitchToNext,
  multiply,
  multiplyPlain,
  multiplyRelin,
  negate,
  preparePlain,
  relinearize,
  sub,
  subPlain,
} from './evaluate.ts'
export { createKeyGenerator, type KeyGenerator } from './keygen.ts'
export { bfvParams, BfvParamsSchema, type BfvParams, type BfvParamsInput, type ErrorDistribution } from './params.ts'
export {
  cpuBackend,
  type FusedKernels,
  type MulConstants,
  type PolyBackend,
  type PreparedPoly,
  type RnsBase,
  type RnsKernels,
  type RnsPoly,
} from './poly.ts'
export { referenceRns, type DecryptConstants } from './rns.ts'
export { availablePolyBackends, defaultPolyBackend, engineHasSimd, wasmScalarBackend, wasmSimdBackend } from './wasm/load.ts'
export type { WasmPolyBackend } from './wasm/backend.ts'
export { presets, PRIMES_31, type PresetName } from './presets.ts'
export { cryptoRandom, seededRandom, type RandomSource } from './rng.ts'
export { MAX_LOG_Q_128, maxLogQ } from './security.ts'
export type { Ciphertext, Plaintext, PublicKey, RelinKeys, SecretKey } from './types.ts'
export {
  deserializeCiphertext,
  deserializePartial,
  deserializePublicKey,
  deserializeRelinKeys,
  deserializeSecretKey,
  FORMAT_VERSION,
  serializeCiphertext,
  serializePartial,
  serializePublicKey,
  serializeRelinKeys,
  serializeSecretKey,
  type PartialCiphertext,
} from './serialize.ts'
export {
  decryptLinear,
  encryptActivations,
  evaluateLinear,
  evaluateLinearFull,
  linearPlain,
  planLinear,
  prepareLinear,
  resultIndices,
  toPartials,
  worstCaseBudget,
  type LinearPlan,
  type LinearShape,
  type PlanOptions,
  type PreparedLinear,
} from './linear.ts'
export {
  createBfvBackend,
  decodeFheTaskConfig,
  FheTaskConfig,
  type FheBackend,
  type FheKeys,
  type LinearLayerHandle,
} from './backend.ts'
export { createTfheBackend, loadTfhe } from './tfhe.ts'
export {
  asyncPolyBackend,
  evaluateLinearFullAsync,
  kernelPolyBackend,
  multiplyAsync,
  multiplyManyAsync,
  multiplyRelinAsync,
  multiplyRelinManyAsync,
  mulSpec,
  packRelinKeys,
  relinearizeAsync,
  relinearizeManyAsync,
  type AsyncPolyBackend,
  type BfvKeysRef,
  type PolyKernels,
} from './async.ts'
export { toCoefficientForm } from './evaluate.ts'
export {
  clientDecryptLinear,
  clientEncryptLinear,
  encryptedInt8Linear,
  encryptedInt8LinearAsync,
  minerEvaluateLinear,
  plannerOpCounter,
  type EncryptedLinearOptions,
  type EncryptedLinearRecord,
  type EncryptedLinearRequest,
} from './inference.ts'
