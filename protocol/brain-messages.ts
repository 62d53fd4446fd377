/**
 * Messages of the Brain actor (actors/brain.ts): routing of queries to the Brain's miners (whitepaper §4.3,
 * with its bug fixed: the paper's `distribute_work_to_miners` finds the closest peer but never assigns the item).
 *
 * - RegisterMiner → Ack: a miner actor (by address) serves this Brain.
 * - Route → Routed: the miner for a query, chosen by the distance between the query's embedding and each miner's
 *   running mean of the embeddings routed to it; miners with no history yet, and ties, go to the least-loaded.
 *   The assignment is recorded (the miner's mean and count), so validators can audit it with GetRouting. A query
 *   routed without an embedding (an encrypted session: the embedding would reveal the prompt) goes to the
 *   least-loaded miner.
 * - MinerGone → Ack: the caller found this miner unreachable (its actor stopped or unknown, its peer gone, an ask timed
 *   out). The Brain marks it down: no query is routed to it until it registers again (RegisterMiner) or its back-off
 *   (the Brain's `downMs`) expires. A Brain cannot check the claim; marking down only moves load, never money.
 * - Route.exclude: miners this query must not go to (e.g. one that just failed it); only this query is affected.
 * - GetRouting → RoutingTable (a miner marked down has `down: true`).
 * - GetTask → TaskInfo: the model this Brain serves — its id and the SHA-256 of its weights file — so a validator can
 *   check that each miner holds those weights (a miner reports its own `weightsHash` in its status).
 */
import { Schema } from 'effect'

const Addr = Schema.String.pipe(Schema.maxLength(1024))
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
/** f32 little-endian embedding, at most 16k dimensions. */
const Embedding = Schema.Uint8ArrayFromSelf.pipe(Schema.filter((b) => (b.length > 0 && b.length % 4 === 0 && b.length <= 65536) || 'f32 bytes, 1..16384 values'))

export const RegisterMiner = Schema.TaggedStruct('RegisterMiner', { miner: Addr })
/** Without an embedding (an encrypted session must not reveal its prompt's), the least-loaded miner is chosen. */
export const Route = Schema.TaggedStruct('Route', { embedding: Schema.optional(Embedding), exclude: Schema.optional(Schema.Array(Addr).pipe(Schema.maxItems(256))) })
/** A miner the caller found gone (reply Ack): the Brain stops routing to it until it re-registers or its back-off ends. */
export const MinerGone = Schema.TaggedStruct('MinerGone', { miner: Addr })
export const GetRouting = Schema.TaggedStruct('GetRouting', {})
export const GetTask = Schema.TaggedStruct('GetTask', {})

export const Routed = Schema.TaggedStruct('Routed', { miner: Addr, distance: Schema.Number, assigned: Count })
export const RoutingTable = Schema.TaggedStruct('RoutingTable', {
  miners: Schema.Array(Schema.Struct({ miner: Addr, assigned: Count, hasCentroid: Schema.Boolean, down: Schema.optional(Schema.Boolean) })),
})
/** SHA-256 of a weights file, 64 lowercase hex characters. */
export const WeightsHash = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))
export const TaskInfo = Schema.TaggedStruct('TaskInfo', {
  brainId: Schema.Number.pipe(Schema.int(), Schema.positive()),
  modelId: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(256)),
  weightsHash: WeightsHash,
})
