/**
 * Votes of one height, tallied by round, type and value with exact stake sums.
 *
 * A validator's vote counts once toward "any value" (the timeout rules) and once toward each distinct value it
 * signed: the paper's "2f + 1 ⟨PREVOTE, h, r, id(v)⟩" is a set of received messages, and a Byzantine validator that
 * signs two values has sent both (its power is within the f the proofs allow for). The second distinct value is
 * also evidence of double signing. At most MAX_VALUES_PER_SIGNER distinct values are kept per validator and step,
 * so an equivocator cannot grow memory without bound.
 */
import type { Evidence, Vote, VoteType } from './types.ts'
import type { ValidatorSet } from './validators.ts'

const NIL = '\u0000nil'

function key(value: string | null): string {
  return value ?? NIL
}

export const MAX_VALUES_PER_SIGNER = 4

class Tally {
  /** The first vote of each validator. */
  readonly votes = new Map<string, Vote>()
  /** Further distinct values signed by the same validator (equivocation). */
  readonly extra = new Map<string, Vote[]>()
  readonly power = new Map<string, bigint>()
  any = 0n
}

class RoundVotes {
  readonly prevote = new Tally()
  readonly precommit = new Tally()
  /** Validators heard from in this round by any message (Tendermint's f + 1 rule, line 55). */
  readonly senders = new Set<string>()
  sendersPower = 0n
}

export type AddResult =
  | { readonly kind: 'added' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'evidence'; readonly evidence: Evidence }

export class HeightVotes {
  private readonly rounds = new Map<number, RoundVotes>()
  readonly set: ValidatorSet

  constructor(set: ValidatorSet) {
    this.set = set
  }

  private round(r: number): RoundVotes {
    let rv = this.rounds.get(r)
    if (!rv) {
      rv = new RoundVotes()
      this.rounds.set(r, rv)
    }
    return rv
  }

  /** Counts a vote whose signer is known to be in the set (the caller checks). */
  add(vote: Vote): AddResult {
    const rv = this.round(vote.round)
    const tally = rv[vote.type]
    const p = this.set.power(vote.from)
    const prior = tally.votes.get(vote.from)
    if (prior) {
      if (prior.value === vote.value) return { kind: 'duplicate' }
      const extra = tally.extra.get(vote.from) ?? []
      if (extra.some((e) => e.value === vote.value)) return { kind: 'duplicate' }
      if (extra.length + 1 < MAX_VALUES_PER_SIGNER) {
        extra.push(vote)
        tally.extra.set(vote.from, extra)
        tally.power.set(key(vote.value), (tally.power.get(key(vote.value)) ?? 0n) + p)
      }
      return { kind: 'evidence', evidence: { validator: vote.from, first: prior, second: vote } }
    }
    tally.votes.set(vote.from, vote)
    tally.power.set(key(vote.value), (tally.power.get(key(vote.value)) ?? 0n) + p)
    tally.any += p
    this.heard(vote.round, vote.from)
    return { kind: 'added' }
  }

  /** Records that a validator sent something (a proposal) in a round, for the f + 1 round-skip rule. */
  heard(round: number, from: string): void {
    const rv = this.round(round)
    if (!rv.senders.has(from)) {
      rv.senders.add(from)
      rv.sendersPower += this.set.power(from)
    }
  }

  powerFor(round: number, type: VoteType, value: string | null): bigint {
    return this.rounds.get(round)?.[type].power.get(key(value)) ?? 0n
  }

  powerAny(round: number, type: VoteType): bigint {
    return this.rounds.get(round)?.[type].any ?? 0n
  }

  sendersPower(round: number): bigint {
    return this.rounds.get(round)?.sendersPower ?? 0n
  }

  /** The votes of a type for `value` in `round` (a commit certificate's body; a proof of lock). */
  votesFor(round: number, type: VoteType, value: string | null): Vote[] {
    const t = this.rounds.get(round)?.[type]
    if (!t) return []
    return [...t.votes.values(), ...[...t.extra.values()].flat()].filter((v) => v.value === value)
  }

  /** Every vote of a round, both types (what a node gossips to peers that may lack them). */
  roundVotes(round: number): Vote[] {
    const rv = this.rounds.get(round)
    if (!rv) return []
    return [rv.prevote, rv.precommit].flatMap((t) => [...t.votes.values(), ...[...t.extra.values()].flat()])
  }

  /** Rounds above `round` that anyone has been heard from in. */
  roundsAbove(round: number): number[] {
    return [...this.rounds.keys()].filter((r) => r > round).sort((a, b) => a - b)
  }

  /** Rounds with any precommit, for the decide rule (line 49 applies to every round). */
  roundsWithPrecommits(): number[] {
    return [...this.rounds.entries()].filter(([, rv]) => rv.precommit.any > 0n).map(([r]) => r)
  }

}
