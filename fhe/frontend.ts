/**
 * The FHE front end, shaped as SEAL's: a context (`Bfv`: parameters + the polynomial backend it runs on) → key
 * generator, `IntegerEncoder`, `Encryptor`, `Decryptor`, `Evaluator`, and the encrypted linear-layer planner on top
 * (`LinearPlanner`: plan, client encryption, miner preparation and evaluation, client decryption).
 *
 * The polynomial backend is injected, in two parts:
 * - `backend` (synchronous `PolyBackend`): the CPU work — encryption, decryption, key generation, plaintext
 *   products, RNS conversions. Default `defaultPolyBackend` (WebAssembly SIMD where the engine has it, else scalar
 *   wasm, else the TypeScript reference `cpuBackend`).
 * - `accelerator` (`AsyncPolyBackend`, optional): where the batched NTTs and tensor products of the heavy evaluator
 *   operations run — `multiply`, `relinearize`, `multiplyRelin` and `LinearPlanner.evaluate`. E.g.
 *   `kernelPolyBackend(service)` for a `KernelService` in this thread, or `kernelPolyBackend(await kernelWorkerClient(ask))`
 *   for a kernel-worker actor. Without one, those operations run on `backend` (with its fused kernels).
 * Every combination gives the same words: the accelerated paths are tested bit for bit against the CPU.
 *
 * The heavy evaluator operations are `async` (a GPU's readback is); the cheap ones (add, plaintext products,
 * modulus switching) are synchronous, as SEAL's.
 *
 * @example
 * ```ts
 * import { Bfv } from 'basedai/fhe'
 * const bfv = Bfv.create('bfv4096')                       // or Bfv.create('bfv4096', { accelerator: kernelPolyBackend(svc) })
 * const keys = bfv.keyGenerator()
 * const enc = bfv.encryptor(keys.createPublicKey()), dec = bfv.decryptor(keys.secretKey), coder = bfv.encoder()
 * const ct = enc.encrypt(coder.encode([1, -2, 3]))
 * const sq = await bfv.evaluator().multiplyRelin(ct, ct, keys.createRelinKeys())
 * coder.decode(dec.decrypt(sq), 5)                         // Int32Array [1, -4, 10, -12, 9]: (1 − 2X + 3X²)²
 * ```
 */
import { evaluateLinearFullAsync, multiplyAsync, multiplyRelinManyAsync, relinearizeAsync, type AsyncPolyBackend } from './async.ts'
import { createFheContext, type FheContext } from './context.ts'
import { decrypt, decryptPartial, noiseBudget } from './decrypt.ts'
import { decodeSigned, encodeIntegers } from './encoder.ts'
import { encryptPublic, encryptSymmetric } from './encrypt.ts'
import * as ev from './evaluate.ts'
import { createKeyGenerator, type KeyGenerator } from './keygen.ts'
import {
  decryptLinear,
  encryptActivations,
  evaluateLinearFull,
  planLinear,
  prepareLinear,
  toPartials,
  type LinearPlan,
  type LinearShape,
  type PlanOptions,
  type PreparedLinear,
} from './linear.ts'
import type { BfvParamsInput } from './params.ts'
import type { PolyBackend, PreparedPoly } from './poly.ts'
import { presets, type PresetName } from './presets.ts'
import { cryptoRandom, type RandomSource } from './rng.ts'
import { deserializeCiphertext, serializePartial, type PartialCiphertext } from './serialize.ts'
import type { Ciphertext, Plaintext, PublicKey, RelinKeys, SecretKey } from './types.ts'

export interface BfvOptions {
  /** Synchronous polynomial backend for the CPU work (default `defaultPolyBackend`). Ignored when given a context. */
  readonly backend?: PolyBackend
  /** Where the batched NTTs of multiply, relinearize and linear-layer evaluation run (default: `backend`). */
  readonly accelerator?: AsyncPolyBackend
}

