/**
 * BFV ciphertext multiply + relinearize (HPS RNS variant, RNS-digit relinearization keys) for a batch of ciphertext
 * pairs: the constants, the input checks, and the plain-TypeScript reference of what kernels/rns/bfv.wgsl computes
 * on the device (same algorithm, same integer steps, so the same words).
 *
 * Per pair (a0, a1) × (b0, b1) at level k (base Q = q_0…q_{k−1}, auxiliary base P = p_0…p_{K−1}, plaintext t):
 *   1. lift every operand exactly from Q to Q ∪ P (centred representative; v = round(Σ y_i/q_i) in fixed point);
 *   2. forward NTT over Q ∪ P; 3. tensor d0 = a0·b0, d1 = a0·b1 + a1·b0, d2 = a1·b1; 4. inverse NTT;
 *   5. round(t·d/Q) into P (HPS scale-and-round, the rounding in fixed point), then exactly back to Q (centred);
 *   6. relinearize: digit i of c2 is its residue mod q_i read modulo every q_j; forward NTT of the digits;
 *      acc0 = Σ_i digit_i·b_i, acc1 = Σ_i digit_i·a_i (keys in NTT form); inverse NTT; add c0, c1.
 * Every rounding is exact (kernels/rns/exact.ts), so the result equals basedai/fhe's `multiplyRelin` word for word.
 *
 * Layouts (u32 words, limb-major polynomials of n words): operands B × [a0, a1, b0, b1] × k limbs; keys
 * [b_0 … b_{k−1}, a_0 … a_{k−1}] × k limbs (the first k limbs of each key, NTT form); result B × [c0, c1] × k limbs.
 */
import { InvalidInput } from '../errors.ts'
import { addMod, bigInvMod, isPrime, makeNttTables, MAX_MODULUS, mulMod, mulShoup, shoupPrecompute, subMod } from '../../numeric/index.ts'
import { forwardNttUnchecked, inverseNttUnchecked, montgomeryConstants } from '../ntt/reference.ts'
import { fixedFractions, fixedRound, fixedWords } from './exact.ts'

/** The parameters of one multiply level: ring degree, the level's primes Q, the auxiliary primes P, plaintext t. */
export interface BfvMulSpec {
  readonly n: number
  readonly q: readonly number[]
  readonly p: readonly number[]
  readonly t: number
}

/** Most primes on either side (the kernel keeps that many residues per coefficient in registers). */
export const BFV_MAX_PRIMES = 16

/** Exact base-conversion constants from base `from` to base `to`. */
export interface ExactConv {
  readonly qhatInv: Uint32Array
  readonly qhatInvShoup: Uint32Array
  /** [q̂_i]_{to_j} at j·k + i, and Shoup quotients. */
  readonly qhatMod: Uint32Array
  readonly qhatModShoup: Uint32Array
  /** [Π from]_{to_j}, Shoup. */
  readonly prodMod: Uint32Array
  readonly prodModShoup: Uint32Array
  /** 1/from_i in fixed point (`words` u32 each). */
  readonly invFix: Uint32Array
  readonly words: number
}

export interface BfvMulTables {
  readonly spec: BfvMulSpec
  readonly up: ExactConv
  readonly down: ExactConv
  /** [(QP/q_i)^−1]_{q_i}, Shoup. */
  readonly yInv: Uint32Array
  readonly yInvShoup: Uint32Array
  /** [⌊t·P/q_i⌋]_{p_j} at j·k + i, Shoup. */
  readonly omega: Uint32Array
  readonly omegaShoup: Uint32Array
  /** [t·Q^−1]_{p_j}, Shoup. */
  readonly tQinv: Uint32Array
  readonly tQinvShoup: Uint32Array
  /** frac(t·P/q_i) in fixed point (`thetaWords` each). */
  readonly thetaFix: Uint32Array
  readonly thetaWords: number
  /** [2^32]_{p_j}, Shoup (reduces the 64-bit rounded value). */
  readonly two32: Uint32Array
  readonly two32Shoup: Uint32Array
}

function bad(op: string, message: string): InvalidInput {
  return new InvalidInput({ op, reason: 'bad_argument', message })
}

