/**
 * 32-bit modular arithmetic without BigInt on any hot path: every product is exact in IEEE doubles or in 32-bit
 * integer arithmetic (Math.imul). Moduli are below 2^31 (`MAX_MODULUS`), so lazy values in [0, 2q) fit a u32.
 *
 * - Branch-free products (`mulModFast`): the quotient ⌊a·b/q⌋ is taken in doubles (exact or off by one), the low
 *   word of a·b − quotient·q by Math.imul; the signed 32-bit remainder lies in (−2^10, q + 2^10) and two sign-mask
 *   corrections make it canonical — no branch, no `%`. Needs q < `FAST_MODULUS_LIMIT`; larger moduli split one
 *   operand into 16-bit limbs (`mulMod`).
 * - Shoup's precomputed quotient (w' = ⌊w·2^32/q⌋, `shoupPrecompute`): r = a·w − ⌊a·w'/2^32⌋·q lies in [0, 2q), one
 *   conditional subtraction (`mulShoup`; what the GPU and wasm kernels use for twiddles).
 * - BigInt helpers (`bigProduct`, `bigInvMod`) for constants computed once per parameter set.
 */
import { NotInvertible } from './errors.ts'

/** Largest modulus supported: q < 2^31 keeps 2q below 2^32 (lazy ranges of Shoup/Montgomery products fit a u32). */
export const MAX_MODULUS = 2 ** 31 - 1
/** Moduli below this take the branch-free float-quotient products. */
export const FAST_MODULUS_LIMIT = 2 ** 31 - 2 ** 12

const TWO16 = 65536
const INV_TWO16 = 1 / 65536

/** x mod q and ⌊x/q⌋ for integers 0 ≤ x < 2^53, exact (the float quotient is corrected by at most one). */
export function divMod(x: number, q: number): [number, number] {
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

/**
 * x mod m for an integer |x| < 2^53 and 0 < m < 2^52, without `%` (fmod is a library call): the float quotient is
 * off by at most one, and one correction on each side makes the remainder canonical.
 */
export function modExact(x: number, m: number): number {
  let r = x - Math.floor(x / m) * m
  if (r < 0) r += m
  else if (r >= m) r -= m
  return r
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

/** a^(-1) mod q by the extended Euclidean algorithm. @throws NotInvertible when gcd(a, q) ≠ 1 */
export function invMod(a: number, q: number): number {
  let [r0, r1] = [q, ((a % q) + q) % q]
  let [s0, s1] = [0, 1]
  while (r1 !== 0) {
    const k = Math.floor(r0 / r1)
    ;[r0, r1] = [r1, r0 - k * r1]
    ;[s0, s1] = [s1, s0 - k * s1]
  }
  if (r0 !== 1) throw new NotInvertible({ a: String(a), q: String(q), message: `${a} has no inverse modulo ${q}` })
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
 * a·w mod q given ws = shoupPrecompute(w, q) (a < 2^32, w < q < 2^31): q̂ = ⌊a·ws/2^32⌋ (exact via 16-bit halves of
 * ws), then a·w − q̂·q ∈ [0, 2q) computed modulo 2^32 with Math.imul, and one conditional subtraction.
 */
export function mulShoup(a: number, w: number, ws: number, q: number): number {
  const qhat = Math.floor((a * (ws >>> 16) + Math.floor(a * (ws & 0xffff) * INV_TWO16)) * INV_TWO16)
  const r = (Math.imul(a, w) - Math.imul(qhat, q)) >>> 0
  return r >= q ? r - q : r
}

/** The product of the moduli, exactly. */
export function bigProduct(moduli: readonly number[]): bigint {
  return moduli.reduce((acc, q) => acc * BigInt(q), 1n)
}

/** a mod m in [0, m) for bigints (JavaScript's `%` keeps the dividend's sign). */
export function bigMod(a: bigint, m: bigint): bigint {
  const r = a % m
  return r < 0n ? r + m : r
}

/** a^(-1) mod m for bigints. @throws NotInvertible when gcd(a, m) ≠ 1 */
export function bigInvMod(a: bigint, m: bigint): bigint {
  let [r0, r1] = [m, bigMod(a, m)]
  let [s0, s1] = [0n, 1n]
  while (r1 !== 0n) {
    const k = r0 / r1
    ;[r0, r1] = [r1, r0 - k * r1]
    ;[s0, s1] = [s1, s0 - k * s1]
  }
  if (r0 !== 1n) throw new NotInvertible({ a: a.toString(), q: m.toString(), message: `${a} has no inverse modulo ${m}` })
  return bigMod(s0, m)
}
