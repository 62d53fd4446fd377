/**
 * A height's validator set: voting power, the quorum thresholds of Tendermint with stake, and proposer rotation.
 *
 * Thresholds are exact integer comparisons: "more than 2/3" is 3·power > 2·total, "more than 1/3" is
 * 3·power > total.
 *
 * Proposer rotation, weighted by stake: lay the validators (in canonical id order) along [0, total) by power and
 * pick the one that owns point total · frac((height + round) · (φ − 1)) (the fraction in 64-bit fixed point). That is a Weyl sequence: it is
 * equidistributed, so over any long window each validator proposes in proportion to its power, successive rounds
 * and heights move to a different part of the line (a failed proposer is not asked again next round unless it holds
 * most of the stake), and every node computes it from the set alone in O(log n) — with no state carried from
 * height to height, which matters because the set for height h is read from the state after h − 1. (CometBFT keeps
 * accumulated priorities instead; that is smoother for small windows but is state that would have to be stored.)
 */
import { Data } from 'effect'
import type { Validator, ValidatorId } from './types.ts'

/** ⌊2^64 · (φ − 1)⌋. */
const GOLDEN_64 = 0x9e3779b97f4a7c15n
const MASK_64 = (1n << 64n) - 1n

export class InvalidValidatorSet extends Data.TaggedError('InvalidValidatorSet')<{ readonly reason: string }> {}

export class ValidatorSet {
  readonly validators: readonly Validator[]
  readonly total: bigint
  private readonly byId: Map<ValidatorId, Validator>
  /** cumulative[i] = total power of validators 0..i. */
  private readonly cumulative: bigint[]

  constructor(validators: readonly Validator[]) {
    if (validators.length === 0) throw new InvalidValidatorSet({ reason: 'empty validator set' })
    // A canonical order (by id) so that every node walks the same rotation whatever order it was given.
    const sorted = [...validators].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    this.byId = new Map()
    let total = 0n
    this.cumulative = []
    for (const v of sorted) {
      if (v.power <= 0n) throw new InvalidValidatorSet({ reason: `validator ${v.id} has power ${v.power}` })
      if (this.byId.has(v.id)) throw new InvalidValidatorSet({ reason: `validator ${v.id} listed twice` })
      this.byId.set(v.id, v)
      total += v.power
      this.cumulative.push(total)
    }
    this.validators = sorted
    this.total = total
  }

  has(id: ValidatorId): boolean {
    return this.byId.has(id)
  }

  power(id: ValidatorId): bigint {
    return this.byId.get(id)?.power ?? 0n
  }

  /** More than 2/3 of the total power. */
  isQuorum(power: bigint): boolean {
    return 3n * power > 2n * this.total
  }

  /** More than 1/3 of the total power: at least one honest validator is among them. */
  isOneThird(power: bigint): boolean {
    return 3n * power > this.total
  }

  proposer(height: number, round: number): ValidatorId {
    const frac = (BigInt(height + round) * GOLDEN_64) & MASK_64
    const point = (frac * this.total) >> 64n
    // The first validator whose cumulative power exceeds the point.
    let lo = 0
    let hi = this.cumulative.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.cumulative[mid]! > point) hi = mid
      else lo = mid + 1
    }
    return this.validators[lo]!.id
  }
}
