/**
 * RNS polynomials and the `PolyBackend` seam.
 *
 * An `RnsPoly` is one element of Z_q[X]/(X^N + 1) in residue form: k limbs (one per prime of an `RnsBase`) stored
 * contiguously, limb i at data[i·N … (i+1)·N), every value in [0, q_i). Whether it holds coefficients or NTT values
 * is tracked by the caller (ciphertexts at the API boundary are always in coefficient form).
 *
 * All polynomial arithmetic of the scheme goes through a `PolyBackend`, so the scheme code does not care where NTTs
 * run. `cpuBackend` implements it over the kernels reference (`kernels/ntt/reference.ts`); a GPU backend over
 * `basedai/kernels`' batched kernels can implement the same interface (each call is already a batch of k limbs, and
 * `forwardMany`/`inverseMany` take whole lists of polynomials so a GPU backend can submit one dispatch).
 */
import { forwardNttUnchecked, inverseNttUnchecked } from '../kernels/ntt/reference.ts'
import { makeNttTables, mulMod, shoupPrecompute, type NttTables } from '../numeric/index.ts'
import type { BaseConverter, DecryptConstants, Scaler } from './rns.ts'

/** A list of primes with their NTT tables, for one ring degree. */
export interface RnsBase {
  readonly n: number
  readonly moduli: readonly number[]
  readonly tables: readonly NttTables[]
}

export function makeRnsBase(n: number, moduli: readonly number[]): RnsBase {
  return Object.freeze({ n, moduli: Object.freeze([...moduli]), tables: Object.freeze(moduli.map((q) => makeNttTables(n, q))) })
}

/** The first k primes of a base (a lower level of the modulus chain). */
export function prefixBase(base: RnsBase, k: number): RnsBase {
  if (k === base.moduli.length) return base
  return Object.freeze({ n: base.n, moduli: base.moduli.slice(0, k), tables: base.tables.slice(0, k) })
}

export interface RnsPoly {
  readonly n: number
  /** Number of limbs. */
  readonly k: number
  readonly data: Uint32Array
}

export function zeroPoly(n: number, k: number): RnsPoly {
  return { n, k, data: new Uint32Array(n * k) }
}

export function clonePoly(p: RnsPoly): RnsPoly {
  return { n: p.n, k: p.k, data: p.data.slice() }
}

/** The first k limbs of p (a view, no copy). */
export function limbsOf(p: RnsPoly, k: number): RnsPoly {
  return { n: p.n, k, data: p.data.subarray(0, k * p.n) }
}

/** A fixed multiplicand (NTT form) with Shoup quotients, for repeated products by the same plaintext. */
export interface PreparedPoly {
  readonly n: number
  readonly k: number
  readonly w: Uint32Array
  readonly wShoup: Uint32Array
}

/**
 * The RNS steps of the scheme that are not per-limb polynomial arithmetic: exact centred base conversion, HPS
 * scale-and-round, decryption's t/Q rounding, modulus switching and reduction of words modulo another prime. A
 * backend may provide faster versions (the wasm backend does); `referenceRns` in rns.ts is the plain-TypeScript
 * oracle, and every implementation must give the same words.
 */
export interface RnsKernels {
  /** dst (to.length limbs of n) ← residues of the centred representative of src (from.length limbs of n). */
  convertCentered(cv: BaseConverter, src: Uint32Array, dst: Uint32Array, n: number): void
  /** dst (P limbs) ← round(t·x/Q) mod p_j for x over Q ∪ P in src (Q limbs first). */
  scaleRound(sc: Scaler, src: Uint32Array, dst: Uint32Array, n: number): void
  /** out[e] ← round(t·x/Q) mod t at coefficient indices[e] of x (k = d.moduli.length limbs of n). */
  decryptScale(d: DecryptConstants, x: Uint32Array, n: number, t: number, indices: Uint32Array, out: Uint32Array): void
  /** dst (k−1 limbs) ← round(x / q_last) over the first k−1 primes; lastInv[i] = q_last^−1 mod q_i. */
  modSwitchLast(src: Uint32Array, dst: Uint32Array, n: number, moduli: readonly number[], lastInv: Uint32Array): void
  /** dst ← src mod q, word by word (dst may be src). */
  reduceMod(src: Uint32Array, dst: Uint32Array, q: number): void
}

