/**
 * Messages of encrypted inference (part of the one protocol schema): a client asks a miner to evaluate one dense
 * product of a Brain's model on its encrypted activations.
 *
 * - EncryptedLinear → EncryptedLinearReply. `model` names the public model the miner serves; `layer` and `site` name
 *   the weight matrix; `preset` names the BFV parameter set (the ciphertexts carry its paramsId, checked on
 *   decoding); `plan` is the packing the client chose (the miner re-derives and checks it); `inputs` are serialized
 *   BFV ciphertexts (fhe/serialize.ts), `outputs` serialized partial ciphertexts. The miner holds no key: it cannot
 *   decrypt what it receives or what it returns.
 */
import { Schema } from 'effect'

const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
const Name = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.:-]{1,64}$/))
/** At most 1024 ciphertexts per request (a 768→3072 product for 8 tokens needs 24 at N = 4096). */
const Cts = Schema.Array(Schema.Uint8ArrayFromSelf).pipe(Schema.maxItems(1024))

export const LinearPlanFields = Schema.Struct({ dIn: Count, dOut: Count, tokens: Count, ni: Count, mt: Count, no: Count })

export const EncryptedLinear = Schema.TaggedStruct('EncryptedLinear', {
  model: Name,
  layer: Count,
  site: Schema.Literal('attn', 'proj', 'fc', 'fcProj'),
  preset: Name,
  plan: LinearPlanFields,
  inputs: Cts,
})
export const EncryptedLinearReply = Schema.TaggedStruct('EncryptedLinearReply', {
  outputs: Cts,
  /** Miner evaluation time, ms (weight preparation excluded). */
  minerMs: Schema.Number.pipe(Schema.finite()),
})
