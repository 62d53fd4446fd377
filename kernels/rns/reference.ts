/**
 * RNS base conversion, plain TypeScript reference (no BigInt).
 *
 * For a source base Q = q_0·…·q_(k−1) and a target base {p_0 … p_(m−1)} (pairwise coprime with Q), the *fast base
 * conversion* of BEHZ / HPS maps the residues x_i = x mod q_i of some 0 ≤ x < Q to
 *
 *   y_i = [x_i · q̂_i^(−1)]_(q_i)        with q̂_i = Q / q_i
 *   out_j = Σ_i y_i · [q̂_i]_(p_j)  mod p_j
 *
 * which equals (x + α·Q) mod p_j for some integer 0 ≤ α < k: the conversion is approximate by a small multiple of
 * Q, which BFV's multiplication (BEHZ's γ/m̃ correction, or HPS's rounding) removes. `baseConvertExact` removes it
 * here with HPS's floating-point estimate α = round(Σ y_i / q_i), giving x's centered representative
 * (−Q/2 ≤ x < Q/2) mod p_j; it is exact unless Σ y_i/q_i lies within about k·2^(−52) of a half-integer, i.e. x is
 * within that relative distance of ±Q/2.
 *
 * Layout: B polynomials of n coefficients; input rows b·k + i (residues mod q_i), output rows b·m + j.
 */
import { InvalidInput } from '../errors.ts'
import { isPrime, mulMod, mulShoup, invMod, shoupPrecompute, MAX_MODULUS, addMod, subMod } from '../../numeric/index.ts'

/** The GPU kernel keeps y_0 … y_(k−1) in registers; larger source bases are refused. */
export const MAX_SOURCE_PRIMES = 32

export interface BaseConvTables {
  readonly from: readonly number[]
  readonly to: readonly number[]
  /** [i]: q̂_i^(−1) mod q_i and its Shoup quotient. */
  readonly qHatInv: Uint32Array
  readonly qHatInvShoup: Uint32Array
  /** [i·m + j]: q̂_i mod p_j and its Shoup quotient. */
  readonly qHatModP: Uint32Array
  readonly qHatModPShoup: Uint32Array
  /** [j]: Q mod p_j (used by the exact variant). */
  readonly qModP: Uint32Array
}

function bad(message: string): InvalidInput {
  return new InvalidInput({ op: 'makeBaseConvTables', reason: 'bad_argument', message })
}

/** Tables for converting from base `from` to base `to`. Every modulus must be a prime < 2^31, all distinct. */
export function makeBaseConvTables(from: readonly number[], to: readonly number[]): BaseConvTables {
  if (from.length === 0 || to.length === 0) throw bad('both bases need at least one prime')
  if (from.length > MAX_SOURCE_PRIMES) throw bad(`source base has ${from.length} primes; at most ${MAX_SOURCE_PRIMES}`)
  const all = [...from, ...to]
  for (const q of all) {
    if (!Number.isInteger(q) || q < 2 || q > MAX_MODULUS || !isPrime(q)) throw bad(`${q} is not a prime below 2^31`)
  }
  if (new Set(all).size !== all.length) throw bad('moduli must be distinct (bases pairwise coprime)')
  const k = from.length
  const m = to.length
  const qHatInv = new Uint32Array(k)
  const qHatInvShoup = new Uint32Array(k)
  for (let i = 0; i < k; i++) {
    const qi = from[i] as number
    let prod = 1
    for (let l = 0; l < k; l++) if (l !== i) prod = mulMod(prod, (from[l] as number) % qi, qi)
    qHatInv[i] = invMod(prod, qi)
    qHatInvShoup[i] = shoupPrecompute(qHatInv[i] as number, qi)
  }
  const qHatModP = new Uint32Array(k * m)
  const qHatModPShoup = new Uint32Array(k * m)
  const qModP = new Uint32Array(m)
  for (let j = 0; j < m; j++) {
    const pj = to[j] as number
    let all = 1
    for (let l = 0; l < k; l++) all = mulMod(all, (from[l] as number) % pj, pj)
    qModP[j] = all
    for (let i = 0; i < k; i++) {
      let prod = 1
      for (let l = 0; l < k; l++) if (l !== i) prod = mulMod(prod, (from[l] as number) % pj, pj)
      qHatModP[i * m + j] = prod
      qHatModPShoup[i * m + j] = shoupPrecompute(prod, pj)
    }
  }
  return { from: [...from], to: [...to], qHatInv, qHatInvShoup, qHatModP, qHatModPShoup, qModP }
}

