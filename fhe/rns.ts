/**
 * RNS tools (CPU reference): exact base conversion with centring (Halevi–Polyakov–Shoup 2019, "An improved RNS
 * variant of the BFV homomorphic encryption scheme", §2.2) and the t/Q scale-and-round of ciphertext multiplication
 * (same paper, §4). No BigInt on the hot path; BigInt is used once, when constants are precomputed.
 *
 * Exactness: the conversion's v = round(Σ y_i/q_i) and the scaling's round(Σ y_i·θ_i) are first estimated in doubles
 * (error below 2^−15); when the estimate lies within 2^−12 of a half-integer they are recomputed exactly in integer
 * fixed point (kernels/rns/exact.ts: the sum is z/Q with Q odd, so it is never a half-integer and the fixed point
 * with enough words decides it). So both steps give the mathematically exact result for every input — the centred
 * representative, and round(t·x/Q) — which is what the WGSL kernels compute with integers only, word for word.
 */
import { bigInvMod, bigMod, bigProduct, modExact, mulMod, mulShoup, shoupPrecompute } from '../numeric/index.ts'
import { fixedFractions, fixedRound, fixedWords } from '../kernels/rns/exact.ts'
import type { RnsKernels } from './poly.ts'

/** Exact conversion from base `from` to base `to`, giving the centred representative's residues. */
export interface BaseConverter {
  readonly from: readonly number[]
  readonly to: readonly number[]
  /** [(Q/q_i)^{-1}]_{q_i} and Shoup quotients. */
  readonly qhatInv: Uint32Array
  readonly qhatInvShoup: Uint32Array
  /** 1/q_i as doubles. */
  readonly invQ: Float64Array
  /** [Q/q_i]_{p_j} at index j·k + i, with Shoup quotients. */
  readonly qhatModP: Uint32Array
  readonly qhatModPShoup: Uint32Array
  /** [Q]_{p_j}. */
  readonly qModP: Uint32Array
  /** 1/q_i in fixed point, `fixWords` u32 words each (kernels/rns/exact.ts): the exact fallback of v's rounding. */
  readonly invQFix: Uint32Array
  readonly fixWords: number
}

/** Float estimates within this distance of a half-integer are recomputed exactly (their error is below 2^−15). */
export const AMBIGUOUS = 2 ** -12

/** Whether a non-negative float estimate of a sum to be rounded is too close to a half-integer to trust. */
export function ambiguous(f: number): boolean {
  return Math.abs(f - Math.floor(f) - 0.5) < AMBIGUOUS
}

export function makeBaseConverter(from: readonly number[], to: readonly number[]): BaseConverter {
  const k = from.length
  const Q = bigProduct(from)
  const qhatInv = new Uint32Array(k)
  const qhatInvShoup = new Uint32Array(k)
  const invQ = new Float64Array(k)
  const qhatModP = new Uint32Array(k * to.length)
  const qhatModPShoup = new Uint32Array(k * to.length)
  const qModP = new Uint32Array(to.length)
  from.forEach((q, i) => {
    const qhat = Q / BigInt(q)
    qhatInv[i] = Number(bigInvMod(qhat, BigInt(q)))
    qhatInvShoup[i] = shoupPrecompute(qhatInv[i] as number, q)
    invQ[i] = 1 / q
    to.forEach((p, j) => {
      const v = Number(qhat % BigInt(p))
      qhatModP[j * k + i] = v
      qhatModPShoup[j * k + i] = shoupPrecompute(v, p)
    })
  })
  to.forEach((p, j) => {
    qModP[j] = Number(Q % BigInt(p))
  })
  const fixWords = fixedWords(from)
  const invQFix = fixedFractions(from, fixWords)
  return { from, to, qhatInv, qhatInvShoup, invQ, qhatModP, qhatModPShoup, qModP, invQFix, fixWords }
}

/**
 * dst (to.length limbs of n) ← residues of the centred representative of src (from.length limbs of n). Both arrays
 * hold limbs contiguously; they must not overlap.
 */
