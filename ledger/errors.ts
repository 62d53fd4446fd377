/**
 * Typed errors of `basedai/ledger`. Every rejection of a transaction, a block or a stored record is one of these
 * classes (effect `Data.TaggedError`): tests and callers match on `_tag`, never on message text. Every field is a
 * string or number so an error survives structured cloning and msgpack encoding across actor boundaries.
 */
import { Data } from 'effect'
import type { CopiedCommitment, OutOfRoundWindow, RevealMismatch } from '../forecast/errors.ts'

export { CopiedCommitment, OutOfRoundWindow, RevealMismatch } from '../forecast/errors.ts'

/** A transaction's bytes or one of its fields are not in canonical form (bad length, bad tag, trailing bytes…). */
export class MalformedTx extends Data.TaggedError('MalformedTx')<{ readonly field: string; readonly reason: string }> {}
/** The transaction names another chain. */
export class WrongChain extends Data.TaggedError('WrongChain')<{ readonly expected: string; readonly got: string }> {}
/** The ed25519 signature does not verify against the sender's key over the signing payload. */
export class BadSignature extends Data.TaggedError('BadSignature')<{ readonly tx: string }> {}
/** The nonce is not the sender's next nonce (replay, gap or reorder). */
export class BadNonce extends Data.TaggedError('BadNonce')<{ readonly expected: string; readonly got: string }> {}
/** The fee offered is below the fee rule `baseFee + byteFee × encodedLength`. */
export class FeeTooLow extends Data.TaggedError('FeeTooLow')<{ readonly min: string; readonly got: string }> {}
/** An amount is out of range for its transaction (a transfer or stake of 0, …): refused at admission, failed if included. */
export class InvalidAmount extends Data.TaggedError('InvalidAmount')<{ readonly field: string; readonly reason: string }> {}
/** The node's mempool holds its maximum of queued transactions: resubmit after the next block. */
export class MempoolFull extends Data.TaggedError('MempoolFull')<{ readonly max: number }> {}
/** The account cannot pay (asset is `based`, `pepe` or `stake`). */
export class InsufficientFunds extends Data.TaggedError('InsufficientFunds')<{
  readonly account: string
  readonly asset: 'based' | 'pepe' | 'stake'
  readonly needed: string
  readonly available: string
}> {}
/** The sender is not allowed to do this (not the owner, not the bridge authority, key bound to someone else…). */
export class PermissionDenied extends Data.TaggedError('PermissionDenied')<{ readonly reason: string }> {}
/** The sender account does not exist (it has never been credited). */
export class UnknownAccount extends Data.TaggedError('UnknownAccount')<{ readonly account: string }> {}
/** No active Brain has this id. */
export class UnknownBrain extends Data.TaggedError('UnknownBrain')<{ readonly brain: number }> {}
/** The compute key is not registered on the Brain (or not in the role the tx needs). */
export class UnknownParticipant extends Data.TaggedError('UnknownParticipant')<{ readonly brain: number; readonly key: string }> {}
/** All 1024 Brain ids (less the reserved ones) are taken. */
export class BrainCapReached extends Data.TaggedError('BrainCapReached')<{ readonly max: number }> {}
/** The burn price exceeds the `maxCost` the sender signed for. */
export class BurnPriceAboveMax extends Data.TaggedError('BurnPriceAboveMax')<{ readonly price: string; readonly maxCost: string }> {}
/** Reserved foundation Brain (#0–#6, #47): cannot be transferred, deactivated or acquired. */
export class ReservedBrain extends Data.TaggedError('ReservedBrain')<{ readonly brain: number }> {}
/** Staked Brains (and reserved ones) are not transferable. */
export class BrainNotTransferable extends Data.TaggedError('BrainNotTransferable')<{ readonly brain: number; readonly method: string }> {}
/** Only Brains acquired by stake can be deactivated. */
export class NotDeactivatable extends Data.TaggedError('NotDeactivatable')<{ readonly brain: number; readonly method: string }> {}
/** The 90-day Pepecoin lock has not ended. */
export class StillLocked extends Data.TaggedError('StillLocked')<{ readonly brain: number; readonly unlockAt: number; readonly height: number }> {}
/** Every slot of the role is taken and every occupant is inside its immunity period. */
export class SlotsFull extends Data.TaggedError('SlotsFull')<{ readonly brain: number; readonly role: string }> {}
/** The compute key is already registered on this Brain. */
export class AlreadyRegistered extends Data.TaggedError('AlreadyRegistered')<{ readonly brain: number; readonly key: string }> {}
/** The Brain's registration fee exceeds the `maxFee` the registrant signed for. */
export class RegistrationFeeAboveMax extends Data.TaggedError('RegistrationFeeAboveMax')<{ readonly fee: string; readonly maxFee: string }> {}
/** The Brain is not a GigaBrain (< gigaBrainBps of total stake) at vote time. */
export class NotGigaBrain extends Data.TaggedError('NotGigaBrain')<{ readonly brain: number }> {}
/** This Brain has already voted on this proposal. */
export class AlreadyVoted extends Data.TaggedError('AlreadyVoted')<{ readonly proposal: number; readonly brain: number }> {}
/** No open proposal has this id. */
export class UnknownProposal extends Data.TaggedError('UnknownProposal')<{ readonly proposal: number }> {}
/** A bridge mint reference was already used. */
export class DuplicateMint extends Data.TaggedError('DuplicateMint')<{ readonly ref: string }> {}
/**
 * A forecast commit or reveal the round cannot take (forecasting off, origin not a round origin, no commitment to
 * reveal, already revealed, wrong number of values, …). Copies, windows and mismatches have their own tags
 * (`CopiedCommitment`, `OutOfRoundWindow`, `RevealMismatch`, from basedai/forecast).
 */
