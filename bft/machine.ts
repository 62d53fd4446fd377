/**
 * Tendermint's consensus state machine (Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus", 2018,
 * Algorithm 1), with voting power instead of counts: "2f + 1" is more than 2/3 of the height's power and "f + 1"
 * more than 1/3. Line numbers in the comments are the paper's.
 *
 * No I/O: `step(input)` returns the outputs. The machine broadcasts its own proposals and votes and also counts them
 * itself. After a decision it waits at the next height until the node has applied the block and says
 * `{ type: 'start' }` again (the validator set of height h + 1 comes from the state after h).
 *
 * Safety holds if less than 1/3 of each height's power is Byzantine, whatever the network does: two different
 * blocks can never both gather > 2/3 precommits at one height. Liveness needs partial synchrony: after some
 * unknown time messages arrive within a bound, and round timeouts grow by `timeouts.delta` per round until they
 * exceed it. Outside these assumptions the chain halts; it does not fork.
 */
import type {
  CommitCertificate,
  Input,
  Message,
  Output,
  Proposal,
  RejectReason,
  Step,
  TimeoutKind,
  Value,
  ValidatorId,
  Vote,
  VoteType,
} from './types.ts'
import { HeightVotes } from './votes.ts'
import type { ValidatorSet } from './validators.ts'

export interface Timeouts {
  readonly propose: number
  readonly prevote: number
  readonly precommit: number
  /** Added to each timeout per round, so that rounds eventually outlast any message delay. */
  readonly delta: number
}

export const DEFAULT_TIMEOUTS: Timeouts = { propose: 300, prevote: 100, precommit: 100, delta: 100 }

export interface MachineConfig {
  /** This node's validator id, or undefined for a node that follows without voting. */
  readonly self: ValidatorId | undefined
  /** First height to decide (the store's head + 1). */
  readonly height: number
  /** The validator set of a height (from the state after height − 1). */
  validators(height: number): ValidatorSet
  /** A block to propose at a height (called only when this node is the proposer and has no valid value). */
  getValue(height: number): Value
  /** Whether a proposed block is valid at a height (decodes, executes, right parent…). Must be deterministic. */
  valid(height: number, value: Value): boolean
  readonly timeouts?: Timeouts
  /** Decided blocks kept to answer lagging peers (catch-up); older ones come from the node's store. */
  readonly keepCommits?: number
}

interface RoundFlags {
  prevoteTimeout: boolean
  precommitTimeout: boolean
  lockedOrValid: boolean
}

export class TendermintMachine {
  height: number
  round = 0
  stepName: Step = 'propose'
  /** True between a decision and the node's `start` for the next height. */
  waiting = true
  lockedValue: Value | null = null
  lockedRound = -1
  validValue: Value | null = null
  validRound = -1

  private readonly config: MachineConfig
  private readonly timeouts: Timeouts
  private set: ValidatorSet
  private votes: HeightVotes
  private proposals = new Map<number, Proposal>()
  private flags = new Map<number, RoundFlags>()
  private validity = new Map<string, boolean>()
  /** Messages for the next height, replayed when it starts. */
  private future: Message[] = []
  /** Commit certificates for heights not started yet (a lagging node receives several at once). */
  private futureCommits = new Map<number, { value: Value; certificate: CommitCertificate }>()
  private readonly commits = new Map<number, { value: Value; certificate: CommitCertificate }>()
  private out: Output[] = []
  private readonly lagCount = new Map<string, number>()

  constructor(config: MachineConfig) {
    this.config = config
    this.timeouts = config.timeouts ?? DEFAULT_TIMEOUTS
    this.height = config.height
    this.set = config.validators(this.height)
    this.votes = new HeightVotes(this.set)
  }

  /** The decided block and certificate of a past height, if still kept. */
  commit(height: number): { value: Value; certificate: CommitCertificate } | undefined {
    return this.commits.get(height)
  }

