/**
 * The consensus epoch (Yuma, as in subtensor's epoch, plus the seed's sigmoid rule, Credits and the β(t) term),
 * computed entirely in exact integer arithmetic.
 *
 * Representation (see fixed.ts and docs/CONSENSUS.md):
 * - stake: integers u_i with T = Σ u_i < 2^53. When the permitted stakes are, after one common power-of-two scaling,
 *   integers summing below 2^53 (any stake in smallest units below 9·10^15), u is exactly proportional to the input
 *   and S_i = u_i / T is exact. Otherwise u_i = ⌊2^52·stake_i / Σ stake⌋, and median decisions that land within
 *   rounding distance of κ are redone on the exact stake.
 * - weights, consensus, clipped weights, validator trust: Q52 integers (x / 2^52).
 * - prerank / rank numerators Σ_i u_i·W_ij: exact (up to 2^105), six 53-bit-safe limb sums per column folded into
 *   BigInt.
 * - bonds, incentive, dividends, stake share, Credits: Q40 integers (x / 2^40).
 * Every division is an exact floor. Outputs are the fixed-point integers divided by 2^52 or 2^40 (exact in float64).
 */
import {
  FRAC_BITS,
  ONE,
  bitLength,
  WEIGHT_BITS,
  WEIGHT_ONE,
  ceilLog2,
  divExactFloor,
  divFloor,
  dyadicVector,
  exponentOf,
  fracQ40,
  fracQ52,
  mulDivFloor,
  pow2,
  toDyadic,
} from './fixed.ts'
import { betaQ40 } from './schedule.ts'
import { sigmoidConsensusQ52 } from './sigmoid.ts'
import type { CreditInfluence, EpochDetail, EpochOptions } from './types.ts'
import { validateEpoch } from './validate.ts'

/** One Credit in Q40 units. */
export const CREDIT_ONE = 1n << BigInt(FRAC_BITS)

/** Default Credit influence: up to +25% bond accrual, half of it at 10 Credits. */
export const DEFAULT_CREDIT_INFLUENCE: CreditInfluence = { maxBoostPpm: 250_000, halfCredits: 10n * CREDIT_ONE }

const TWO18 = pow2(18)
const TWO20 = pow2(20)
const TWO21 = pow2(21)
const TWO26 = pow2(26)
const TWO36 = pow2(36)
const INV18 = pow2(-18)
const INV20 = pow2(-20)
const INV21 = pow2(-21)
const INV26 = pow2(-26)
const INV36 = pow2(-36)
/** Rows per exact limb block of {@link ColumnMac}: 8192 · (2^21 − 1) · 2^18 < 2^52. */
const ROW_BLOCK = 8192
/** Columns per exact block in the dividend dot products: 8192 · 2^20 · 2^18 < 2^52. */
const COL_BLOCK = 8192

/**
 * Two n×n work matrices, kept between calls to spare the allocator and the garbage collector 64 MiB per epoch at
 * n = 2048. Safe because an epoch runs to completion synchronously and each worker thread has its own module
 * instance. Contents never survive into results (outputs are copied out).
 */
const scratchBuffers: (Float64Array | null)[] = [null, null]
function scratch(k: number, size: number): Float64Array {
  let b = scratchBuffers[k] ?? null
  if (b === null || b.length < size) {
    b = new Float64Array(size)
    scratchBuffers[k] = b
  }
  return b.subarray(0, size)
}