/** What a fused ciphertext multiply needs of the context's multiplication constants (`MulData`). */
export interface MulConstants {
  readonly pBase: RnsBase
  readonly qpBase: RnsBase
  readonly qToP: BaseConverter
  readonly pToQ: BaseConverter
  readonly scaler: Scaler
}

/**
 * Whole-operation kernels a backend may provide to keep intermediates in its own memory (no per-step copies or
 * allocations). They must produce exactly the words of the step-by-step path in evaluate.ts.
 */
export interface FusedKernels {
  /**
   * HPS product of (a0, a1) and (b0, b1), each k limbs in coefficient form: lift to Q ∪ P, forward NTTs, tensor
   * (d0 = a0·b0, d1 = a0·b1 + a1·b0, d2 = a1·b1), inverse NTTs, scale by t/Q into P, convert to Q → out0…out2.
   */
  multiply(md: MulConstants, a: readonly [Uint32Array, Uint32Array, Uint32Array, Uint32Array], out: readonly [Uint32Array, Uint32Array, Uint32Array], n: number): void
  /**
   * RNS-digit relinearization over `base` (k limbs): out0 = c0 + INTT(Σ_i NTT([c2]_{q_i}) ⊙ b_i), out1 likewise with
   * a_i (keys in NTT form, at least k limbs each; their first k limbs are used).
   */
  relinearize(
    base: RnsBase,
    c: readonly [Uint32Array, Uint32Array, Uint32Array],
    keysB: readonly Uint32Array[],
    keysA: readonly Uint32Array[],
    out: readonly [Uint32Array, Uint32Array],
  ): void
}

/**
 * Polynomial arithmetic over an RNS base. Operands must have k = base.moduli.length limbs (callers pass prefix bases
 * for lower levels). `out` may alias an input.
 */
export interface PolyBackend {
  readonly name: string
  /** In-place forward negacyclic NTT of every limb of every polynomial. */
  forwardMany(polys: readonly RnsPoly[], base: RnsBase): void
  /** In-place inverse negacyclic NTT of every limb of every polynomial. */
  inverseMany(polys: readonly RnsPoly[], base: RnsBase): void
  add(a: RnsPoly, b: RnsPoly, out: RnsPoly, base: RnsBase): void
  sub(a: RnsPoly, b: RnsPoly, out: RnsPoly, base: RnsBase): void
  negate(a: RnsPoly, out: RnsPoly, base: RnsBase): void
  /** Pointwise product (both in NTT form). */
  mul(a: RnsPoly, b: RnsPoly, out: RnsPoly, base: RnsBase): void
  /** acc += a ⊙ b (pointwise, NTT form). */
  mulAcc(acc: RnsPoly, a: RnsPoly, b: RnsPoly, base: RnsBase): void
  /** Precomputes Shoup quotients of an NTT-form polynomial that will multiply many operands. */
  prepare(w: RnsPoly, base: RnsBase): PreparedPoly
  /** acc += a ⊙ w for a prepared w. */
  mulAccPrepared(acc: RnsPoly, a: RnsPoly, w: PreparedPoly, base: RnsBase): void
  /** out = a · c_i on limb i (one scalar per limb, c_i < q_i). */
  mulScalar(a: RnsPoly, scalars: readonly number[], out: RnsPoly, base: RnsBase): void
  /** Faster RNS steps, when the backend has them (otherwise the scheme uses rns.ts's `referenceRns`). */
  readonly rns?: RnsKernels
  /** Whole-operation kernels, when the backend has them (the wasm backend does). */
  readonly fused?: FusedKernels
}

function checkLimbs(op: string, base: RnsBase, ...ps: RnsPoly[]): void {
  const k = base.moduli.length
  for (const p of ps) {
    if (p.k !== k || p.n !== base.n || p.data.length !== k * base.n) {
      throw new RangeError(`${op}: polynomial has ${p.k} limbs of ${p.n}, base has ${k} of ${base.n}`)
    }
  }
}

const INV_TWO16 = 1 / 65536

