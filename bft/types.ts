/**
 * The messages and effects of block agreement (Tendermint, Buchman–Kwon–Milosevic 2018, Algorithm 1).
 *
 * The state machine (machine.ts) has no I/O: it takes `Input`s (a start, a proposal, a vote, a timeout, a commit
 * certificate from a peer) and returns `Output`s (messages to broadcast or send, timeouts to schedule, a decided
 * block with its certificate, evidence of double signing). The node's reactor signs and verifies, gossips and
 * persists; the deterministic simulator (sim.ts) delivers with seeded delays, losses and partitions.
 */

/** A validator's identity on the wire: its public key (hex) in the node, any unique string in the simulator. */
export type ValidatorId = string

export interface Validator {
  readonly id: ValidatorId
  /** Voting power: stake, in whatever integer unit the ledger uses. Must be > 0. */
  readonly power: bigint
}

/** The block under agreement. `id` is its hash; `data` is opaque to the machine (the ledger's encoded block). */
export interface Value {
  readonly id: string
  readonly data: Uint8Array
}

export type VoteType = 'prevote' | 'precommit'

/** A vote for a block id, or for nothing (`null` is Tendermint's nil). */
export interface Vote {
  readonly type: VoteType
  readonly height: number
  readonly round: number
  readonly value: string | null
  readonly from: ValidatorId
}

export interface Proposal {
  readonly height: number
  readonly round: number
  readonly value: Value
  /** Tendermint's validRound: −1, or the round in which the proposer saw > 2/3 prevotes for this value. */
  readonly validRound: number
  readonly from: ValidatorId
}

/** > 2/3 of the height's voting power precommitted `value` in `round`: what makes a block final. */
export interface CommitCertificate {
  readonly height: number
  readonly round: number
  readonly value: string
  readonly precommits: readonly Vote[]
}

/** Two votes signed by one validator for the same height, round and type with different values. */
export interface Evidence {
  readonly validator: ValidatorId
  readonly first: Vote
  readonly second: Vote
}

export type Step = 'propose' | 'prevote' | 'precommit'

export type TimeoutKind = 'propose' | 'prevote' | 'precommit'

export type Input =
  | { readonly type: 'start' }
  | { readonly type: 'proposal'; readonly proposal: Proposal }
  | { readonly type: 'vote'; readonly vote: Vote }
  | { readonly type: 'timeout'; readonly kind: TimeoutKind; readonly height: number; readonly round: number }
  /** A decided block and its certificate, from a peer that is ahead (catch-up). */
  | { readonly type: 'commit'; readonly value: Value; readonly certificate: CommitCertificate }

export type Message =
  | { readonly type: 'proposal'; readonly proposal: Proposal }
  | { readonly type: 'vote'; readonly vote: Vote }
  | { readonly type: 'commit'; readonly value: Value; readonly certificate: CommitCertificate }

export type Output =
  | { readonly type: 'broadcast'; readonly message: Message }
  /** To one validator only (catch-up answers to a peer that is behind). */
  | { readonly type: 'send'; readonly to: ValidatorId; readonly message: Message }
  | { readonly type: 'schedule'; readonly kind: TimeoutKind; readonly height: number; readonly round: number; readonly afterMs: number }
  | { readonly type: 'decide'; readonly height: number; readonly value: Value; readonly certificate: CommitCertificate }
  | { readonly type: 'evidence'; readonly evidence: Evidence }
  /** A typed reason an input was ignored (bad signer, wrong height…), for logs and peer scoring; never fatal. */
  | { readonly type: 'rejected'; readonly reason: RejectReason; readonly from: ValidatorId | undefined }

export type RejectReason =
  | 'UnknownValidator'
  | 'NotProposer'
  | 'InvalidValue'
  | 'BadCertificate'
  | 'ValueMismatch'
