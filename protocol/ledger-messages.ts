/**
 * Messages of the ledger actor (actors/ledger-shard.ts): part of the one protocol schema. Amounts travel as decimal strings
 * of smallest units (bigint-safe); hashes and roots as lowercase hex; transactions in the ledger's canonical binary
 * encoding (ledger/tx.ts). Request → reply:
 *
 * - SubmitTx → TxAccepted (admitted: it passed every check its execution in the next block runs — chain id,
 *   signature, fee rule, nonce, balance counting the sender's queued transactions, the rules of its kind — and is
 *   queued) or, at once, a LedgerRejection (protocol/rejections.ts) whose `reason` is the typed reason
 *   (InvalidAmount, InsufficientFunds, UnknownAccount, FeeTooLow, BadNonce, BadSignature, WrongChain, MalformedTx,
 *   MempoolFull, …) and whose `detail` holds the error's fields (amounts as decimal strings of smallest units)
 * - GetTxStatus → TxStatus: `pending` (queued), `included` (applied in block `height`), `failed` (included in
 *   block `height`, fee paid and nonce consumed, body not applied: `reason` is the typed error's tag, `detail` its
 *   fields as JSON), `dropped` (left the queue without being included: `reason`), or `unknown` (never admitted, or
 *   forgotten: the node keeps the last 100,000 receipts, in memory and in its data dir)
 * - GetAccount → AccountInfo (committed balances and nonce, and the next nonce counting queued transactions)
 * - GetHead → HeadInfo (height, hash, state root, fee rule, mempool size)
 * - ProduceBlock → BlockProduced (the block timer sends it; tests and tools may too)
 * - GetBrains → BrainList (ids of the active Brains); GetParticipant → ParticipantInfo (uid, role, owner address,
 *   consensus score, stake of a compute key registered on a Brain)
 */
import { Schema } from 'effect'

const Str = Schema.String.pipe(Schema.maxLength(4096))
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
const Hex = Schema.String.pipe(Schema.pattern(/^[0-9a-f]*$/), Schema.maxLength(256))
const Units = Schema.String.pipe(Schema.pattern(/^[0-9]{1,40}$/))

export const SubmitTx = Schema.TaggedStruct('SubmitTx', { tx: Schema.Uint8ArrayFromSelf.pipe(Schema.filter((b) => b.length <= 64 * 1024 || 'at most 64 KiB')) })
export const GetAccount = Schema.TaggedStruct('GetAccount', { address: Str })
export const GetHead = Schema.TaggedStruct('GetHead', {})
export const ProduceBlock = Schema.TaggedStruct('ProduceBlock', {})
export const GetBrains = Schema.TaggedStruct('GetBrains', {})
export const GetParticipant = Schema.TaggedStruct('GetParticipant', { brain: Count, computeKey: Hex })
export const GetTxStatus = Schema.TaggedStruct('GetTxStatus', { hash: Hex })

export const TxAccepted = Schema.TaggedStruct('TxAccepted', { hash: Hex, nonce: Units, mempool: Count })
export const AccountInfo = Schema.TaggedStruct('AccountInfo', { address: Str, based: Units, pepe: Units, nonce: Units, nextNonce: Units })
export const HeadInfo = Schema.TaggedStruct('HeadInfo', {
  height: Count,
  hash: Hex,
  stateRoot: Hex,
  chainId: Str,
  baseFee: Units,
  byteFee: Units,
  blockTimeMs: Count,
  mempool: Count,
  /** Block agreement (actors/bft-node.ts): the highest final block (every stored block is final) and connected peers. */
  finalizedHeight: Schema.optional(Count),
  peers: Schema.optional(Count),
})
export const BlockProduced = Schema.TaggedStruct('BlockProduced', { height: Count, hash: Hex, included: Count, rejected: Count })
export const TxStatus = Schema.TaggedStruct('TxStatus', {
  hash: Hex,
  status: Schema.Literal('pending', 'included', 'failed', 'dropped', 'unknown'),
  height: Schema.optional(Count),
  reason: Schema.optional(Str),
  detail: Schema.optional(Str),
})
export const BrainList = Schema.TaggedStruct('BrainList', { ids: Schema.Array(Count) })
export const ParticipantInfo = Schema.TaggedStruct('ParticipantInfo', {
  brain: Count,
  uid: Count,
  role: Schema.Literal('miner', 'validator'),
  owner: Str,
  score: Units,
  stake: Units,
})

