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
 * - Branch-free products (`mulModFast`, the NTT butterflies): the quotient ⌊a·w/q⌋ is taken in doubles (a·(w/q), or
 *   a·b/q), the low word of a·w − quotient·q by Math.imul; the double quotient is exact or off by one, so the signed
 *   32-bit remainder lies in (−2^10, q + 2^10) and two sign-mask corrections make it canonical — no branch, no `%`.
 *   This needs q < 2^31 − 2^12 (`FAST_MODULUS_LIMIT`); larger moduli take the Shoup path below.
 * - Shoup's precomputed quotient (w' = ⌊w·2^32/q⌋): r = a·w − ⌊a·w'/2^32⌋·q lies in [0, 2q), one conditional
 *   subtraction (the fallback for q ≥ FAST_MODULUS_LIMIT, and what the GPU and wasm kernels use). The generic
 *   fallback product splits one operand into 16-bit limbs so every partial product stays below 2^53.
 *
 * @example
 * ```ts
 * import { makeNttTables, polyMulNegacyclic } from 'basedai/kernels'
 * const t = makeNttTables(4096, 2147352577)
 * const c = polyMulNegacyclic(a, b, t) // a·b mod (X^4096 + 1, q)
 * ```
 */
import { InvalidInput, InvalidNttParams } from '../errors.ts'

/** Largest modulus supported: q < 2^31 keeps 2q below 2^32 (lazy ranges of Shoup/Montgomery products fit a u32). */
export const MAX_MODULUS = 2 ** 31 - 1
/** Smallest and largest ring degree accepted by `makeNttTables` (the issue targets 2^10 … 2^16; smaller n is for tests). */
export const MIN_N = 2
export const MAX_N = 2 ** 16

const TWO16 = 65536
const INV_TWO16 = 1 / 65536

/** x mod q and ⌊x/q⌋ for integers 0 ≤ x < 2^53, exact (the float quotient is corrected by at most one). */
function divMod(x: number, q: number): [number, number] {
  let d = Math.floor(x / q)
  let r = x - d * q
  if (r < 0) {
    d -= 1
    r += q
  } else if (r >= q) {
    d += 1
    r -= q
  }
  return [d, r]
}

/** a + b mod q for a, b in [0, q). */
export function addMod(a: number, b: number, q: number): number {
  const s = a + b
  return s >= q ? s - q : s
}

/** a − b mod q for a, b in [0, q). */
export function subMod(a: number, b: number, q: number): number {
  const s = a - b
  return s < 0 ? s + q : s
}

/** Moduli below this take the branch-free float-quotient products (see the module doc). */
export const FAST_MODULUS_LIMIT = 2 ** 31 - 2 ** 12

/**
 * a·b mod q for 0 ≤ a, b < q < FAST_MODULUS_LIMIT, branch-free: quotient ⌊a·b/q⌋ in doubles (exact or one off), low
 * word by Math.imul, sign-mask corrections.
 */
export function mulModFast(a: number, b: number, q: number): number {
  let r = (Math.imul(a, b) - Math.imul(Math.floor((a * b) / q), q)) | 0
  r += q & (r >> 31)
  r -= q
  return r + (q & (r >> 31))
}

/**
 * a·b mod q, exact for 0 ≤ a, b < q < 2^32 with no BigInt: branch-free `mulModFast` below FAST_MODULUS_LIMIT;
 * above it b = b_hi·2^16 + b_lo, every partial product < 2^48, so the doubles are exact.
 */
export function mulMod(a: number, b: number, q: number): number {
  if (q < FAST_MODULUS_LIMIT) return mulModFast(a, b, q)
  const t = (a * (b >>> 16)) % q
  return (t * TWO16 + a * (b & 0xffff)) % q
}

/** a^e mod q by square-and-multiply (e a non-negative integer < 2^53). */
export function powMod(a: number, e: number, q: number): number {
  if (q === 1) return 0
  let base = a % q
  let r = 1
  let k = e
  while (k > 0) {
    if (k % 2 === 1) r = mulMod(r, base, q)
    base = mulMod(base, base, q)
    k = Math.floor(k / 2)
  }
  return r
}

