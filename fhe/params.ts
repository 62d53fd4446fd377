/**
 * BFV encryption parameters: light, Schema-validated data (STYLE.md §4, SEAL's `EncryptionParameters`).
 *
 * A parameter set names the ring degree N, the RNS coefficient modulus q = q_0·…·q_{L−1} (distinct NTT-friendly
 * primes below 2^31), the plaintext modulus t and the error distribution. Its `paramsId` is the SHA-256 of a
 * canonical byte encoding (first 16 bytes, hex), stamped on every key and ciphertext; equal ids mean equal parameters.
 * Only local shape checks happen here; `makeFheContext` owns the verdict (security, primality, NTT-friendliness).
 */
import { createHash } from 'node:crypto'
import { Either, Schema } from 'effect'
import { InvalidParams } from './errors.ts'

/** Centred binomial distribution with parameter η: Σ_{i<η} (a_i − b_i), variance η/2 (η = 21 gives σ ≈ 3.24). */
export const CenteredBinomial = Schema.Struct({
  kind: Schema.Literal('cbd'),
  eta: Schema.Int.pipe(Schema.between(1, 32)),
})
export type ErrorDistribution = typeof CenteredBinomial.Type

export const BfvParamsSchema = Schema.Struct({
  scheme: Schema.Literal('bfv'),
  /** Ring degree N: a power of two; the ring is Z_q[X]/(X^N + 1). */
  polyModulusDegree: Schema.Int.pipe(Schema.positive()),
  /** RNS primes q_i, each < 2^31, ≡ 1 (mod 2N), distinct. Their product is q. */
  coeffModulus: Schema.Array(Schema.Int.pipe(Schema.positive())),
  /** Plaintext modulus t (any integer ≥ 2 below every q_i; coefficient encoding needs no primality). */
  plainModulus: Schema.Int.pipe(Schema.greaterThanOrEqualTo(2)),
  errorDistribution: CenteredBinomial,
})
export type BfvParamsInput = typeof BfvParamsSchema.Encoded

/** Validated, immutable parameters plus their id. */
export interface BfvParams {
  readonly scheme: 'bfv'
  readonly polyModulusDegree: number
  readonly coeffModulus: readonly number[]
  readonly plainModulus: number
  readonly errorDistribution: ErrorDistribution
  /** 32 hex chars: SHA-256(canonical encoding) truncated to 128 bits. */
  readonly paramsId: string
}

/** Canonical encoding: 'BFV1', N, L, each q_i, t (all u32 little-endian), error kind byte, η. */
export function canonicalEncoding(p: Omit<BfvParams, 'paramsId'>): Uint8Array {
  const L = p.coeffModulus.length
  const buf = Buffer.alloc(4 + 4 + 4 + 4 * L + 8 + 2)
  buf.write('BFV1', 0, 'ascii')
  buf.writeUInt32LE(p.polyModulusDegree, 4)
  buf.writeUInt32LE(L, 8)
  p.coeffModulus.forEach((q, i) => buf.writeUInt32LE(q, 12 + 4 * i))
  // t up to 2^53 in two words, so the encoding never truncates what the schema accepted.
  buf.writeUInt32LE(p.plainModulus % 2 ** 32, 12 + 4 * L)
  buf.writeUInt32LE(Math.floor(p.plainModulus / 2 ** 32), 16 + 4 * L)
  buf.writeUInt8(1, 20 + 4 * L) // 1 = centred binomial
  buf.writeUInt8(p.errorDistribution.eta, 21 + 4 * L)
  return new Uint8Array(buf)
}

export function computeParamsId(p: Omit<BfvParams, 'paramsId'>): string {
  return createHash('sha256').update(canonicalEncoding(p)).digest('hex').slice(0, 32)
}

/**
 * Decodes untrusted input into `BfvParams` (shape only). Throws `InvalidParams` (`schema`) on a malformed record.
 * Use `makeFheContext` to get the full verdict.
 */
export function bfvParams(input: unknown): BfvParams {
  const r = Schema.decodeUnknownEither(BfvParamsSchema)(input)
  if (Either.isLeft(r)) {
    throw new InvalidParams({ reason: 'schema', message: `malformed BFV parameters: ${String(r.left.message)}` })
  }
  const v = r.right
  const base = {
    scheme: 'bfv' as const,
    polyModulusDegree: v.polyModulusDegree,
    coeffModulus: Object.freeze([...v.coeffModulus]),
    plainModulus: v.plainModulus,
    errorDistribution: Object.freeze({ ...v.errorDistribution }),
  }
  return Object.freeze({ ...base, paramsId: computeParamsId(base) })
}
