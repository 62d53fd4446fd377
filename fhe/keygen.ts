/**
 * Key generation (SEAL's `KeyGenerator`): a ternary secret s, a public key and relinearization keys, all from the
 * context's parameters. Secret randomness comes from the `RandomSource` (CSPRNG by default); the public uniform
 * polynomials are expanded from a fresh 32-byte seed.
 *
 * @example
 * ```ts
 * const kg = createKeyGenerator(ctx)
 * const pk = kg.createPublicKey()
 * const rlk = kg.createRelinKeys()
 * ```
 */
import type { FheContext } from './context.ts'
import { zeroPoly, type RnsPoly } from './poly.ts'
import { cryptoRandom, sampleCbd, sampleTernary, smallToRns, uniformFromSeed, type RandomSource } from './rng.ts'
import type { PublicKey, RelinKeys, SecretKey } from './types.ts'

export interface KeyGenerator {
  readonly secretKey: SecretKey
  createPublicKey(): PublicKey
  /** `onProgress(done, total)` is called after each of the `ctx.levels` key parts (optional; no effect on the keys). */
  createRelinKeys(onProgress?: (done: number, total: number) => void): RelinKeys
}

/** Domain tags for seed expansion (uniformFromSeed). */
export const DOMAIN_PUBLIC_KEY = 0
export const DOMAIN_CIPHERTEXT = 1
export const DOMAIN_RELIN = 2

/** A fresh error polynomial in NTT form over the context's top-level base. */
export function errorNtt(ctx: FheContext, rng: RandomSource): RnsPoly {
  const e = sampleCbd(ctx.n, ctx.params.errorDistribution, rng)
  const p = zeroPoly(ctx.n, ctx.levels)
  smallToRns(e, ctx.base.moduli, p.data)
  e.fill(0)
  ctx.backend.forwardMany([p], ctx.base)
  return p
}

/** b = −(a ⊙ s + e) in NTT form. */
function rlweSample(ctx: FheContext, a: RnsPoly, sNtt: RnsPoly, rng: RandomSource): RnsPoly {
  const be = ctx.backend
  const b = errorNtt(ctx, rng)
  be.mulAcc(b, a, sNtt, ctx.base)
  be.negate(b, b, ctx.base)
  return b
}

export function createKeyGenerator(ctx: FheContext, rng: RandomSource = cryptoRandom): KeyGenerator {
  const s = sampleTernary(ctx.n, rng)
  const sNtt = zeroPoly(ctx.n, ctx.levels)
  smallToRns(s, ctx.base.moduli, sNtt.data)
  s.fill(0)
  ctx.backend.forwardMany([sNtt], ctx.base)
  const secretKey: SecretKey = { paramsId: ctx.paramsId, sNtt }
  return {
    secretKey,
    createPublicKey(): PublicKey {
      const seed = new Uint8Array(32)
      rng.fill(seed)
      const a = zeroPoly(ctx.n, ctx.levels)
      uniformFromSeed(seed, DOMAIN_PUBLIC_KEY, ctx.n, ctx.base.moduli, a.data)
      return { paramsId: ctx.paramsId, p0: rlweSample(ctx, a, sNtt, rng), p1: a, seed }
    },
    createRelinKeys(onProgress?: (done: number, total: number) => void): RelinKeys {
      const seed = new Uint8Array(32)
      rng.fill(seed)
      const s2 = zeroPoly(ctx.n, ctx.levels)
      ctx.backend.mul(sNtt, sNtt, s2, ctx.base)
      const b: RnsPoly[] = []
      const a: RnsPoly[] = []
      for (let i = 0; i < ctx.levels; i++) {
        const ai = relinA(ctx, seed, i)
        const bi = rlweSample(ctx, ai, sNtt, rng)
        // + g_i·s²: g_i ≡ 1 (mod q_i), ≡ 0 (mod q_j, j ≠ i), so only limb i changes.
        const q = ctx.base.moduli[i] as number
        for (let j = i * ctx.n; j < (i + 1) * ctx.n; j++) {
          const v = (bi.data[j] as number) + (s2.data[j] as number)
          bi.data[j] = v >= q ? v - q : v
        }
        b.push(bi)
        a.push(ai)
        onProgress?.(i + 1, ctx.levels)
      }
      s2.data.fill(0)
      return { paramsId: ctx.paramsId, b, a, seed }
    },
  }
}

/** The uniform a_i of relinearization key i, expanded from the key's seed (NTT form). */
export function relinA(ctx: FheContext, seed: Uint8Array, i: number): RnsPoly {
  const ai = zeroPoly(ctx.n, ctx.levels)
  uniformFromSeed(seed, DOMAIN_RELIN + i, ctx.n, ctx.base.moduli, ai.data)
  return ai
}

/** The public key's a, expanded from its seed (NTT form). */
export function publicA(ctx: FheContext, seed: Uint8Array): RnsPoly {
  const a = zeroPoly(ctx.n, ctx.levels)
  uniformFromSeed(seed, DOMAIN_PUBLIC_KEY, ctx.n, ctx.base.moduli, a.data)
  return a
}