  step(input: Input): Output[] {
    this.out = []
    switch (input.type) {
      case 'start':
        if (this.waiting) this.startHeight()
        break
      case 'proposal':
        this.onProposal(input.proposal)
        break
      case 'vote':
        this.onVote(input.vote)
        break
      case 'timeout':
        this.onTimeout(input.kind, input.height, input.round)
        break
      case 'commit':
        this.onCommit(input.value, input.certificate)
        break
    }
    const out = this.out
    this.out = []
    return out
  }

  /**
   * What this node re-gossips to peers that may have missed it (the paper assumes that a message a correct process
   * received eventually reaches every correct process): the current round's proposal and votes, the previous
   * round's precommits, and the prevotes that justify its valid value (a proof of lock, for line 28 at its peers).
   */
  gossipMessages(): Message[] {
    if (this.waiting) return []
    const msgs: Message[] = []
    const p = this.proposals.get(this.round)
    if (p) msgs.push({ type: 'proposal', proposal: p })
    for (const v of this.votes.roundVotes(this.round)) msgs.push({ type: 'vote', vote: v })
    // the previous round's precommits let a peer still there time out and follow (CometBFT gossips by peer round)
    if (this.round > 0) for (const v of this.votes.roundVotes(this.round - 1)) if (v.type === 'precommit') msgs.push({ type: 'vote', vote: v })
    if (this.validValue && this.validRound >= 0 && this.validRound < this.round) {
      const vp = this.proposals.get(this.validRound)
      if (vp) msgs.push({ type: 'proposal', proposal: vp })
      for (const v of this.votes.votesFor(this.validRound, 'prevote', this.validValue.id)) msgs.push({ type: 'vote', vote: v })
    }
    return msgs
  }

  // ── inputs ──────────────────────────────────────────────────────────────────────────────────────────────────

  private startHeight(): void {
    this.waiting = false
    this.set = this.config.validators(this.height)
    this.votes = new HeightVotes(this.set)
    this.proposals = new Map()
    this.flags = new Map()
    this.validity = new Map()
    this.lockedValue = null
    this.lockedRound = -1
    this.validValue = null
    this.validRound = -1
    const pending = this.futureCommits.get(this.height)
    for (const h of [...this.futureCommits.keys()]) if (h <= this.height) this.futureCommits.delete(h)
    if (pending) {
      this.onCommit(pending.value, pending.certificate)
      if (this.waiting) {
        this.future = [] // they were for the height just decided from the certificate
        return
      }
    }
    this.startRound(0)
    const replay = this.future
    this.future = []
    for (const m of replay) {
      if (m.type === 'proposal') this.onProposal(m.proposal)
      else if (m.type === 'vote') this.onVote(m.vote)
      else this.onCommit(m.value, m.certificate)
    }
    this.evaluate()
  }

  private onProposal(p: Proposal): void {
    if (this.lagging(p.height, p.from) || this.ahead(p.height, { type: 'proposal', proposal: p })) return
    if (!this.set.has(p.from)) return this.reject('UnknownValidator', p.from)
    if (this.set.proposer(p.height, p.round) !== p.from) return this.reject('NotProposer', p.from)
    if (this.proposals.has(p.round)) return
    this.proposals.set(p.round, p)
    this.votes.heard(p.round, p.from)
    this.evaluate()
  }

  private onVote(v: Vote): void {
    if (this.lagging(v.height, v.from) || this.ahead(v.height, { type: 'vote', vote: v })) return
    if (!this.set.has(v.from)) return this.reject('UnknownValidator', v.from)
    const r = this.votes.add(v)
    if (r.kind === 'evidence') this.out.push({ type: 'evidence', evidence: r.evidence })
    if (r.kind !== 'added') return
    this.evaluate()
  }

  private onTimeout(kind: TimeoutKind, height: number, round: number): void {
    if (this.waiting || height !== this.height || round !== this.round) return
    if (kind === 'propose' && this.stepName === 'propose') {
      // line 57: no (valid) proposal in time
      this.vote('prevote', null)
      this.stepName = 'prevote'
    } else if (kind === 'prevote' && this.stepName === 'prevote') {
      // line 61
      this.vote('precommit', null)
      this.stepName = 'precommit'
    } else if (kind === 'precommit') {
      // line 65
      this.startRound(this.round + 1)
      return this.evaluate()
    } else return
    this.evaluate()
  }