// Participant queries (`based metagraph`, `based brain list`, `based chain block`, `based chain supply`):
// - GetMetagraph{brain} → Metagraph (the Brain's record and one row per participant, by uid) or UnknownBrain
// - GetBlock{height} → BlockInfo (header fields and each transaction's hash, kind, sender, nonce, fee and, when the
//   node still has its receipt, status/reason) or UnknownBlock
// - GetLedgerStats → LedgerStats (the supply audit of ledger/audit.ts, burn price, open proposals)
export const GetMetagraph = Schema.TaggedStruct('GetMetagraph', { brain: Count })
export const GetBlock = Schema.TaggedStruct('GetBlock', { height: Count })
export const GetLedgerStats = Schema.TaggedStruct('GetLedgerStats', {})

export const BrainSummary = Schema.Struct({
  id: Count,
  owner: Str,
  method: Schema.Literal('burn', 'stake', 'reserved'),
  acquiredAt: Count,
  unlockAt: Count,
  lockedPepe: Units,
  burnedPepe: Units,
  name: Str,
  modelId: Str,
  weightsHash: Str,
  rewardTo: Str,
  registrationFee: Units,
  ownerBps: Count,
  minerBps: Count,
  validators: Count,
  miners: Count,
  directStake: Units,
  stake: Units,
  pending: Units,
  performance: Units,
  /** Price of a query: base units of $BASED per 1,000 compute units ('0': free). */
  queryPrice: Units,
  /** What the owner's reward address has earned from paid queries on this Brain. */
  ownerQueryEarned: Units,
})
export const MetagraphRow = Schema.Struct({
  uid: Count,
  role: Schema.Literal('miner', 'validator'),
  computeKey: Str,
  owner: Str,
  /** Validator: its pool's stake; miner: 0. */
  stake: Units,
  /** The last epoch's score: incentive × 10⁹ (miner) or dividends × 10⁹ (validator). */
  score: Units,
  /** Active validator (stake > 0 and ≥ the Brain's percentile threshold); false for miners. */
  validatorPermit: Schema.Boolean,
  registeredAt: Count,
  feePaid: Units,
  /** Entries in the validator's stored weights (0 for miners). */
  weights: Count,
  /** From the Brain's last epoch (ledger/records.ts `e:<id>`): ⌊x × 10⁹⌉, null when that epoch gave the uid none. */
  rank: Schema.NullOr(Units),
  trust: Schema.NullOr(Units),
  consensus: Schema.NullOr(Units),
  incentive: Schema.NullOr(Units),
  dividends: Schema.NullOr(Units),
  /** Base units the last epoch paid for the uid (incentive share + its validator pool's part); null: not in it. */
  emission: Schema.NullOr(Units),
  /** Height of the validator's last setWeights, else of the registration. */
  lastUpdate: Count,
  /** Base units this uid earned from paid queries (spending-account settlements) since it registered. */
  queryEarned: Units,
  /**
   * Where the miner serves (its last `serveMiner`, ledger/serve.ts): libp2p peer id, multiaddrs, actor address, when
   * it was signed and stored, and the two signatures (compute key, peer key) over the binding. Absent: none announced.
   */
  serving: Schema.optional(Schema.Struct({
    peerId: Str,
    addrs: Schema.Array(Str),
    actor: Str,
    issuedAt: Count,
    servedAt: Count,
    computeSig: Hex,
    peerSig: Hex,
  })),
})
export const Metagraph = Schema.TaggedStruct('Metagraph', {
  height: Count,
  /** Epoch period (blocks) and the last height ≤ head where this Brain's epoch ran ((h + id) % tempo = 0, h ≥ acquiredAt; null: none yet). */
  tempo: Count,
  lastEpoch: Schema.NullOr(Count),
  /** The stored last epoch: its height, the owner cut and the Brain pool's part (with Σ rows' emission: all it paid). */
  epoch: Schema.NullOr(Schema.Struct({ height: Count, ownerCut: Units, brainPool: Units })),
  brain: BrainSummary,
  rows: Schema.Array(MetagraphRow),
})
export const BlockInfo = Schema.TaggedStruct('BlockInfo', {
  height: Count,
  hash: Hex,
  parentHash: Hex,
  stateRoot: Hex,
  txRoot: Hex,
  time: Count,
  proposer: Str,
  txs: Schema.Array(Schema.Struct({
    hash: Hex,
    kind: Str,
    from: Str,
    nonce: Units,
    fee: Units,
    status: Schema.optional(Str),
    reason: Schema.optional(Str),
  })),
  /** The commit certificate (block agreement): > 2/3 of the height's stake precommitted this block in `round`. */
  certificate: Schema.optional(Schema.NullOr(Schema.Struct({
    round: Count,
    power: Units,
    totalPower: Units,
    precommits: Schema.Array(Schema.Struct({ validator: Hex, power: Units, signature: Hex })),
  }))),
})
export const LedgerStats = Schema.TaggedStruct('LedgerStats', {
  height: Count,
  supplyOk: Schema.Boolean,
  basedIssued: Units,
  basedHeld: Units,
  pepeIssued: Units,
  pepeHeld: Units,
  staked: Units,
  totalStake: Units,
  emitted: Units,
  burnCount: Count,
  nextBurnPrice: Units,
  stakeBrainAmount: Units,
  nextProposal: Count,
  openProposals: Schema.Array(Count),
  /** Σ spending-account balances (part of basedHeld). */
  escrowed: Units,
})

