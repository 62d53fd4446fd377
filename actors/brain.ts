/**
 * The Brain actor: one hosted LLM task and the routing of its queries to miners (whitepaper §2.2, §4.3).
 *
 * Routing, with the paper's bug fixed (its `distribute_work_to_miners` computes the closest peer but never appends
 * the item to that peer's assignments): each query's embedding goes to the miner whose running mean of routed
 * embeddings is nearest (Euclidean distance); a miner with no history yet, and exact ties, go to the least-loaded
 * miner (lowest address on equal load), so new miners receive work and the choice is deterministic. The
 * assignment is recorded — the miner's mean moves toward the query and its count grows — and `GetRouting` shows it
 * for audit. Embeddings must all have the dimension of the first one routed (typed error otherwise).
 *
 * A query routed without an embedding goes to the least-loaded miner: an encrypted session sends none, because
 * the embedding of its prompt would reveal the prompt to the Brain.
 *
 * Miners come from `args.miners` (addresses, given by the cluster) and from RegisterMiner messages. Refusals are
 * `BrainRejection { reason: 'NoMiner' | 'BadEmbedding' }` (protocol/rejections.ts).
 *
 * Gone miners: a client that finds a miner unreachable tells the Brain (`MinerGone`); the miner is then marked down
 * and routed nothing until it registers again (RegisterMiner clears the mark at once) or `args.downMs` has passed
 * (default 60 s: a miner that was only restarting comes back without re-registering). A `Route` may also name
 * miners to `exclude` for that one query. With no miner up and not excluded: `NoMiner`. `GetRouting` shows the
 * mark (`down: true`).
 *
 * The Brain's task: `args.modelId` and `args.weightsHash` name the model it serves (default: the shipped model and
 * the SHA-256 of its weights file). `GetTask` answers them (TaskInfo) and its status shows them; validators read
 * them to check that each miner holds those weights (actors/validator.ts).
 */
import fs from 'node:fs'
import { Schema } from 'effect'
import { continueWith, defineRole, failWith, type Behaviour, type HandleResult } from '../supervisor/runtime.ts'
import { BrainRejection, WeightsHash, type Message } from '../protocol/index.ts'
import { sha256Hex, SHIPPED_WEIGHTS } from '../model/index.ts'
import { answerBasic, basicState, BASIC_TAGS, type BasicState } from './basic.ts'
import { SHIPPED_MODEL_ID } from './miner.ts'

let shippedHash: string | undefined
/** The task of the shipped model: its id and the SHA-256 of its weights file (hashed once per process). */
export function shippedTask(): { readonly modelId: string; readonly weightsHash: string } {
  shippedHash ??= sha256Hex(fs.readFileSync(SHIPPED_WEIGHTS))
  return { modelId: SHIPPED_MODEL_ID, weightsHash: shippedHash }
}

/** Start arguments of a Brain (defaults here and nowhere else). */
export const BrainArgs = Schema.Struct({
  /** The Brain's index on the ledger (1-based; shown in status). */
  brainId: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1 }),
  /** Addresses of the miners that serve this Brain at start (more can RegisterMiner later). */
  miners: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  /** Id of the model this Brain serves (default: the shipped model). */
  modelId: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(256)), { default: () => shippedTask().modelId }),
  /** SHA-256 (hex) of the weights file every miner of this Brain must hold (default: the shipped model's). */
  weightsHash: Schema.optionalWith(WeightsHash, { default: () => shippedTask().weightsHash }),
  /** How long a miner reported gone (MinerGone) stays down unless it registers again, in ms. */
  downMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 60_000 }),
})
export type BrainArgs = typeof BrainArgs.Type

export const brainRole = defineRole('brain', import.meta.url, BrainArgs)

interface MinerRecord {
  readonly address: string
  centroid: Float64Array | null
  assigned: number
  /** Unix ms until which the miner is down (reported gone); 0 when up. */
  downUntil: number
}

export interface BrainState {
  readonly basic: BasicState
  readonly args: BrainArgs
  readonly miners: Map<string, MinerRecord>
  dim: number
}

function toF32(bytes: Uint8Array): Float32Array {
  const copy = bytes.slice()
  return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4)
}

