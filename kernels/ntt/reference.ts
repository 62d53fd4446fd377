/**
 * Plain TypeScript reference for negacyclic NTT arithmetic over Z_q[X]/(X^n + 1), q prime < 2^31.
 *
 * This is the fast CPU path (no BigInt anywhere; every product is exact in IEEE doubles or in 32-bit integer
 * arithmetic) that the WGSL kernels are checked against bit for bit, and the fallback used when no WebGPU adapter
 * exists. A BigInt schoolbook product for tests lives in `./slow.ts`.
 *
 * Conventions
 * - Coefficients are `Uint32Array` values in the canonical range [0, q). Inputs outside it are refused with
 *   `InvalidInput` (`coefficient_out_of_range`); lengths other than n with `InvalidInput` (`length_mismatch`).
 * - `forwardNtt` is the Cooley–Tukey negacyclic transform of Longa–Naehrig / SEAL: natural-order input,
 *   **bit-reversed-order output** (slot k holds a(ψ^(2·bitrev(k)+1))). `inverseNtt` is the matching Gentleman–Sande
 *   transform: bit-reversed input, natural-order output, scaled by n^(-1). Pointwise operations do not care about
 *   the order as long as both operands come from `forwardNtt`; `inverseNtt(forwardNtt(x)) = x` exactly.
 * - ψ is the *smallest* primitive 2n-th root of unity mod q (as SEAL chooses it), so tables are canonical: two
 *   processes building tables for the same (n, q) get identical twiddles.
 * - The modular arithmetic (`mulMod`, `mulShoup`, `invMod`, …) and the canonical twiddle tables (`makeNttTables`)
 *   come from basedai/numeric (see numeric/modular.ts for the branch-free and Shoup products); they are re-exported
 *   here so `basedai/kernels` exports what it always did.
 * - Butterflies: branch-free float-quotient products below FAST_MODULUS_LIMIT, Shoup's precomputed quotients above
 *   (and in the GPU and wasm kernels).
 *
 * @example
 * ```ts
 * import { makeNttTables, polyMulNegacyclic } from 'basedai/kernels'
 * const t = makeNttTables(4096, 2147352577)
 * const c = polyMulNegacyclic(a, b, t) // a·b mod (X^4096 + 1, q)
 * ```
 */
import { InvalidInput } from '../errors.ts'
import { addMod, FAST_MODULUS_LIMIT, MAX_MODULUS, mulMod, mulShoup, subMod, type NttTables } from '../../numeric/index.ts'

// The modular arithmetic and the twiddle tables live in basedai/numeric (shared with basedai/fhe); they are
// re-exported here under their old names, so `basedai/kernels` keeps exporting them.
const INV_TWO16 = 1 / 65536
export {
  addMod,
  bitReverse,
  FAST_MODULUS_LIMIT,
  invMod,
  isPrime,
  makeNttTables,
  MAX_MODULUS,
  MAX_N,
  MIN_N,
  minimalPrimitiveRoot,
  mulMod,
  mulModFast,
  mulShoup,
  powMod,
  shoupPrecompute,
  subMod,
  validateNttParams,
  type NttTables,
} from '../../numeric/index.ts'

/** Throws `InvalidInput` unless `a` has length n and every value is in [0, q). */
export function checkPoly(op: string, a: Uint32Array, n: number, q: number): void {
  if (a.length !== n) {
    throw new InvalidInput({ op, reason: 'length_mismatch', message: `${op}: length ${a.length}, expected ${n}` })
  }
  for (let i = 0; i < n; i++) {
    if ((a[i] as number) >= q) {
      throw new InvalidInput({
        op,
        reason: 'coefficient_out_of_range',
        message: `${op}: coefficient ${i} = ${a[i]} is not below q = ${q}`,
      })
    }
  }
}

/** In-place forward negacyclic NTT (Cooley–Tukey, ψ-twisted). Natural-order input, bit-reversed-order output. */
export function forwardNtt(a: Uint32Array, t: NttTables): void {
  checkPoly('forwardNtt', a, t.n, t.q)
  forwardNttUnchecked(a, 0, t)
}

/** Forward NTT of a[off … off+n) without range checks (callers have checked). */
export function forwardNttUnchecked(a: Uint32Array, off: number, t: NttTables): void {
  if (t.q < FAST_MODULUS_LIMIT) return forwardNttBranchFree(a, off, t)
  forwardNttShoup(a, off, t)
}

/**
 * Branch-free Cooley–Tukey butterflies: v = x·w mod q with the quotient ⌊x·(w/q)⌋ in doubles and two sign-mask
 * corrections, then u ± v corrected by masks (q < FAST_MODULUS_LIMIT).
 */
