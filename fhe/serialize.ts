/**
 * Versioned binary encoding of ciphertexts and keys.
 *
 * Layout (all integers little-endian):
 *
 *   0  'BFHE'            magic
 *   4  u8 version        FORMAT_VERSION (1)
 *   5  u8 kind           1 ciphertext, 2 public key, 3 secret key, 4 relinearization keys, 5 partial ciphertext
 *   6  u8 level          number of primes the polynomials use
 *   7  u8 count          ciphertext size / number of key polynomials
 *   8  u8 flags          bit 0: c1 (or the key's uniform part) is given by a 32-byte seed;
 *                        bit 1: the polynomials hold NTT values (ciphertexts only)
 *   9  3 bytes reserved  (zero)
 *  12  16 bytes          paramsId (the context's, binary)
 *  28  u32 bodyLength
 *  32  body              kind-specific: [seed 32 bytes] then u32 coefficients limb by limb
 *  …   32 bytes          SHA-256 of everything before it
 *
 * Decoding checks, in order: length, magic, version, kind, paramsId, header fields, exact total length, the SHA-256,
 * then that every coefficient is below its prime q_i. Any failure is a `CiphertextDecodeError` with a literal `reason`, never a
 * wrong object. The hash detects corruption and truncation; it is not a MAC — a party who can rewrite the bytes can
 * recompute it (integrity against a malicious miner would need a signature over the bytes, which protocol/ adds).
 */
import { createHash } from 'node:crypto'
import type { FheContext } from './context.ts'
import { expandSeededC1 } from './encrypt.ts'
import { CiphertextDecodeError } from './errors.ts'
import { publicA, relinA } from './keygen.ts'
import type { RnsPoly } from './poly.ts'
import type { Ciphertext, PublicKey, RelinKeys, SecretKey } from './types.ts'
import { checkCiphertext } from './validate.ts'

export const FORMAT_VERSION = 1
const MAGIC = 0x45484642 // 'BFHE' read as u32 LE
const HEADER = 32
const HASH = 32
const SEED = 32

export const KIND = { ciphertext: 1, publicKey: 2, secretKey: 3, relinKeys: 4, partialCiphertext: 5 } as const
type Kind = (typeof KIND)[keyof typeof KIND]

function err(reason: CiphertextDecodeError['reason'], message: string): CiphertextDecodeError {
  return new CiphertextDecodeError({ reason, message })
}

function writeFrame(ctx: FheContext, kind: Kind, level: number, count: number, flags: number, body: Buffer): Uint8Array {
  const out = Buffer.alloc(HEADER + body.length + HASH)
  out.writeUInt32LE(MAGIC, 0)
  out.writeUInt8(FORMAT_VERSION, 4)
  out.writeUInt8(kind, 5)
  out.writeUInt8(level, 6)
  out.writeUInt8(count, 7)
  out.writeUInt8(flags, 8)
  Buffer.from(ctx.paramsId, 'hex').copy(out, 12)
  out.writeUInt32LE(body.length, 28)
  body.copy(out, HEADER)
  createHash('sha256').update(out.subarray(0, HEADER + body.length)).digest().copy(out, HEADER + body.length)
  return new Uint8Array(out.buffer, out.byteOffset, out.length)
}

interface Frame {
  readonly level: number
  readonly count: number
  readonly flags: number
  readonly body: Buffer
}

function readFrame(ctx: FheContext, bytes: Uint8Array, kind: Kind): Frame {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < HEADER + HASH) throw err('truncated', `${buf.length} bytes is shorter than the header`)
  if (buf.readUInt32LE(0) !== MAGIC) throw err('bad_magic', 'not a BFHE object')
  const version = buf.readUInt8(4)
  if (version !== FORMAT_VERSION) throw err('unsupported_version', `format version ${version}, expected ${FORMAT_VERSION}`)
  const k = buf.readUInt8(5)
  if (k !== kind) throw err('wrong_kind', `object kind ${k}, expected ${kind}`)
  const id = buf.subarray(12, 28).toString('hex')
  if (id !== ctx.paramsId) throw err('params_mismatch', `paramsId ${id} is not this context's ${ctx.paramsId}`)
  const level = buf.readUInt8(6)
  const count = buf.readUInt8(7)
  const flags = buf.readUInt8(8)
  if (buf.readUIntLE(9, 3) !== 0 || (flags & ~3) !== 0) throw err('bad_header', 'reserved bits set')
  if (level < 1 || level > ctx.levels) throw err('bad_header', `level ${level} outside 1…${ctx.levels}`)
  const bodyLength = buf.readUInt32LE(28)
  const total = HEADER + bodyLength + HASH
  if (buf.length < total) throw err('truncated', `${buf.length} bytes, header announces ${total}`)
  if (buf.length > total) throw err('trailing_bytes', `${buf.length - total} bytes after the object`)
  const digest = createHash('sha256').update(buf.subarray(0, HEADER + bodyLength)).digest()
  if (!digest.equals(buf.subarray(HEADER + bodyLength))) throw err('checksum', 'SHA-256 of the object does not match')
  return { level, count, flags, body: buf.subarray(HEADER, HEADER + bodyLength) }
}