// Spending accounts (ledger/escrow.ts, `based escrow`):
// - GetEscrows{address} → EscrowList: every spending account of that payer (Brain, balance, unlock height or 0,
//   open sessions, the Brain's current price) and the chain's withdrawal delay
// - GetSessionTab{sessionHash} → SessionTab: what a session (SHA-256 of its id, hex) may still be charged — the
//   payer, Brain, allowance and units settled, the price recorded at authorization, the payer's balance on the
//   Brain and its unlock height — or LedgerRejection UnknownEscrow. A miner asks this before any work.
export const GetEscrows = Schema.TaggedStruct('GetEscrows', { address: Str })
export const EscrowList = Schema.TaggedStruct('EscrowList', {
  address: Str,
  withdrawDelay: Count,
  escrows: Schema.Array(Schema.Struct({ brain: Count, balance: Units, unlockAt: Count, openSessions: Count, queryPrice: Units })),
})
export const GetSessionTab = Schema.TaggedStruct('GetSessionTab', { sessionHash: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/)) })
export const SessionTab = Schema.TaggedStruct('SessionTab', {
  sessionHash: Hex,
  payer: Str,
  brain: Count,
  maxUnits: Units,
  settledUnits: Units,
  price: Units,
  balance: Units,
  unlockAt: Count,
})

// Forecasting (ledger/forecast.ts), for the validators that forecast their Brain's series (actors/validator.ts):
// - GetForecastSeries{brain, windows?} → ForecastSeries: the round parameters, the Brain's realised series (transactions
//   per window the ledger still keeps: windows `firstWindow` … ⌊height / blocksPerStep⌋, the last one still filling;
//   at most `windows` of the newest), the commitments of rounds not yet scored (who, revealed or not) and the
//   accuracy sums since the Brain's last epoch; UnknownBrain otherwise. Counters no round needs are pruned by the
//   ledger, so a forecaster keeps its own history by asking at least once per window.
export const GetForecastSeries = Schema.TaggedStruct('GetForecastSeries', { brain: Count, windows: Schema.optional(Count) })
export const ForecastSeries = Schema.TaggedStruct('ForecastSeries', {
  brain: Count,
  height: Count,
  /** 0: forecasting is off on this chain. */
  period: Count,
  blocksPerStep: Count,
  horizon: Count,
  commitLead: Count,
  revealWindow: Count,
  quantilesPpm: Schema.Array(Count),
  firstWindow: Count,
  counts: Schema.Array(Count),
  commits: Schema.Array(Schema.Struct({ origin: Count, computeKey: Hex, revealed: Schema.Boolean })),
  accuracy: Schema.NullOr(Schema.Struct({ rounds: Count, sums: Schema.Array(Schema.Struct({ computeKey: Hex, sumQ40: Units })) })),
})

export const LEDGER_REQUEST_TAGS = [
  'SubmitTx', 'GetAccount', 'GetHead', 'ProduceBlock', 'GetBrains', 'GetParticipant', 'GetTxStatus', 'GetMetagraph', 'GetBlock', 'GetLedgerStats',
  'GetForecastSeries', 'GetEscrows', 'GetSessionTab',
] as const