/** Validates a spec: n a power of two ≥ 2, distinct NTT-friendly primes below 2^31, 2 ≤ t below every q_i. */
export function checkBfvSpec(op: string, s: BfvMulSpec): void {
  if (!Number.isInteger(s.n) || s.n < 2 || (s.n & (s.n - 1)) !== 0) throw bad(op, `n = ${s.n} is not a power of two`)
  if (s.q.length === 0 || s.p.length === 0) throw bad(op, 'both Q and P need at least one prime')
  if (s.q.length > BFV_MAX_PRIMES || s.p.length > BFV_MAX_PRIMES) throw bad(op, `at most ${BFV_MAX_PRIMES} primes on either side`)
  const all = [...s.q, ...s.p]
  for (const m of all) {
    if (!Number.isInteger(m) || m < 3 || m > MAX_MODULUS || !isPrime(m) || (m - 1) % (2 * s.n) !== 0) {
      throw bad(op, `${m} is not an NTT-friendly prime below 2^31 for n = ${s.n}`)
    }
  }
  if (new Set(all).size !== all.length) throw bad(op, 'primes must be distinct')
  if (!Number.isInteger(s.t) || s.t < 2 || s.q.some((q) => s.t >= q)) throw bad(op, `t = ${s.t} must be ≥ 2 and below every q_i`)
}

function exactConv(from: readonly number[], to: readonly number[]): ExactConv {
  const k = from.length
  const M = from.reduce((a, q) => a * BigInt(q), 1n)
  const qhatInv = new Uint32Array(k)
  const qhatInvShoup = new Uint32Array(k)
  const qhatMod = new Uint32Array(k * to.length)
  const qhatModShoup = new Uint32Array(k * to.length)
  from.forEach((q, i) => {
    const qhat = M / BigInt(q)
    qhatInv[i] = Number(bigInvMod(qhat % BigInt(q), BigInt(q)))
    qhatInvShoup[i] = shoupPrecompute(qhatInv[i] as number, q)
    to.forEach((p, j) => {
      qhatMod[j * k + i] = Number(qhat % BigInt(p))
      qhatModShoup[j * k + i] = shoupPrecompute(qhatMod[j * k + i] as number, p)
    })
  })
  const prodMod = Uint32Array.from(to, (p) => Number(M % BigInt(p)))
  const prodModShoup = Uint32Array.from(to, (p, j) => shoupPrecompute(prodMod[j] as number, p))
  const words = fixedWords(from)
  return { qhatInv, qhatInvShoup, qhatMod, qhatModShoup, prodMod, prodModShoup, invFix: fixedFractions(from, words), words }
}

/** Every constant of the multiply at one level (BigInt once, here). Throws InvalidInput on a bad spec. */
export function makeBfvMulTables(spec: BfvMulSpec): BfvMulTables {
  checkBfvSpec('makeBfvMulTables', spec)
  const { q, p, t } = spec
  const k = q.length
  const K = p.length
  const Q = q.reduce((a, x) => a * BigInt(x), 1n)
  const P = p.reduce((a, x) => a * BigInt(x), 1n)
  const T = BigInt(t)
  const yInv = new Uint32Array(k)
  const yInvShoup = new Uint32Array(k)
  const omega = new Uint32Array(K * k)
  const omegaShoup = new Uint32Array(K * k)
  const rems: bigint[] = []
  q.forEach((qi, i) => {
    const Qi = BigInt(qi)
    yInv[i] = Number(bigInvMod(((Q * P) / Qi) % Qi, Qi))
    yInvShoup[i] = shoupPrecompute(yInv[i] as number, qi)
    const whole = (T * P) / Qi
    rems.push(T * P - whole * Qi)
    p.forEach((pj, j) => {
      omega[j * k + i] = Number(whole % BigInt(pj))
      omegaShoup[j * k + i] = shoupPrecompute(omega[j * k + i] as number, pj)
    })
  })
  const tQinv = Uint32Array.from(p, (pj) => Number((T * bigInvMod(Q % BigInt(pj), BigInt(pj))) % BigInt(pj)))
  const tQinvShoup = Uint32Array.from(p, (pj, j) => shoupPrecompute(tQinv[j] as number, pj))
  const two32 = Uint32Array.from(p, (pj) => 2 ** 32 % pj)
  const two32Shoup = Uint32Array.from(p, (pj, j) => shoupPrecompute(two32[j] as number, pj))
  const thetaWords = fixedWords(q)
  return {
    spec: { n: spec.n, q: [...q], p: [...p], t },
    up: exactConv(q, p),
    down: exactConv(p, q),
    yInv,
    yInvShoup,
    omega,
    omegaShoup,
    tQinv,
    tQinvShoup,
    thetaFix: fixedFractions(q, thetaWords, rems),
    thetaWords,
    two32,
    two32Shoup,
  }
}