function forwardNttBranchFree(a: Uint32Array, off: number, t: NttTables): void {
  const { n, q, psiRev, psiRevOverQ } = t
  let span = n
  for (let m = 1; m < n; m <<= 1) {
    span >>= 1
    for (let i = 0; i < m; i++) {
      const w = psiRev[m + i] as number
      const wq = psiRevOverQ[m + i] as number
      const j1 = off + 2 * i * span
      const j2 = j1 + span
      for (let j = j1; j < j2; j++) {
        const u = a[j] as number
        const x = a[j + span] as number
        let v = (Math.imul(x, w) - Math.imul(Math.floor(x * wq), q)) | 0
        v += q & (v >> 31)
        v -= q
        v += q & (v >> 31)
        const s = u + v - q
        a[j] = s + (q & (s >> 31))
        const d = u - v
        a[j + span] = d + (q & (d >> 31))
      }
    }
  }
}

function forwardNttShoup(a: Uint32Array, off: number, t: NttTables): void {
  const { n, q, psiRev, psiRevShoup } = t
  let span = n
  for (let m = 1; m < n; m <<= 1) {
    span >>= 1
    for (let i = 0; i < m; i++) {
      const w = psiRev[m + i] as number
      const ws = psiRevShoup[m + i] as number
      const wsHi = ws >>> 16
      const wsLo = ws & 0xffff
      const j1 = off + 2 * i * span
      const j2 = j1 + span
      for (let j = j1; j < j2; j++) {
        const u = a[j] as number
        const x = a[j + span] as number
        const qhat = Math.floor((x * wsHi + Math.floor(x * wsLo * INV_TWO16)) * INV_TWO16)
        let v = (Math.imul(x, w) - Math.imul(qhat, q)) >>> 0
        if (v >= q) v -= q
        const s = u + v
        a[j] = s >= q ? s - q : s
        const d = u - v
        a[j + span] = d < 0 ? d + q : d
      }
    }
  }
}

/** In-place inverse negacyclic NTT (Gentleman–Sande): bit-reversed input, natural-order output, times n^(-1). */
export function inverseNtt(a: Uint32Array, t: NttTables): void {
  checkPoly('inverseNtt', a, t.n, t.q)
  inverseNttUnchecked(a, 0, t)
}

/** Inverse NTT of a[off … off+n) without range checks. */
export function inverseNttUnchecked(a: Uint32Array, off: number, t: NttTables): void {
  if (t.q < FAST_MODULUS_LIMIT) return inverseNttBranchFree(a, off, t)
  inverseNttShoup(a, off, t)
}

/** Branch-free Gentleman–Sande butterflies (see forwardNttBranchFree), then the n^−1 scaling. */
function inverseNttBranchFree(a: Uint32Array, off: number, t: NttTables): void {
  const { n, q, psiInvRev, psiInvRevOverQ } = t
  let span = 1
  for (let m = n; m > 1; m >>= 1) {
    const h = m >> 1
    for (let i = 0; i < h; i++) {
      const w = psiInvRev[h + i] as number
      const wq = psiInvRevOverQ[h + i] as number
      const j1 = off + 2 * i * span
      const j2 = j1 + span
      for (let j = j1; j < j2; j++) {
        const u = a[j] as number
        const x = a[j + span] as number
        const s = u + x - q
        a[j] = s + (q & (s >> 31))
        let d = u - x
        d += q & (d >> 31)
        let v = (Math.imul(d, w) - Math.imul(Math.floor(d * wq), q)) | 0
        v += q & (v >> 31)
        v -= q
        a[j + span] = v + (q & (v >> 31))
      }
    }
    span <<= 1
  }
  const nInv = t.nInv
  const nq = nInv / q
  for (let j = off; j < off + n; j++) {
    const x = a[j] as number
    let v = (Math.imul(x, nInv) - Math.imul(Math.floor(x * nq), q)) | 0
    v += q & (v >> 31)
    v -= q
    a[j] = v + (q & (v >> 31))
  }
}

function inverseNttShoup(a: Uint32Array, off: number, t: NttTables): void {
  const { n, q, psiInvRev, psiInvRevShoup } = t
  let span = 1
  for (let m = n; m > 1; m >>= 1) {
    const h = m >> 1
    for (let i = 0; i < h; i++) {
      const w = psiInvRev[h + i] as number
      const ws = psiInvRevShoup[h + i] as number
      const wsHi = ws >>> 16
      const wsLo = ws & 0xffff
      const j1 = off + 2 * i * span
      const j2 = j1 + span
      for (let j = j1; j < j2; j++) {
        const u = a[j] as number
        const x = a[j + span] as number
        const s = u + x
        a[j] = s >= q ? s - q : s
        let d = u - x
        if (d < 0) d += q
        const qhat = Math.floor((d * wsHi + Math.floor(d * wsLo * INV_TWO16)) * INV_TWO16)
        const v = (Math.imul(d, w) - Math.imul(qhat, q)) >>> 0
        a[j + span] = v >= q ? v - q : v
      }
    }
    span <<= 1
  }
  const { nInv, nInvShoup } = t
  for (let j = off; j < off + n; j++) a[j] = mulShoup(a[j] as number, nInv, nInvShoup, q)
}