export function convertCentered(cv: BaseConverter, src: Uint32Array, dst: Uint32Array, n: number): void {
  const k = cv.from.length
  const K = cv.to.length
  const y = new Float64Array(k)
  for (let c = 0; c < n; c++) {
    let frac = 0
    for (let i = 0; i < k; i++) {
      const q = cv.from[i] as number
      const yi = mulShoup(src[i * n + c] as number, cv.qhatInv[i] as number, cv.qhatInvShoup[i] as number, q)
      y[i] = yi
      frac += yi * (cv.invQ[i] as number)
    }
    const v = ambiguous(frac) ? fixedRound(y, cv.invQFix, k, cv.fixWords) : Math.round(frac)
    for (let j = 0; j < K; j++) {
      const p = cv.to[j] as number
      let s = 0
      const base = j * k
      for (let i = 0; i < k; i++) {
        s += mulShoup(y[i] as number, cv.qhatModP[base + i] as number, cv.qhatModPShoup[base + i] as number, p)
      }
      // s < k·p ≤ 2^34: exact; subtract v·[Q]_p (v ≤ k); one reduction.
      dst[j * n + c] = modExact(s - v * (cv.qModP[j] as number), p)
    }
  }
}

/** Constants of round(t·x/Q) for x given in base Q ∪ P, result in base P (HPS §4.2). */
export interface Scaler {
  readonly q: readonly number[]
  readonly p: readonly number[]
  /** [(QP/q_i)^{-1}]_{q_i}, Shoup. */
  readonly yInv: Uint32Array
  readonly yInvShoup: Uint32Array
  /** frac(t·P/q_i). */
  readonly theta: Float64Array
  /** [⌊t·P/q_i⌋]_{p_j} at j·k + i, Shoup. */
  readonly omega: Uint32Array
  readonly omegaShoup: Uint32Array
  /** [t·Q^{-1}]_{p_j}, Shoup. */
  readonly tQinv: Uint32Array
  readonly tQinvShoup: Uint32Array
  /** θ_i in fixed point, `fixWords` words each (kernels/rns/exact.ts): the exact fallback of the rounding. */
  readonly thetaFix: Uint32Array
  readonly fixWords: number
}

export function makeScaler(q: readonly number[], p: readonly number[], t: number): Scaler {
  const k = q.length
  const K = p.length
  const Q = bigProduct(q)
  const P = bigProduct(p)
  const T = BigInt(t)
  const yInv = new Uint32Array(k)
  const yInvShoup = new Uint32Array(k)
  const theta = new Float64Array(k)
  const omega = new Uint32Array(k * K)
  const omegaShoup = new Uint32Array(k * K)
  const tQinv = new Uint32Array(K)
  const tQinvShoup = new Uint32Array(K)
  const rems: bigint[] = []
  q.forEach((qi, i) => {
    const Qi = BigInt(qi)
    yInv[i] = Number(bigInvMod((Q * P) / Qi, Qi))
    yInvShoup[i] = shoupPrecompute(yInv[i] as number, qi)
    const num = T * P
    const whole = num / Qi
    const rem = num - whole * Qi
    rems.push(rem)
    theta[i] = Number(rem) / qi
    p.forEach((pj, j) => {
      const v = Number(whole % BigInt(pj))
      omega[j * k + i] = v
      omegaShoup[j * k + i] = shoupPrecompute(v, pj)
    })
  })
  p.forEach((pj, j) => {
    const v = Number(bigMod(T * bigInvMod(Q, BigInt(pj)), BigInt(pj)))
    tQinv[j] = v
    tQinvShoup[j] = shoupPrecompute(v, pj)
  })
  const fixWords = fixedWords(q)
  const thetaFix = fixedFractions(q, fixWords, rems)
  return { q, p, yInv, yInvShoup, theta, omega, omegaShoup, tQinv, tQinvShoup, thetaFix, fixWords }
}

/**
 * dst (P limbs) ← round(t·x/Q) mod p_j, where src holds x in base Q ∪ P (Q limbs first, then P limbs).
 */