/** Validates a batch of operand quadruples (every residue below its prime); returns the pair count B. */
export function checkBfvOperands(op: string, spec: BfvMulSpec, ops: Uint32Array): number {
  const { n, q } = spec
  const k = q.length
  if (ops.length === 0 || ops.length % (4 * k * n) !== 0) {
    throw new InvalidInput({ op, reason: 'length_mismatch', message: `${op}: ${ops.length} words is not B × 4 polynomials × ${k} limbs × ${n}` })
  }
  checkRows(op, ops, n, q)
  return ops.length / (4 * k * n)
}

/** Validates relinearization keys for a level: 2k polynomials of k limbs. */
export function checkBfvKeys(op: string, spec: { readonly n: number; readonly q: readonly number[] }, keys: Uint32Array): void {
  const k = spec.q.length
  if (keys.length !== 2 * k * k * spec.n) {
    throw new InvalidInput({ op, reason: 'length_mismatch', message: `${op}: ${keys.length} words is not 2·${k} keys × ${k} limbs × ${spec.n}` })
  }
  checkRows(op, keys, spec.n, spec.q)
}

function checkRows(op: string, data: Uint32Array, n: number, moduli: readonly number[]): void {
  const rows = data.length / n
  for (let r = 0; r < rows; r++) {
    const m = moduli[r % moduli.length] as number
    for (let c = r * n; c < (r + 1) * n; c++) {
      if ((data[c] as number) >= m) {
        throw new InvalidInput({ op, reason: 'coefficient_out_of_range', message: `${op}: word ${c} = ${data[c]} not below ${m}` })
      }
    }
  }
}

/** Exact centred conversion of one coefficient: src residues (k of `from`) → dst residues (of `to`). */
function convertExact(cv: ExactConv, from: readonly number[], to: readonly number[], x: ArrayLike<number>, out: number[]): void {
  const k = from.length
  const y = from.map((q, i) => mulShoup(x[i] as number, cv.qhatInv[i] as number, cv.qhatInvShoup[i] as number, q))
  const v = fixedRound(y, cv.invFix, k, cv.words)
  to.forEach((p, j) => {
    let s = 0
    for (let i = 0; i < k; i++) s = addMod(s, mulShoup(y[i] as number, cv.qhatMod[j * k + i] as number, cv.qhatModShoup[j * k + i] as number, p), p)
    out[j] = subMod(s, mulShoup(v, cv.prodMod[j] as number, cv.prodModShoup[j] as number, p), p)
  })
}

/** round(t·x/Q) mod p_j for x given over Q ∪ P (k + K residues), then exactly back to Q (k residues). */
function scaleDown(tb: BfvMulTables, x: ArrayLike<number>, out: number[]): void {
  const { q, p } = tb.spec
  const k = q.length
  const y = q.map((qi, i) => mulShoup(x[i] as number, tb.yInv[i] as number, tb.yInvShoup[i] as number, qi))
  const rounded = fixedRound(y, tb.thetaFix, k, tb.thetaWords)
  const hi = Math.floor(rounded / 2 ** 32)
  const lo = rounded - hi * 2 ** 32
  const r = p.map((pj, j) => {
    let s = addMod(mulShoup(hi, tb.two32[j] as number, tb.two32Shoup[j] as number, pj), lo % pj, pj)
    for (let i = 0; i < k; i++) s = addMod(s, mulShoup(y[i] as number, tb.omega[j * k + i] as number, tb.omegaShoup[j * k + i] as number, pj), pj)
    return addMod(s, mulShoup(x[k + j] as number, tb.tQinv[j] as number, tb.tQinvShoup[j] as number, pj), pj)
  })
  convertExact(tb.down, p, q, r, out)
}

/**
 * The reference: B multiply + relinearize products (layouts in the module doc). What a KernelService without an
 * adapter runs, and the CPU mirror of the WGSL kernels.
 */