  /** A decided block with its certificate from a peer that is ahead of us (catch-up). */
  private onCommit(value: Value, c: CommitCertificate): void {
    if (c.height < this.height) return
    if (c.height > this.height || this.waiting) {
      if (c.height < this.height + 64) this.futureCommits.set(c.height, { value, certificate: c })
      return
    }
    if (c.value !== value.id) return this.reject('ValueMismatch', undefined)
    let power = 0n
    const seen = new Set<string>()
    for (const v of c.precommits) {
      if (v.type !== 'precommit' || v.height !== c.height || v.round !== c.round || v.value !== c.value) return this.reject('BadCertificate', v.from)
      if (!this.set.has(v.from) || seen.has(v.from)) return this.reject('BadCertificate', v.from)
      seen.add(v.from)
      power += this.set.power(v.from)
    }
    if (!this.set.isQuorum(power)) return this.reject('BadCertificate', undefined)
    if (!this.isValid(value)) return this.reject('InvalidValue', undefined)
    this.decide(value, c)
  }

  // ── the rules ───────────────────────────────────────────────────────────────────────────────────────────────

  private startRound(round: number): void {
    // line 11
    this.round = round
    this.stepName = 'propose'
    const self = this.config.self
    if (self !== undefined && this.set.proposer(this.height, round) === self) {
      const value = this.validValue ?? this.config.getValue(this.height)
      const proposal: Proposal = { height: this.height, round, value, validRound: this.validRound, from: self }
      this.out.push({ type: 'broadcast', message: { type: 'proposal', proposal } })
      this.proposals.set(round, proposal)
      this.votes.heard(round, self)
    } else {
      this.schedule('propose', this.timeouts.propose)
    }
  }

  /** Applies every rule that the current state enables, until none does. */
  private evaluate(): void {
    for (let guard = 0; guard < 64 && !this.waiting; guard++) {
      if (!this.applyOnce()) return
    }
  }

  private applyOnce(): boolean {
    const h = this.height
    const r = this.round
    const p = this.proposals.get(r)

    // line 49: a proposal and > 2/3 precommits for it, in any round → decide
    for (const cr of this.votes.roundsWithPrecommits()) {
      const cp = this.proposals.get(cr)
      if (cp && this.set.isQuorum(this.votes.powerFor(cr, 'precommit', cp.value.id)) && this.isValid(cp.value)) {
        const certificate: CommitCertificate = { height: h, round: cr, value: cp.value.id, precommits: this.votes.votesFor(cr, 'precommit', cp.value.id) }
        this.decide(cp.value, certificate)
        return false
      }
    }

    // line 55: > 1/3 of the power is already in a later round → skip to it
    for (const fr of this.votes.roundsAbove(r)) {
      if (this.set.isOneThird(this.votes.sendersPower(fr))) {
        this.startRound(fr)
        return true
      }
    }

    if (this.stepName === 'propose' && p) {
      if (p.validRound === -1) {
        // line 22
        const ok = this.isValid(p.value) && (this.lockedRound === -1 || this.lockedValue?.id === p.value.id)
        this.vote('prevote', ok ? p.value.id : null)
        this.stepName = 'prevote'
        return true
      }
      if (p.validRound >= 0 && p.validRound < r && this.set.isQuorum(this.votes.powerFor(p.validRound, 'prevote', p.value.id))) {
        // line 28
        const ok = this.isValid(p.value) && (this.lockedRound <= p.validRound || this.lockedValue?.id === p.value.id)
        this.vote('prevote', ok ? p.value.id : null)
        this.stepName = 'prevote'
        return true
      }
    }

    const flags = this.roundFlags(r)
    if (this.stepName === 'prevote' && !flags.prevoteTimeout && this.set.isQuorum(this.votes.powerAny(r, 'prevote'))) {
      // line 34
      flags.prevoteTimeout = true
      this.schedule('prevote', this.timeouts.prevote)
      return true
    }

    if (p && this.stepName !== 'propose' && !flags.lockedOrValid && this.set.isQuorum(this.votes.powerFor(r, 'prevote', p.value.id)) && this.isValid(p.value)) {
      // line 36
      flags.lockedOrValid = true
      if (this.stepName === 'prevote') {
        this.lockedValue = p.value
        this.lockedRound = r
        this.vote('precommit', p.value.id)
        this.stepName = 'precommit'
      }
      this.validValue = p.value
      this.validRound = r
      return true
    }

    if (this.stepName === 'prevote' && this.set.isQuorum(this.votes.powerFor(r, 'prevote', null))) {
      // line 44
      this.vote('precommit', null)
      this.stepName = 'precommit'
      return true
    }

    if (!flags.precommitTimeout && this.set.isQuorum(this.votes.powerAny(r, 'precommit'))) {
      // line 47
      flags.precommitTimeout = true
      this.schedule('precommit', this.timeouts.precommit)
      return true
    }
    return false
  }

