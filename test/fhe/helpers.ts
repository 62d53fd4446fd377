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