/** Stake units u (exactly proportional to permitted stake when possible) and their total T. */
function stakeUnits(
  stake: readonly number[],
  permit: readonly boolean[],
): { u: Float64Array; T: number; exact: ExactStake | null } {
  const n = stake.length
  const masked = new Array<number>(n)
  for (let i = 0; i < n; i++) masked[i] = permit[i] === true ? (stake[i] as number) : 0
  const ints = dyadicVector(masked)
  let total = 0n
  for (const x of ints) total += x
  const u = new Float64Array(n)
  if (total === 0n) return { u, T: 0, exact: null }
  if (total < 1n << 53n) {
    for (let i = 0; i < n; i++) u[i] = Number(ints[i])
    return { u, T: Number(total), exact: null }
  }
  let T = 0
  for (let i = 0; i < n; i++) {
    const v = Number(((ints[i] as bigint) << 52n) / total)
    u[i] = v
    T += v
  }
  // Three 40-bit limbs per stake when every stake fits in 120 bits, so exact sums need no BigInt per entry.
  let maxBits = 0
  for (const x of ints) maxBits = Math.max(maxBits, bitLength(x))
  let limbs: Float64Array | null = null
  if (maxBits <= 120) {
    limbs = new Float64Array(3 * n)
    const mask = (1n << 40n) - 1n
    for (let i = 0; i < n; i++) {
      const x = ints[i] as bigint
      limbs[3 * i] = Number(x >> 80n)
      limbs[3 * i + 1] = Number((x >> 40n) & mask)
      limbs[3 * i + 2] = Number(x & mask)
    }
  }
  const rows: number[] = []
  for (let i = 0; i < n; i++) if ((ints[i] as bigint) > 0n) rows.push(i)
  return { u, T, exact: { ints, total, limbs, rows } }
}

/** The exact stake behind rounded stake units: integers proportional to the permitted stake. */
interface ExactStake {
  readonly ints: readonly bigint[]
  readonly total: bigint
  /** ints as three 40-bit limbs (hi, mid, lo) per uid, or null when some stake needs more than 120 bits. */
  readonly limbs: Float64Array | null
  /** uids with non-zero exact stake (permitted), including those whose rounded unit is 0. */
  readonly rows: readonly number[]
}

/**
 * The consensus of column j decided on the exact stake integers (used when stake had to be rounded and the rounded
 * decision was within rounding distance of the κ threshold): the largest w with Σ_{W_ij ≥ w} stake_i ≥ κ·Σ stake.
 * The rounded answer `candidate` is confirmed with one pass of exact sums (Σ over W ≥ candidate reaches κ, Σ over
 * W > candidate does not), in 40-bit limbs when stakes fit in 120 bits; only a refuted candidate costs a sort of the
 * column in BigInt.
 */
function exactColumnConsensus(W: Float64Array, n: number, j: number, ex: ExactStake, kappa: number, candidate: number): number {
  const { mant, exp } = toDyadic(kappa)
  // Σ ≥ κ·total ⇔ Σ·2^max(0,−exp) ≥ mant·total·2^max(0,exp)
  const rhs = (mant * ex.total) << BigInt(Math.max(0, exp))
  const lshift = BigInt(Math.max(0, -exp))
  const reaches = (sum: bigint): boolean => sum << lshift >= rhs
  let atLeast = 0n
  let above = 0n
  const L = ex.limbs
  if (L !== null) {
    // At most 8192 rows per block keep each limb sum below 2^53 (no closure: the sums stay in registers).
    const rows = ex.rows
    for (let r0 = 0; r0 < rows.length; r0 += 8192) {
      const r1 = Math.min(rows.length, r0 + 8192)
      let a2 = 0
      let a1 = 0
      let a0 = 0
      let b2 = 0
      let b1 = 0
      let b0 = 0
      for (let r = r0; r < r1; r++) {
        const i = rows[r] as number
        const w = W[i * n + j] as number
        if (w > 0 && w >= candidate) {
          const x2 = L[3 * i] as number
          const x1 = L[3 * i + 1] as number
          const x0 = L[3 * i + 2] as number
          a2 += x2
          a1 += x1
          a0 += x0
          if (w > candidate) {
            b2 += x2
            b1 += x1
            b0 += x0
          }
        }
      }
      atLeast += (BigInt(a2) << 80n) + (BigInt(a1) << 40n) + BigInt(a0)
      above += (BigInt(b2) << 80n) + (BigInt(b1) << 40n) + BigInt(b0)
    }
  } else {
    for (const i of ex.rows) {
      const w = W[i * n + j] as number
      if (w > 0 && w >= candidate) {
        atLeast += ex.ints[i] as bigint
        if (w > candidate) above += ex.ints[i] as bigint
      }
    }
  }
  if (candidate > 0 ? reaches(atLeast) && !reaches(above) : !reaches(atLeast)) return candidate
  const entries: [number, bigint][] = []
  for (const i of ex.rows) {
    const w = W[i * n + j] as number
    if (w > 0) entries.push([w, ex.ints[i] as bigint])
  }
  entries.sort((a, b) => b[0] - a[0])
  let acc = 0n
  for (let k = 0; k < entries.length; k++) {
    const [w, x] = entries[k] as [number, bigint]
    acc += x
    const next = k + 1 < entries.length ? (entries[k + 1] as [number, bigint])[0] : -1
    if (next !== w && reaches(acc)) return w
  }
  return 0
}