function checkPair(op: string, a: Uint32Array, b: Uint32Array, q: number): void {
  if (a.length !== b.length) {
    throw new InvalidInput({ op, reason: 'length_mismatch', message: `${op}: lengths ${a.length} and ${b.length}` })
  }
  if (!Number.isInteger(q) || q < 2 || q > MAX_MODULUS) {
    throw new InvalidInput({ op, reason: 'bad_argument', message: `${op}: modulus ${q} outside [2, 2^31)` })
  }
  checkPoly(op, a, a.length, q)
  checkPoly(op, b, b.length, q)
}

/** Elementwise a·b mod q (new array). */
export function pointwiseMul(a: Uint32Array, b: Uint32Array, q: number): Uint32Array {
  checkPair('pointwiseMul', a, b, q)
  const out = new Uint32Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = mulMod(a[i] as number, b[i] as number, q)
  return out
}

/** Elementwise a + b mod q (new array). */
export function pointwiseAdd(a: Uint32Array, b: Uint32Array, q: number): Uint32Array {
  checkPair('pointwiseAdd', a, b, q)
  const out = new Uint32Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = addMod(a[i] as number, b[i] as number, q)
  return out
}

/** Elementwise a − b mod q (new array). */
export function pointwiseSub(a: Uint32Array, b: Uint32Array, q: number): Uint32Array {
  checkPair('pointwiseSub', a, b, q)
  const out = new Uint32Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = subMod(a[i] as number, b[i] as number, q)
  return out
}

/** a·b in Z_q[X]/(X^n + 1) through forward NTT, pointwise product, inverse NTT. Inputs are not modified. */
export function polyMulNegacyclic(a: Uint32Array, b: Uint32Array, t: NttTables): Uint32Array {
  checkPoly('polyMulNegacyclic', a, t.n, t.q)
  checkPoly('polyMulNegacyclic', b, t.n, t.q)
  const fa = a.slice()
  const fb = b.slice()
  forwardNttUnchecked(fa, 0, t)
  forwardNttUnchecked(fb, 0, t)
  for (let i = 0; i < t.n; i++) fa[i] = mulMod(fa[i] as number, fb[i] as number, t.q)
  inverseNttUnchecked(fa, 0, t)
  return fa
}

// ---------------------------------------------------------------------------------------------------------------
// Montgomery arithmetic with 16-bit limbs: the exact algorithm the WGSL kernels run (R = 2^32), mirrored here so it
// can be tested on the CPU against mulMod.

/** Constants of Montgomery form mod q (odd, < 2^31): qInvNeg = −q^(−1) mod 2^32, r2 = 2^64 mod q. */
export interface MontgomeryConstants {
  readonly q: number
  readonly qInvNeg: number
  readonly r2: number
}

export function montgomeryConstants(q: number): MontgomeryConstants {
  if (!Number.isInteger(q) || q < 3 || q > MAX_MODULUS || q % 2 === 0) {
    throw new InvalidInput({ op: 'montgomeryConstants', reason: 'bad_argument', message: `modulus ${q} must be odd, < 2^31` })
  }
  let x = q // q·q ≡ 1 mod 8: 3 correct bits; each Newton step doubles them.
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(q, x))
  const qInvNeg = -x >>> 0
  const r = 2 ** 32 % q
  return { q, qInvNeg, r2: mulMod(r, r, q) }
}

/** The 64-bit product a·b (a, b < 2^32) as [lo, hi] u32 words from four 16×16-bit products, as the WGSL does. */
export function mul64(a: number, b: number): [number, number] {
  const a0 = a & 0xffff
  const a1 = a >>> 16
  const b0 = b & 0xffff
  const b1 = b >>> 16
  const p00 = a0 * b0
  const p01 = a0 * b1
  const p10 = a1 * b0
  const p11 = a1 * b1
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff)
  const lo = ((p00 & 0xffff) | (mid << 16)) >>> 0
  const hi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0
  return [lo, hi]
}

/** Montgomery product a·b·2^(−32) mod q for a, b < q (REDC with 16-bit limb products), result in [0, q). */
export function montMul(a: number, b: number, c: MontgomeryConstants): number {
  const [tlo, thi] = mul64(a, b)
  const m = Math.imul(tlo, c.qInvNeg) >>> 0
  const [, mqhi] = mul64(m, c.q)
  const t = thi + mqhi + (tlo !== 0 ? 1 : 0)
  return t >= c.q ? t - c.q : t
}

/** a·b mod q through two Montgomery products (a·b·R^(−1), then ·R²·R^(−1)): the GPU's pointwise multiply. */
export function mulModMontgomery(a: number, b: number, c: MontgomeryConstants): number {
  return montMul(montMul(a, b, c), c.r2, c)
}