export class InvalidForecast extends Data.TaggedError('InvalidForecast')<{ readonly field: string; readonly reason: string }> {}
/** A block does not follow its parent, has a wrong root, or contains a rejected transaction. */
export class InvalidBlock extends Data.TaggedError('InvalidBlock')<{ readonly height: number; readonly reason: string }> {}
/** A stored record cannot be decoded, or the stored state does not hash to the committed root. */
export class CorruptState extends Data.TaggedError('CorruptState')<{ readonly key: string; readonly reason: string }> {}
/** An address string is not a valid SS58-style address of this network. */
export class InvalidAddress extends Data.TaggedError('InvalidAddress')<{ readonly address: string; readonly reason: string }> {}
/** Genesis configuration is inconsistent. */
export class InvalidGenesis extends Data.TaggedError('InvalidGenesis')<{ readonly reason: string }> {}
/** Wallet file problems: missing, exists, wrong passphrase (GCM tag mismatch), unreadable; a new passphrase too short or typed differently twice. */
export class WalletError extends Data.TaggedError('WalletError')<{
  readonly reason: 'not-found' | 'exists' | 'bad-passphrase' | 'corrupt' | 'bad-name' | 'weak-passphrase' | 'passphrases-differ'
  readonly name: string
}> {}
/**
 * A wallet passphrase is needed and there is no way to ask for it: `envVar` is not set and standard input is not a
 * terminal (piped, /dev/null, a service), or the prompt was cancelled. Set `envVar` to pass it non-interactively.
 */
export class PassphraseRequired extends Data.TaggedError('PassphraseRequired')<{
  readonly envVar: string
  readonly reason: 'no-terminal' | 'cancelled'
}> {}
/** A submitted transaction was neither included nor dropped within the wait (`wallet transfer` without --no-wait). */
export class TxWaitTimeout extends Data.TaggedError('TxWaitTimeout')<{ readonly hash: string; readonly waitedMs: number; readonly lastStatus: string }> {}

/** A ledger query names a block height the node does not have (above the head). */
export class UnknownBlock extends Data.TaggedError('UnknownBlock')<{ readonly height: number; readonly head: number }> {}

// Spending accounts (whitepaper §3.5.1, ledger/escrow.ts)

/** The payer has no spending account on this Brain (or the session names none: no tab was authorized for it). */
export class UnknownEscrow extends Data.TaggedError('UnknownEscrow')<{ readonly payer: string; readonly brain: number; readonly session: string }> {}
/**
 * The spending account (or the session's tab) cannot cover the amount: `needed` and `available` in base units of
 * $BASED, or in compute units when `asset` is `units` (the tab's allowance).
 */