/** Reference CPU backend: the kernels' reference NTT (Shoup butterflies) and exact double-precision mulMod. */
export const cpuBackend: PolyBackend = {
  name: 'cpu-reference',
  forwardMany(polys, base) {
    for (const p of polys) {
      checkLimbs('forward', base, p)
      for (let i = 0; i < p.k; i++) forwardNttUnchecked(p.data, i * p.n, base.tables[i] as NttTables)
    }
  },
  inverseMany(polys, base) {
    for (const p of polys) {
      checkLimbs('inverse', base, p)
      for (let i = 0; i < p.k; i++) inverseNttUnchecked(p.data, i * p.n, base.tables[i] as NttTables)
    }
  },
  add(a, b, out, base) {
    checkLimbs('add', base, a, b, out)
    const n = base.n
    for (let i = 0; i < a.k; i++) {
      const q = base.moduli[i] as number
      for (let j = i * n; j < (i + 1) * n; j++) {
        const s = (a.data[j] as number) + (b.data[j] as number) - q // in [−q, q) for q < 2^31: a sign mask corrects it
        out.data[j] = s + (q & (s >> 31))
      }
    }
  },
  sub(a, b, out, base) {
    checkLimbs('sub', base, a, b, out)
    const n = base.n
    for (let i = 0; i < a.k; i++) {
      const q = base.moduli[i] as number
      for (let j = i * n; j < (i + 1) * n; j++) {
        const s = (a.data[j] as number) - (b.data[j] as number)
        out.data[j] = s + (q & (s >> 31))
      }
    }
  },
  negate(a, out, base) {
    checkLimbs('negate', base, a, out)
    const n = base.n
    for (let i = 0; i < a.k; i++) {
      const q = base.moduli[i] as number
      for (let j = i * n; j < (i + 1) * n; j++) {
        const r = -(a.data[j] as number) // (−q, 0]: q − v, or 0 for v = 0
        out.data[j] = r + (q & (r >> 31))
      }
    }
  },
  mul(a, b, out, base) {
    checkLimbs('mul', base, a, b, out)
    const n = base.n
    for (let i = 0; i < a.k; i++) {
      const q = base.moduli[i] as number
      for (let j = i * n; j < (i + 1) * n; j++) out.data[j] = mulMod(a.data[j] as number, b.data[j] as number, q)
    }
  },
  mulAcc(acc, a, b, base) {
    checkLimbs('mulAcc', base, acc, a, b)
    const n = base.n
    for (let i = 0; i < a.k; i++) {
      const q = base.moduli[i] as number
      for (let j = i * n; j < (i + 1) * n; j++) {
        const s = (acc.data[j] as number) + mulMod(a.data[j] as number, b.data[j] as number, q)
        acc.data[j] = s >= q ? s - q : s
      }
    }
  },
  prepare(w, base) {
    checkLimbs('prepare', base, w)
    const n = base.n
    const wShoup = new Uint32Array(w.data.length)
    for (let i = 0; i < w.k; i++) {
      const q = base.moduli[i] as number
      for (let j = i * n; j < (i + 1) * n; j++) wShoup[j] = shoupPrecompute(w.data[j] as number, q)
    }
    return { n, k: w.k, w: w.data, wShoup }
  },
  mulAccPrepared(acc, a, w, base) {
    checkLimbs('mulAccPrepared', base, acc, a)
    if (w.k !== a.k || w.n !== a.n) throw new RangeError('mulAccPrepared: prepared operand shape differs')
    const n = base.n
    const wd = w.w
    const ws = w.wShoup
    const ad = a.data
    const cd = acc.data
    for (let i = 0; i < a.k; i++) {
      const q = base.moduli[i] as number
      for (let j = i * n; j < (i + 1) * n; j++) {
        const x = ad[j] as number
        const s = ws[j] as number
        const qhat = Math.floor((x * (s >>> 16) + Math.floor(x * (s & 0xffff) * INV_TWO16)) * INV_TWO16)
        let v = (Math.imul(x, wd[j] as number) - Math.imul(qhat, q)) >>> 0
        if (v >= q) v -= q
        const t = (cd[j] as number) + v
        cd[j] = t >= q ? t - q : t
      }
    }
  },
  mulScalar(a, scalars, out, base) {
    checkLimbs('mulScalar', base, a, out)
    const n = base.n
    for (let i = 0; i < a.k; i++) {
      const q = base.moduli[i] as number
      const c = scalars[i] as number
      const cs = shoupPrecompute(c, q)
      for (let j = i * n; j < (i + 1) * n; j++) {
        const x = a.data[j] as number
        const qhat = Math.floor((x * (cs >>> 16) + Math.floor(x * (cs & 0xffff) * INV_TWO16)) * INV_TWO16)
        const v = (Math.imul(x, c) - Math.imul(qhat, q)) >>> 0
        out.data[j] = v >= q ? v - q : v
      }
    }
  },
}