/** Picks a miner for `e` (pure, deterministic); undefined when there is no miner. */
export function chooseMiner(miners: Iterable<MinerRecord>, e: ArrayLike<number>): { miner: MinerRecord; distance: number } | undefined {
  let best: { miner: MinerRecord; distance: number } | undefined
  const better = (m: MinerRecord, d: number): boolean => {
    if (!best) return true
    if (d !== best.distance) return d < best.distance
    if (m.assigned !== best.miner.assigned) return m.assigned < best.miner.assigned
    return m.address < best.miner.address
  }
  for (const m of miners) {
    // A miner with no history is at distance 0 from everything: new miners get work first.
    let d = 0
    if (m.centroid) {
      let s = 0
      for (let k = 0; k < e.length; k++) s += ((e[k] as number) - (m.centroid[k] as number)) ** 2
      d = Math.sqrt(s)
    }
    if (better(m, d)) best = { miner: m, distance: d }
  }
  return best
}

function isDown(m: MinerRecord, now: number): boolean {
  return m.downUntil > now
}

export default function brainBehaviour(): Behaviour<BrainState> {
  return {
    accepts: [...BASIC_TAGS, 'RegisterMiner', 'MinerGone', 'Route', 'GetRouting', 'GetTask'],
    init(ctx) {
      const args = brainRole.args(ctx.args)
      const miners = new Map<string, MinerRecord>()
      for (const a of args.miners) miners.set(a, { address: a, centroid: null, assigned: 0, downUntil: 0 })
      return { basic: basicState(), args, miners, dim: 0 }
    },
    status: (state) => ({ brainId: state.args.brainId, miners: state.miners.size, minersDown: [...state.miners.values()].filter((m) => isDown(m, Date.now())).length, modelId: state.args.modelId, weightsHash: state.args.weightsHash }),
    handle(state, msg: Message, ctx): HandleResult<BrainState> {
      const reject = (reason: BrainRejection['reason'], message: string): HandleResult<BrainState> =>
        failWith(state, new BrainRejection({ actor: ctx.address, reason, message, detail: {} }))
      switch (msg._tag) {
        case 'RegisterMiner': {
          const known = state.miners.get(msg.miner)
          if (known) known.downUntil = 0 // registering again brings a miner back at once
          else state.miners.set(msg.miner, { address: msg.miner, centroid: null, assigned: 0, downUntil: 0 })
          return continueWith(state)
        }
        case 'MinerGone': {
          // An unknown address is not added: reporting a miner gone must not make the Brain route to it later.
          const m = state.miners.get(msg.miner)
          if (m) m.downUntil = Date.now() + state.args.downMs
          return continueWith(state)
        }
        case 'GetTask':
          return continueWith(state, { _tag: 'TaskInfo', brainId: state.args.brainId, modelId: state.args.modelId, weightsHash: state.args.weightsHash })
        case 'GetRouting': {
          const now = Date.now()
          return continueWith(state, {
            _tag: 'RoutingTable',
            miners: [...state.miners.values()].map((m) => ({ miner: m.address, assigned: m.assigned, hasCentroid: m.centroid !== null, down: isDown(m, now) })),
          })
        }
        case 'Route': {
          const now = Date.now()
          const excluded = new Set(msg.exclude ?? [])
          const live = [...state.miners.values()].filter((m) => !isDown(m, now) && !excluded.has(m.address))
          const none = state.miners.size === 0 ? 'no miner serves this Brain' : 'every miner of this Brain is down or excluded'
          if (msg.embedding === undefined) {
            const least = live.sort((a, b) => a.assigned - b.assigned || (a.address < b.address ? -1 : 1))[0]
            if (!least) return reject('NoMiner', none)
            least.assigned++
            return continueWith(state, { _tag: 'Routed', miner: least.address, distance: 0, assigned: least.assigned })
          }
          if (msg.embedding.length === 0 || msg.embedding.length % 4 !== 0) {
            return reject('BadEmbedding', 'embedding must be f32 bytes (a positive multiple of 4)')
          }
          const e = toF32(msg.embedding)
          if (state.dim !== 0 && e.length !== state.dim) {
            return reject('BadEmbedding', `embedding has ${e.length} values, this Brain routes ${state.dim}`)
          }
          if (!e.every(Number.isFinite)) return reject('BadEmbedding', 'embedding has a non-finite value')
          const pick = chooseMiner(live, e)
          if (!pick) return reject('NoMiner', none)
          state.dim = e.length
          const m = pick.miner
          m.assigned++
          if (!m.centroid) m.centroid = Float64Array.from(e)
          else for (let k = 0; k < e.length; k++) m.centroid[k] = (m.centroid[k] as number) + ((e[k] as number) - (m.centroid[k] as number)) / m.assigned
          return continueWith(state, { _tag: 'Routed', miner: m.address, distance: pick.distance, assigned: m.assigned })
        }
        default:
          return continueWith(state, answerBasic(state.basic, msg, ctx))
      }
    },
  }
}
