/**
 * Homomorphic evaluation (SEAL's `Evaluator`). Works on ciphertexts and public material only — never the secret key.
 *
 * Operations and their tagged failures:
 * - `add`, `sub` — ParamsMismatch (other context), InvalidOperand `level_mismatch` (mod-switch first).
 * - `negate`, `addPlain`, `subPlain`, `multiplyPlain` — ParamsMismatch, InvalidOperand `value_out_of_range`/`shape`.
 * - `multiply` (size-2 × size-2 → size 3) — ParamsMismatch, InvalidOperand `level_mismatch` / `size_unsupported`.
 * - `relinearize` (size 3 → 2) — ParamsMismatch (keys or ciphertext), InvalidOperand `size_unsupported`.
 * - `modSwitchToNext` / `modSwitchTo` — InvalidOperand `level_exhausted` (already at one prime or a higher target).
 *
 * Ciphertext multiplication is the HPS RNS variant: extend both operands from Q to Q ∪ P exactly (centred lift),
 * tensor in NTT form over Q ∪ P, scale by t/Q with rounding into P, convert back to Q. Relinearization uses RNS
 * digits (one key per prime of q), so it needs no special prime and the key lives under the same q the security
 * table bounds.
 */
import type { FheContext } from './context.ts'
import { addScaledMessage } from './encrypt.ts'
import { InvalidOperand } from './errors.ts'
import { clonePoly, limbsOf, prefixBase, zeroPoly, type PreparedPoly, type RnsBase, type RnsPoly } from './poly.ts'
import { referenceRns } from './rns.ts'
import type { Ciphertext, Plaintext, RelinKeys } from './types.ts'
import { checkCiphertext, checkParamsId, checkPlaintext, checkSameLevel } from './validate.ts'


function levelBase(ctx: FheContext, k: number): RnsBase {
  return prefixBase(ctx.base, k)
}

function result(ctx: FheContext, level: number, polys: RnsPoly[]): Ciphertext {
  return { paramsId: ctx.paramsId, level, polys }
}

/** The ciphertext in coefficient form (a copy when it was in NTT form; the same object otherwise). */
export function toCoefficientForm(ctx: FheContext, a: Ciphertext): Ciphertext {
  checkCiphertext(ctx, a)
  if (a.ntt !== true) return a
  const polys = a.polys.map(clonePoly)
  ctx.backend.inverseMany(polys, levelBase(ctx, a.level))
  return result(ctx, a.level, polys)
}

function addOrSub(ctx: FheContext, a: Ciphertext, b: Ciphertext, op: 'add' | 'sub'): Ciphertext {
  a = toCoefficientForm(ctx, a)
  b = toCoefficientForm(ctx, b)
  checkCiphertext(ctx, a)
  checkCiphertext(ctx, b)
  checkSameLevel(a, b)
  const base = levelBase(ctx, a.level)
  const size = Math.max(a.polys.length, b.polys.length)
  const out: RnsPoly[] = []
  for (let i = 0; i < size; i++) {
    const pa = a.polys[i]
    const pb = b.polys[i]
    if (pa && pb) {
      const r = zeroPoly(ctx.n, a.level)
      if (op === 'add') ctx.backend.add(pa, pb, r, base)
      else ctx.backend.sub(pa, pb, r, base)
      out.push(r)
    } else if (pa) out.push(clonePoly(pa))
    else if (pb) {
      const r = zeroPoly(ctx.n, a.level)
      if (op === 'add') r.data.set(pb.data)
      else ctx.backend.negate(pb, r, base)
      out.push(r)
    }
  }
  return result(ctx, a.level, out)
}

export function add(ctx: FheContext, a: Ciphertext, b: Ciphertext): Ciphertext {
  return addOrSub(ctx, a, b, 'add')
}

export function sub(ctx: FheContext, a: Ciphertext, b: Ciphertext): Ciphertext {
  return addOrSub(ctx, a, b, 'sub')
}