function expectBody(frame: Frame, length: number): void {
  if (frame.body.length !== length) throw err('bad_header', `body of ${frame.body.length} bytes, expected ${length} for its header`)
}

function writePolys(polys: readonly RnsPoly[], body: Buffer, offset: number): number {
  let o = offset
  for (const p of polys) {
    for (let i = 0; i < p.data.length; i++) {
      body.writeUInt32LE(p.data[i] as number, o)
      o += 4
    }
  }
  return o
}

/** Reads `count` polynomials of `level` limbs, checking every coefficient against its prime. */
function readPolys(ctx: FheContext, body: Buffer, offset: number, count: number, level: number): RnsPoly[] {
  const n = ctx.n
  const out: RnsPoly[] = []
  let o = offset
  for (let c = 0; c < count; c++) {
    const data = new Uint32Array(n * level)
    for (let i = 0; i < level; i++) {
      const q = ctx.base.moduli[i] as number
      for (let j = 0; j < n; j++) {
        const v = body.readUInt32LE(o)
        o += 4
        if (v >= q) throw err('coefficient_out_of_range', `polynomial ${c}, limb ${i}, coefficient ${j}: ${v} ≥ q_${i}`)
        data[i * n + j] = v
      }
    }
    out.push({ n, k: level, data })
  }
  return out
}

/** Ciphertext → bytes. A fresh secret-key ciphertext ships its seed instead of c1. */
export function serializeCiphertext(ctx: FheContext, ct: Ciphertext): Uint8Array {
  checkCiphertext(ctx, ct)
  const seeded = ct.seed !== undefined && ct.polys.length === 2
  const polys = seeded ? ct.polys.slice(0, 1) : ct.polys
  const body = Buffer.alloc((seeded ? SEED : 0) + polys.length * ct.level * ctx.n * 4)
  if (seeded) Buffer.from(ct.seed as Uint8Array).copy(body, 0)
  writePolys(polys, body, seeded ? SEED : 0)
  return writeFrame(ctx, KIND.ciphertext, ct.level, ct.polys.length, (seeded ? 1 : 0) | (ct.ntt === true ? 2 : 0), body)
}

/** bytes → Ciphertext for this context. @throws CiphertextDecodeError */
export function deserializeCiphertext(ctx: FheContext, bytes: Uint8Array): Ciphertext {
  const f = readFrame(ctx, bytes, KIND.ciphertext)
  if (f.count < 2 || f.count > 3) throw err('bad_header', `ciphertext size ${f.count}`)
  const seeded = (f.flags & 1) === 1
  if (seeded && f.count !== 2) throw err('bad_header', 'only size-2 ciphertexts can be seeded')
  const stored = seeded ? 1 : f.count
  expectBody(f, (seeded ? SEED : 0) + stored * f.level * ctx.n * 4)
  const polys = readPolys(ctx, f.body, seeded ? SEED : 0, stored, f.level)
  const form = (f.flags & 2) === 2 ? { ntt: true } : {}
  if (!seeded) return { paramsId: ctx.paramsId, level: f.level, polys, ...form }
  const seed = new Uint8Array(f.body.subarray(0, SEED))
  return { paramsId: ctx.paramsId, level: f.level, polys: [polys[0] as RnsPoly, expandSeededC1(ctx, seed, f.level)], seed, ...form }
}

export function serializePublicKey(ctx: FheContext, pk: PublicKey): Uint8Array {
  const body = Buffer.alloc(SEED + ctx.levels * ctx.n * 4)
  Buffer.from(pk.seed).copy(body, 0)
  writePolys([pk.p0], body, SEED)
  return writeFrame(ctx, KIND.publicKey, ctx.levels, 1, 1, body)
}

export function deserializePublicKey(ctx: FheContext, bytes: Uint8Array): PublicKey {
  const f = readFrame(ctx, bytes, KIND.publicKey)
  if (f.count !== 1 || f.flags !== 1 || f.level !== ctx.levels) throw err('bad_header', 'public key header')
  expectBody(f, SEED + ctx.levels * ctx.n * 4)
  const seed = new Uint8Array(f.body.subarray(0, SEED))
  const [p0] = readPolys(ctx, f.body, SEED, 1, ctx.levels)
  return { paramsId: ctx.paramsId, p0: p0 as RnsPoly, p1: publicA(ctx, seed), seed }
}