/** SEAL's `SEALContext`: validated parameters, precomputed tables, and the injected backends. */
export class Bfv {
  readonly ctx: FheContext
  /** The injected accelerator, when there is one. */
  readonly accelerator: AsyncPolyBackend | undefined

  private constructor(ctx: FheContext, accelerator: AsyncPolyBackend | undefined) {
    this.ctx = ctx
    this.accelerator = accelerator
  }

  /**
   * A context from a preset name, parameters, or an existing `FheContext` (shared, so its tables are not rebuilt).
   * @throws InvalidParams for parameters outside the 128-bit table or not NTT-friendly
   */
  static create(params: PresetName | BfvParamsInput | FheContext, opts: BfvOptions = {}): Bfv {
    const ctx = isContext(params) ? params : createFheContext(typeof params === 'string' ? presets[params] : params, opts.backend)
    return new Bfv(ctx, opts.accelerator)
  }

  /** The same parameters and CPU backend with another accelerator (or none). */
  withAccelerator(accelerator: AsyncPolyBackend | undefined): Bfv {
    return new Bfv(this.ctx, accelerator)
  }

  /** Which backend runs the heavy operations: the accelerator's name (`kernels:webgpu`, …) or the CPU backend's. */
  get backendName(): string {
    return this.accelerator?.name ?? this.ctx.backend.name
  }

  /** Secret key, public key, relinearization keys (SEAL's `KeyGenerator`). */
  keyGenerator(rng: RandomSource = cryptoRandom): KeyGenerator {
    return createKeyGenerator(this.ctx, rng)
  }
  encoder(): IntegerEncoder {
    return new IntegerEncoder(this)
  }
  encryptor(key: PublicKey | SecretKey, rng?: RandomSource): Encryptor {
    return new Encryptor(this, key, rng)
  }
  decryptor(secretKey: SecretKey): Decryptor {
    return new Decryptor(this, secretKey)
  }
  evaluator(): Evaluator {
    return new Evaluator(this)
  }
  linearPlanner(opts: PlanOptions = {}): LinearPlanner {
    return new LinearPlanner(this, opts)
  }
}

function isContext(x: unknown): x is FheContext {
  return typeof x === 'object' && x !== null && 'paramsId' in x && 'mulData' in x
}

/** Integers ↔ plaintext coefficients mod t (coefficient encoding; the linear layers' packing builds on it). */
export class IntegerEncoder {
  private readonly ctx: FheContext
  constructor(bfv: Bfv) {
    this.ctx = bfv.ctx
  }
  /** @throws InvalidOperand (`shape` for more than N values, `value_out_of_range` for non-integers) */
  encode(values: ArrayLike<number>): Plaintext {
    return encodeIntegers(this.ctx, values)
  }
  /** The first `count` coefficients as signed integers in (−t/2, t/2]. */
  decode(pt: Plaintext, count?: number): Int32Array {
    return decodeSigned(this.ctx, pt, count)
  }
}

/** Public-key or secret-key encryption, by the key it is given (SEAL's `Encryptor`). */
export class Encryptor {
  private readonly ctx: FheContext
  private readonly key: PublicKey | SecretKey
  private readonly rng: RandomSource

  constructor(bfv: Bfv, key: PublicKey | SecretKey, rng: RandomSource = cryptoRandom) {
    this.ctx = bfv.ctx
    this.key = key
    this.rng = rng
  }
  /** `ntt: true` (secret key only): the ciphertext in NTT form, as linear-layer inputs travel. */
  encrypt(pt: Plaintext, opts: { readonly ntt?: boolean } = {}): Ciphertext {
    return 'sNtt' in this.key ? encryptSymmetric(this.ctx, this.key, pt, this.rng, opts) : encryptPublic(this.ctx, this.key, pt, this.rng)
  }
}