/** Validates a source batch; returns the polynomial count B. */
export function checkConvInput(op: string, x: Uint32Array, n: number, t: BaseConvTables): number {
  const k = t.from.length
  if (!Number.isInteger(n) || n < 1 || x.length % (n * k) !== 0) {
    throw new InvalidInput({ op, reason: 'length_mismatch', message: `${op}: ${x.length} words is not B·k·n with k = ${k}, n = ${n}` })
  }
  const rows = x.length / n
  for (let r = 0; r < rows; r++) {
    const q = t.from[r % k] as number
    for (let c = r * n; c < (r + 1) * n; c++) {
      if ((x[c] as number) >= q) {
        throw new InvalidInput({ op, reason: 'coefficient_out_of_range', message: `${op}: word ${c} = ${x[c]} not below q = ${q}` })
      }
    }
  }
  return rows / k
}

/** Fast (approximate, +α·Q with 0 ≤ α < k) base conversion of B·k rows into B·m rows. */
export function fastBaseConvert(x: Uint32Array, n: number, t: BaseConvTables): Uint32Array {
  const B = checkConvInput('fastBaseConvert', x, n, t)
  const k = t.from.length
  const m = t.to.length
  const out = new Uint32Array(B * m * n)
  const y = new Float64Array(k)
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < n; c++) {
      for (let i = 0; i < k; i++) {
        y[i] = mulShoup(x[(b * k + i) * n + c] as number, t.qHatInv[i] as number, t.qHatInvShoup[i] as number, t.from[i] as number)
      }
      for (let j = 0; j < m; j++) {
        const p = t.to[j] as number
        let acc = 0
        for (let i = 0; i < k; i++) {
          acc = addMod(acc, mulShoup(y[i] as number, t.qHatModP[i * m + j] as number, t.qHatModPShoup[i * m + j] as number, p), p)
        }
        out[(b * m + j) * n + c] = acc
      }
    }
  }
  return out
}

/**
 * Exact conversion of the centered representative (HPS): out_j = (Σ y_i·q̂_i − α·Q) mod p_j with
 * α = round(Σ y_i / q_i) in float64. See the module doc for the (tiny) failure window near ±Q/2.
 */
export function baseConvertExact(x: Uint32Array, n: number, t: BaseConvTables): Uint32Array {
  const B = checkConvInput('baseConvertExact', x, n, t)
  const k = t.from.length
  const m = t.to.length
  const out = new Uint32Array(B * m * n)
  const y = new Float64Array(k)
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < n; c++) {
      let v = 0
      for (let i = 0; i < k; i++) {
        const qi = t.from[i] as number
        const yi = mulShoup(x[(b * k + i) * n + c] as number, t.qHatInv[i] as number, t.qHatInvShoup[i] as number, qi)
        y[i] = yi
        v += yi / qi
      }
      const alpha = Math.round(v)
      for (let j = 0; j < m; j++) {
        const p = t.to[j] as number
        let acc = 0
        for (let i = 0; i < k; i++) {
          acc = addMod(acc, mulShoup(y[i] as number, t.qHatModP[i * m + j] as number, t.qHatModPShoup[i * m + j] as number, p), p)
        }
        out[(b * m + j) * n + c] = subMod(acc, mulMod(alpha % p, t.qModP[j] as number, p), p)
      }
    }
  }
  return out
}
