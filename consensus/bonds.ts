/**
 * Steps 6 and 7 of the epoch in exact fixed point: bond accrual ΔB (column-normalised stake × clipped weight), the
 * bond EMA with the previous bonds, and dividends D_i = Σ_j B_ij·I_j.
 */
import { FRAC_BITS, ONE, WEIGHT_BITS, bitLength, divFloor, mulDivFloor, pow2 } from './fixed.ts'
import { INV18, INV20, INV36, TWO18, TWO20, TWO36, greatestCommonDivisor, rowDotsQ40 } from './exact-sums.ts'

/**
 * ΔB_ij = S_i·W̄_ij with columns normalised, in Q40: ⌊u_i·W̄_ij·2^40 / R_j⌋ with R_j = Σ_i u_i·W̄_ij exact (`colSums`).
 * The denominator is kept to 53 significant bits, ⌊R_j / 2^Z⌋·2^Z (a relative change below 2^-52); when Z > 40 the
 * stake is cut to ⌊u_i / 2^(Z−40)⌋ so that the product stays an integer (an error below 2^-40 per entry).
 * Overwrites W (the clipped weights) with ΔB and returns it.
 */
export function bondAccrual(W: Float64Array, n: number, u: Float64Array, permit: readonly boolean[], colSums: readonly bigint[]): Float64Array {
  const colDen = new Float64Array(n)
  const colScale = new Float64Array(n)
  const colCut = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    const r = colSums[j] as bigint
    if (r === 0n) continue
    const Z = Math.max(0, bitLength(r) - 53)
    const cut = Math.max(0, Z - FRAC_BITS)
    colDen[j] = Number(r >> BigInt(Z))
    colScale[j] = pow2(FRAC_BITS + cut - Z)
    colCut[j] = pow2(-cut)
  }
  for (let i = 0; i < n; i++) {
    const o = i * n
    const ui = u[i] as number
    if (permit[i] !== true || ui === 0) {
      W.fill(0, o, o + n)
      continue
    }
    for (let j = 0; j < n; j++) {
      const w = W[o + j] as number
      const c = colDen[j] as number
      W[o + j] = w === 0 || c === 0 ? 0 : mulDivFloor(Math.floor(ui * (colCut[j] as number)), w * (colScale[j] as number), c)
    }
  }
  return W
}

/**
 * The bond EMA, B = α·ΔB + (1 − α)·B_prev with α = 1 − bma/10^6, as the exact reduced ratio a : b, then columns
 * normalised: E = ⌊(a·ΔB + b·B_prev) / (a + b)⌋ (for a + b ≤ 4096 the division is left out: the normalisation makes
 * it unnecessary and a·ΔB + b·B_prev < 2^52 is exact), B = ⌊E·2^40 / Σ_i E⌋. Overwrites dB with B; returns it with
 * the column sums of E (0 where a column has no bonds).
 */
export function bondEma(dB: Float64Array, prev: Float64Array | null, bondsMovingAverage: number, n: number): { B: Float64Array; colSum: Float64Array } {
  let a = 1_000_000 - bondsMovingAverage
  let b = bondsMovingAverage
  const g = greatestCommonDivisor(a, b)
  a /= g
  b /= g
  const s = a + b
  const E = dB
  if (prev === null) {
    // B_prev = 0: α·ΔB normalises back to ΔB (nothing at all when α = 0).
    if (a === 0) E.fill(0)
  } else if (s <= 4096) {
    for (let k = 0; k < n * n; k++) E[k] = a * (dB[k] as number) + b * (prev[k] as number)
  } else {
    for (let k = 0; k < n * n; k++) {
      const d = dB[k] as number
      const p = prev[k] as number
      const dh = Math.floor(d * INV20)
      const ph = Math.floor(p * INV20)
      const xh = a * dh + b * ph
      const xl = a * (d - dh * TWO20) + b * (p - ph * TWO20)
      const qh = divFloor(xh, s)
      E[k] = qh * TWO20 + divFloor((xh - qh * s) * TWO20 + xl, s)
    }
  }
  const colSum = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const o = i * n
    for (let j = 0; j < n; j++) colSum[j] = (colSum[j] as number) + (E[o + j] as number)
  }
  const B = E
  for (let i = 0; i < n; i++) {
    const o = i * n
    for (let j = 0; j < n; j++) {
      const cs = colSum[j] as number
      const e = E[o + j] as number
      B[o + j] = e === 0 ? 0 : mulDivFloor(e, ONE, cs)
    }
  }
  return { B, colSum }
}

/**
 * Step 7 numerators: D_i = Σ_j B_ij·I_j exactly. D is scale-free in I, so I enters from its exact numerators relative
 * to the largest one whose bond column is non-zero, in Q52 (Ĩ = ⌊I·2^52 / max I⌋; columns without bonds contribute
 * nothing). That keeps full precision when the incentive that pays dividends is small.
 */
export function dividendNumerators(B: Float64Array, colSum: Float64Array, incentiveNum: readonly bigint[], n: number): bigint[] {
  let maxNum = 0n
  for (let j = 0; j < n; j++) {
    const x = incentiveNum[j] as bigint
    if ((colSum[j] as number) > 0 && x > maxNum) maxNum = x
  }
  const I2 = new Float64Array(n)
  const I1 = new Float64Array(n)
  const I0 = new Float64Array(n)
  if (maxNum > 0n) {
    for (let j = 0; j < n; j++) {
      if ((colSum[j] as number) === 0) continue
      const x = Number(((incentiveNum[j] as bigint) << BigInt(WEIGHT_BITS)) / maxNum)
      const x2 = Math.floor(x * INV36)
      const r = x - x2 * TWO36
      const x1 = Math.floor(r * INV18)
      I2[j] = x2
      I1[j] = x1
      I0[j] = r - x1 * TWO18
    }
  }
  return rowDotsQ40(B, n, I2, I1, I0)
}
