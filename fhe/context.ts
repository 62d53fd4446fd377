/**
 * The FHE context: validates a parameter set (owning the verdict, as SEAL's `SEALContext`) and precomputes every
 * table the scheme needs — NTT tables per prime, the modulus chain (one level per prefix q_0…q_{ℓ−1}), decryption
 * and modulus-switching constants per level, and the auxiliary RNS base P with converters for multiplication.
 * All precomputed fields are read-only; a context is immutable and can be shared.
 *
 * @example
 * ```ts
 * import { Effect } from 'effect'
 * import { makeFheContext, presets } from 'basedai/fhe'
 * const ctx = Effect.runSync(makeFheContext(presets.bfv4096))
 * ```
 */
import { Effect } from 'effect'
import { InvalidParams } from './errors.ts'
import { bfvParams, type BfvParams } from './params.ts'
import { makeRnsBase, prefixBase, type PolyBackend, type RnsBase } from './poly.ts'
import { bigInvMod, bigProduct, isPrime, nttPrimes } from '../numeric/index.ts'
import { makeBaseConverter, makeScaler, type BaseConverter, type Scaler } from './rns.ts'
import { logQ as sumLogQ, maxLogQ } from './security.ts'
import { defaultPolyBackend } from './wasm/load.ts'

/** Constants of one level of the modulus chain (the first `k` primes). */
export interface LevelData {
  readonly k: number
  /** The level's primes (the first k of the context's). */
  readonly moduli: readonly number[]
  readonly base: RnsBase
  readonly Q: bigint
  readonly logQ: number
  /** [⌊Q/t⌋]_{q_i}. */
  readonly delta: Uint32Array
  /** [(Q/q_i)^{-1}]_{q_i}. */
  readonly qhatInv: Uint32Array
  readonly qhatInvShoup: Uint32Array
  /** Decryption: t/q_i = H_i/2^22 + lo_i (H_i integer < 2^22, lo_i < 2^−22), see decrypt.ts. */
  readonly thetaHi: Float64Array
  readonly thetaLo: Float64Array
  /** Modulus switching to level k−1: [q_{k−1}^{-1}]_{q_i} for i < k−1 (empty at k = 1). */
  readonly lastInv: Uint32Array
}

/** Constants of ciphertext × ciphertext multiplication at one level (built on first use). */
export interface MulData {
  readonly k: number
  /** Auxiliary primes P (not part of the security-relevant modulus). */
  readonly pBase: RnsBase
  /** Q_k ∪ P, Q limbs first. */
  readonly qpBase: RnsBase
  readonly qToP: BaseConverter
  readonly pToQ: BaseConverter
  readonly scaler: Scaler
}

export interface FheContext {
  readonly params: BfvParams
  readonly paramsId: string
  readonly n: number
  readonly t: number
  /** Number of primes at the top level. */
  readonly levels: number
  readonly base: RnsBase
  /** levelData[k−1] describes level k (k primes). */
  readonly levelData: readonly LevelData[]
  readonly backend: PolyBackend
  /** 128-bit classical limit for this N, and the log2 q in use. */
  readonly maxLogQ: number
  readonly logQ: number
  mulData(k: number): MulData
}

const THETA_BITS = 22

function fail(reason: InvalidParams['reason'], message: string, extra: { logQ?: number; maxLogQ?: number } = {}): never {
  throw new InvalidParams({ reason, message, ...extra })
}

/** Full validation; throws `InvalidParams` with the first failing reason. */
export function validateParams(p: BfvParams): { maxLogQ: number; logQ: number } {
  const n = p.polyModulusDegree
  if ((n & (n - 1)) !== 0) fail('poly_modulus_degree_not_power_of_two', `N = ${n} is not a power of two`)
  const limit = maxLogQ(n)
  if (limit === undefined) {
    fail('poly_modulus_degree_out_of_range', `N = ${n} is not in the 128-bit security table (1024 … 32768)`)
  }
  if (p.coeffModulus.length === 0) fail('coeff_modulus_empty', 'the coefficient modulus needs at least one prime')
  for (const q of p.coeffModulus) {
    if (q >= 2 ** 31) fail('coeff_modulus_too_large_bits', `q_i = ${q} is not below 2^31`)
    if (!isPrime(q)) fail('coeff_modulus_not_prime', `q_i = ${q} is not prime`)
    if ((q - 1) % (2 * n) !== 0) fail('coeff_modulus_not_ntt_friendly', `q_i = ${q} is not 1 mod 2N = ${2 * n}`)
  }
  if (new Set(p.coeffModulus).size !== p.coeffModulus.length) fail('coeff_modulus_not_distinct', 'the primes q_i must be distinct')
  const lq = sumLogQ(p.coeffModulus)
  if (lq > limit) {
    fail(
      'insecure',
      `log2 q = ${lq.toFixed(2)} exceeds ${limit}, the HomomorphicEncryption.org 128-bit classical limit for N = ${n}`,
      { logQ: lq, maxLogQ: limit },
    )
  }
  const t = p.plainModulus
  if (t < 2) fail('plain_modulus_too_small', `t = ${t} must be at least 2`)
  const qmin = Math.min(...p.coeffModulus)
  if (t >= 2 ** 30 || t >= qmin) fail('plain_modulus_too_large', `t = ${t} must be below 2^30 and below every q_i (min ${qmin})`)
  for (const q of p.coeffModulus) if (t % q === 0) fail('plain_modulus_not_coprime', `t = ${t} shares a factor with ${q}`)
  return { maxLogQ: limit, logQ: lq }
}