  private decide(value: Value, certificate: CommitCertificate): void {
    this.out.push({ type: 'decide', height: this.height, value, certificate })
    this.commits.set(this.height, { value, certificate })
    const keep = this.config.keepCommits ?? 64
    this.commits.delete(this.height - keep)
    this.height += 1
    this.waiting = true
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────────

  private vote(type: VoteType, value: string | null): void {
    const self = this.config.self
    if (self === undefined || !this.set.has(self)) return
    const vote: Vote = { type, height: this.height, round: this.round, value, from: self }
    this.out.push({ type: 'broadcast', message: { type: 'vote', vote } })
    this.votes.add(vote)
  }

  private schedule(kind: TimeoutKind, base: number): void {
    this.out.push({ type: 'schedule', kind, height: this.height, round: this.round, afterMs: base + this.round * this.timeouts.delta })
  }

  private roundFlags(r: number): RoundFlags {
    let f = this.flags.get(r)
    if (!f) {
      f = { prevoteTimeout: false, precommitTimeout: false, lockedOrValid: false }
      this.flags.set(r, f)
    }
    return f
  }

  private isValid(value: Value): boolean {
    let ok = this.validity.get(value.id)
    if (ok === undefined) {
      ok = this.config.valid(this.height, value)
      this.validity.set(value.id, ok)
    }
    return ok
  }

  /**
   * A message from a decided height: the sender is behind; send it what we decided there and after (catch-up).
   * To keep a node that is only milliseconds behind from drawing a certificate from every peer, its first lagging
   * message is answered by the three validators after it in the set's order only; from its second one on (it is
   * still behind: an answer was lost, or those three are down), every validator answers every fourth message.
   */
  private lagging(height: number, from: ValidatorId): boolean {
    if (height >= this.height) return false
    const key = `${from}:${height}`
    const count = this.lagCount.get(key) ?? 0
    if (this.lagCount.size > 4096) this.lagCount.clear()
    this.lagCount.set(key, count + 1)
    const order = this.set.validators
    const at = order.findIndex((v) => v.id === from)
    const mine = order.findIndex((v) => v.id === this.config.self)
    const distance = (mine - at + order.length) % order.length
    const successor = at >= 0 && mine >= 0 && distance >= 1 && distance <= 3
    const answer = count === 0 ? successor : (count - 1) % 4 === 0
    if (!answer) return true
    for (let h = height; h < Math.min(this.height, height + 16); h++) {
      const c = this.commits.get(h)
      if (c) this.out.push({ type: 'send', to: from, message: { type: 'commit', value: c.value, certificate: c.certificate } })
    }
    return true
  }

  /** A message from a height we have not started: keep the next height's, drop the rest. */
  private ahead(height: number, m: Message): boolean {
    const next = this.waiting ? this.height : this.height + 1
    if (height === next && this.future.length < 10_000) this.future.push(m)
    return this.waiting ? height >= this.height : height > this.height
  }

  private reject(reason: RejectReason, from: ValidatorId | undefined): void {
    this.out.push({ type: 'rejected', reason, from })
  }
}