/** a^(-1) mod q by the extended Euclidean algorithm; throws `InvalidInput` (`not_invertible`) if gcd(a, q) ≠ 1. */
export function invMod(a: number, q: number): number {
  let [r0, r1] = [q, ((a % q) + q) % q]
  let [s0, s1] = [0, 1]
  while (r1 !== 0) {
    const k = Math.floor(r0 / r1)
    ;[r0, r1] = [r1, r0 - k * r1]
    ;[s0, s1] = [s1, s0 - k * s1]
  }
  if (r0 !== 1) {
    throw new InvalidInput({ op: 'invMod', reason: 'not_invertible', message: `${a} has no inverse modulo ${q}` })
  }
  return ((s0 % q) + q) % q
}

/** Deterministic Miller–Rabin for n < 2^32; bases {2, 3, 5, 7, 11} are exact below 2 152 302 898 747. */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false
  for (const p of [2, 3, 5, 7, 11, 13]) {
    if (n === p) return true
    if (n % p === 0) return false
  }
  if (n >= 2 ** 32) throw new RangeError('isPrime: n ≥ 2^32 not supported')
  let d = n - 1
  let s = 0
  while (d % 2 === 0) {
    d /= 2
    s += 1
  }
  outer: for (const a of [2, 3, 5, 7, 11]) {
    let x = powMod(a, d, n)
    if (x === 1 || x === n - 1) continue
    for (let i = 1; i < s; i++) {
      x = mulMod(x, x, n)
      if (x === n - 1) continue outer
    }
    return false
  }
  return true
}

/** Shoup's precomputed quotient ⌊w·2^32/q⌋ (a u32 because w < q), computed exactly by two 16-bit long-division steps. */
export function shoupPrecompute(w: number, q: number): number {
  const [h, r] = divMod(w * TWO16, q)
  const [l] = divMod(r * TWO16, q)
  return h * TWO16 + l
}

/**
 * a·w mod q given ws = shoupPrecompute(w, q): q̂ = ⌊a·ws/2^32⌋ (exact via 16-bit halves of ws), then
 * a·w − q̂·q ∈ [0, 2q) computed modulo 2^32 with Math.imul, and one conditional subtraction.
 */
export function mulShoup(a: number, w: number, ws: number, q: number): number {
  const qhat = Math.floor((a * (ws >>> 16) + Math.floor(a * (ws & 0xffff) * INV_TWO16)) * INV_TWO16)
  const r = (Math.imul(a, w) - Math.imul(qhat, q)) >>> 0
  return r >= q ? r - q : r
}

/** Reverses the low `bits` bits of i. */
export function bitReverse(i: number, bits: number): number {
  let r = 0
  let x = i
  for (let b = 0; b < bits; b++) {
    r = (r << 1) | (x & 1)
    x >>>= 1
  }
  return r >>> 0
}

/**
 * Precomputed tables for one (n, q). All arrays are shared and must be treated as read-only (tables are memoized
 * per (n, q)).
 */
export interface NttTables {
  readonly n: number
  readonly logN: number
  readonly q: number
  /** The smallest primitive 2n-th root of unity mod q. */
  readonly psi: number
  readonly psiInv: number
  /** n^(-1) mod q and its Shoup quotient. */
  readonly nInv: number
  readonly nInvShoup: number
  /** psiRev[k] = ψ^bitrev(k) (k < n); psiRevShoup its Shoup quotients. Used by forwardNtt (index m + i). */
  readonly psiRev: Uint32Array
  readonly psiRevShoup: Uint32Array
  /** psiRev[k]/q and psiInvRev[k]/q as doubles: the branch-free butterflies' quotient factors. */
  readonly psiRevOverQ: Float64Array
  readonly psiInvRevOverQ: Float64Array
  /** psiInvRev[k] = ψ^(−bitrev(k)); psiInvRevShoup its Shoup quotients. Used by inverseNtt (index h + i). */
  readonly psiInvRev: Uint32Array
  readonly psiInvRevShoup: Uint32Array
}

function paramsError(reason: InvalidNttParams['reason'], n: number, q: number, message: string): InvalidNttParams {
  return new InvalidNttParams({ reason, n, q, message })
}