/** Decryption and the invariant noise budget (SEAL's `Decryptor`). */
export class Decryptor {
  private readonly ctx: FheContext
  private readonly sk: SecretKey
  constructor(bfv: Bfv, secretKey: SecretKey) {
    this.ctx = bfv.ctx
    this.sk = secretKey
  }
  decrypt(ct: Ciphertext): Plaintext {
    return decrypt(this.ctx, this.sk, ct)
  }
  /** The coefficients a partial ciphertext (a linear layer's result) carries, mod t. */
  decryptPartial(p: PartialCiphertext): Uint32Array {
    return decryptPartial(this.ctx, this.sk, p)
  }
  /** Whole bits of invariant noise budget left, floored (0: decryption may fail). */
  noiseBudget(ct: Ciphertext): number {
    return noiseBudget(this.ctx, this.sk, ct)
  }
}

/**
 * Homomorphic operations (SEAL's `Evaluator`). Cheap ones are synchronous; `multiply`, `relinearize` and
 * `multiplyRelin` run their NTTs on the accelerator when the context has one, else on its CPU backend.
 */
export class Evaluator {
  private readonly ctx: FheContext
  private readonly accel: AsyncPolyBackend | undefined
  constructor(bfv: Bfv) {
    this.ctx = bfv.ctx
    this.accel = bfv.accelerator
  }
  add(a: Ciphertext, b: Ciphertext): Ciphertext {
    return ev.add(this.ctx, a, b)
  }
  sub(a: Ciphertext, b: Ciphertext): Ciphertext {
    return ev.sub(this.ctx, a, b)
  }
  negate(a: Ciphertext): Ciphertext {
    return ev.negate(this.ctx, a)
  }
  addPlain(a: Ciphertext, pt: Plaintext): Ciphertext {
    return ev.addPlain(this.ctx, a, pt)
  }
  subPlain(a: Ciphertext, pt: Plaintext): Ciphertext {
    return ev.subPlain(this.ctx, a, pt)
  }
  /** A plaintext in NTT form with Shoup quotients, for repeated `multiplyPlain` by it. */
  preparePlain(pt: Plaintext, level?: number): PreparedPoly {
    return ev.preparePlain(this.ctx, pt, level)
  }
  multiplyPlain(a: Ciphertext, pt: Plaintext | PreparedPoly): Ciphertext {
    return ev.multiplyPlain(this.ctx, a, pt)
  }
  modSwitchToNext(a: Ciphertext): Ciphertext {
    return ev.modSwitchToNext(this.ctx, a)
  }
  modSwitchTo(a: Ciphertext, level: number): Ciphertext {
    return ev.modSwitchTo(this.ctx, a, level)
  }
  /** Size-2 × size-2 → size 3. */
  async multiply(a: Ciphertext, b: Ciphertext): Promise<Ciphertext> {
    return this.accel ? multiplyAsync(this.ctx, a, b, this.accel) : ev.multiply(this.ctx, a, b)
  }
  /** Size 3 → size 2. */
  async relinearize(a: Ciphertext, rlk: RelinKeys): Promise<Ciphertext> {
    return this.accel ? relinearizeAsync(this.ctx, a, rlk, this.accel) : ev.relinearize(this.ctx, a, rlk)
  }
  async multiplyRelin(a: Ciphertext, b: Ciphertext, rlk: RelinKeys): Promise<Ciphertext> {
    if (this.accel?.mulRelinMany) return (await multiplyRelinManyAsync(this.ctx, [[a, b]], rlk, this.accel))[0] as Ciphertext
    return this.relinearize(await this.multiply(a, b), rlk)
  }
  /**
   * Many products at once. On an accelerator with a resident multiply (a `KernelService`): one device submission per
   * level present, whatever the count; on other accelerators six batched submissions, the RNS steps on the CPU.
   */
  async multiplyRelinMany(pairs: ReadonlyArray<readonly [Ciphertext, Ciphertext]>, rlk: RelinKeys): Promise<Ciphertext[]> {
    if (this.accel) return multiplyRelinManyAsync(this.ctx, pairs, rlk, this.accel)
    return pairs.map(([a, b]) => ev.multiplyRelin(this.ctx, a, b, rlk))
  }
}

