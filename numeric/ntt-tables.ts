/**
 * Negacyclic NTT parameters and twiddle tables over Z_q[X]/(X^n + 1), q prime < 2^31, q ≡ 1 (mod 2n), and the
 * NTT-friendly primes themselves. ψ is the *smallest* primitive 2n-th root of unity mod q (as SEAL chooses it), so
 * tables are canonical: two processes (or a CPU and a GPU) building tables for the same (n, q) get identical
 * twiddles. Tables are stored in bit-reversed order, as the Cooley–Tukey / Gentleman–Sande transforms of
 * basedai/kernels (CPU reference, WGSL) and basedai/fhe (WebAssembly) read them.
 */
import { InvalidNttParams, NotEnoughPrimes } from './errors.ts'
import { invMod, isPrime, MAX_MODULUS, mulMod, powMod, shoupPrecompute } from './modular.ts'

/** Smallest and largest ring degree accepted by `makeNttTables` (the targets are 2^10 … 2^16; smaller n is for tests). */
export const MIN_N = 2
export const MAX_N = 2 ** 16

/** Reverses the low `bits` bits of i. */
export function bitReverse(i: number, bits: number): number {
  let r = 0
  let x = i
  for (let b = 0; b < bits; b++) {
    r = (r << 1) | (x & 1)
    x >>>= 1
  }
  return r >>> 0
}

/**
 * Precomputed tables for one (n, q). All arrays are shared and must be treated as read-only (tables are memoized
 * per (n, q)).
 */
export interface NttTables {
  readonly n: number
  readonly logN: number
  readonly q: number
  /** The smallest primitive 2n-th root of unity mod q. */
  readonly psi: number
  readonly psiInv: number
  /** n^(-1) mod q and its Shoup quotient. */
  readonly nInv: number
  readonly nInvShoup: number
  /** psiRev[k] = ψ^bitrev(k) (k < n); psiRevShoup its Shoup quotients. Used by forward transforms (index m + i). */
  readonly psiRev: Uint32Array
  readonly psiRevShoup: Uint32Array
  /** psiRev[k]/q and psiInvRev[k]/q as doubles: the branch-free butterflies' quotient factors. */
  readonly psiRevOverQ: Float64Array
  readonly psiInvRevOverQ: Float64Array
  /** psiInvRev[k] = ψ^(−bitrev(k)); psiInvRevShoup its Shoup quotients. Used by inverse transforms (index h + i). */
  readonly psiInvRev: Uint32Array
  readonly psiInvRevShoup: Uint32Array
}

function paramsError(reason: InvalidNttParams['reason'], n: number, q: number, message: string): InvalidNttParams {
  return new InvalidNttParams({ reason, n, q, message })
}

/** Checks (n, q) and throws `InvalidNttParams` with a named reason if no negacyclic NTT of size n exists mod q. */
export function validateNttParams(n: number, q: number): void {
  if (!Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0) {
    throw paramsError('n_not_power_of_two', n, q, `n = ${n} is not a power of two`)
  }
  if (n < MIN_N || n > MAX_N) throw paramsError('n_out_of_range', n, q, `n = ${n} outside [${MIN_N}, ${MAX_N}]`)
  if (!Number.isInteger(q)) throw paramsError('q_not_integer', n, q, `q = ${q} is not an integer`)
  if (q < 3 || q > MAX_MODULUS) throw paramsError('q_out_of_range', n, q, `q = ${q} outside [3, 2^31)`)
  if (!isPrime(q)) throw paramsError('q_not_prime', n, q, `q = ${q} is not prime`)
  if ((q - 1) % (2 * n) !== 0) throw paramsError('q_not_ntt_friendly', n, q, `q = ${q} is not 1 mod 2n = ${2 * n}`)
}

/** The smallest primitive 2n-th root of unity mod q (q prime, q ≡ 1 mod 2n). */
export function minimalPrimitiveRoot(n: number, q: number): number {
  validateNttParams(n, q)
  const e = (q - 1) / (2 * n)
  let root = 0
  for (let x = 2; x < q; x++) {
    const c = powMod(x, e, q)
    if (powMod(c, n, q) === q - 1) {
      root = c
      break
    }
  }
  // Every primitive 2n-th root is root^k for odd k < 2n; root^(k+n) = −root^k, so scan odd k < n.
  const sq = mulMod(root, root, q)
  let best = Math.min(root, q - root)
  let p = root
  for (let k = 3; k < n; k += 2) {
    p = mulMod(p, sq, q)
    best = Math.min(best, p, q - p)
  }
  return best
}

const tableCache = new Map<string, NttTables>()
const TABLE_CACHE_LIMIT = 64

/**
 * Builds (or returns the memoized) tables for n a power of two in [2, 2^16] and q a prime < 2^31 with
 * q ≡ 1 (mod 2n). Throws `InvalidNttParams` otherwise.
 */
export function makeNttTables(n: number, q: number): NttTables {
  const key = `${n}:${q}`
  const hit = tableCache.get(key)
  if (hit) return hit
  validateNttParams(n, q)
  const logN = Math.round(Math.log2(n))
  const psi = minimalPrimitiveRoot(n, q)
  const psiInv = invMod(psi, q)
  const psiRev = new Uint32Array(n)
  const psiInvRev = new Uint32Array(n)
  let p = 1
  let pi = 1
  for (let i = 0; i < n; i++) {
    const r = bitReverse(i, logN)
    psiRev[r] = p
    psiInvRev[r] = pi
    p = mulMod(p, psi, q)
    pi = mulMod(pi, psiInv, q)
  }
  const psiRevShoup = new Uint32Array(n)
  const psiInvRevShoup = new Uint32Array(n)
  const psiRevOverQ = new Float64Array(n)
  const psiInvRevOverQ = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    psiRevShoup[i] = shoupPrecompute(psiRev[i] as number, q)
    psiInvRevShoup[i] = shoupPrecompute(psiInvRev[i] as number, q)
    psiRevOverQ[i] = (psiRev[i] as number) / q
    psiInvRevOverQ[i] = (psiInvRev[i] as number) / q
  }
  const nInv = invMod(n, q)
  const tables: NttTables = {
    n,
    logN,
    q,
    psi,
    psiInv,
    nInv,
    nInvShoup: shoupPrecompute(nInv, q),
    psiRev,
    psiRevShoup,
    psiInvRev,
    psiInvRevShoup,
    psiRevOverQ,
    psiInvRevOverQ,
  }
  if (tableCache.size >= TABLE_CACHE_LIMIT) {
    const first = tableCache.keys().next().value
    if (first !== undefined) tableCache.delete(first)
  }
  tableCache.set(key, tables)
  return tables
}

/**
 * The `count` largest primes below 2^31 that are ≡ 1 (mod 2N) and not in `exclude`, largest first. Deterministic, so
 * every process derives the same auxiliary base for the same parameters. @throws NotEnoughPrimes
 */
export function nttPrimes(n: number, count: number, exclude: readonly number[] = []): number[] {
  const step = 2 * n
  const out: number[] = []
  const skip = new Set(exclude)
  // Largest k with k·2N + 1 < 2^31.
  let k = Math.floor((2 ** 31 - 2) / step)
  while (out.length < count && k > 0) {
    const q = k * step + 1
    if (!skip.has(q) && isPrime(q)) out.push(q)
    k -= 1
  }
  if (out.length < count) {
    throw new NotEnoughPrimes({ n, wanted: count, found: out.length, message: `only ${out.length} NTT-friendly primes below 2^31 for N = ${n}` })
  }
  return out
}
