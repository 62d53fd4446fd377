/**
 * `basedai/fhe`: BFV over RNS (HPS variant) on the kernels' NTT, and encrypted linear layers.
 *
 * Shape follows SEAL: light parameters (`params.ts`, vetted `presets`) → a validated, precomputed `FheContext` →
 * role objects: key generation (`createKeyGenerator`), encryption (`encryptPublic`, `encryptSymmetric`), decryption
 * (`decrypt`, `noiseBudget`) and evaluation (`add`, `multiplyPlain`, `multiply`, `relinearize`, `modSwitchToNext`…).
 * Only parameter sets inside the HomomorphicEncryption.org 128-bit classical table are accepted.
 * Polynomial arithmetic runs on the fastest `PolyBackend` the engine has (`defaultPolyBackend`: WebAssembly SIMD built
 * from fhe/wasm/assembly/poly.ts, else scalar WebAssembly, else the TypeScript reference `cpuBackend`).
 *
 * @example
 * ```ts
 * import { createFheContext, createKeyGenerator, encodeIntegers, encryptPublic, decrypt, decodeSigned, multiplyPlain, presets } from 'basedai/fhe'
 * const ctx = createFheContext(presets.bfv4096)
 * const kg = createKeyGenerator(ctx)
 * const ct = encryptPublic(ctx, kg.createPublicKey(), encodeIntegers(ctx, [1, -2, 3]))
 * const twice = multiplyPlain(ctx, ct, encodeIntegers(ctx, [2]))
 * decodeSigned(ctx, decrypt(ctx, kg.secretKey, twice), 3) // Int32Array [2, -4, 6]
 * ```
 */
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
  multiplyRelinAsync,
  relinearizeAsync,
  type AsyncPolyBackend,
} from './async.ts'
export { toCoefficientForm } from './evaluate.ts'
export {
  clientDecryptLinear,
  clientEncryptLinear,
  encryptedInt8Linear,
  minerEvaluateLinear,
  plannerOpCounter,
  type EncryptedLinearOptions,
  type EncryptedLinearRecord,
  type EncryptedLinearRequest,
} from './inference.ts'