export function scaleRound(sc: Scaler, src: Uint32Array, dst: Uint32Array, n: number): void {
  const k = sc.q.length
  const K = sc.p.length
  const y = new Float64Array(k)
  for (let c = 0; c < n; c++) {
    let f = 0
    for (let i = 0; i < k; i++) {
      const qi = sc.q[i] as number
      const yi = mulShoup(src[i * n + c] as number, sc.yInv[i] as number, sc.yInvShoup[i] as number, qi)
      y[i] = yi
      f += yi * (sc.theta[i] as number)
    }
    const rounded = ambiguous(f) ? fixedRound(y, sc.thetaFix, k, sc.fixWords) : Math.round(f)
    for (let j = 0; j < K; j++) {
      const pj = sc.p[j] as number
      let s = rounded
      const base = j * k
      for (let i = 0; i < k; i++) {
        s += mulShoup(y[i] as number, sc.omega[base + i] as number, sc.omegaShoup[base + i] as number, pj)
      }
      s += mulShoup(src[(k + j) * n + c] as number, sc.tQinv[j] as number, sc.tQinvShoup[j] as number, pj)
      dst[j * n + c] = modExact(s, pj)
    }
  }
}

/** The constants decryption's t/Q rounding needs for one level (LevelData carries them). */
export interface DecryptConstants {
  readonly moduli: readonly number[]
  /** [(Q/q_i)^{-1}]_{q_i} and Shoup quotients. */
  readonly qhatInv: Uint32Array
  readonly qhatInvShoup: Uint32Array
  /** t/q_i = thetaHi_i/2^22 + thetaLo_i (thetaHi_i an integer below 2^22·t/q_i, thetaLo_i < 2^−22). */
  readonly thetaHi: Float64Array
  readonly thetaLo: Float64Array
}

const TWO22 = 2 ** 22

/**
 * round(t·x/Q) mod t at coefficient j, exactly: y_i = [x_i·(Q/q_i)^{-1}]_{q_i}; the products y_i·thetaHi_i are
 * integers below 2^53 summed modulo t·2^22, the small parts y_i·thetaLo_i summed in doubles (error ~2^−40).
 */
export function decryptCoefficient(d: DecryptConstants, x: Uint32Array, n: number, t: number, j: number): number {
  const T22 = t * TWO22
  const k = d.moduli.length
  let hi = 0
  let lo = 0
  for (let i = 0; i < k; i++) {
    const q = d.moduli[i] as number
    const y = mulShoup(x[i * n + j] as number, d.qhatInv[i] as number, d.qhatInvShoup[i] as number, q)
    hi = modExact(hi + modExact(y * (d.thetaHi[i] as number), T22), T22)
    lo += y * (d.thetaLo[i] as number)
  }
  return modExact(Math.round(hi / TWO22 + lo), t)
}

/** The plain-TypeScript RNS steps: the oracle every faster `RnsKernels` is checked against. */
export const referenceRns: RnsKernels = {
  convertCentered,
  scaleRound,
  decryptScale(d, x, n, t, indices, out) {
    for (let e = 0; e < indices.length; e++) out[e] = decryptCoefficient(d, x, n, t, indices[e] as number)
  },
  modSwitchLast(src, dst, n, moduli, lastInv) {
    const k = moduli.length
    const ql = moduli[k - 1] as number
    const half = Math.floor(ql / 2)
    const last = src.subarray((k - 1) * n, k * n)
    for (let i = 0; i < k - 1; i++) {
      const q = moduli[i] as number
      const inv = lastInv[i] as number
      const invShoup = shoupPrecompute(inv, q)
      const qlModQ = modExact(ql, q)
      for (let c = 0; c < n; c++) {
        const l = last[c] as number
        // centred residue of l mod q_last, as a residue mod q
        const lc = l > half ? modExact(l - qlModQ + q, q) : modExact(l, q)
        const d = (src[i * n + c] as number) - lc
        dst[i * n + c] = mulShoup(d < 0 ? d + q : d, inv, invShoup, q)
      }
    }
  },
  reduceMod(src, dst, q) {
    for (let i = 0; i < src.length; i++) {
      const v = src[i] as number
      dst[i] = v >= q ? modExact(v, q) : v
    }
  },
}

export { mulMod }
