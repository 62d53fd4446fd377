/**
 * The stake-weighted median of step 3: C_j = the largest w with Σ_{i: W_ij ≥ w} S_i ≥ κ, exactly.
 *
 * Per column, a 63-row sample brackets the answer between two sampled values; one pass sums the stake above the
 * bracket and copies out the entries inside it, and a weighted quickselect (three-way partition, two pivots from a
 * 31-element sample) finishes on that band. A missed bracket falls back to the whole column. The answer depends only
 * on exact integer sums and comparisons, never on the pivots. Each decision also reports its margin (how far, in
 * stake units, it was from flipping), so that a decision made on rounded stake and landing within rounding
 * distance of κ can be settled on the exact stake ({@link exactColumnConsensus}).
 */
import { toDyadic } from './fixed.ts'
import type { ExactStake } from './stake.ts'

/** A median decision: the value and how far it was from flipping, min(support(≥ C) − need, need − support(> C)). */
export interface QuantileDecision {
  readonly value: number
  readonly margin: number
}

/** Column sample size and the sample ranks either side of the estimate that bracket the answer (≈ 2σ). */
const COL_SAMPLE = 63
const COL_BRACKET = 8
/** Quickselect pivot sample size. */
const SAMPLE = 31
/** Sample ranks either side of the estimate that bracket the answer (the estimate's spread is about √31/2 ≈ 2.8). */
const BRACKET = 4

/** Work arrays of one epoch's median steps (one per epoch; nothing survives between epochs). */
export interface MedianWork {
  readonly vals: Float64Array
  readonly wts: Float64Array
  readonly sampleV: Float64Array
  readonly sampleW: Float64Array
}

export function medianWork(rows: number): MedianWork {
  return {
    vals: new Float64Array(rows),
    wts: new Float64Array(rows),
    sampleV: new Float64Array(COL_SAMPLE),
    sampleW: new Float64Array(COL_SAMPLE),
  }
}

/**
 * C_j for one column: the largest w with Σ_{i active, W_ij ≥ w} u_i ≥ thr (support = Σ over W_ij > 0 ≥ thr).
 * A sample of 63 evenly spaced active rows brackets the answer between two of its values; one pass over the column
 * then sums the stake above the bracket and copies out only the entries inside it, and the weighted quickselect
 * finishes on that band. When the bracket misses, the whole column is gathered instead. Exact either way.
 */
export function columnConsensus(
  W: Float64Array,
  n: number,
  j: number,
  active: readonly number[],
  u: Float64Array,
  thr: number,
  support: number,
  work: MedianWork,
): QuantileDecision {
  const { vals, wts, sampleV, sampleW } = work
  const A = active.length
  if (A > 192) {
    let ns = 0
    let sampledStake = 0
    for (let k = 0; k < COL_SAMPLE; k++) {
      const i = active[Math.floor((k * A) / COL_SAMPLE)] as number
      const w = W[i * n + j] as number
      if (w > 0) {
        sampleV[ns] = w
        sampleW[ns] = u[i] as number
        sampledStake += u[i] as number
        ns++
      }
    }
    if (ns >= 8) {
      const k = sampleQuantileIndex(sampleV, sampleW, (sampledStake * thr) / support, ns)
      const hiP = sampleV[Math.max(0, k - COL_BRACKET)] as number
      const loP = sampleV[Math.min(ns - 1, k + COL_BRACKET)] as number
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

/** One three-way partition of vals/wts[lo, hi) around the band [loP, hiP], with the weight of each part. */
interface Partition {
  /** [lo, gt) > hiP, [gt, lt) in [loP, hiP], [lt, hi) < loP. */
  readonly gt: number
  readonly lt: number
  /** Weight above the band and inside it. */
  readonly above: number
  readonly band: number
}

function partition(vals: Float64Array, wts: Float64Array, lo: number, hi: number, loP: number, hiP: number): Partition {
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
  return { gt, lt, above: sA, band: sM }
}

/**
 * Largest value v among vals[0..m) with Σ_{vals ≥ v} wts ≥ need (0 when the total is below need): a weighted
 * quickselect with a three-way partition, O(m) expected. Two pivots bracket the weighted quantile estimated from an
 * evenly spaced sample of the segment, so usually one pass leaves only a thin band around the answer. Reorders
 * vals/wts in place; the answer depends only on exact sums and comparisons, never on the pivots.
 */
export function weightedUpperQuantile(vals: Float64Array, wts: Float64Array, m: number, needIn: number, total: number): QuantileDecision {
  let need = needIn
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
    const { gt, lt, above: sA, band: sM } = partition(vals, wts, lo, hi, loP, hiP)
    if (sA >= need) {
      stalled = false
      hi = gt
      segTotal = sA
      continue
    }
    if (sA + sM >= need) {
      if (loP === hiP) return { value: hiP, margin: Math.min(sA + sM - need, need - sA) }
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
  return { value: 0, margin: Infinity }
}

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

function quantileBySort(vals: Float64Array, wts: Float64Array, lo: number, hi: number, need: number): QuantileDecision {
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
      if (acc >= need) return { value: v, margin: Math.min(acc - need, need - before) }
      before = acc
    }
  }
  return { value: 0, margin: need - acc }
}

/**
 * The consensus of column j decided on the exact stake integers (used when stake had to be rounded and the rounded
 * decision was within rounding distance of the κ threshold): the largest w with Σ_{W_ij ≥ w} stake_i ≥ κ·Σ stake.
 * The rounded answer `candidate` is confirmed with one pass of exact sums (Σ over W ≥ candidate reaches κ, Σ over
 * W > candidate does not), in 40-bit limbs when stakes fit in 120 bits; only a refuted candidate costs a sort of the
 * column in BigInt.
 */
export function exactColumnConsensus(W: Float64Array, n: number, j: number, ex: ExactStake, kappa: number, candidate: number): number {
  const { mant, exp } = toDyadic(kappa)
  // Σ ≥ κ·total ⇔ Σ·2^max(0,−exp) ≥ mant·total·2^max(0,exp)
  const rhs = (mant * ex.total) << BigInt(Math.max(0, exp))
  const lshift = BigInt(Math.max(0, -exp))
  const reaches = (sum: bigint): boolean => sum << lshift >= rhs
  const { atLeast, above } = exactSupport(W, n, j, ex, candidate)
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

/** Exact stake with W_ij ≥ candidate (and W_ij > 0), and with W_ij > candidate. */
function exactSupport(W: Float64Array, n: number, j: number, ex: ExactStake, candidate: number): { atLeast: bigint; above: bigint } {
  let atLeast = 0n
  let above = 0n
  const L = ex.limbs
  if (L === null) {
    for (const i of ex.rows) {
      const w = W[i * n + j] as number
      if (w > 0 && w >= candidate) {
        atLeast += ex.ints[i] as bigint
        if (w > candidate) above += ex.ints[i] as bigint
      }
    }
    return { atLeast, above }
  }
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
  return { atLeast, above }
}
