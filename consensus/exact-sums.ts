/**
 * Exact sums of products for the epoch: Σ_i u_i·X_ij column sums, row dot products and the dividend dot products,
 * carried in float64 limb accumulators that provably stay below 2^53 and folded into BigInt. The results are the
 * exact integers an arbitrary-precision implementation computes (see fixed.ts for the representation).
 */
import { ONE, WEIGHT_BITS, fracQ40, pow2 } from './fixed.ts'

export const TWO18 = pow2(18)
export const TWO20 = pow2(20)
export const TWO21 = pow2(21)
export const TWO26 = pow2(26)
export const TWO36 = pow2(36)
export const INV18 = pow2(-18)
export const INV20 = pow2(-20)
export const INV21 = pow2(-21)
export const INV26 = pow2(-26)
export const INV36 = pow2(-36)
/** Rows per exact limb block of {@link ColumnMac}: 8192 · (2^21 − 1) · 2^18 < 2^52. */
const ROW_BLOCK = 8192
/** Columns per exact block in the dividend dot products: 8192 · 2^20 · 2^18 < 2^52. */
const COL_BLOCK = 8192

/**
 * Exact column sums Σ_i u_i·X_ij for u < 2^53 and Q52 entries X ≤ 2^52: u = uh·2^21 + ul, X = x2·2^36 + x1·2^18 + x0,
 * six limb products per entry, each limb sum below 2^53 (Σ uh < 2^32; at most ROW_BLOCK rows of ul < 2^21), folded
 * into BigInt every ROW_BLOCK rows.
 */
export class ColumnMac {
  readonly acc: Float64Array[]
  readonly total: bigint[]
  rows = 0
  constructor(n: number) {
    this.acc = Array.from({ length: 6 }, () => new Float64Array(n))
    this.total = new Array<bigint>(n).fill(0n)
  }
  flush(): void {
    const [h2, h1, h0, l2, l1, l0] = this.acc as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array]
    const { total } = this
    for (let j = 0; j < total.length; j++) {
      const a = h2[j] as number
      const b = h1[j] as number
      const c = h0[j] as number
      const d = l2[j] as number
      const e = l1[j] as number
      const f = l0[j] as number
      if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0) continue
      const hi = (BigInt(a) << 36n) + (BigInt(b) << 18n) + BigInt(c)
      const lo = (BigInt(d) << 36n) + (BigInt(e) << 18n) + BigInt(f)
      total[j] = (total[j] as bigint) + (hi << 21n) + lo
      h2[j] = 0
      h1[j] = 0
      h0[j] = 0
      l2[j] = 0
      l1[j] = 0
      l0[j] = 0
    }
    this.rows = 0
  }
  /** Adds u·row for one row of Q52 entries. */
  addRow(u: number, M: Float64Array, o: number, n: number): void {
    if (this.rows === ROW_BLOCK) this.flush()
    this.rows++
    const uh = Math.floor(u * INV21)
    const ul = u - uh * TWO21
    const [h2, h1, h0, l2, l1, l0] = this.acc as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array]
    for (let j = 0; j < n; j++) {
      const w = M[o + j] as number
      if (w === 0) continue
      const x2 = Math.floor(w * INV36)
      const r = w - x2 * TWO36
      const x1 = Math.floor(r * INV18)
      const x0 = r - x1 * TWO18
      h2[j] = (h2[j] as number) + uh * x2
      h1[j] = (h1[j] as number) + uh * x1
      h0[j] = (h0[j] as number) + uh * x0
      l2[j] = (l2[j] as number) + ul * x2
      l1[j] = (l1[j] as number) + ul * x1
      l0[j] = (l0[j] as number) + ul * x0
    }
  }
  result(): bigint[] {
    this.flush()
    return this.total
  }
}