export function negate(ctx: FheContext, a: Ciphertext): Ciphertext {
  a = toCoefficientForm(ctx, a)
  checkCiphertext(ctx, a)
  const base = levelBase(ctx, a.level)
  return result(
    ctx,
    a.level,
    a.polys.map((p) => {
      const r = zeroPoly(ctx.n, a.level)
      ctx.backend.negate(p, r, base)
      return r
    }),
  )
}

/** ct + m (adds Δ·m to c0). */
export function addPlain(ctx: FheContext, a: Ciphertext, pt: Plaintext): Ciphertext {
  a = toCoefficientForm(ctx, a)
  checkCiphertext(ctx, a)
  checkPlaintext(ctx, pt)
  const polys = a.polys.map(clonePoly)
  addScaledMessage(ctx, pt, polys[0] as RnsPoly, a.level)
  return result(ctx, a.level, polys)
}

/** ct − m. */
export function subPlain(ctx: FheContext, a: Ciphertext, pt: Plaintext): Ciphertext {
  checkPlaintext(ctx, pt)
  const neg = new Uint32Array(ctx.n)
  for (let i = 0; i < ctx.n; i++) {
    const v = pt.coeffs[i] as number
    neg[i] = v === 0 ? 0 : ctx.t - v
  }
  return addPlain(ctx, a, { paramsId: pt.paramsId, coeffs: neg })
}

/**
 * The plaintext as a polynomial over Q_k with centred coefficients (|m_i| ≤ t/2, so the noise grows by the
 * plaintext's norm, not by t), in NTT form and prepared for repeated products.
 */
export function preparePlain(ctx: FheContext, pt: Plaintext, level = ctx.levels): PreparedPoly {
  return ctx.backend.prepare(plainNtt(ctx, pt, level), levelBase(ctx, level))
}

/** The plaintext's centred lift over Q_k in NTT form (no Shoup quotients: for one-off products). */
function plainNtt(ctx: FheContext, pt: Plaintext, level: number): RnsPoly {
  checkPlaintext(ctx, pt)
  const base = levelBase(ctx, level)
  const p = zeroPoly(ctx.n, level)
  const t = ctx.t
  for (let i = 0; i < level; i++) {
    const q = base.moduli[i] as number
    for (let j = 0; j < ctx.n; j++) {
      const m = pt.coeffs[j] as number
      const mc = m > t / 2 ? m - t : m
      p.data[i * ctx.n + j] = mc < 0 ? mc + q : mc
    }
  }
  ctx.backend.forwardMany([p], base)
  return p
}

/** ct · m for a plaintext polynomial m (or one prepared with `preparePlain` at the ciphertext's level). */
export function multiplyPlain(ctx: FheContext, a: Ciphertext, pt: Plaintext | PreparedPoly): Ciphertext {
  a = toCoefficientForm(ctx, a)
  checkCiphertext(ctx, a)
  const base = levelBase(ctx, a.level)
  const be = ctx.backend
  const ins = a.polys.map(clonePoly)
  if ('coeffs' in pt) {
    const w = plainNtt(ctx, pt, a.level)
    be.forwardMany(ins, base)
    for (const c of ins) be.mul(c, w, c, base)
    be.inverseMany(ins, base)
    return result(ctx, a.level, ins)
  }
  if (pt.k !== a.level || pt.n !== ctx.n) {
    throw new InvalidOperand({ reason: 'level_mismatch', message: `prepared plaintext has ${pt.k} limbs, ciphertext ${a.level}` })
  }
  be.forwardMany(ins, base)
  const outs = ins.map((c) => {
    const r = zeroPoly(ctx.n, a.level)
    be.mulAccPrepared(r, c, pt, base)
    return r
  })
  be.inverseMany(outs, base)
  return result(ctx, a.level, outs)
}