function makeLevel(base: RnsBase, k: number, t: number): LevelData {
  const b = prefixBase(base, k)
  const moduli = b.moduli
  const Q = bigProduct(moduli)
  const T = BigInt(t)
  const deltaBig = Q / T
  const delta = new Uint32Array(k)
  const qhatInv = new Uint32Array(k)
  const qhatInvShoup = new Uint32Array(k)
  const thetaHi = new Float64Array(k)
  const thetaLo = new Float64Array(k)
  const cv = makeBaseConverter(moduli, [])
  moduli.forEach((q, i) => {
    delta[i] = Number(deltaBig % BigInt(q))
    qhatInv[i] = cv.qhatInv[i] as number
    qhatInvShoup[i] = cv.qhatInvShoup[i] as number
    const num = t * 2 ** THETA_BITS // < 2^52: exact
    const H = Math.floor(num / q)
    thetaHi[i] = H
    thetaLo[i] = (num - H * q) / (q * 2 ** THETA_BITS)
  })
  const lastInv = new Uint32Array(Math.max(0, k - 1))
  if (k > 1) {
    const last = BigInt(moduli[k - 1] as number)
    for (let i = 0; i < k - 1; i++) lastInv[i] = Number(bigInvMod(last, BigInt(moduli[i] as number)))
  }
  return Object.freeze({ k, moduli, base: b, Q, logQ: sumLogQ(moduli), delta, qhatInv, qhatInvShoup, thetaHi, thetaLo, lastInv })
}

/** Builds the context or throws `InvalidParams`. Accepts raw input (decoded with the Schema) or decoded params. */
export function createFheContext(input: unknown, backend: PolyBackend = defaultPolyBackend): FheContext {
  const params = bfvParams(input)
  const { maxLogQ: limit, logQ } = validateParams(params)
  const n = params.polyModulusDegree
  const t = params.plainModulus
  const base = makeRnsBase(n, params.coeffModulus)
  const levelData = params.coeffModulus.map((_, i) => makeLevel(base, i + 1, t))
  const mulCache = new Map<number, MulData>()
  const ctx: FheContext = {
    params,
    paramsId: params.paramsId,
    n,
    t,
    levels: params.coeffModulus.length,
    base,
    levelData: Object.freeze(levelData),
    backend,
    maxLogQ: limit,
    logQ,
    mulData(k: number): MulData {
      const hit = mulCache.get(k)
      if (hit) return hit
      const qb = prefixBase(base, k)
      const lq = sumLogQ(qb.moduli)
      // The tensor coefficient x satisfies |x| ≤ N·Q²/2, so |round(t·x/Q)| ≤ t·N·Q/2 must stay below P/2
      // (P > t·N·Q; x itself then fits QP/2). One extra bit of margin; primes taken until their product exceeds it.
      const needBits = lq + Math.log2(t) + Math.log2(n) + 1
      const pModuli: number[] = []
      let have = 0
      for (const p of nttPrimes(n, 24, params.coeffModulus)) {
        if (have > needBits) break
        pModuli.push(p)
        have += Math.log2(p)
      }
      if (have <= needBits) throw new RangeError('not enough auxiliary primes for multiplication')
      const pBase = makeRnsBase(n, pModuli)
      const qpBase = makeRnsBase(n, [...qb.moduli, ...pModuli])
      const md: MulData = Object.freeze({
        k,
        pBase,
        qpBase,
        qToP: makeBaseConverter(qb.moduli, pModuli),
        pToQ: makeBaseConverter(pModuli, qb.moduli),
        scaler: makeScaler(qb.moduli, pModuli, t),
      })
      mulCache.set(k, md)
      return md
    },
  }
  return Object.freeze(ctx)
}

/** `createFheContext` as an Effect: fails with `InvalidParams`. */
export function makeFheContext(input: unknown, backend: PolyBackend = defaultPolyBackend): Effect.Effect<FheContext, InvalidParams> {
  return Effect.try({
    try: () => createFheContext(input, backend),
    catch: (e) => (e instanceof InvalidParams ? e : new InvalidParams({ reason: 'schema', message: String(e) })),
  })
}