/** ⌊Σ_j M_oj·V_j / 2^52⌋ exactly, for Q52 entries M ≤ 2^52 and V ≤ 2^52 (V given as 26-bit limbs v1, v0). */
export function rowDotQ52(M: Float64Array, o: number, n: number, v1: Float64Array, v0: Float64Array): number {
  let total = 0n
  for (let j0 = 0; j0 < n; j0 += 256) {
    const j1 = Math.min(n, j0 + 256)
    let a2 = 0
    let a1 = 0
    let a0 = 0
    let b2 = 0
    let b1 = 0
    let b0 = 0
    for (let j = j0; j < j1; j++) {
      const w = M[o + j] as number
      if (w === 0) continue
      const x2 = Math.floor(w * INV36)
      const r = w - x2 * TWO36
      const x1 = Math.floor(r * INV18)
      const x0 = r - x1 * TWO18
      const c1 = v1[j] as number
      const c0 = v0[j] as number
      a2 += x2 * c1
      a1 += x1 * c1
      a0 += x0 * c1
      b2 += x2 * c0
      b1 += x1 * c0
      b0 += x0 * c0
    }
    const hi = (BigInt(a2) << 36n) + (BigInt(a1) << 18n) + BigInt(a0)
    const lo = (BigInt(b2) << 36n) + (BigInt(b1) << 18n) + BigInt(b0)
    total += (hi << 26n) + lo
  }
  return Number(total >> BigInt(WEIGHT_BITS))
}

/** A Q52 vector (entries ≤ 2^52) split into 26-bit limbs (hi, lo) for {@link rowDotQ52}. */
export function limbs26(v: Float64Array): { hi: Float64Array; lo: Float64Array } {
  const hi = new Float64Array(v.length)
  const lo = new Float64Array(v.length)
  for (let j = 0; j < v.length; j++) {
    hi[j] = Math.floor((v[j] as number) * INV26)
    lo[j] = (v[j] as number) - (hi[j] as number) * TWO26
  }
  return { hi, lo }
}

/**
 * Exact row dot products Σ_j B_ij·X_j for Q40 entries B ≤ 2^40 (split 20 + 20 bits) and Q52 X (split 16 + 18 + 18
 * bits, given as limbs x2, x1, x0), one BigInt per row. Rows of B are n wide, row i at offset i·n.
 */
export function rowDotsQ40(B: Float64Array, n: number, x2v: Float64Array, x1v: Float64Array, x0v: Float64Array): bigint[] {
  const out = new Array<bigint>(n).fill(0n)
  for (let i = 0; i < n; i++) {
    const o = i * n
    let total = 0n
    for (let j0 = 0; j0 < n; j0 += COL_BLOCK) {
      const j1 = Math.min(n, j0 + COL_BLOCK)
      let h2 = 0
      let h1 = 0
      let h0 = 0
      let l2 = 0
      let l1 = 0
      let l0 = 0
      for (let j = j0; j < j1; j++) {
        const x = B[o + j] as number
        if (x === 0) continue
        const bh = Math.floor(x * INV20)
        const bl = x - bh * TWO20
        const a2 = x2v[j] as number
        const a1 = x1v[j] as number
        const a0 = x0v[j] as number
        h2 += bh * a2
        h1 += bh * a1
        h0 += bh * a0
        l2 += bl * a2
        l1 += bl * a1
        l0 += bl * a0
      }
      if (h2 !== 0 || h1 !== 0 || h0 !== 0 || l2 !== 0 || l1 !== 0 || l0 !== 0) {
        const hi = (BigInt(h2) << 36n) + (BigInt(h1) << 18n) + BigInt(h0)
        const lo = (BigInt(l2) << 36n) + (BigInt(l1) << 18n) + BigInt(l0)
        total += (hi << 20n) + lo
      }
    }
    out[i] = total
  }
  return out
}

/** Normalises non-negative BigInt numerators to Q40 fractions of their sum (all 0 when the sum is 0). */
export function normaliseBig(num: readonly bigint[]): Float64Array {
  let sum = 0n
  for (const x of num) sum += x
  const out = new Float64Array(num.length)
  if (sum === 0n) return out
  for (let i = 0; i < num.length; i++) out[i] = fracQ40(num[i] as bigint, sum)
  return out
}

/** Fixed-point integers (Q40 unless another unit is given) → plain numbers, exactly. */
export function toNumbers(v: ArrayLike<number>, unit: number = ONE): number[] {
  const out = new Array<number>(v.length)
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) / unit
  return out
}

export function greatestCommonDivisor(a: number, b: number): number {
  let x = a
  let y = b
  while (y !== 0) {
    const t = x % y
    x = y
    y = t
  }
  return x
}