export function bfvMulRelinReference(tb: BfvMulTables, ops: Uint32Array, keys: Uint32Array): Uint32Array {
  const { n, q, p } = tb.spec
  const B = checkBfvOperands('bfvMulRelin', tb.spec, ops)
  checkBfvKeys('bfvMulRelin', tb.spec, keys)
  const k = q.length
  const qp = [...q, ...p]
  const L = qp.length
  const qpT = qp.map((m) => makeNttTables(n, m))
  const qT = qpT.slice(0, k)
  const out = new Uint32Array(B * 2 * k * n)
  const xs = new Array<number>(L)
  const res = new Array<number>(L)
  for (let b = 0; b < B; b++) {
    // 1–2: lift and transform the four operands.
    const lifted = [0, 1, 2, 3].map((o) => {
      const src = ops.subarray((b * 4 + o) * k * n, (b * 4 + o + 1) * k * n)
      const d = new Uint32Array(L * n)
      d.set(src)
      for (let c = 0; c < n; c++) {
        for (let i = 0; i < k; i++) xs[i] = src[i * n + c] as number
        convertExact(tb.up, q, p, xs, res)
        for (let j = 0; j < p.length; j++) d[(k + j) * n + c] = res[j] as number
      }
      for (let l = 0; l < L; l++) forwardNttUnchecked(d, l * n, qpT[l]!)
      return d
    }) as [Uint32Array, Uint32Array, Uint32Array, Uint32Array]
    // 3–4: tensor, inverse NTT.
    const [x0, x1, y0, y1] = lifted
    const ds = [new Uint32Array(L * n), new Uint32Array(L * n), new Uint32Array(L * n)] as const
    for (let l = 0; l < L; l++) {
      const m = qp[l] as number
      for (let c = l * n; c < (l + 1) * n; c++) {
        ds[0][c] = mulMod(x0[c]!, y0[c]!, m)
        ds[1][c] = addMod(mulMod(x0[c]!, y1[c]!, m), mulMod(x1[c]!, y0[c]!, m), m)
        ds[2][c] = mulMod(x1[c]!, y1[c]!, m)
      }
    }
    // 5: scale into P, back to Q.
    const cs = ds.map((d) => {
      for (let l = 0; l < L; l++) inverseNttUnchecked(d, l * n, qpT[l]!)
      const r = new Uint32Array(k * n)
      for (let c = 0; c < n; c++) {
        for (let l = 0; l < L; l++) xs[l] = d[l * n + c] as number
        scaleDown(tb, xs, res)
        for (let i = 0; i < k; i++) r[i * n + c] = res[i] as number
      }
      return r
    })
    // 6: relinearize.
    const acc = [new Uint32Array(k * n), new Uint32Array(k * n)] as const
    const c2 = cs[2] as Uint32Array
    for (let i = 0; i < k; i++) {
      const digit = new Uint32Array(k * n)
      for (let j = 0; j < k; j++) {
        const m = q[j] as number
        for (let c = 0; c < n; c++) digit[j * n + c] = (c2[i * n + c] as number) % m
        forwardNttUnchecked(digit, j * n, qT[j]!)
      }
      for (let h = 0; h < 2; h++) {
        const key = keys.subarray((h * k + i) * k * n, (h * k + i + 1) * k * n)
        const a = acc[h] as Uint32Array
        for (let j = 0; j < k; j++) {
          const m = q[j] as number
          for (let c = j * n; c < (j + 1) * n; c++) a[c] = addMod(a[c]!, mulMod(digit[c]!, key[c]!, m), m)
        }
      }
    }
    for (let h = 0; h < 2; h++) {
      const a = acc[h] as Uint32Array
      const ch = cs[h] as Uint32Array
      for (let j = 0; j < k; j++) {
        inverseNttUnchecked(a, j * n, qT[j]!)
        const m = q[j] as number
        for (let c = j * n; c < (j + 1) * n; c++) a[c] = addMod(a[c]!, ch[c]!, m)
      }
      out.set(a, (b * 2 + h) * k * n)
    }
  }
  return out
}

/** Per-prime Montgomery constants of Q ∪ P (q, −q^−1 mod 2^32, 2^64 mod q), as the tensor kernel reads them. */
export function montgomeryTriples(moduli: readonly number[]): Uint32Array {
  const out = new Uint32Array(3 * moduli.length)
  moduli.forEach((m, i) => {
    const c = montgomeryConstants(m)
    out.set([m, c.qInvNeg, c.r2], 3 * i)
  })
  return out
}
