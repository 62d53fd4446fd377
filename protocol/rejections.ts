/**
 * Domain errors that cross a thread or peer boundary, typed end to end. Each family is a Schema-backed tagged error
 * with a literal `reason` (the domain error's own tag), its fields in `detail`, and a human `message`, so a caller on
 * another thread or node can `switch (e._tag) { case 'LedgerRejection': switch (e.reason) { … } }` with the compiler
 * checking the cases, and the CLI renders every one the same way (cli/exit.ts).
 *
 * Two kinds of family:
 * - domain families (LedgerRejection, FheRejection, KernelRejection, ModelRejection, ConsensusRejection): built by
 *   `toProtocolError` from the domain's own `Data.TaggedError` (ledger/errors.ts, fhe/errors.ts, …), whose tag
 *   becomes `reason` and whose fields become `detail`;
 * - role families (BrainRejection, MinerRejection, ValidatorRejection): built by the role for a request it refuses.
 * An error of no family is a bug, not a refusal: it crosses as `InternalError`.
 *
 * Adding a domain error: add its tag to its family's reasons here (the codec and the CLI follow).
 */
import { Schema } from 'effect'

/** Fields of the domain error, JSON-safe (bigints as decimal strings, bytes as hex, objects as JSON text). */
export const RejectionDetail = Schema.Record({ key: Schema.String, value: Schema.Union(Schema.String, Schema.Number, Schema.Boolean, Schema.Null) })
export type RejectionDetail = typeof RejectionDetail.Type

export const LEDGER_REASONS = [
  'MalformedTx', 'WrongChain', 'BadSignature', 'BadNonce', 'FeeTooLow', 'InvalidAmount', 'MempoolFull',
  'InsufficientFunds', 'PermissionDenied', 'UnknownAccount', 'UnknownBrain', 'UnknownParticipant', 'UnknownBlock',
  'BrainCapReached', 'BurnPriceAboveMax', 'ReservedBrain', 'BrainNotTransferable', 'NotDeactivatable', 'StillLocked',
  'SlotsFull', 'AlreadyRegistered', 'RegistrationFeeAboveMax', 'NotGigaBrain', 'AlreadyVoted', 'UnknownProposal',
  'DuplicateMint', 'InvalidForecast', 'InvalidBlock', 'CorruptState', 'InvalidAddress', 'InvalidGenesis',
  'InvalidForecastRecord', 'RevealMismatch', 'CopiedCommitment', 'OutOfRoundWindow',
  'UnknownEscrow', 'EscrowInsufficient', 'EscrowClosing', 'EscrowLocked', 'ReceiptAlreadySettled', 'InvalidReceipt',
  'QueryPriceAboveMax', 'InvalidServeRecord',
] as const
export const FHE_REASONS = ['InvalidParams', 'CiphertextDecodeError', 'ParamsMismatch', 'InvalidOperand', 'BackendUnsupported'] as const
export const KERNEL_REASONS = ['InvalidNttParams', 'InvalidInput', 'GpuUnavailable', 'GpuError'] as const
export const MODEL_REASONS = [
  'InvalidConfig', 'SafetensorsFormatError', 'MissingTensor', 'TruncatedTensor', 'TensorShapeMismatch', 'UnsupportedDtype',
  'InvalidToken', 'ContextOverflow', 'InvalidOption', 'TokenizerFormatError', 'WeightsHashMismatch',
] as const
export const CONSENSUS_REASONS = ['InvalidEpochInput', 'InvalidEmissionInput', 'InvalidForecastInput'] as const
export const BRAIN_REASONS = ['NoMiner', 'BadEmbedding'] as const
export const MINER_REASONS = [
  'UnknownModel', 'UnknownSite', 'PlanMismatch', 'UnknownPreset', 'WeightsHashMismatch',
  // spending accounts (actors/miner-escrow.ts): checked on the ledger before any work
  'EscrowRequired', 'EscrowInsufficient', 'EscrowClosing', 'EscrowUnavailable',
  // the request's deadline (EncryptedLinear.deadline) passed before the work started
  'DeadlineExceeded',
  // a miner on another node answered with a receipt not signed by the compute key its serveMiner record binds
  // (actors/remote-miner.ts): the answer is not attributable to the registered miner, and is refused
  'UnboundReceipt',
] as const
export const VALIDATOR_REASONS = ['NotConfigured', 'LedgerUnavailable', 'UnknownMiner', 'ForecastMissed', 'BrainUnavailable', 'ModelMismatch'] as const

const family = {
  actor: Schema.String,
  message: Schema.String,
  detail: Schema.optionalWith(RejectionDetail, { default: () => ({}) }),
}

