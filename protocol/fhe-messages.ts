/**
 * Messages of encrypted inference (part of the one protocol schema): a client asks a miner to evaluate one dense
 * product of a Brain's model on its encrypted activations.
 *
 * - EncryptedLinear → EncryptedLinearReply. `model` names the public model the miner serves; `layer` and `site` name
 *   the weight matrix; `preset` names the BFV parameter set (the ciphertexts carry its paramsId, checked on
 *   decoding); `plan` is the packing the client chose (the miner re-derives and checks it); `inputs` are serialized
 *   BFV ciphertexts (fhe/serialize.ts), `outputs` serialized partial ciphertexts. The miner holds no key: it cannot
 *   decrypt what it receives or what it returns.
 * - `deadline` (optional, Unix ms): when the client stops waiting; a miner refuses work past it (see the field).
 * - The reply carries the miner's signed **compute receipt**: {session, units, request, computeKey} signed with the
 *   miner's ed25519 compute key over `receiptSigningBytes`. `units` is the number of ciphertext × plaintext products
 *   the miner performed, `request` the SHA-256 of the request (`encryptedLinearDigest`), `session` the client's
 *   session id (or ''). The client checks it and pays on it (gateway/encrypted.ts, gateway/settle.ts); signing and
 *   verifying live with the keys (ledger/keys.ts), this file only fixes the bytes.
 */
import { createHash } from 'node:crypto'
import { Schema } from 'effect'

const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
const Name = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.:-]{1,64}$/))
/** At most 1024 ciphertexts per request (a 768→3072 product for 8 tokens needs 24 at N = 4096). */
const Cts = Schema.Array(Schema.Uint8ArrayFromSelf).pipe(Schema.maxItems(1024))

export const LinearPlanFields = Schema.Struct({ dIn: Count, dOut: Count, tokens: Count, ni: Count, mt: Count, no: Count })

const Hex32 = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))
const Hex64 = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{128}$/))
/** A client's session id: 16–64 lower-case hex digits. */
const SessionId = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{16,64}$/))

/** What a miner signs for one answered EncryptedLinear (see the module comment). */
export const ComputeReceipt = Schema.Struct({
  session: Schema.Union(SessionId, Schema.Literal('')),
  units: Count,
  request: Hex32,
  computeKey: Hex32,
  signature: Hex64,
})
export type ComputeReceipt = typeof ComputeReceipt.Type

export const EncryptedLinear = Schema.TaggedStruct('EncryptedLinear', {
  /** The client's session id, echoed in the miner's receipt (optional: validators' challenges have none). */
  session: Schema.optional(SessionId),
  model: Name,
  layer: Count,
  site: Schema.Literal('attn', 'proj', 'fc', 'fcProj'),
  preset: Name,
  plan: LinearPlanFields,
  inputs: Cts,
  /**
   * When the client stops waiting (Unix ms; optional, so frames without it still decode): the miner refuses a request
   * whose deadline has passed before it starts (MinerRejection 'DeadlineExceeded'), a node serving it to a peer waits
   * for the miner until then (net/deadline.ts), and the client's ask times out then. Not part of the request digest a
   * receipt names: it says when the work is wanted, not what it is.
   */
  deadline: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.positive())),
})
/**
 * Tells a miner where to run the polynomial arithmetic of its encrypted products from now on: `'cpu'`, `'device'`
 * (its own WebGPU device) or the address of a kernel-worker actor of its tree (`based worker attach` sends this to
 * every miner after attaching a GPU worker, and `'cpu'` after detaching it). Local only. Reply: Ack.
 */
export const UseKernels = Schema.TaggedStruct('UseKernels', {
  kernels: Schema.Union(Schema.Literal('cpu', 'device'), Schema.String.pipe(Schema.pattern(/^\/[A-Za-z0-9_./-]+$/))),
})
export const EncryptedLinearReply = Schema.TaggedStruct('EncryptedLinearReply', {
  outputs: Cts,
  /** Miner evaluation time, ms (weight preparation excluded). */
  minerMs: Schema.Number.pipe(Schema.finite()),
  /** The miner's signed count of the ciphertext × plaintext products it performed for this request. */
  receipt: ComputeReceipt,
})

const enc = new TextEncoder()

function u32(h: ReturnType<typeof createHash>, v: number): void {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(v >>> 0, 0)
  h.update(b)
}

function str(h: ReturnType<typeof createHash>, s: string): void {
  const b = enc.encode(s)
  u32(h, b.length)
  h.update(b)
}

/**
 * SHA-256 of an EncryptedLinear request, over a canonical length-prefixed encoding of every field (session, model,
 * layer, site, preset, plan, each input's bytes). What a receipt names as `request`.
 */
export function encryptedLinearDigest(msg: typeof EncryptedLinear.Type): Uint8Array {
  const h = createHash('sha256')
  str(h, 'basedai/EncryptedLinear/v1')
  str(h, msg.session ?? '')
  str(h, msg.model)
  u32(h, msg.layer)
  str(h, msg.site)
  str(h, msg.preset)
  for (const v of [msg.plan.dIn, msg.plan.dOut, msg.plan.tokens, msg.plan.ni, msg.plan.mt, msg.plan.no]) u32(h, v)
  u32(h, msg.inputs.length)
  for (const c of msg.inputs) {
    u32(h, c.length)
    h.update(c)
  }
  return new Uint8Array(h.digest())
}

/** The bytes a miner signs for a receipt (everything but the signature, length-prefixed, domain-separated). */
export function receiptSigningBytes(r: Omit<ComputeReceipt, 'signature'>): Uint8Array {
  const parts = ['basedai/ComputeReceipt/v1', r.session, String(r.units), r.request, r.computeKey].map((p) => enc.encode(p))
  const out = new Uint8Array(parts.reduce((s, p) => s + 4 + p.length, 0))
  const view = new DataView(out.buffer)
  let o = 0
  for (const p of parts) {
    view.setUint32(o, p.length, true)
    out.set(p, o + 4)
    o += 4 + p.length
  }
  return out
}
