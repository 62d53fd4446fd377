/**
 * basedai/bft — block agreement: Tendermint (Buchman, Kwon, Milosevic 2018, Algorithm 1) as a state machine with
 * no I/O, stake-weighted, with a durable double-sign guard and a deterministic network simulator.
 *
 * A node feeds the machine verified proposals, votes, timeouts and peers' commit certificates and carries out what
 * it returns (broadcast, schedule a timeout, commit a block with its certificate, record evidence). Blocks are final
 * on precommits from more than 2/3 of the height's stake; safety needs less than 1/3 Byzantine stake and holds
 * under any network behaviour; liveness needs partial synchrony. Design, assumptions and scale: docs/BFT.md.
 *
 * @example
 * ```ts
 * import { TendermintMachine, ValidatorSet, simulate } from 'basedai/bft'
 * const set = new ValidatorSet([{ id: 'a', power: 1n }])
 * const m = new TendermintMachine({
 *   self: 'a', height: 1, validators: () => set,
 *   getValue: (h) => ({ id: `block-${h}`, data: new Uint8Array() }), valid: () => true,
 * })
 * m.step({ type: 'start' }) // a single validator decides its own block at once: [..., { type: 'decide', ... }]
 * const run = simulate({ seed: 7, powers: [1n, 1n, 1n, 1n], heights: 5, loss: 0.2, gstMs: 2000 })
 * // run.safetyViolation === undefined, run.live === true
 * ```
 */
export { TendermintMachine, DEFAULT_TIMEOUTS } from './machine.ts'
export type { MachineConfig, Timeouts } from './machine.ts'
export { ValidatorSet, InvalidValidatorSet } from './validators.ts'
export { HeightVotes, MAX_VALUES_PER_SIGNER } from './votes.ts'
export { SignState, DoubleSignRefused, CorruptSignState } from './sign-state.ts'
export type { SignRecord, SignStep } from './sign-state.ts'
export { simulate } from './sim.ts'
export { TxBatcher, decodeTxGossip, encodeTxBatch, MAX_TX_BATCH } from './tx-gossip.ts'
export type { Byzantine, Partition, SimConfig, SimResult } from './sim.ts'
export type {
  CommitCertificate,
  Evidence,
  Input,
  Message,
  Output,
  Proposal,
  RejectReason,
  Step,
  TimeoutKind,
  Validator,
  ValidatorId,
  Value,
  Vote,
  VoteType,
} from './types.ts'
