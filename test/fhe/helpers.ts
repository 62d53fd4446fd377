/** Shared fixtures for the FHE tests: contexts and keys built once per process, seeded randomness. */
import { createFheContext, type FheContext } from '../../fhe/context.ts'
import { createKeyGenerator, type KeyGenerator } from '../../fhe/keygen.ts'
import { presets, type PresetName } from '../../fhe/presets.ts'
import { seededRandom } from '../../fhe/rng.ts'
import type { PublicKey, RelinKeys } from '../../fhe/types.ts'
import { mulberry32 } from '../../numeric/prng.ts'

export interface Fixture {
  readonly ctx: FheContext
  readonly kg: KeyGenerator
  readonly pk: PublicKey
  readonly rlk: RelinKeys
}

const cache = new Map<PresetName, Fixture>()

export function fixture(name: PresetName): Fixture {
  const hit = cache.get(name)
  if (hit) return hit
  const ctx = createFheContext(presets[name])
  const kg = createKeyGenerator(ctx, seededRandom(`keys-${name}`))
  const f = { ctx, kg, pk: kg.createPublicKey(), rlk: kg.createRelinKeys() }
  cache.set(name, f)
  return f
}

/** Seeded PRNG (mulberry32, shared with the model's weight init). */
export const prng = mulberry32

/** Integers uniform in [lo, hi]. */
export function randomInts(count: number, lo: number, hi: number, seed: number): number[] {
  const r = prng(seed)
  return Array.from({ length: count }, () => lo + Math.floor(r() * (hi - lo + 1)))
}

/** Negacyclic product of integer polynomials mod (X^n + 1, t), centred result (plain reference). */
export function negacyclicMod(a: readonly number[], b: readonly number[], n: number, t: number): number[] {
  const acc = new Array<number>(n).fill(0)
  for (let i = 0; i < a.length; i++) {
    const ai = a[i] as number
    if (ai === 0) continue
    for (let j = 0; j < b.length; j++) {
      const k = i + j
      const p = ai * (b[j] as number)
      if (k < n) acc[k] = ((acc[k] as number) + p) % t
      else acc[k - n] = ((acc[k - n] as number) - p) % t
    }
  }
  return acc.map((v) => {
    const r = ((v % t) + t) % t
    return r > t / 2 ? r - t : r
  })
}

export function centredMod(v: number, t: number): number {
  const r = ((v % t) + t) % t
  return r > t / 2 ? r - t : r
}

/** Π m (BigInt). */
export const prod = (m: readonly number[]): bigint => m.reduce((a, q) => a * BigInt(q), 1n)
/** a mod m in [0, m). */
export const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m

/** RNS residues of BigInt values: row i holds each value mod moduli[i] (n values per row). */
export function residues(values: readonly bigint[], moduli: readonly number[], n: number): Uint32Array {
  const out = new Uint32Array(moduli.length * n)
  moduli.forEach((q, i) => values.forEach((v, c) => (out[i * n + c] = Number(mod(v, BigInt(q))))))
  return out
}

/** A BigInt roughly uniform in [0, bound) from a [0, 1) generator. */
export function randomBig(r: () => number, bound: bigint): bigint {
  let v = 0n
  for (let i = 0; i < Math.ceil(bound.toString(2).length / 24) + 2; i++) v = (v << 24n) | BigInt(Math.floor(r() * 2 ** 24))
  return v % bound
}