/** Exact centred lift of a Q_k polynomial (coefficient form) to Q_k ∪ P, still in coefficient form. */
export function liftCoefficients(ctx: FheContext, p: RnsPoly, k: number): RnsPoly {
  const md = ctx.mulData(k)
  const out = zeroPoly(ctx.n, k + md.pBase.moduli.length)
  out.data.set(p.data)
  const rns = ctx.backend.rns ?? referenceRns
  rns.convertCentered(md.qToP, p.data, out.data.subarray(k * ctx.n), ctx.n)
  return out
}

/** The tensor's coefficient-form parts over Q_k ∪ P → round(t·d/Q) over Q_k (HPS scale-and-round, then P → Q). */
export function scaleToQ(ctx: FheContext, ds: readonly RnsPoly[], k: number): RnsPoly[] {
  const md = ctx.mulData(k)
  const n = ctx.n
  const tmp = new Uint32Array(md.pBase.moduli.length * n)
  const rns = ctx.backend.rns ?? referenceRns
  return ds.map((d) => {
    rns.scaleRound(md.scaler, d.data, tmp, n)
    const r = zeroPoly(n, k)
    rns.convertCentered(md.pToQ, tmp, r.data, n)
    return r
  })
}

/** Checks the operands of a ciphertext product and returns them in coefficient form. */
export function multiplyOperands(ctx: FheContext, a0: Ciphertext, b0: Ciphertext): [Ciphertext, Ciphertext] {
  const a = toCoefficientForm(ctx, a0)
  const b = toCoefficientForm(ctx, b0)
  checkCiphertext(ctx, a)
  checkCiphertext(ctx, b)
  checkSameLevel(a, b)
  if (a.polys.length !== 2 || b.polys.length !== 2) {
    throw new InvalidOperand({ reason: 'size_unsupported', message: 'multiply needs two size-2 ciphertexts (relinearize first)' })
  }
  return [a, b]
}

/** Size-2 × size-2 ciphertext product (size 3 result; relinearize next). */
export function multiply(ctx: FheContext, a0: Ciphertext, b0: Ciphertext): Ciphertext {
  const [a, b] = multiplyOperands(ctx, a0, b0)
  const k = a.level
  const n = ctx.n
  const md = ctx.mulData(k)
  const be = ctx.backend
  if (be.fused && n >= 16) {
    const outs = [zeroPoly(n, k), zeroPoly(n, k), zeroPoly(n, k)] as const
    const [p0, p1] = a.polys as [RnsPoly, RnsPoly]
    const [q0, q1] = b.polys as [RnsPoly, RnsPoly]
    be.fused.multiply(md, [p0.data, p1.data, q0.data, q1.data], [outs[0].data, outs[1].data, outs[2].data], n)
    return result(ctx, k, [...outs])
  }
  const qp = md.qpBase
  const lifted = [...a.polys, ...b.polys].map((p) => liftCoefficients(ctx, p, k))
  be.forwardMany(lifted, qp)
  const [a0n, a1n, b0n, b1n] = lifted as [RnsPoly, RnsPoly, RnsPoly, RnsPoly]
  const kk = qp.moduli.length
  const d0 = zeroPoly(n, kk)
  const d1 = zeroPoly(n, kk)
  const d2 = zeroPoly(n, kk)
  be.mul(a0n, b0n, d0, qp)
  be.mul(a0n, b1n, d1, qp)
  be.mulAcc(d1, a1n, b0n, qp)
  be.mul(a1n, b1n, d2, qp)
  be.inverseMany([d0, d1, d2], qp)
  return result(ctx, k, scaleToQ(ctx, [d0, d1, d2], k))
}

/** Checks relinearization's operands; returns the ciphertext in coefficient form. */
export function relinearizeOperand(ctx: FheContext, a0: Ciphertext, rlk: RelinKeys): Ciphertext {
  const a = toCoefficientForm(ctx, a0)
  checkCiphertext(ctx, a)
  checkParamsId(ctx, rlk.paramsId)
  if (a.polys.length !== 3) throw new InvalidOperand({ reason: 'size_unsupported', message: 'relinearize needs a size-3 ciphertext' })
  if (rlk.b.length !== ctx.levels || rlk.a.length !== ctx.levels) {
    throw new InvalidOperand({ reason: 'missing_key', message: 'relinearization keys incomplete' })
  }
  return a
}

