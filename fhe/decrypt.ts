/**
 * Decryption and the noise budget (SEAL's `Decryptor`). The only module, with keygen, that reads the secret key;
 * evaluating parties never need it.
 *
 * Decryption computes x = c0 + c1·s (+ c2·s²) mod Q_k and m = round(t·x/Q_k) mod t without BigInt:
 * with y_i = [x_i·(Q/q_i)^{-1}]_{q_i}, t·x/Q ≡ Σ y_i·t/q_i (mod t). Each t/q_i is split into H_i/2^22 (exact
 * integer products y_i·H_i < 2^53, reduced mod t·2^22) plus a remainder < 2^−22, so the sum is exact to ~2^−40
 * and rounding is correct whenever the noise budget is positive.
 *
 * The noise budget is SEAL's invariant noise budget, log2(Q) − log2(‖[t·x]_Q‖∞) − 1, i.e. log2(Q/2t) − log2‖e‖∞ for
 * x = Δm + e, reported in whole bits and floored, as SEAL reports it. A budget of b ≥ 1 bits means the noise is at most
 * 2^−b of what decryption tolerates, so decryption is correct; 0 means it may fail (or already has). Noise that has
 * grown past the wrap-around point is indistinguishable from small noise, so a ciphertext driven far beyond
 * exhaustion can read a positive budget again: the budget tracks a computation, it cannot certify an arbitrary
 * ciphertext. It is a diagnostic and uses BigInt CRT composition (slow path, clearly named).
 *
 * Constant time: the inner product runs NTTs and pointwise products whose operation sequence does not depend on s;
 * the rounding uses floating-point and integer arithmetic without secret-dependent branches. `noiseBudget` is a
 * diagnostic and not constant-time.
 * @throws ParamsMismatch (key or ciphertext from another context), InvalidOperand (malformed ciphertext)
 */
import type { FheContext, LevelData } from './context.ts'
import { referenceRns } from './rns.ts'
import { limbsOf, prefixBase, zeroPoly } from './poly.ts'
import { InvalidOperand } from './errors.ts'
import type { PartialCiphertext } from './serialize.ts'
import type { Ciphertext, Plaintext, SecretKey } from './types.ts'
import { checkCiphertext, checkParamsId } from './validate.ts'


/** c0 + c1·s + c2·s² + … in coefficient form at the ciphertext's level. */
export function innerProduct(ctx: FheContext, sk: SecretKey, ct: Ciphertext): Uint32Array {
  checkParamsId(ctx, sk.paramsId)
  checkCiphertext(ctx, ct)
  const k = ct.level
  const base = prefixBase(ctx.base, k)
  const be = ctx.backend
  const s = limbsOf(sk.sNtt, k)
  const acc = zeroPoly(ctx.n, k)
  const inNtt = ct.ntt === true
  // Horner in NTT form: ((c_{m}·s + c_{m−1})·s + …)·s, then + c0.
  for (let i = ct.polys.length - 1; i >= 1; i--) {
    const c = zeroPoly(ctx.n, k)
    c.data.set((ct.polys[i] as { data: Uint32Array }).data)
    if (!inNtt) be.forwardMany([c], base)
    be.add(acc, c, acc, base)
    be.mul(acc, s, acc, base)
  }
  if (inNtt) be.add(acc, ct.polys[0] as typeof acc, acc, base)
  be.inverseMany([acc], base)
  if (!inNtt) be.add(acc, ct.polys[0] as typeof acc, acc, base)
  return acc.data
}

function levelOf(ctx: FheContext, k: number): LevelData {
  const ld = ctx.levelData[k - 1]
  if (!ld) throw new RangeError(`no level ${k}`)
  return ld
}

const allIndices = new Map<number, Uint32Array>()
function indicesUpTo(n: number): Uint32Array {
  let a = allIndices.get(n)
  if (!a) {
    a = Uint32Array.from({ length: n }, (_, i) => i)
    allIndices.set(n, a)
  }
  return a
}

/** Decrypts every coefficient. */
export function decrypt(ctx: FheContext, sk: SecretKey, ct: Ciphertext): Plaintext {
  const x = innerProduct(ctx, sk, ct)
  const coeffs = new Uint32Array(ctx.n)
  const rns = ctx.backend.rns ?? referenceRns
  rns.decryptScale(levelOf(ctx, ct.level), x, ctx.n, ctx.t, indicesUpTo(ctx.n), coeffs)
  x.fill(0)
  return { paramsId: ctx.paramsId, coeffs }
}

