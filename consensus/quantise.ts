/**
 * Reading the epoch's float inputs as exact fixed point: weight rows (step 1) to Q52 and previous bond columns to
 * Q40. An entry is scaled by the power of two that brings its row (column) maximum just below 2^qbits and floored,
 * qbits = 52 − ⌈log2 n⌉ (exact for every entry with that many significant bits relative to the maximum: all u16
 * weights, and every Q40 bond an epoch returned), then divided exactly by the row (column) sum.
 */
import { ONE, WEIGHT_ONE, ceilLog2, divExactFloor, exponentOf, mulDivFloor, pow2 } from './fixed.ts'

/** The power-of-two factors (m1·m2 = 2^s) that bring `max` into [2^(qbits−1), 2^qbits). */
function quantFactors(max: number, qbits: number): [number, number] {
  const s = qbits - 1 - exponentOf(max)
  if (s > 1000) return [pow2(1000), pow2(s - 1000)]
  return [pow2(s), 1]
}

/**
 * Step 1: permitted rows, diagonal zeroed, each row normalised to Q52 (exact floor of q_ij·2^52 / Σ_j q_ij, where
 * q_ij = ⌊w_ij·2^s_i⌋), written into `W` (n×n row-major, any previous contents) and returned.
 */
export function normaliseWeights(weights: readonly (readonly number[])[], permit: readonly boolean[], n: number, W: Float64Array): Float64Array {
  W.fill(0)
  const qbits = 52 - ceilLog2(Math.max(n, 1))
  for (let i = 0; i < n; i++) {
    if (permit[i] !== true) continue
    const row = weights[i] as readonly number[]
    let max = 0
    for (let j = 0; j < n; j++) {
      const x = row[j] as number
      if (j !== i && x > max) max = x
    }
    if (max === 0) continue
    const [m1, m2] = quantFactors(max, qbits)
    const o = i * n
    let D = 0
    for (let j = 0; j < n; j++) {
      if (j === i) continue
      const q = Math.floor((row[j] as number) * m1 * m2)
      W[o + j] = q
      D += q
    }
    for (let j = 0; j < n; j++) W[o + j] = divExactFloor((W[o + j] as number) * WEIGHT_ONE, D)
  }
  return W
}

/**
 * Previous bonds, each column normalised to Q40 the same way as weight rows, written into `B` (n×n row-major, any
 * previous contents: every entry is overwritten) and returned; null when the bonds are all 0.
 */
export function normaliseBondColumns(bonds: readonly (readonly number[])[], n: number, B: Float64Array): Float64Array | null {
  const colMax = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const row = bonds[i] as readonly number[]
    const o = i * n
    for (let j = 0; j < n; j++) {
      const x = row[j] as number
      B[o + j] = x
      if (x > (colMax[j] as number)) colMax[j] = x
    }
  }
  if (!colMax.some((x) => x > 0)) return null
  const qbits = 52 - ceilLog2(Math.max(n, 1))
  const m1 = new Float64Array(n)
  const m2 = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    const mx = colMax[j] as number
    if (mx === 0) continue
    const [a, b] = quantFactors(mx, qbits)
    m1[j] = a
    m2[j] = b
  }
  const colSum = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const o = i * n
    for (let j = 0; j < n; j++) {
      const q = Math.floor((B[o + j] as number) * (m1[j] as number) * (m2[j] as number))
      B[o + j] = q
      colSum[j] = (colSum[j] as number) + q
    }
  }
  for (let i = 0; i < n; i++) {
    const o = i * n
    for (let j = 0; j < n; j++) {
      const s = colSum[j] as number
      B[o + j] = s === 0 ? 0 : mulDivFloor(B[o + j] as number, ONE, s)
    }
  }
  return B
}
