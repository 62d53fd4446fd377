/**
 * Randomness and samplers.
 *
 * - Secret material (secret key, encryption randomness u, errors e) comes from a `RandomSource`; the default is the
 *   platform CSPRNG (`node:crypto.randomFillSync`, OpenSSL's DRBG). Tests may inject a seeded source.
 * - Public uniform polynomials (the `a` of secret-key encryption and of key-switching keys) are expanded from a
 *   32-byte seed with SHAKE-256, so a ciphertext or key can ship the seed instead of the polynomial.
 *
 * Constant-time notes (what is and is not): the ternary and centred-binomial samplers turn random bytes into
 * coefficients with branch-free integer arithmetic (no data-dependent branches, no table lookups indexed by secret
 * values), and the signed → residue mapping is a mask, not a branch. Rejection sampling is used only for public
 * uniform values (`a`). JavaScript gives no guarantee about the JIT, the garbage collector or the timing of
 * floating-point operations, so this is "no secret-dependent branches or indices in our code", not a verified
 * constant-time implementation.
 */
import { createHash, randomFillSync } from 'node:crypto'
import type { ErrorDistribution } from './params.ts'

export interface RandomSource {
  /** Fills `out` with uniformly random bytes. */
  fill(out: Uint8Array): void
}

/** The platform CSPRNG. */
export const cryptoRandom: RandomSource = {
  fill(out) {
    randomFillSync(out)
  },
}

/** A deterministic SHAKE-256 stream, for tests and for expanding public seeds. Not for secrets in production. */
export function seededRandom(seed: Uint8Array | string): RandomSource {
  const base = typeof seed === 'string' ? Buffer.from(seed, 'utf8') : Buffer.from(seed)
  let counter = 0
  return {
    fill(out) {
      const h = createHash('shake256', { outputLength: out.length })
      const c = Buffer.alloc(8)
      c.writeUInt32LE(counter++, 0)
      h.update(base).update(c)
      out.set(h.digest())
    },
  }
}

/** Number of 32-bit words drawn per coefficient block (uniform sampler). */
function expand(seed: Uint8Array, domain: number, block: number, bytes: number): Buffer {
  const tag = Buffer.alloc(8)
  tag.writeUInt32LE(domain >>> 0, 0)
  tag.writeUInt32LE(block >>> 0, 4)
  return createHash('shake256', { outputLength: bytes }).update(seed).update(tag).digest()
}

/**
 * Writes a uniform polynomial mod each q_i into `out` (limb i at offset i·n), expanded from `seed` with SHAKE-256 and
 * rejection sampling of words masked to q's bit length. Public randomness only (the rejection loop's timing depends on it).
 * `domain` separates independent polynomials drawn from one seed.
 */
export function uniformFromSeed(seed: Uint8Array, domain: number, n: number, moduli: readonly number[], out: Uint32Array): void {
  for (let i = 0; i < moduli.length; i++) {
    const q = moduli[i] as number
    // Mask to q's bit length so at least half of the candidates are accepted, whatever the size of q.
    const mask = 2 ** Math.ceil(Math.log2(q + 1)) - 1
    let filled = 0
    let block = 0
    while (filled < n) {
      const need = n - filled
      const words = need + (need >> 4) + 8
      const buf = expand(seed, domain * 64 + i, block++, words * 4)
      for (let w = 0; w < words && filled < n; w++) {
        const v = (buf.readUInt32LE(4 * w) & mask) >>> 0
        if (v < q) out[i * n + filled++] = v
      }
    }
  }
}

/** Branch-free popcount of a 32-bit integer. */
function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555)
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333)
  v = (v + (v >>> 4)) & 0x0f0f0f0f
  return Math.imul(v, 0x01010101) >>> 24
}

/**
 * n coefficients from the uniform ternary distribution on {−1, 0, 1}: 48 random bits r per coefficient and
 * ⌊3r / 2^48⌋ − 1 (statistical distance from uniform < 2^−46 per coefficient). Branch-free.
 */
export function sampleTernary(n: number, rng: RandomSource): Int8Array {
  const bytes = new Uint8Array(6 * n)
  rng.fill(bytes)
  const out = new Int8Array(n)
  for (let i = 0; i < n; i++) {
    const o = 6 * i
    const r =
      (bytes[o] as number) +
      (bytes[o + 1] as number) * 2 ** 8 +
      (bytes[o + 2] as number) * 2 ** 16 +
      (bytes[o + 3] as number) * 2 ** 24 +
      (bytes[o + 4] as number) * 2 ** 32 +
      (bytes[o + 5] as number) * 2 ** 40
    out[i] = Math.floor((r * 3) / 2 ** 48) - 1
  }
  bytes.fill(0)
  return out
}

/**
 * n coefficients from the centred binomial distribution CBD(η): popcount(a) − popcount(b) for two independent η-bit
 * strings, variance η/2 (η = 21: σ ≈ 3.24, the standard's σ ≈ 3.2; |e| ≤ η always). Branch-free.
 */
export function sampleCbd(n: number, dist: ErrorDistribution, rng: RandomSource): Int8Array {
  const eta = dist.eta
  const mask = eta >= 32 ? 0xffffffff : (2 ** eta - 1) >>> 0
  const bytes = new Uint8Array(8 * n)
  rng.fill(bytes)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Int8Array(n)
  for (let i = 0; i < n; i++) {
    const a = view.getUint32(8 * i, true) & mask
    const b = view.getUint32(8 * i + 4, true) & mask
    out[i] = popcount(a) - popcount(b)
  }
  bytes.fill(0)
  return out
}

/**
 * Writes the small signed polynomial `e` into every limb of `out` as residues mod q_i, with a mask instead of a branch
 * (x + (q & (x >> 31)) for x in (−2^31, 2^31)).
 */
export function smallToRns(e: Int8Array | Int32Array, moduli: readonly number[], out: Uint32Array): void {
  const n = e.length
  for (let i = 0; i < moduli.length; i++) {
    const q = moduli[i] as number
    const off = i * n
    for (let j = 0; j < n; j++) {
      const x = e[j] as number
      out[off + j] = (x + (q & (x >> 31))) >>> 0
    }
  }
}