/** ⌈κ·T⌉: Σ u ≥ κ·T ⇔ Σ u ≥ ⌈κ·T⌉ for integer sums. */
function kappaThreshold(kappa: number, T: number): number {
  const { mant, exp } = toDyadic(kappa)
  const prod = mant * BigInt(T)
  if (exp >= 0) return Number(prod << BigInt(exp))
  const d = 1n << BigInt(-exp)
  return Number((prod + d - 1n) / d)
}

/** The power-of-two factors (m1·m2 = 2^s) that bring `max` into [2^(qbits−1), 2^qbits). */
function quantFactors(max: number, qbits: number): [number, number] {
  const s = qbits - 1 - exponentOf(max)
  if (s > 1000) return [pow2(1000), pow2(s - 1000)]
  return [pow2(s), 1]
}

/**
 * Step 1: permitted rows, diagonal zeroed, each row normalised to Q52 (exact floor of q_ij·2^52 / Σ_j q_ij, where
 * q_ij = ⌊w_ij·2^s_i⌋ is the entry scaled by the power of two that brings the row maximum just below 2^qbits;
 * exact for any entry with at most qbits significant bits relative to its row maximum).
 */
function normaliseWeights(weights: readonly (readonly number[])[], permit: readonly boolean[], n: number): Float64Array {
  const W = scratch(0, n * n)
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

/** Previous bonds, each column normalised to Q40 the same way as weight rows (all zero when bonds are all 0). */
function normaliseBondColumns(bonds: readonly (readonly number[])[], n: number): Float64Array | null {
  const colMax = new Float64Array(n)
  const B = scratch(1, n * n)
  let any = false
  for (let i = 0; i < n; i++) {
    const row = bonds[i] as readonly number[]
    const o = i * n
    for (let j = 0; j < n; j++) {
      const x = row[j] as number
      B[o + j] = x
      if (x > (colMax[j] as number)) colMax[j] = x
    }
  }
  for (let j = 0; j < n; j++) if ((colMax[j] as number) > 0) any = true
  if (!any) return null
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

/** Column sample size and the sample ranks either side of the estimate that bracket the answer (≈ 2σ). */
const COL_SAMPLE = 63
const COL_BRACKET = 8
const colSampleV = new Float64Array(COL_SAMPLE)
const colSampleW = new Float64Array(COL_SAMPLE)

/**
 * C_j for one column: the largest w with Σ_{i active, W_ij ≥ w} u_i ≥ thr (support = Σ over W_ij > 0 ≥ thr).
 * A sample of 63 evenly spaced active rows brackets the answer between two of its values; one pass over the column
 * then sums the stake above the bracket and copies out only the entries inside it, and the weighted quickselect
 * finishes on that band. When the bracket misses, the whole column is gathered instead. Exact either way.
 */
function columnConsensus(
  W: Float64Array,
  n: number,
  j: number,
  active: readonly number[],
  u: Float64Array,
  thr: number,
  support: number,
  vals: Float64Array,
  wts: Float64Array,
): number {
  const A = active.length
  if (A > 192) {
    let ns = 0
    let sampleW = 0
    for (let k = 0; k < COL_SAMPLE; k++) {
      const i = active[Math.floor((k * A) / COL_SAMPLE)] as number
      const w = W[i * n + j] as number
      if (w > 0) {
        colSampleV[ns] = w
        colSampleW[ns] = u[i] as number
        sampleW += u[i] as number
        ns++
      }
    }
    if (ns >= 8) {
      const k = sampleQuantileIndex(colSampleV, colSampleW, (sampleW * thr) / support, ns)
      const hiP = colSampleV[Math.max(0, k - COL_BRACKET)] as number
      const loP = colSampleV[Math.min(ns - 1, k + COL_BRACKET)] as number
      let sA = 0
      let sM = 0
      let m = 0
      for (let a = 0; a < A; a++) {
        const i = active[a] as number
        const w = W[i * n + j] as number
        if (w > hiP) sA += u[i] as number
        else if (w >= loP && w > 0) {
          const ui = u[i] as number
          vals[m] = w
          wts[m] = ui
          sM += ui
          m++
        }
      }
      if (sA < thr && sA + sM >= thr) return weightedUpperQuantile(vals, wts, m, thr - sA, sM)
    }
  }
  let m = 0
  for (let a = 0; a < A; a++) {
    const i = active[a] as number
    const w = W[i * n + j] as number
    if (w > 0) {
      vals[m] = w
      wts[m] = u[i] as number
      m++
    }
  }
  return weightedUpperQuantile(vals, wts, m, thr, support)
}

/**
 * Largest value v among vals[0..m) with Σ_{vals ≥ v} wts ≥ need (0 when the total is below need): a weighted
 * quickselect with a three-way partition, O(m) expected. Two pivots bracket the weighted quantile estimated from an
 * evenly spaced sample of the segment, so usually one pass leaves only a thin band around the answer. Reorders
 * vals/wts in place; the answer depends only on exact sums and comparisons, never on the pivots.
 */
function weightedUpperQuantile(vals: Float64Array, wts: Float64Array, m: number, need: number, total: number): number {
  quantileMargin = Infinity
  let lo = 0
  let hi = m
  let rounds = 0
  let segTotal = total
  const sv = new Float64Array(SAMPLE)
  const sw = new Float64Array(SAMPLE)
  let stalled = false
  while (hi > lo) {
    const len = hi - lo
    if (len <= 32 || rounds > 60) return quantileBySort(vals, wts, lo, hi, need)
    rounds++
    // Pivot: the weighted quantile of a sample (deterministic positions) at the fraction need / segTotal.
    const step = len / SAMPLE
    let sampleW = 0
    for (let k = 0; k < SAMPLE; k++) {
      const idx = lo + Math.floor(k * step)
      sv[k] = vals[idx] as number
      sw[k] = wts[idx] as number
      sampleW += sw[k] as number
    }
    // Two pivots bracketing the sample's estimate of the answer; the middle band is usually small.
    const k = sampleQuantileIndex(sv, sw, (sampleW * need) / segTotal)
    let hiP = sv[Math.max(0, k - BRACKET)] as number
    let loP = sv[Math.min(SAMPLE - 1, k + BRACKET)] as number
    if (stalled) {
      hiP = sv[k] as number
      loP = hiP
    }
    // [lo, gt) > hiP, [gt, lt) in [loP, hiP], [lt, hi) < loP, with the weight of each part summed on the way.
    let gt = lo
    let i = lo
    let lt = hi
    let sA = 0
    let sM = 0
    while (i < lt) {
      const x = vals[i] as number
      const w = wts[i] as number
      if (x > hiP) {
        vals[i] = vals[gt] as number
        wts[i] = wts[gt] as number
        vals[gt] = x
        wts[gt] = w
        sA += w
        gt++
        i++
      } else if (x < loP) {
        lt--
        vals[i] = vals[lt] as number
        wts[i] = wts[lt] as number
        vals[lt] = x
        wts[lt] = w
      } else {
        sM += w
        i++
      }
    }
    if (sA >= need) {
      stalled = false
      hi = gt
      segTotal = sA
      continue
    }
    if (sA + sM >= need) {
      if (loP === hiP) {
        quantileMargin = Math.min(sA + sM - need, need - sA)
        return hiP
      }
      // The answer is in the middle band; a band that did not shrink is split at one pivot next round.
      stalled = gt === lo && lt === hi
      need -= sA
      segTotal = sM
      lo = gt
      hi = lt
      continue
    }
    stalled = false
    need -= sA + sM
    segTotal -= sA + sM
    lo = lt
  }
  return 0
}

const SAMPLE = 31
/** Sample ranks either side of the estimate that bracket the answer (the estimate's spread is about √31/2 ≈ 2.8). */
const BRACKET = 4
/** How far (in stake units) the last quantile decision was from flipping: min(support(≥ C) − need, need − support(> C)). */
let quantileMargin = Infinity

/** Sorts the sample by value, descending, and returns the index where its cumulative weight first reaches `target`. */
function sampleQuantileIndex(sv: Float64Array, sw: Float64Array, target: number, len: number = sv.length): number {
  for (let k = 1; k < len; k++) {
    const v = sv[k] as number
    const w = sw[k] as number
    let m = k - 1
    while (m >= 0 && (sv[m] as number) < v) {
      sv[m + 1] = sv[m] as number
      sw[m + 1] = sw[m] as number
      m--
    }
    sv[m + 1] = v
    sw[m + 1] = w
  }
  let acc = 0
  for (let k = 0; k < len; k++) {
    acc += sw[k] as number
    if (acc >= target) return k
  }
  return len - 1
}

function quantileBySort(vals: Float64Array, wts: Float64Array, lo: number, hi: number, need: number): number {
  const idx = Array.from({ length: hi - lo }, (_, k) => lo + k)
  idx.sort((p, q) => (vals[q] as number) - (vals[p] as number) || p - q)
  let acc = 0
  let before = 0
  for (let k = 0; k < idx.length; k++) {
    const v = vals[idx[k] as number] as number
    acc += wts[idx[k] as number] as number
    // Include every tie of v before testing.
    const next = k + 1 < idx.length ? (vals[idx[k + 1] as number] as number) : -1
    if (next !== v) {
      if (acc >= need) {
        quantileMargin = Math.min(acc - need, need - before)
        return v
      }
      before = acc
    }
  }
  quantileMargin = need - acc
  return 0
}

/**
 * Exact column sums Σ_i u_i·X_ij for u < 2^53 and Q52 entries X ≤ 2^52: u = uh·2^21 + ul, X = x2·2^36 + x1·2^18 + x0,
 * six limb products per entry, each limb sum below 2^53 (Σ uh < 2^32; at most ROW_BLOCK rows of ul < 2^21), folded
 * into BigInt every ROW_BLOCK rows.
 */
class ColumnMac {
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
function rowDotQ52(M: Float64Array, o: number, n: number, v1: Float64Array, v0: Float64Array): number {
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

function greatestCommonDivisor(a: number, b: number): number {
  let x = a
  let y = b
  while (y !== 0) {
    const t = x % y
    x = y
    y = t
  }
  return x
}

/** Fixed-point integers (Q40 unless another unit is given) → plain numbers, exactly. */
function toNumbers(v: ArrayLike<number>, unit: number = ONE): number[] {
  const out = new Array<number>(v.length)
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) / unit
  return out
}

/** Normalises non-negative BigInt numerators to Q40 fractions of their sum (all 0 when the sum is 0). */
function normaliseBig(num: readonly bigint[]): Float64Array {
  let sum = 0n
  for (const x of num) sum += x
  const out = new Float64Array(num.length)
  if (sum === 0n) return out
  for (let i = 0; i < num.length; i++) out[i] = fracQ40(num[i] as bigint, sum)
  return out
}

/**
 * Runs one epoch with the seed's extensions. See {@link epoch} for the stable core; this adds the rule choice,
 * Credits (accrual and influence) and the β(t)·Accuracy(TFT) incentive term.
 *
 * @throws InvalidEpochInput naming the field, for wrong lengths, non-square matrices, negative/NaN/infinite
 * entries, or out-of-range parameters.
 */
export function runEpoch(input: EpochOptions): EpochDetail {
  const { n, kappa, bondsMovingAverage, rule, rho } = validateEpoch(input)
  const permit = input.validatorPermit

  // S: permitted stake as exact integer units.
  const { u, T, exact: exactStake } = stakeUnits(input.stake, permit)
  const thr = T === 0 ? 0 : kappaThreshold(kappa, T)
  const active: number[] = []
  for (let i = 0; i < n; i++) if (permit[i] === true && (u[i] as number) > 0) active.push(i)

  // 1. Weights.
  const W = normaliseWeights(input.weights, permit, n)

  // 3. Consensus (and, for the sigmoid rule, T_j = Σ_i S_i·[W_ij > 0]).
  const C = new Float64Array(n)
  const TN = new Float64Array(n)
  for (const i of active) {
    const o = i * n
    const ui = u[i] as number
    for (let j = 0; j < n; j++) if ((W[o + j] as number) > 0) TN[j] = (TN[j] as number) + ui
  }
  if (rule === 'yuma') {
    const vals = new Float64Array(active.length)
    const wts = new Float64Array(active.length)
    for (let j = 0; j < n; j++) {
      const support = TN[j] as number
      let c = 0
      let margin = thr - support
      if (T > 0 && support >= thr) {
        c = columnConsensus(W, n, j, active, u, thr, support, vals, wts)
        margin = quantileMargin
      }
      // Rounded stake: a decision within rounding distance of κ is settled on the exact stake.
      if (exactStake !== null && margin <= n + 2) c = exactColumnConsensus(W, n, j, exactStake, kappa, c)
      C[j] = c
    }
  } else {
    for (let j = 0; j < n; j++) C[j] = sigmoidConsensusQ52(TN[j] as number, T, kappa, rho)
  }

  // 2, 4, 5. Prerank and rank numerators (exact), clipping, validator trust.
  const preMac = new ColumnMac(n)
  const rankMac = new ColumnMac(n)
  const Tv = new Float64Array(n)
  const C1 = new Float64Array(n)
  const C0 = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    C1[j] = Math.floor((C[j] as number) * INV26)
    C0[j] = (C[j] as number) - (C1[j] as number) * TWO26
  }
  for (let i = 0; i < n; i++) {
    if (permit[i] !== true) continue
    const o = i * n
    const ui = u[i] as number
    if (ui > 0) preMac.addRow(ui, W, o, n)
    let tv = 0
    if (rule === 'yuma') {
      for (let j = 0; j < n; j++) {
        const w = W[o + j] as number
        const c = C[j] as number
        const wb = w < c ? w : c
        W[o + j] = wb
        tv += wb
      }
    } else {
      tv = rowDotQ52(W, o, n, C1, C0)
    }
    Tv[i] = tv
    if (rule === 'yuma' && ui > 0) rankMac.addRow(ui, W, o, n)
  }
  const PN = preMac.result()
  const RN = rule === 'yuma' ? rankMac.result() : PN

  // Incentive from consensus: R / ΣR (Yuma) or R·C / Σ R·C (sigmoid rule).
  const consensusNum = rule === 'yuma' ? RN : RN.map((r, j) => r * BigInt(C[j] as number))
  const consensusIncentive = normaliseBig(consensusNum)
  const fallbackToStake = consensusNum.every((x) => x === 0n)

  // I(W, S, TFT, t) = R·C + β(t)·Accuracy(TFT): both terms as distributions, see docs/CONSENSUS.md.
  let incentive = consensusIncentive
  let incentiveNum = consensusNum
  let betaQ = 0
  if (input.tft !== undefined) {
    betaQ = betaQ40(input.tft.block)
    const accQ = Math.floor(input.tft.accuracy * ONE)
    const f = dyadicVector(input.tft.forecast)
    let fSum = 0n
    for (const x of f) fSum += x
    if (betaQ > 0 && accQ > 0 && fSum > 0n) {
      const scale = BigInt(betaQ) * BigInt(accQ)
      const blended = new Array<bigint>(n)
      for (let j = 0; j < n; j++) {
        const fq = fracQ40(f[j] as bigint, fSum)
        const term = (scale * BigInt(fq)) >> BigInt(2 * FRAC_BITS)
        blended[j] = BigInt(consensusIncentive[j] as number) + term
      }
      incentive = normaliseBig(blended)
      incentiveNum = blended
    }
  }

  // Credits: ΔCredits_i = S_i · Σ_j W̄_ij (Q40), accrued; influence = bounded multiplier on bond accrual.
  const prevCredits = input.credits ?? new Array<bigint>(n).fill(0n)
  const creditsDelta = new Array<bigint>(n)
  const credits = new Array<bigint>(n)
  for (let i = 0; i < n; i++) {
    // S_i·Tv_i in Q40: u_i·Tv_i / (T·2^12), Tv in Q52.
    const d = T === 0 ? 0n : (BigInt(u[i] as number) * BigInt(Tv[i] as number)) / (BigInt(T) << BigInt(WEIGHT_BITS - FRAC_BITS))
    creditsDelta[i] = d
    credits[i] = (prevCredits[i] as bigint) + d
  }
  const influence = input.creditInfluence === undefined ? (input.credits === undefined ? null : DEFAULT_CREDIT_INFLUENCE) : input.creditInfluence
  const multQ = new Float64Array(n).fill(ONE)
  let ub = u
  let bondRN = RN
  if (influence !== null && influence.maxBoostPpm > 0) {
    const boost = BigInt(influence.maxBoostPpm)
    const H = influence.halfCredits
    const scaled = new Array<bigint>(n)
    let sum = 0n
    for (let i = 0; i < n; i++) {
      const c = prevCredits[i] as bigint
      const m = (1n << BigInt(FRAC_BITS)) + ((boost << BigInt(FRAC_BITS)) * c) / (1_000_000n * (c + H))
      multQ[i] = Number(m)
      const s = BigInt(u[i] as number) * m
      scaled[i] = s
      sum += s
    }
    const sh = Math.max(0, bitLength(sum) - 53)
    ub = new Float64Array(n)
    for (let i = 0; i < n; i++) ub[i] = Number((scaled[i] as bigint) >> BigInt(sh))
    const mac = new ColumnMac(n)
    for (const i of active) if ((ub[i] as number) > 0) mac.addRow(ub[i] as number, W, i * n, n)
    bondRN = mac.result()
  }

  // 6. ΔB_ij = S_i·W̄_ij with columns normalised, in Q40: ⌊u_i·W̄_ij·2^40 / R_j⌋ with R_j = Σ_i u_i·W̄_ij exact. The
  // denominator is kept to 53 significant bits, ⌊R_j / 2^Z⌋·2^Z (a relative change below 2^-52); when Z > 40 the
  // stake is cut to ⌊u_i / 2^(Z−40)⌋ so that the product stays an integer (an error below 2^-40 per entry).
  const colDen = new Float64Array(n)
  const colScale = new Float64Array(n)
  const colCut = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    const r = bondRN[j] as bigint
    if (r === 0n) continue
    const Z = Math.max(0, bitLength(r) - 53)
    const cut = Math.max(0, Z - FRAC_BITS)
    colDen[j] = Number(r >> BigInt(Z))
    colScale[j] = pow2(FRAC_BITS + cut - Z)
    colCut[j] = pow2(-cut)
  }
  for (let i = 0; i < n; i++) {
    const o = i * n
    const ui = ub[i] as number
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
  const dB = W

  // Previous bonds, columns normalised; EMA with α = 1 − bma/10^6 as the exact reduced ratio a : b; columns
  // normalised again. E = ⌊(a·ΔB + b·B_prev) / (a + b)⌋, B = ⌊E·2^40 / Σ_i E⌋.
  const Bp = normaliseBondColumns(input.bonds, n)
  let a = 1_000_000 - bondsMovingAverage
  let b = bondsMovingAverage
  const g = greatestCommonDivisor(a, b)
  a /= g
  b /= g
  const s = a + b
  const E = dB
  if (Bp === null) {
    // B_prev = 0: α·ΔB normalises back to ΔB (nothing at all when α = 0).
    if (a === 0) E.fill(0)
  } else if (s <= 4096) {
    // a·ΔB + b·B_prev < 2^52 is exact; the column normalisation below makes the division by a + b unnecessary.
    for (let k = 0; k < n * n; k++) E[k] = a * (dB[k] as number) + b * (Bp[k] as number)
  } else {
    for (let k = 0; k < n * n; k++) {
      const d = dB[k] as number
      const p = Bp[k] as number
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

  // 7. Dividends D_i = Σ_j B_ij·I_j (exact), normalised. D is scale-free in I, so I enters from its exact numerators
  // relative to the largest one whose bond column is non-zero, in Q52 (Ĩ = ⌊I·2^52 / max I⌋; columns without bonds
  // contribute nothing). That keeps full precision when the incentive that pays dividends is small.
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
  const DN = new Array<bigint>(n).fill(0n)
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
        const a2 = I2[j] as number
        const a1 = I1[j] as number
        const a0 = I0[j] as number
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
    DN[i] = total
  }
  const dividends = normaliseBig(DN)

  // Outputs: exact conversions of the Q40 state.
  const Tbig = BigInt(T)
  const rank = new Float64Array(n)
  const trust = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    rank[j] = T === 0 ? 0 : Number((RN[j] as bigint) / Tbig)
    if (rule === 'yuma') trust[j] = fracQ52(RN[j] as bigint, PN[j] as bigint)
    else trust[j] = T === 0 ? 0 : fracQ52(BigInt(TN[j] as number), Tbig)
  }
  const bondsOut = new Array<number[]>(n)
  for (let i = 0; i < n; i++) {
    const o = i * n
    const row = new Array<number>(n).fill(0) // packed, not holey: cheaper to read back next epoch
    for (let j = 0; j < n; j++) row[j] = (B[o + j] as number) / ONE
    bondsOut[i] = row
  }
  const stakeShare = new Float64Array(n)
  if (T > 0) for (let i = 0; i < n; i++) stakeShare[i] = mulDivFloor(u[i] as number, ONE, T)
  const multiplier = toNumbers(multQ)

  return {
    consensus: toNumbers(C, WEIGHT_ONE),
    rank: toNumbers(rank, WEIGHT_ONE),
    trust: toNumbers(trust, WEIGHT_ONE),
    incentive: toNumbers(incentive),
    validatorTrust: toNumbers(Tv, WEIGHT_ONE),
    dividends: toNumbers(dividends),
    bonds: bondsOut,
    rule,
    consensusIncentive: toNumbers(consensusIncentive),
    stakeShare: toNumbers(stakeShare),
    creditsDelta,
    credits,
    bondMultiplier: multiplier,
    beta: betaQ / ONE,
    fallbackToStake,
  }
}