/**
 * Encrypted linear layers y = W·x (linear.ts has the packing and the cost model). Client side: `plan`,
 * `encryptInputs`, `decrypt`. Miner side: `prepare` (once per weight matrix and plan), `evaluate` (on the
 * accelerator when there is one) and `evaluateSerialized` (bytes in, bytes out, prepared weights cached).
 */
export class LinearPlanner {
  readonly bfv: Bfv
  private readonly opts: PlanOptions

  constructor(bfv: Bfv, opts: PlanOptions = {}) {
    this.bfv = bfv
    this.opts = opts
  }
  /** The cheapest packing for this shape (or `force`d). @throws InvalidOperand */
  plan(shape: LinearShape, force?: PlanOptions['force']): LinearPlan {
    return planLinear(this.bfv.ctx, shape, force ? { ...this.opts, force } : this.opts)
  }
  /** Client: int8 activations (tokens × d_in) → seeded NTT-form ciphertexts, [token block][chunk]. */
  encryptInputs(sk: SecretKey, plan: LinearPlan, x: Int8Array, rng: RandomSource = cryptoRandom): Ciphertext[] {
    return encryptActivations(this.bfv.ctx, sk, plan, x, rng)
  }
  /** Miner: int8 weights (d_out × d_in) → NTT-form prepared plaintexts. */
  prepare(plan: LinearPlan, w: Int8Array): PreparedLinear {
    return prepareLinear(this.bfv.ctx, plan, w)
  }
  /** Miner: whole result ciphertexts at `plan.outputLevel` (diagnostics; `evaluate` sends less). */
  async evaluateFull(prepared: PreparedLinear, inputs: readonly Ciphertext[]): Promise<Ciphertext[]> {
    const accel = this.bfv.accelerator
    return accel ? evaluateLinearFullAsync(this.bfv.ctx, prepared, inputs, accel) : evaluateLinearFull(this.bfv.ctx, prepared, inputs)
  }
  /** Miner: the partial results that travel back, [token block][row block]. */
  async evaluate(prepared: PreparedLinear, inputs: readonly Ciphertext[]): Promise<PartialCiphertext[]> {
    return toPartials(this.bfv.ctx, prepared.plan, await this.evaluateFull(prepared, inputs))
  }
  /**
   * Miner, on the wire: serialized inputs → serialized partial results. The prepared weights are kept in `cache`
   * under the plan's shape (one cache per weight matrix). @throws CiphertextDecodeError, ParamsMismatch, InvalidOperand
   */
  async evaluateSerialized(
    plan: LinearPlan,
    w: Int8Array,
    inputs: readonly Uint8Array[],
    cache: Map<string, PreparedLinear>,
  ): Promise<{ outputs: Uint8Array[]; prepareMs: number }> {
    const ctx = this.bfv.ctx
    const cts = inputs.map((u) => deserializeCiphertext(ctx, u))
    const { prepared, prepareMs } = preparedFor(this, plan, w, cache)
    const outputs = (await this.evaluate(prepared, cts)).map((p) => serializePartial(ctx, p))
    return { outputs, prepareMs }
  }
  /** Client: partial results → Y (tokens × d_out, int32), exactly W·x. */
  decrypt(sk: SecretKey, plan: LinearPlan, outputs: readonly PartialCiphertext[]): Int32Array {
    return decryptLinear(this.bfv.ctx, sk, plan, outputs)
  }
}

/** The prepared weights for `plan` from `cache`, preparing (and timing) them on first use. */
export function preparedFor(
  planner: LinearPlanner,
  plan: LinearPlan,
  w: Int8Array,
  cache: Map<string, PreparedLinear>,
): { prepared: PreparedLinear; prepareMs: number } {
  const key = `${plan.dIn}/${plan.dOut}/${plan.ni}/${plan.mt}/${plan.no}/${plan.tokens}`
  const hit = cache.get(key)
  if (hit) return { prepared: hit, prepareMs: 0 }
  const t0 = performance.now()
  const prepared = planner.prepare(plan, w)
  cache.set(key, prepared)
  return { prepared, prepareMs: performance.now() - t0 }
}