export class EscrowInsufficient extends Data.TaggedError('EscrowInsufficient')<{
  readonly payer: string
  readonly brain: number
  readonly asset: 'based' | 'units'
  readonly needed: string
  readonly available: string
}> {}
/** The spending account is closing (a withdrawal was announced): no top-up, no new session. */
export class EscrowClosing extends Data.TaggedError('EscrowClosing')<{ readonly brain: number; readonly unlockAt: number }> {}
/** The withdrawal delay has not passed (unlockAt 0: no withdrawal was announced; run escrowClose first). */
export class EscrowLocked extends Data.TaggedError('EscrowLocked')<{ readonly brain: number; readonly unlockAt: number; readonly height: number }> {}
/** A compute receipt was already paid (its hash is recorded): a settlement cannot be replayed. */
export class ReceiptAlreadySettled extends Data.TaggedError('ReceiptAlreadySettled')<{ readonly receipt: string }> {}
/** A compute receipt in a settlement does not verify under the miner's compute key, or is empty. */
export class InvalidReceipt extends Data.TaggedError('InvalidReceipt')<{ readonly index: number; readonly reason: string }> {}
/** The Brain's query price is above the `maxPrice` the payer signed for when authorizing the session. */
export class QueryPriceAboveMax extends Data.TaggedError('QueryPriceAboveMax')<{ readonly price: string; readonly maxPrice: string }> {}
/**
 * A `serveMiner` record does not hold (ledger/serve.ts): `bad_peer_id`, `bad_address`, `bad_actor`,
 * `bad_compute_signature`, `bad_peer_signature`, `stale`, `from_future`.
 */
export class InvalidServeRecord extends Data.TaggedError('InvalidServeRecord')<{ readonly reason: string; readonly peerId: string }> {}

/** Errors a transaction can be rejected with. */
export type TxError =
  | MalformedTx
  | WrongChain
  | BadSignature
  | BadNonce
  | FeeTooLow
  | InvalidAmount
  | InsufficientFunds
  | PermissionDenied
  | UnknownAccount
  | UnknownBrain
  | UnknownParticipant
  | BrainCapReached
  | BurnPriceAboveMax
  | ReservedBrain
  | BrainNotTransferable
  | NotDeactivatable
  | StillLocked
  | SlotsFull
  | AlreadyRegistered
  | RegistrationFeeAboveMax
  | NotGigaBrain
  | AlreadyVoted
  | UnknownProposal
  | DuplicateMint
  | InvalidForecast
  | CopiedCommitment
  | OutOfRoundWindow
  | RevealMismatch
  | UnknownEscrow
  | EscrowInsufficient
  | EscrowClosing
  | EscrowLocked
  | ReceiptAlreadySettled
  | InvalidReceipt
  | QueryPriceAboveMax
  | InvalidServeRecord

/** Any error of this module. */
export type LedgerError = TxError | MempoolFull | UnknownBlock | InvalidBlock | CorruptState | InvalidAddress | InvalidGenesis | WalletError | PassphraseRequired | TxWaitTimeout

const TX_TAGS = new Set<string>([
  'MalformedTx', 'WrongChain', 'BadSignature', 'BadNonce', 'FeeTooLow', 'InvalidAmount', 'InsufficientFunds', 'PermissionDenied',
  'UnknownAccount', 'UnknownBrain', 'UnknownParticipant', 'BrainCapReached', 'BurnPriceAboveMax', 'ReservedBrain',
  'BrainNotTransferable', 'NotDeactivatable', 'StillLocked', 'SlotsFull', 'AlreadyRegistered',
  'RegistrationFeeAboveMax', 'NotGigaBrain', 'AlreadyVoted', 'UnknownProposal', 'DuplicateMint',
  'InvalidForecast', 'CopiedCommitment', 'OutOfRoundWindow', 'RevealMismatch',
  'UnknownEscrow', 'EscrowInsufficient', 'EscrowClosing', 'EscrowLocked', 'ReceiptAlreadySettled', 'InvalidReceipt',
  'QueryPriceAboveMax', 'InvalidServeRecord',
])

/** True for the errors a transaction is rejected with (anything else thrown during apply is a bug). */
export function isTxError(e: unknown): e is TxError {
  return typeof e === 'object' && e !== null && '_tag' in e && TX_TAGS.has(String((e as { _tag: unknown })._tag))
}