/** Decrypts only the listed coefficients (the client of an encrypted linear layer needs a few per ciphertext). */
export function decryptCoefficients(ctx: FheContext, sk: SecretKey, ct: Ciphertext, indices: ArrayLike<number>): Uint32Array {
  const x = innerProduct(ctx, sk, ct)
  const out = new Uint32Array(indices.length)
  const idx = new Uint32Array(indices.length)
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i] as number
    if (!Number.isInteger(j) || j < 0 || j >= ctx.n) throw new RangeError(`coefficient index ${j} outside 0…${ctx.n - 1}`)
    idx[i] = j
  }
  const rns = ctx.backend.rns ?? referenceRns
  rns.decryptScale(levelOf(ctx, ct.level), x, ctx.n, ctx.t, idx, out)
  x.fill(0)
  return out
}

/**
 * Decrypts a partial ciphertext (c0 at chosen indices, c1 whole): returns the plaintext coefficients at `p.indices`,
 * in that order.
 */
export function decryptPartial(ctx: FheContext, sk: SecretKey, p: PartialCiphertext): Uint32Array {
  checkParamsId(ctx, sk.paramsId)
  checkParamsId(ctx, p.paramsId)
  const k = p.level
  const m = p.indices.length
  if (k < 1 || k > ctx.levels || p.c1.k !== k || p.c0.length !== k * m) {
    throw new InvalidOperand({ reason: 'shape', message: 'partial ciphertext shape does not match its level' })
  }
  const base = prefixBase(ctx.base, k)
  const be = ctx.backend
  const c1s = zeroPoly(ctx.n, k)
  c1s.data.set(p.c1.data)
  be.forwardMany([c1s], base)
  be.mul(c1s, limbsOf(sk.sNtt, k), c1s, base)
  be.inverseMany([c1s], base)
  const n = ctx.n
  const out = new Uint32Array(m)
  const idx = new Uint32Array(m)
  for (let i = 0; i < m; i++) {
    const j = p.indices[i] as number
    idx[i] = j
    for (let l = 0; l < k; l++) {
      const q = base.moduli[l] as number
      const s = (c1s.data[l * n + j] as number) + (p.c0[l * m + i] as number)
      c1s.data[l * n + j] = s >= q ? s - q : s
    }
  }
  const rns = ctx.backend.rns ?? referenceRns
  rns.decryptScale(levelOf(ctx, k), c1s.data, n, ctx.t, idx, out)
  c1s.data.fill(0)
  return out
}

/**
 * Invariant noise budget in whole bits, floored (SEAL's definition and rounding): ≥ 1 means this ciphertext decrypts
 * correctly, 0 means decryption may fail. Slow path: BigInt CRT.
 */
export function noiseBudget(ctx: FheContext, sk: SecretKey, ct: Ciphertext): number {
  const x = innerProduct(ctx, sk, ct)
  const k = ct.level
  const ld = ctx.levelData[k - 1]
  if (!ld) throw new RangeError(`no level ${k}`)
  const Q = ld.Q
  const halfQ = Q / 2n
  const T = BigInt(ctx.t)
  const moduli = ctx.base.moduli.slice(0, k)
  const qhat = moduli.map((q) => Q / BigInt(q))
  const n = ctx.n
  let maxAbs = 0n
  for (let j = 0; j < n; j++) {
    let v = 0n
    for (let i = 0; i < k; i++) {
      const q = moduli[i] as number
      const y = (BigInt(x[i * n + j] as number) * BigInt(ld.qhatInv[i] as number)) % BigInt(q)
      v += y * (qhat[i] as bigint)
    }
    let r = (v * T) % Q
    if (r > halfQ) r = Q - r
    if (r > maxAbs) maxAbs = r
  }
  x.fill(0)
  if (maxAbs === 0n) return Math.floor(ld.logQ - 1)
  const bits = ld.logQ - log2Big(maxAbs) - 1
  return Math.max(0, Math.floor(bits))
}

function log2Big(v: bigint): number {
  const s = v.toString(2).length
  if (s <= 52) return Math.log2(Number(v))
  const top = Number(v >> BigInt(s - 52))
  return Math.log2(top) + (s - 52)
}