/** Checks (n, q) and throws `InvalidNttParams` with a named reason if no negacyclic NTT of size n exists mod q. */
export function validateNttParams(n: number, q: number): void {
  if (!Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0) {
    throw paramsError('n_not_power_of_two', n, q, `n = ${n} is not a power of two`)
  }
  if (n < MIN_N || n > MAX_N) throw paramsError('n_out_of_range', n, q, `n = ${n} outside [${MIN_N}, ${MAX_N}]`)
  if (!Number.isInteger(q)) throw paramsError('q_not_integer', n, q, `q = ${q} is not an integer`)
  if (q < 3 || q > MAX_MODULUS) throw paramsError('q_out_of_range', n, q, `q = ${q} outside [3, 2^31)`)
  if (!isPrime(q)) throw paramsError('q_not_prime', n, q, `q = ${q} is not prime`)
  if ((q - 1) % (2 * n) !== 0) throw paramsError('q_not_ntt_friendly', n, q, `q = ${q} is not 1 mod 2n = ${2 * n}`)
}

/** The smallest primitive 2n-th root of unity mod q (q prime, q ≡ 1 mod 2n). */
export function minimalPrimitiveRoot(n: number, q: number): number {
  validateNttParams(n, q)
  const e = (q - 1) / (2 * n)
  let root = 0
  for (let x = 2; x < q; x++) {
    const c = powMod(x, e, q)
    if (powMod(c, n, q) === q - 1) {
      root = c
      break
    }
  }
  // Every primitive 2n-th root is root^k for odd k < 2n; root^(k+n) = −root^k, so scan odd k < n.
  const sq = mulMod(root, root, q)
  let best = Math.min(root, q - root)
  let p = root
  for (let k = 3; k < n; k += 2) {
    p = mulMod(p, sq, q)
    best = Math.min(best, p, q - p)
  }
  return best
}

const tableCache = new Map<string, NttTables>()
const TABLE_CACHE_LIMIT = 64

/**
 * Builds (or returns the memoized) tables for n a power of two in [2, 2^16] and q a prime < 2^31 with
 * q ≡ 1 (mod 2n). Throws `InvalidNttParams` otherwise.
 */
export function makeNttTables(n: number, q: number): NttTables {
  const key = `${n}:${q}`
  const hit = tableCache.get(key)
  if (hit) return hit
  validateNttParams(n, q)
  const logN = Math.round(Math.log2(n))
  const psi = minimalPrimitiveRoot(n, q)
  const psiInv = invMod(psi, q)
  const psiRev = new Uint32Array(n)
  const psiInvRev = new Uint32Array(n)
  let p = 1
  let pi = 1
  for (let i = 0; i < n; i++) {
    const r = bitReverse(i, logN)
    psiRev[r] = p
    psiInvRev[r] = pi
    p = mulMod(p, psi, q)
    pi = mulMod(pi, psiInv, q)
  }
  const psiRevShoup = new Uint32Array(n)
  const psiInvRevShoup = new Uint32Array(n)
  for (let i = 0; i < n; i++) {
    psiRevShoup[i] = shoupPrecompute(psiRev[i] as number, q)
    psiInvRevShoup[i] = shoupPrecompute(psiInvRev[i] as number, q)
  }
  const nInv = invMod(n, q)
  const psiRevOverQ = new Float64Array(n)
  const psiInvRevOverQ = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    psiRevOverQ[i] = (psiRev[i] as number) / q
    psiInvRevOverQ[i] = (psiInvRev[i] as number) / q
  }
  const tables: NttTables = {
    n,
    logN,
    q,
    psi,
    psiInv,
    nInv,
    nInvShoup: shoupPrecompute(nInv, q),
    psiRev,
    psiRevShoup,
    psiInvRev,
    psiInvRevShoup,
    psiRevOverQ,
    psiInvRevOverQ,
  }
  if (tableCache.size >= TABLE_CACHE_LIMIT) {
    const first = tableCache.keys().next().value
    if (first !== undefined) tableCache.delete(first)
  }
  tableCache.set(key, tables)
  return tables
}

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
