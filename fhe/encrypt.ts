/**
 * Encryption (SEAL's `Encryptor`), with the public key or with the secret key.
 *
 * - Public key: u ternary, e1, e2 ← CBD; c0 = p0·u + e1 + Δ·m, c1 = p1·u + e2.
 * - Secret key (symmetric): a uniform from a fresh public seed; c1 = a, c0 = −(a·s + e) + Δ·m. The ciphertext keeps
 *   the seed, so its serialization carries 32 bytes instead of c1 (half the upload).
 *
 * Δ = ⌊Q/t⌋ at the top level; m is taken centred in (−t/2, t/2] with a mask (no branch on the message).
 * @throws ParamsMismatch (key or plaintext from another context), InvalidOperand (plaintext shape or range)
 */
import type { FheContext } from './context.ts'
import { DOMAIN_CIPHERTEXT } from './keygen.ts'
import { zeroPoly, type RnsPoly } from './poly.ts'
import { cryptoRandom, sampleCbd, sampleTernary, smallToRns, uniformFromSeed, type RandomSource } from './rng.ts'
import type { Ciphertext, Plaintext, PublicKey, SecretKey } from './types.ts'
import { checkParamsId, checkPlaintext } from './validate.ts'
import { shoupPrecompute } from '../numeric/index.ts'

const INV_TWO16 = 1 / 65536

/** out += Δ·m (coefficient form, top level). Branch-free in m. */
export function addScaledMessage(ctx: FheContext, pt: Plaintext, out: RnsPoly, level = ctx.levels): void {
  const t = ctx.t
  const half = Math.floor(t / 2)
  const ld = ctx.levelData[level - 1]
  if (!ld) throw new RangeError(`no level ${level}`)
  const n = ctx.n
  for (let i = 0; i < level; i++) {
    const q = ctx.base.moduli[i] as number
    const d = ld.delta[i] as number
    const ds = shoupPrecompute(d, q)
    const off = i * n
    for (let j = 0; j < n; j++) {
      const m = pt.coeffs[j] as number
      const mc = m - (t & ((half - m) >> 31)) // centred: m − t when m > t/2
      const x = (mc + (q & (mc >> 31))) >>> 0 // residue mod q
      const qhat = Math.floor((x * (ds >>> 16) + Math.floor(x * (ds & 0xffff) * INV_TWO16)) * INV_TWO16)
      let v = (Math.imul(x, d) - Math.imul(qhat, q)) >>> 0
      if (v >= q) v -= q
      const s = (out.data[off + j] as number) + v
      out.data[off + j] = s >= q ? s - q : s
    }
  }
}

function smallPolyNtt(ctx: FheContext, e: Int8Array): RnsPoly {
  const p = zeroPoly(ctx.n, ctx.levels)
  smallToRns(e, ctx.base.moduli, p.data)
  e.fill(0)
  ctx.backend.forwardMany([p], ctx.base)
  return p
}

export function encryptPublic(ctx: FheContext, pk: PublicKey, pt: Plaintext, rng: RandomSource = cryptoRandom): Ciphertext {
  checkParamsId(ctx, pk.paramsId)
  checkPlaintext(ctx, pt)
  const be = ctx.backend
  const u = smallPolyNtt(ctx, sampleTernary(ctx.n, rng))
  const c0 = zeroPoly(ctx.n, ctx.levels)
  const c1 = zeroPoly(ctx.n, ctx.levels)
  be.mul(pk.p0, u, c0, ctx.base)
  be.mul(pk.p1, u, c1, ctx.base)
  u.data.fill(0)
  be.inverseMany([c0, c1], ctx.base)
  // Errors are added in coefficient form (no NTT needed for them).
  const e = errorCoeffs(ctx, rng)
  be.add(c0, e, c0, ctx.base)
  const e2 = errorCoeffs(ctx, rng)
  be.add(c1, e2, c1, ctx.base)
  e.data.fill(0)
  e2.data.fill(0)
  addScaledMessage(ctx, pt, c0)
  return { paramsId: ctx.paramsId, level: ctx.levels, polys: [c0, c1] }
}

/** A fresh CBD error polynomial in coefficient form over the top-level base. */
function errorCoeffs(ctx: FheContext, rng: RandomSource): RnsPoly {
  const e = sampleCbd(ctx.n, ctx.params.errorDistribution, rng)
  const p = zeroPoly(ctx.n, ctx.levels)
  smallToRns(e, ctx.base.moduli, p.data)
  e.fill(0)
  return p
}

/** The uniform c1 of a seeded (secret-key) ciphertext, in coefficient form. */
export function expandSeededC1(ctx: FheContext, seed: Uint8Array, level: number): RnsPoly {
  const a = zeroPoly(ctx.n, level)
  uniformFromSeed(seed, DOMAIN_CIPHERTEXT, ctx.n, ctx.base.moduli.slice(0, level), a.data)
  return a
}

/**
 * Secret-key encryption. With `{ ntt: true }` the ciphertext is produced in NTT form — c1 = a is uniform in either
 * domain, and c0 = −(a ⊙ s) + NTT(Δm − e) costs the client the same number of NTTs — so the miner skips its forward
 * transforms (used for linear-layer inputs).
 */
export function encryptSymmetric(
  ctx: FheContext,
  sk: SecretKey,
  pt: Plaintext,
  rng: RandomSource = cryptoRandom,
  opts: { readonly ntt?: boolean } = {},
): Ciphertext {
  checkParamsId(ctx, sk.paramsId)
  checkPlaintext(ctx, pt)
  const be = ctx.backend
  const seed = new Uint8Array(32)
  rng.fill(seed)
  const c1 = expandSeededC1(ctx, seed, ctx.levels)
  const c0 = zeroPoly(ctx.n, ctx.levels)
  if (opts.ntt === true) {
    // c1 = a read as NTT values; c0 = NTT(Δm − e) − a ⊙ s.
    const e = errorCoeffs(ctx, rng)
    be.negate(e, c0, ctx.base)
    e.data.fill(0)
    addScaledMessage(ctx, pt, c0)
    be.forwardMany([c0], ctx.base)
    const as = zeroPoly(ctx.n, ctx.levels)
    be.mul(c1, sk.sNtt, as, ctx.base)
    be.sub(c0, as, c0, ctx.base)
    as.data.fill(0)
    return { paramsId: ctx.paramsId, level: ctx.levels, polys: [c0, c1], seed, ntt: true }
  }
  c0.data.set(c1.data)
  be.forwardMany([c0], ctx.base)
  be.mul(c0, sk.sNtt, c0, ctx.base) // a·s
  be.inverseMany([c0], ctx.base)
  const e = errorCoeffs(ctx, rng)
  be.add(c0, e, c0, ctx.base)
  e.data.fill(0)
  be.negate(c0, c0, ctx.base)
  addScaledMessage(ctx, pt, c0)
  return { paramsId: ctx.paramsId, level: ctx.levels, polys: [c0, c1], seed }
}