/** The ledger refused a transaction or a query (reason: a ledger/errors.ts tag). */
export class LedgerRejection extends Schema.TaggedError<LedgerRejection>()('LedgerRejection', {
  ...family,
  reason: Schema.Literal(...LEDGER_REASONS),
}) {}
/** Encrypted computation refused its operands or parameters (reason: an fhe/errors.ts tag). */
export class FheRejection extends Schema.TaggedError<FheRejection>()('FheRejection', { ...family, reason: Schema.Literal(...FHE_REASONS) }) {}
/** A GPU kernel refused its input or the device failed (reason: a kernels/errors.ts tag). */
export class KernelRejection extends Schema.TaggedError<KernelRejection>()('KernelRejection', { ...family, reason: Schema.Literal(...KERNEL_REASONS) }) {}
/** The model refused its input or weights (reason: a model/errors.ts tag). */
export class ModelRejection extends Schema.TaggedError<ModelRejection>()('ModelRejection', { ...family, reason: Schema.Literal(...MODEL_REASONS) }) {}
/** The consensus epoch refused its inputs (reason: a consensus/errors.ts tag). */
export class ConsensusRejection extends Schema.TaggedError<ConsensusRejection>()('ConsensusRejection', {
  ...family,
  reason: Schema.Literal(...CONSENSUS_REASONS),
}) {}
/** A Brain refused to route a query. */
export class BrainRejection extends Schema.TaggedError<BrainRejection>()('BrainRejection', { ...family, reason: Schema.Literal(...BRAIN_REASONS) }) {}
/** A miner refused an encrypted product (wrong model, site, plan, preset, or weights that are not the Brain's). */
export class MinerRejection extends Schema.TaggedError<MinerRejection>()('MinerRejection', { ...family, reason: Schema.Literal(...MINER_REASONS) }) {}
/** A validator refused a request it is not set up for. */
export class ValidatorRejection extends Schema.TaggedError<ValidatorRejection>()('ValidatorRejection', {
  ...family,
  reason: Schema.Literal(...VALIDATOR_REASONS),
}) {}
/** An error of no family: a bug in the actor, reported with its name and message (the actor keeps running). */
export class InternalError extends Schema.TaggedError<InternalError>()('InternalError', {
  actor: Schema.String,
  name: Schema.String,
  message: Schema.String,
}) {}

/** The domain families, found by the domain error's tag. */
const DOMAIN_FAMILIES = [
  [LedgerRejection, LEDGER_REASONS],
  [FheRejection, FHE_REASONS],
  [KernelRejection, KERNEL_REASONS],
  [ModelRejection, MODEL_REASONS],
  [ConsensusRejection, CONSENSUS_REASONS],
] as const

export type DomainRejection = LedgerRejection | FheRejection | KernelRejection | ModelRejection | ConsensusRejection
export type RoleRejection = BrainRejection | MinerRejection | ValidatorRejection

function jsonSafe(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v)
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex')
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v)
  } catch {
    return String(v)
  }
}

/** The own fields of an error object (not name, message, stack or _tag), JSON-safe. */
export function detailOf(e: object): RejectionDetail {
  const out: Record<string, string | number | boolean | null> = {}
  for (const [k, v] of Object.entries(e)) {
    if (k === '_tag' || k === 'name' || k === 'message' || k === 'stack' || k === 'cause') continue
    out[k] = jsonSafe(v)
  }
  return out
}

/** The domain family a tagged domain error belongs to, or undefined when its tag is in none. */
export function domainRejection(actor: string, e: { readonly _tag: string }): DomainRejection | undefined {
  const message = e instanceof Error ? e.message || e._tag : e._tag
  for (const [Family, reasons] of DOMAIN_FAMILIES) {
    if ((reasons as readonly string[]).includes(e._tag)) {
      // The reason is in this family's literals (checked just above), so the cast only names the matching literal.
      return new (Family as unknown as new (a: object) => DomainRejection)({ actor, message, detail: detailOf(e), reason: e._tag })
    }
  }
  return undefined
}

/** Tags of every rejection family (domain and role). */
export const REJECTION_FAMILIES = [
  'LedgerRejection', 'FheRejection', 'KernelRejection', 'ModelRejection', 'ConsensusRejection',
  'BrainRejection', 'MinerRejection', 'ValidatorRejection',
] as const

/** Whether `e` is a rejection of some family (it then has a literal `reason`, a `detail` and a `message`). */
export function isRejection(e: unknown): e is DomainRejection | RoleRejection {
  return typeof e === 'object' && e !== null && (REJECTION_FAMILIES as readonly unknown[]).includes((e as { _tag?: unknown })._tag)
}
