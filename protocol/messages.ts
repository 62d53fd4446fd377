/**
 * The one message schema of the system. Every message an actor can receive, every reply it can send and the
 * envelope that carries them across threads and peers are defined here, as effect Schemas; every side imports this
 * module, so a sender and a receiver cannot disagree on a shape without the type checker or the decoder saying so.
 *
 * Conventions:
 * - Each message is a tagged struct (`_tag` names it). Requests that expect a reply have an entry in `ReplyMap`;
 *   anything else is answered with `Ack` when asked.
 * - Strings are bounded (MAX_STRING_BYTES) and numbers are finite: a hostile frame cannot smuggle NaN or a 1 GB id.
 * - Later areas (ledger, kernels, fhe, model) add their messages here, next to these.
 */
import { Schema } from 'effect'
import { MAX_STRING_BYTES, PROTOCOL_VERSION } from './constants.ts'
import { ProtocolError } from './errors.ts'
import {
  KernelAck,
  KernelAttention,
  KernelAttentionReply,
  KernelBaseConvert,
  KernelBfvKeys,
  KernelBfvKeysRelease,
  KernelBfvKeysReply,
  KernelBfvMulRelin,
  KernelInfo,
  KernelInfoReply,
  KernelKvCreate,
  KernelKvCreated,
  KernelKvRelease,
  KernelMatmul,
  KernelMatmulReply,
  KernelNtt,
  KernelPointwise,
  KernelPolyMul,
  KernelSqueeze,
  KernelSqueezeReply,
  KernelWords,
} from './kernel-messages.ts'
import { EncryptedLinear, EncryptedLinearReply, UseKernels } from './fhe-messages.ts'
import { GetRouting, GetTask, MinerGone, RegisterMiner, Route, Routed, RoutingTable, TaskInfo } from './brain-messages.ts'
import { ChallengeMiner, ChallengeResult, ForecastStep, ForecastStepped, GetScores, Scores, SubmitWeights, WeightsSubmitted } from './validator-messages.ts'
import {
  AccountInfo,
  BlockProduced,
  BlockInfo,
  BrainList,
  GetAccount,
  GetBlock,
  GetLedgerStats,
  GetMetagraph,
  GetForecastSeries,
  ForecastSeries,
  GetEscrows,
  EscrowList,
  GetSessionTab,
  SessionTab,
  LedgerStats,
  Metagraph,
  GetBrains,
  GetHead,
  GetParticipant,
  GetTxStatus,
  HeadInfo,
  ParticipantInfo,
  ProduceBlock,
  SubmitTx,
  TxAccepted,
  TxStatus,
} from './ledger-messages.ts'

/** A bounded string (ids, names, error texts). */
export const Str = Schema.String.pipe(Schema.maxLength(MAX_STRING_BYTES))
/** A finite number. */
export const Num = Schema.Number.pipe(Schema.finite())
/** A non-negative safe integer. */
export const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
/** Raw bytes (msgpack `bin`). */
export const Bytes = Schema.Uint8ArrayFromSelf

// ---------------------------------------------------------------------------------------------------------------
// Requests every actor answers

/** Liveness probe. Reply: Pong. */
export const Ping = Schema.TaggedStruct('Ping', {})
/** Returns its payload unchanged. Reply: EchoReply. */
export const Echo = Schema.TaggedStruct('Echo', { payload: Schema.Union(Str, Bytes) })
/** Role-specific status. Reply: StatusReply. */
export const GetStatus = Schema.TaggedStruct('GetStatus', {})

// Diagnostics: ordered probes used by the test suite and the benchmarks to check delivery (loss, duplication, order).

/** The `seq`-th probe from `sender`. Reply (when asked): Ack. */
export const Probe = Schema.TaggedStruct('Probe', { sender: Str, seq: Count })
/** Reply: ProbeReport, what this actor has seen of the probes so far. */
export const GetProbeReport = Schema.TaggedStruct('GetProbeReport', {})

/**
 * Fault injection, for supervision tests and demos: honoured only by actors started with `faults: true` (otherwise
 * answered with UnsupportedMessage). `throw` raises in the handler, `exit` calls process.exit in a worker thread (a
 * main-thread actor treats it as a crash), `oom` allocates until the worker's heap limit kills it.
 */
export const Fault = Schema.TaggedStruct('Fault', { mode: Schema.Literal('throw', 'exit', 'oom') })

/** Every message. Add a new message here (the codec dispatches on each member's `_tag`). */
export const Message = Schema.Union(
  Ping,
  Echo,
  GetStatus,
  Probe,
  GetProbeReport,
  Fault,
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
  SubmitTx,
  GetAccount,
  GetHead,
  ProduceBlock,
  GetBrains,
  GetParticipant,
  GetTxStatus,
  GetMetagraph,
  GetBlock,
  GetLedgerStats,
  EncryptedLinear,
  UseKernels,
  RegisterMiner,
  MinerGone,
  Route,
  GetRouting,
  GetTask,
  ChallengeMiner,
  GetScores,
  SubmitWeights,
  GetForecastSeries,
  ForecastStep,
  GetEscrows,
  GetSessionTab,
)
export type Message = typeof Message.Type
export type MessageTag = Message['_tag']

