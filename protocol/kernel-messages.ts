/**
 * Messages of the GPU kernel worker (actors/kernel-worker.ts): part of the one protocol schema. Typed arrays travel as raw
 * little-endian bytes (msgpack `bin`): u32 residues, int8 values, f32 scales. Request → reply:
 *
 * - KernelInfo → KernelInfoReply (backend, adapter line, slow flag)
 * - KernelNtt / KernelPointwise / KernelPolyMul / KernelBaseConvert → KernelWords (u32 rows)
 * - KernelMatmul → KernelMatmulReply (int32 accumulators, f32 outputs)
 * - KernelKvCreate → KernelKvCreated; KernelAttention → KernelAttentionReply; KernelKvRelease → KernelAck
 * - KernelSqueeze → KernelSqueezeReply
 * - KernelBfvKeys → KernelBfvKeysReply (one level's relinearization keys kept on the worker's device);
 *   KernelBfvMulRelin → KernelWords (a batch of BFV multiply + relinearize, resident on the device: kernels/rns/bfv.ts
 *   has the operand layout); KernelBfvKeysRelease → KernelAck
 */
import { Schema } from 'effect'

const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
const Num = Schema.Number.pipe(Schema.finite())
const Bytes = Schema.Uint8ArrayFromSelf
const Primes = Schema.Array(Count)

export const KernelInfo = Schema.TaggedStruct('KernelInfo', {})
export const KernelNtt = Schema.TaggedStruct('KernelNtt', {
  direction: Schema.Literal('forward', 'inverse'),
  n: Count,
  primes: Primes,
  data: Bytes,
})
export const KernelPointwise = Schema.TaggedStruct('KernelPointwise', {
  op: Schema.Literal('mul', 'add', 'sub'),
  n: Count,
  primes: Primes,
  a: Bytes,
  b: Bytes,
})
export const KernelPolyMul = Schema.TaggedStruct('KernelPolyMul', { n: Count, primes: Primes, a: Bytes, b: Bytes })
export const KernelBaseConvert = Schema.TaggedStruct('KernelBaseConvert', { n: Count, from: Primes, to: Primes, data: Bytes })
export const KernelMatmul = Schema.TaggedStruct('KernelMatmul', {
  m: Count,
  k: Count,
  n: Count,
  a: Bytes,
  aScale: Bytes,
  w: Bytes,
  wScale: Bytes,
  bias: Schema.optional(Bytes),
})
export const KernelKvCreate = Schema.TaggedStruct('KernelKvCreate', { heads: Count, headDim: Count, capacity: Count })
export const KernelAttention = Schema.TaggedStruct('KernelAttention', {
  cache: Count,
  tokens: Count,
  q: Bytes,
  qScale: Bytes,
  k: Bytes,
  kScale: Bytes,
  v: Bytes,
  vScale: Bytes,
  headMask: Schema.optional(Schema.Array(Schema.Boolean)),
  withScores: Schema.optional(Schema.Boolean),
})
export const KernelKvRelease = Schema.TaggedStruct('KernelKvRelease', { cache: Count })
export const KernelSqueeze = Schema.TaggedStruct('KernelSqueeze', {
  rows: Count,
  cols: Count,
  x: Bytes,
  levels: Schema.optional(Count),
  threshold: Schema.optional(Num),
  alpha: Schema.optional(Num),
})
export const KernelBfvKeys = Schema.TaggedStruct('KernelBfvKeys', { n: Count, q: Primes, keys: Bytes })
export const KernelBfvMulRelin = Schema.TaggedStruct('KernelBfvMulRelin', {
  n: Count,
  q: Primes,
  p: Primes,
  t: Count,
  keys: Count,
  ops: Bytes,
})
export const KernelBfvKeysRelease = Schema.TaggedStruct('KernelBfvKeysRelease', { keys: Count })

export const KernelRequest = Schema.Union(
  KernelInfo,
  KernelNtt,
  KernelPointwise,
  KernelPolyMul,
  KernelBaseConvert,
  KernelMatmul,
  KernelKvCreate,
  KernelAttention,
  KernelKvRelease,
  KernelSqueeze,
  KernelBfvKeys,
  KernelBfvMulRelin,
  KernelBfvKeysRelease,
)
export type KernelRequest = typeof KernelRequest.Type

export const KernelInfoReply = Schema.TaggedStruct('KernelInfoReply', {
  backend: Schema.Literal('webgpu', 'reference'),
  adapter: Schema.String,
  slow: Schema.Boolean,
})
export const KernelWords = Schema.TaggedStruct('KernelWords', { data: Bytes })
export const KernelMatmulReply = Schema.TaggedStruct('KernelMatmulReply', { acc: Bytes, y: Bytes })
export const KernelKvCreated = Schema.TaggedStruct('KernelKvCreated', { cache: Count })
export const KernelAttentionReply = Schema.TaggedStruct('KernelAttentionReply', {
  out: Bytes,
  scores: Bytes,
  probs: Bytes,
  work: Bytes,
  activeHeads: Schema.Array(Count),
  keys: Count,
})
export const KernelSqueezeReply = Schema.TaggedStruct('KernelSqueezeReply', { levels: Count, codes: Bytes, values: Bytes, stats: Bytes })
export const KernelBfvKeysReply = Schema.TaggedStruct('KernelBfvKeysReply', { keys: Count })
export const KernelAck = Schema.TaggedStruct('KernelAck', {})

export const KernelReply = Schema.Union(
  KernelInfoReply,
  KernelWords,
  KernelMatmulReply,
  KernelKvCreated,
  KernelAttentionReply,
  KernelSqueezeReply,
  KernelBfvKeysReply,
  KernelAck,
)
export type KernelReply = typeof KernelReply.Type

/** Tags of the kernel requests (what a kernel worker accepts beyond the basic requests). */
export const KERNEL_REQUEST_TAGS = [
  'KernelInfo',
  'KernelNtt',
  'KernelPointwise',
  'KernelPolyMul',
  'KernelBaseConvert',
  'KernelMatmul',
  'KernelKvCreate',
  'KernelAttention',
  'KernelKvRelease',
  'KernelSqueeze',
  'KernelBfvKeys',
  'KernelBfvMulRelin',
  'KernelBfvKeysRelease',
] as const satisfies ReadonlyArray<KernelRequest['_tag']>