/** Secret key → bytes, for the key owner's own storage. Never send it anywhere. */
export function serializeSecretKey(ctx: FheContext, sk: SecretKey): Uint8Array {
  const body = Buffer.alloc(ctx.levels * ctx.n * 4)
  writePolys([sk.sNtt], body, 0)
  return writeFrame(ctx, KIND.secretKey, ctx.levels, 1, 0, body)
}

export function deserializeSecretKey(ctx: FheContext, bytes: Uint8Array): SecretKey {
  const f = readFrame(ctx, bytes, KIND.secretKey)
  if (f.count !== 1 || f.flags !== 0 || f.level !== ctx.levels) throw err('bad_header', 'secret key header')
  expectBody(f, ctx.levels * ctx.n * 4)
  const [s] = readPolys(ctx, f.body, 0, 1, ctx.levels)
  return { paramsId: ctx.paramsId, sNtt: s as RnsPoly }
}

export function serializeRelinKeys(ctx: FheContext, rlk: RelinKeys): Uint8Array {
  const body = Buffer.alloc(SEED + ctx.levels * ctx.levels * ctx.n * 4)
  Buffer.from(rlk.seed).copy(body, 0)
  writePolys(rlk.b, body, SEED)
  return writeFrame(ctx, KIND.relinKeys, ctx.levels, ctx.levels, 1, body)
}

export function deserializeRelinKeys(ctx: FheContext, bytes: Uint8Array): RelinKeys {
  const f = readFrame(ctx, bytes, KIND.relinKeys)
  if (f.count !== ctx.levels || f.flags !== 1 || f.level !== ctx.levels) throw err('bad_header', 'relinearization key header')
  expectBody(f, SEED + ctx.levels * ctx.levels * ctx.n * 4)
  const seed = new Uint8Array(f.body.subarray(0, SEED))
  const b = readPolys(ctx, f.body, SEED, ctx.levels, ctx.levels)
  return { paramsId: ctx.paramsId, b, a: b.map((_, i) => relinA(ctx, seed, i)), seed }
}

/**
 * A ciphertext reduced to what a client needs to decrypt chosen coefficients: c0 at those indices only, c1 whole
 * (every coefficient of c1·s depends on all of c1). Produced by the encrypted linear layer for its response.
 */
export interface PartialCiphertext {
  readonly paramsId: string
  readonly level: number
  /** Coefficient indices kept, strictly increasing. */
  readonly indices: Uint32Array
  /** c0 at `indices`, limb by limb (level × indices.length). */
  readonly c0: Uint32Array
  readonly c1: RnsPoly
}

export function serializePartial(ctx: FheContext, p: PartialCiphertext): Uint8Array {
  const m = p.indices.length
  const body = Buffer.alloc(4 + 2 * m + 4 * p.level * m + 4 * p.level * ctx.n)
  body.writeUInt32LE(m, 0)
  let o = 4
  for (let i = 0; i < m; i++) {
    body.writeUInt16LE(p.indices[i] as number, o)
    o += 2
  }
  for (let i = 0; i < p.c0.length; i++) {
    body.writeUInt32LE(p.c0[i] as number, o)
    o += 4
  }
  writePolys([p.c1], body, o)
  return writeFrame(ctx, KIND.partialCiphertext, p.level, 2, 0, body)
}

export function deserializePartial(ctx: FheContext, bytes: Uint8Array): PartialCiphertext {
  const f = readFrame(ctx, bytes, KIND.partialCiphertext)
  if (f.count !== 2 || f.flags !== 0) throw err('bad_header', 'partial ciphertext header')
  if (f.body.length < 4) throw err('truncated', 'partial ciphertext body')
  const m = f.body.readUInt32LE(0)
  if (m > ctx.n) throw err('bad_header', `${m} indices for N = ${ctx.n}`)
  expectBody(f, 4 + 2 * m + 4 * f.level * m + 4 * f.level * ctx.n)
  const indices = new Uint32Array(m)
  let o = 4
  for (let i = 0; i < m; i++) {
    const v = f.body.readUInt16LE(o)
    o += 2
    if (v >= ctx.n || (i > 0 && v <= (indices[i - 1] as number))) throw err('bad_header', 'indices not increasing below N')
    indices[i] = v
  }
  const c0 = new Uint32Array(f.level * m)
  for (let l = 0; l < f.level; l++) {
    const q = ctx.base.moduli[l] as number
    for (let i = 0; i < m; i++) {
      const v = f.body.readUInt32LE(o)
      o += 4
      if (v >= q) throw err('coefficient_out_of_range', `c0 limb ${l}, entry ${i}`)
      c0[l * m + i] = v
    }
  }
  const [c1] = readPolys(ctx, f.body, o, 1, f.level)
  return { paramsId: ctx.paramsId, level: f.level, indices, c0, c1: c1 as RnsPoly }
}