// ---------------------------------------------------------------------------------------------------------------
// Replies

export const Ack = Schema.TaggedStruct('Ack', {})
export const Pong = Schema.TaggedStruct('Pong', { from: Str, at: Num })
export const EchoReply = Schema.TaggedStruct('EchoReply', { payload: Schema.Union(Str, Bytes) })
export const StatusReply = Schema.TaggedStruct('StatusReply', {
  actor: Str,
  role: Str,
  uptimeMs: Num,
  detail: Schema.Record({ key: Str, value: Schema.Union(Str, Num, Schema.Boolean) }),
})
export const ProbeStats = Schema.Struct({ received: Count, lastSeq: Schema.Number, outOfOrder: Count, duplicates: Count })
export const ProbeReport = Schema.TaggedStruct('ProbeReport', {
  senders: Schema.Record({ key: Str, value: ProbeStats }),
})

/** Every reply. Add a new reply here. */
export const Reply = Schema.Union(
  Ack,
  Pong,
  EchoReply,
  StatusReply,
  ProbeReport,
  KernelInfoReply,
  KernelWords,
  KernelMatmulReply,
  KernelKvCreated,
  KernelAttentionReply,
  KernelSqueezeReply,
  KernelBfvKeysReply,
  KernelAck,
  TxAccepted,
  AccountInfo,
  HeadInfo,
  BlockProduced,
  BrainList,
  ParticipantInfo,
  TxStatus,
  Metagraph,
  BlockInfo,
  LedgerStats,
  EncryptedLinearReply,
  Routed,
  RoutingTable,
  TaskInfo,
  ChallengeResult,
  Scores,
  WeightsSubmitted,
  ForecastSeries,
  ForecastStepped,
  EscrowList,
  SessionTab,
)
export type Reply = typeof Reply.Type

/** Which reply each request gets. Requests not listed here are answered with Ack. */
export interface ReplyMap {
  Ping: typeof Pong.Type
  Echo: typeof EchoReply.Type
  GetStatus: typeof StatusReply.Type
  GetProbeReport: typeof ProbeReport.Type
  KernelInfo: typeof KernelInfoReply.Type
  KernelNtt: typeof KernelWords.Type
  KernelPointwise: typeof KernelWords.Type
  KernelPolyMul: typeof KernelWords.Type
  KernelBaseConvert: typeof KernelWords.Type
  KernelMatmul: typeof KernelMatmulReply.Type
  KernelKvCreate: typeof KernelKvCreated.Type
  KernelAttention: typeof KernelAttentionReply.Type
  KernelKvRelease: typeof KernelAck.Type
  KernelSqueeze: typeof KernelSqueezeReply.Type
  KernelBfvKeys: typeof KernelBfvKeysReply.Type
  KernelBfvMulRelin: typeof KernelWords.Type
  KernelBfvKeysRelease: typeof KernelAck.Type
  SubmitTx: typeof TxAccepted.Type
  GetAccount: typeof AccountInfo.Type
  GetHead: typeof HeadInfo.Type
  ProduceBlock: typeof BlockProduced.Type
  GetBrains: typeof BrainList.Type
  GetParticipant: typeof ParticipantInfo.Type
  GetTxStatus: typeof TxStatus.Type
  GetMetagraph: typeof Metagraph.Type
  GetBlock: typeof BlockInfo.Type
  GetLedgerStats: typeof LedgerStats.Type
  EncryptedLinear: typeof EncryptedLinearReply.Type
  Route: typeof Routed.Type
  GetRouting: typeof RoutingTable.Type
  GetTask: typeof TaskInfo.Type
  ChallengeMiner: typeof ChallengeResult.Type
  GetScores: typeof Scores.Type
  SubmitWeights: typeof WeightsSubmitted.Type
  GetForecastSeries: typeof ForecastSeries.Type
  ForecastStep: typeof ForecastStepped.Type
  GetEscrows: typeof EscrowList.Type
  GetSessionTab: typeof SessionTab.Type
}
export type ReplyFor<M extends Message> = M['_tag'] extends keyof ReplyMap ? ReplyMap[M['_tag']] : typeof Ack.Type

// ---------------------------------------------------------------------------------------------------------------
// Envelope: what crosses a thread or a peer boundary

const V = Schema.Literal(PROTOCOL_VERSION)
/** One-way message to the actor at `to`. */
export const TellFrame = Schema.TaggedStruct('Tell', { v: V, to: Str, body: Message })
/** Request expecting a Reply or Fail frame with the same `id`. */
export const AskFrame = Schema.TaggedStruct('Ask', { v: V, to: Str, id: Count, body: Message })
export const ReplyFrame = Schema.TaggedStruct('Reply', { v: V, id: Count, body: Reply })
export const FailFrame = Schema.TaggedStruct('Fail', { v: V, id: Count, error: ProtocolError })
export const Frame = Schema.Union(TellFrame, AskFrame, ReplyFrame, FailFrame)
export type Frame = typeof Frame.Type
export type TellFrame = typeof TellFrame.Type
export type AskFrame = typeof AskFrame.Type
