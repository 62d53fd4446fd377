/**
 * BigInt slow paths, for tests only: the schoolbook negacyclic product in Z_q[X]/(X^n + 1) and a direct O(n²)
 * evaluation of the negacyclic NTT. Nothing here is fast; it exists to check `./reference.ts` and the GPU kernels
 * against the definitions.
 */
import { InvalidInput } from '../errors.ts'
import { bitReverse } from './reference.ts'

/** c = a·b mod (X^n + 1, q) by the O(n²) schoolbook product in BigInt: X^n = −1 folds the high half back negated. */
export function polyMulSchoolbookBigInt(a: Uint32Array, b: Uint32Array, q: number): Uint32Array {
  const n = a.length
  if (b.length !== n) {
    throw new InvalidInput({ op: 'polyMulSchoolbookBigInt', reason: 'length_mismatch', message: `lengths ${n} and ${b.length}` })
  }
  const Q = BigInt(q)
  const acc: bigint[] = new Array<bigint>(n).fill(0n)
  for (let i = 0; i < n; i++) {
    const ai = BigInt(a[i] as number)
    if (ai === 0n) continue
    for (let j = 0; j < n; j++) {
      const p = ai * BigInt(b[j] as number)
      const k = i + j
      if (k < n) acc[k] = (acc[k] as bigint) + p
      else acc[k - n] = (acc[k - n] as bigint) - p
    }
  }
  const out = new Uint32Array(n)
  for (let k = 0; k < n; k++) out[k] = Number((((acc[k] as bigint) % Q) + Q) % Q)
  return out
}

/**
 * The negacyclic NTT by its definition, in BigInt: out[k] = Σ_j a_j·ψ^((2·bitrev(k)+1)·j) mod q — the bit-reversed
 * evaluation order `forwardNtt` produces.
 */
export function nttByDefinitionBigInt(a: Uint32Array, q: number, psi: number): Uint32Array {
  const n = a.length
  const logN = Math.round(Math.log2(n))
  const Q = BigInt(q)
  const P = BigInt(psi)
  const pow = (b: bigint, e: bigint): bigint => {
    let r = 1n
    let x = b % Q
    let k = e
    while (k > 0n) {
      if (k & 1n) r = (r * x) % Q
      x = (x * x) % Q
      k >>= 1n
    }
    return r
  }
  const out = new Uint32Array(n)
  for (let k = 0; k < n; k++) {
    const root = pow(P, BigInt(2 * bitReverse(k, logN) + 1))
    let acc = 0n
    let rj = 1n
    for (let j = 0; j < n; j++) {
      acc = (acc + BigInt(a[j] as number) * rj) % Q
      rj = (rj * root) % Q
    }
    out[k] = Number(acc)
  }
  return out
}