/** Digit i of c2 (coefficient form): its residue mod q_i, an integer below q_i, read modulo every q_j into `out`. */
export function relinDigit(ctx: FheContext, c2: RnsPoly, i: number, base: RnsBase, out: RnsPoly): void {
  const n = ctx.n
  const rns = ctx.backend.rns ?? referenceRns
  const src = c2.data.subarray(i * n, (i + 1) * n)
  for (let j = 0; j < base.moduli.length; j++) rns.reduceMod(src, out.data.subarray(j * n, (j + 1) * n), base.moduli[j] as number)
}

/** Size 3 → size 2 with RNS-digit relinearization keys. */
export function relinearize(ctx: FheContext, a0: Ciphertext, rlk: RelinKeys): Ciphertext {
  const a = relinearizeOperand(ctx, a0, rlk)
  const k = a.level
  const n = ctx.n
  const base = levelBase(ctx, k)
  const be = ctx.backend
  const c2 = a.polys[2] as RnsPoly
  const acc0 = zeroPoly(n, k)
  const acc1 = zeroPoly(n, k)
  if (be.fused && n >= 16) {
    const [c0, c1] = a.polys as [RnsPoly, RnsPoly]
    be.fused.relinearize(
      base,
      [c0.data, c1.data, c2.data],
      rlk.b.map((p) => p.data),
      rlk.a.map((p) => p.data),
      [acc0.data, acc1.data],
    )
    return result(ctx, k, [acc0, acc1])
  }
  const digit = zeroPoly(n, k)
  for (let i = 0; i < k; i++) {
    relinDigit(ctx, c2, i, base, digit)
    be.forwardMany([digit], base)
    be.mulAcc(acc0, digit, limbsOf(rlk.b[i] as RnsPoly, k), base)
    be.mulAcc(acc1, digit, limbsOf(rlk.a[i] as RnsPoly, k), base)
  }
  be.inverseMany([acc0, acc1], base)
  be.add(acc0, a.polys[0] as RnsPoly, acc0, base)
  be.add(acc1, a.polys[1] as RnsPoly, acc1, base)
  return result(ctx, k, [acc0, acc1])
}

/** multiply then relinearize. */
export function multiplyRelin(ctx: FheContext, a: Ciphertext, b: Ciphertext, rlk: RelinKeys): Ciphertext {
  return relinearize(ctx, multiply(ctx, a, b), rlk)
}

/** Drops the last prime: c ← round(c / q_last), in RNS (c_i − [c]_{q_last}) · q_last^{-1} with the centred residue. */
export function modSwitchToNext(ctx: FheContext, a: Ciphertext): Ciphertext {
  a = toCoefficientForm(ctx, a)
  checkCiphertext(ctx, a)
  const k = a.level
  if (k <= 1) throw new InvalidOperand({ reason: 'level_exhausted', message: 'ciphertext is already at the last prime' })
  const ld = ctx.levelData[k - 1]
  if (!ld) throw new RangeError(`no level ${k}`)
  const n = ctx.n
  const rns = ctx.backend.rns ?? referenceRns
  const polys = a.polys.map((p) => {
    const r = zeroPoly(n, k - 1)
    rns.modSwitchLast(p.data, r.data, n, ld.moduli, ld.lastInv)
    return r
  })
  return result(ctx, k - 1, polys)
}

/** Switches down to `level` primes. */
export function modSwitchTo(ctx: FheContext, a: Ciphertext, level: number): Ciphertext {
  if (level > a.level || level < 1) {
    throw new InvalidOperand({ reason: 'level_exhausted', message: `cannot switch from level ${a.level} to ${level}` })
  }
  let c = a
  while (c.level > level) c = modSwitchToNext(ctx, c)
  return c
}

