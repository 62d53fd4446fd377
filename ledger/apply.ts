/**
 * The transaction state machine, in two stages that are pure functions of the KV contents, the transaction and the
 * block context:
 *
 * 1. Checks, in order, for every transaction: chain id (WrongChain), signature (BadSignature), fee rule (FeeTooLow),
 *    sender exists (UnknownAccount), nonce = sender's next nonce (BadNonce), fee payable (InsufficientFunds). A
 *    transaction failing here cannot be charged: it is *rejected* (never in a block, changes nothing).
 * 2. The fee moves to the block proposer and the nonce increments; then the body runs (its own checks are listed per
 *    kind). A body that throws a typed error has *failed*: as in Ethereum, the transaction is still included, the
 *    fee is paid and the nonce consumed, but nothing of the body is applied ({@link executeTx}).
 *
 * {@link executeTx} is what block execution uses (applied | failed | rejected). {@link applyTx} is all-or-nothing:
 * it commits only a fully applied transaction and reports any other outcome as a typed error with the stage it
 * failed at — the side-effect-free validity check the mempool's admission runs (ledger/mempool.ts) over the same
 * code. Both run in an {@link Overlay}, so what is not committed leaves nothing behind.
 */
import { bytesEqual, toHex } from './codec.ts'
import {
  AlreadyRegistered, AlreadyVoted, BadNonce, BadSignature, BrainCapReached, BrainNotTransferable, BurnPriceAboveMax,
  DuplicateMint, FeeTooLow, InsufficientFunds, InvalidAmount, MalformedTx, NotDeactivatable, NotGigaBrain, PermissionDenied,
  RegistrationFeeAboveMax, ReservedBrain, SlotsFull, StillLocked, UnknownAccount, UnknownBrain, UnknownParticipant,
  UnknownProposal, WrongChain, InvalidServeRecord, isTxError, type TxError,
} from './errors.ts'
import { isGigaBrain, runEpoch, type EpochHook, equalPerformance } from './emission.ts'
import { clearBrainForecasts, countTx, execCommit, execReveal } from './forecast.ts'
import { execEscrow, OWNER_EARNINGS } from './escrow.ts'
import { setBrainCredits } from './credits.ts'
import { Overlay, type KV } from './kv.ts'
import { verify } from './keys.ts'
import { GOVERNABLE, GOVERNABLE_BOUNDS, burnPrice, type Params } from './params.ts'
import { BRAIN_POOL, type Brain, type Globals } from './records.ts'
import { State } from './state.ts'
import { checkServe, SERVE_MAX_SKEW_MS } from './serve.ts'
import { minFee, type PreparedTx, type Role, type TxBody } from './tx.ts'

export interface BlockContext {
  readonly height: number
  readonly time: number
  readonly proposer: Uint8Array
  readonly params: Params
  readonly epochHook?: EpochHook
  /**
   * When present, fees accumulate here and the block executor credits the proposer once at the end of the block's
   * transactions (one account write per block instead of one per tx). Without it, each fee is credited at once.
   */
  readonly feeSink?: { total: bigint }
}
export interface ApplyOptions {
  /** The signature was already checked (e.g. by the parallel verifier). */
  readonly signatureVerified?: boolean
}
/**
 * Result of {@link applyTx}: applied (and committed), or not applied with the typed reason and the stage it failed
 * at (`check`: could not be charged, a block would drop it; `body`: a block would include it as failed).
 */
export type ApplyResult = { readonly ok: true } | { readonly ok: false; readonly error: TxError; readonly stage: 'check' | 'body' }
/** Outcome of executing one transaction inside a block ({@link executeTx}). */
export type TxOutcome =
  | { readonly status: 'applied' }
  /** Included: fee paid, nonce consumed, body not applied. */
  | { readonly status: 'failed'; readonly error: TxError }
  /** Not includable: nothing changed. */
  | { readonly status: 'rejected'; readonly error: TxError }

const ZERO32 = new Uint8Array(32)
/** Upper bound of any supply (the codec's varint limit). */
export const MAX_SUPPLY = (1n << 128n) - 1n

/**
 * Executes one transaction of a block against `kv` (see module doc): `applied` commits everything, `failed`
 * commits only the fee payment and the nonce increment, `rejected` commits nothing.
 */
export function executeTx(kv: KV, ptx: PreparedTx, ctx: BlockContext, opts: ApplyOptions = {}): TxOutcome {
  const charged = new Overlay(kv)
  try {
    charge(new State(charged), ptx, ctx, opts)
  } catch (e) {
    if (isTxError(e)) return { status: 'rejected', error: e }
    throw e
  }
  const applied = new Overlay(charged)
  let outcome: TxOutcome = { status: 'applied' }
  try {
    const st = new State(applied)
    body(st, ptx.tx.from, toHex(ptx.tx.from), ptx.tx.body, ctx)
    countTx(st, ctx.params, ctx.height, ptx.tx.body)
    applied.commitTo(charged)
  } catch (e) {
    if (!isTxError(e)) throw e
    outcome = { status: 'failed', error: e }
  }
  charged.commitTo(kv)
  if (ctx.feeSink) ctx.feeSink.total += ptx.tx.fee
  return outcome
}

/** Applies one transaction to `kv`: all of it, or (on a typed rejection or failure) nothing. */
export function applyTx(kv: KV, ptx: PreparedTx, ctx: BlockContext, opts: ApplyOptions = {}): ApplyResult {
  const overlay = new Overlay(kv)
  const sink = ctx.feeSink ? { total: 0n } : undefined
  const r = executeTx(overlay, ptx, sink ? { ...ctx, feeSink: sink } : ctx, opts)
  if (r.status !== 'applied') return { ok: false, error: r.error, stage: r.status === 'failed' ? 'body' : 'check' }
  overlay.commitTo(kv)
  if (ctx.feeSink && sink) ctx.feeSink.total += sink.total
  return { ok: true }
}

/** Stage 1 (checks) and the charge: fee to the proposer (or the block's fee sink), nonce + 1. */
function charge(st: State, ptx: PreparedTx, ctx: BlockContext, opts: ApplyOptions): void {
  const { tx } = ptx
  const p = ctx.params
  if (tx.chainId !== p.chainId) throw new WrongChain({ expected: p.chainId, got: tx.chainId })
  if (!opts.signatureVerified && !verify(tx.from, ptx.payload, tx.sig)) throw new BadSignature({ tx: toHex(ptx.hash) })
  const need = minFee(p.baseFee, p.byteFee, ptx.bytes.length)
  if (tx.fee < need) throw new FeeTooLow({ min: String(need), got: String(tx.fee) })
  const fromHex = toHex(tx.from)
  const sender = st.account(fromHex)
  if (!sender) throw new UnknownAccount({ account: fromHex })
  if (tx.nonce !== sender.nonce) throw new BadNonce({ expected: String(sender.nonce), got: String(tx.nonce) })
  if (sender.based < tx.fee)
    throw new InsufficientFunds({ account: fromHex, asset: 'based', needed: String(tx.fee), available: String(sender.based) })
  sender.based -= tx.fee
  sender.nonce += 1n
  st.setAccount(fromHex, sender)
  if (!ctx.feeSink) st.credit(toHex(ctx.proposer), 'based', tx.fee)
}

function positive(field: string, v: bigint): void {
  if (v <= 0n) throw new InvalidAmount({ field, reason: 'must be positive' })
}

function ownedBrain(st: State, id: number, sender: Uint8Array): Brain {
  const b = st.brain(id)
  if (!b) throw new UnknownBrain({ brain: id })
  if (!bytesEqual(b.owner, sender)) throw new PermissionDenied({ reason: `not the owner of Brain #${id}` })
  return b
}

/** Lowest id that is neither reserved nor in use. */
function freeBrainId(g: Globals, p: Params): number {
  const used = new Set<number>([...g.brains, ...p.reservedBrains])
  for (let id = 0; id < p.maxBrains; id++) if (!used.has(id)) return id
  throw new BrainCapReached({ max: p.maxBrains })
}

function insertSorted(xs: number[], x: number): number[] {
  const out = [...xs, x]
  out.sort((a, b) => a - b)
  return out
}

export function newBrain(id: number, owner: Uint8Array, method: Brain['method'], height: number, p: Params): Brain {
  return {
    id, owner, method, acquiredAt: height, unlockAt: 0, lockedPepe: 0n, burnedPepe: 0n, name: '', modelId: '',
    weightsHash: '', rewardTo: owner, registrationFee: p.defaultRegistrationFee, ownerBps: p.defaultOwnerBps,
    minerBps: p.defaultMinerBps, validators: 0, miners: 0, directStake: 0n, stake: 0n, pending: 0n, performance: 1n,
    nextUid: 0, queryPrice: 0n,
  }
}

/** Returns every stake position of a pool to its stakers and deletes the pool. Returns the total returned. */
function dissolvePool(st: State, brain: number, target: string): bigint {
  let total = 0n
  for (const k of st.poolStakers(brain, target)) {
    const h = toHex(k)
    const amt = st.position(brain, target, h)
    st.credit(h, 'based', amt)
    st.setPosition(brain, target, h, 0n)
    total += amt
  }
  st.setPoolStakers(brain, target, [])
  return total
}

/** Removes a participant: its validator pool (if any) is returned to the stakers. Updates `b` and `g`. */
function removeParticipant(st: State, b: Brain, g: Globals, ck: Uint8Array, role: Role): void {
  const ckHex = toHex(ck)
  if (role === 'validator') {
    const returned = dissolvePool(st, b.id, ckHex)
    b.stake -= returned
    g.totalStake -= returned
    b.validators--
  } else b.miners--
  st.delParticipant(b.id, ckHex)
  st.setWeights(b.id, ckHex, [], [])
  st.setLastWeightsAt(b.id, ckHex, undefined)
  st.clearQueryEarnings(b.id, ckHex)
  st.setServed(b.id, ckHex, undefined)
  st.setMembers(b.id, role, st.members(b.id, role).filter((k) => !bytesEqual(k, ck)))
}

function body(st: State, from: Uint8Array, fromHex: string, b: TxBody, ctx: BlockContext): void {
  const p = ctx.params
  switch (b.kind) {
    case 'transfer':
    case 'transferPepe': {
      positive('amount', b.amount)
      const asset = b.kind === 'transfer' ? 'based' : 'pepe'
      st.debit(fromHex, asset, b.amount)
      st.credit(toHex(b.to), asset, b.amount)
      return
    }
    case 'bridgeMint': {
      positive('amount', b.amount)
      if (bytesEqual(p.bridgeAuthority, ZERO32) || !bytesEqual(from, p.bridgeAuthority))
        throw new PermissionDenied({ reason: 'only the bridge authority mints Pepecoin' })
      const ref = toHex(b.ref)
      if (st.mintRefUsed(ref)) throw new DuplicateMint({ ref })
      const g = st.globals()
      // Total Pepecoin supply stays ≤ 2^128−1, so no balance or counter can outgrow the codec.
      if (g.pepeGenesis + g.pepeMinted + b.amount > MAX_SUPPLY)
        throw new MalformedTx({ field: 'amount', reason: 'mint would take the Pepecoin supply above 2^128-1' })
      st.useMintRef(ref)
      st.credit(toHex(b.to), 'pepe', b.amount)
      g.pepeMinted += b.amount
      st.setGlobals(g)
      return
    }
    case 'acquireBrainBurn': {
      const g = st.globals()
      const price = burnPrice(p, g.burnCount)
      if (price > b.maxCost) throw new BurnPriceAboveMax({ price: String(price), maxCost: String(b.maxCost) })
      const id = freeBrainId(g, p)
      st.debit(fromHex, 'pepe', price)
      const brain = newBrain(id, from, 'burn', ctx.height, p)
      brain.burnedPepe = price
      st.setBrain(brain)
      g.pepeBurned += price
      g.burnCount++
      g.brains = insertSorted(g.brains, id)
      st.setGlobals(g)
      return
    }
    case 'acquireBrainStake': {
      const g = st.globals()
      const id = freeBrainId(g, p)
      st.debit(fromHex, 'pepe', p.stakeBrainAmount)
      const brain = newBrain(id, from, 'stake', ctx.height, p)
      brain.lockedPepe = p.stakeBrainAmount
      brain.unlockAt = ctx.height + p.stakeLockBlocks
      st.setBrain(brain)
      g.pepeLocked += p.stakeBrainAmount
      g.brains = insertSorted(g.brains, id)
      st.setGlobals(g)
      return
    }
    case 'deactivateBrain': {
      const brain = st.brain(b.brain)
      if (!brain) throw new UnknownBrain({ brain: b.brain })
      if (brain.method === 'reserved') throw new ReservedBrain({ brain: b.brain })
      if (!bytesEqual(brain.owner, from)) throw new PermissionDenied({ reason: `not the owner of Brain #${b.brain}` })
      if (brain.method !== 'stake') throw new NotDeactivatable({ brain: b.brain, method: brain.method })
      if (ctx.height < brain.unlockAt) throw new StillLocked({ brain: b.brain, unlockAt: brain.unlockAt, height: ctx.height })
      // Final distribution of what the Brain earned, then every stake goes home and every slot is freed.
      runEpoch(st, brain, p, ctx.height, ctx.epochHook ?? equalPerformance)
      const settled = st.brain(b.brain) as Brain
      const g = st.globals()
      for (const role of ['validator', 'miner'] as const)
        for (const ck of st.members(b.brain, role)) removeParticipant(st, settled, g, ck, role)
      const direct = dissolvePool(st, b.brain, BRAIN_POOL)
      settled.stake -= direct
      g.totalStake -= direct
      st.credit(fromHex, 'pepe', settled.lockedPepe)
      g.pepeLocked -= settled.lockedPepe
      g.brains = g.brains.filter((id) => id !== b.brain)
      st.setBonds(b.brain, [])
      setBrainCredits(st, b.brain, [])
      st.setEpochRecord(b.brain, undefined)
      st.clearQueryEarnings(b.brain, OWNER_EARNINGS)
      clearBrainForecasts(st, b.brain)
      st.delBrain(b.brain)
      st.setGlobals(g)
      return
    }
    case 'transferBrain': {
      const brain = st.brain(b.brain)
      if (!brain) throw new UnknownBrain({ brain: b.brain })
      if (brain.method === 'reserved') throw new ReservedBrain({ brain: b.brain })
      if (!bytesEqual(brain.owner, from)) throw new PermissionDenied({ reason: `not the owner of Brain #${b.brain}` })
      if (brain.method !== 'burn') throw new BrainNotTransferable({ brain: b.brain, method: brain.method })
      brain.owner = b.to
      brain.rewardTo = b.to
      st.setBrain(brain)
      return
    }
    case 'setBrain': {
      const brain = ownedBrain(st, b.brain, from)
      const textOnly = b.key.length === 0 && b.value === 0n
      const valueOnly = b.key.length === 0 && b.text === ''
      switch (b.setting) {
        case 'name':
        case 'modelId':
        case 'weightsHash':
          if (!textOnly) throw new MalformedTx({ field: b.setting, reason: 'only `text` may be set' })
          brain[b.setting] = b.text
          break
        case 'rewardTo':
          if (b.key.length !== 32 || b.text !== '' || b.value !== 0n)
            throw new MalformedTx({ field: 'rewardTo', reason: 'only a 32-byte `key` may be set' })
          brain.rewardTo = b.key
          break
        case 'registrationFee':
          if (!valueOnly) throw new MalformedTx({ field: 'registrationFee', reason: 'only `value` may be set' })
          brain.registrationFee = b.value
          break
        case 'ownerBps':
        case 'minerBps':
          if (!valueOnly || b.value > 10_000n)
            throw new MalformedTx({ field: b.setting, reason: '`value` must be 0..10000 basis points' })
          brain[b.setting] = Number(b.value)
          break
        case 'queryPrice':
          if (!valueOnly) throw new MalformedTx({ field: 'queryPrice', reason: 'only `value` may be set' })
          brain.queryPrice = b.value
          break
      }
      st.setBrain(brain)
      return
    }
    case 'register': {
      const brain = st.brain(b.brain)
      if (!brain) throw new UnknownBrain({ brain: b.brain })
      const ckHex = toHex(b.computeKey)
      const bound = st.computeOwner(ckHex)
      if (bound && !bytesEqual(bound, from))
        throw new PermissionDenied({ reason: 'compute key is bound to another personal key' })
      if (st.participant(b.brain, ckHex)) throw new AlreadyRegistered({ brain: b.brain, key: ckHex })
      const fee = brain.registrationFee
      if (fee > b.maxFee) throw new RegistrationFeeAboveMax({ fee: String(fee), maxFee: String(b.maxFee) })
      const g = st.globals()
      const slots = b.role === 'validator' ? p.validatorSlots : p.minerSlots
      const count = b.role === 'validator' ? brain.validators : brain.miners
      if (count >= slots) {
        // Full: replace the lowest-scoring participant outside its immunity period (ties: oldest, then lowest uid).
        let victim: { key: Uint8Array; score: bigint; at: number; uid: number } | undefined
        for (const k of st.members(b.brain, b.role)) {
          const part = st.participant(b.brain, toHex(k))
          if (!part || part.registeredAt + p.immunityPeriod > ctx.height) continue
          const better =
            !victim ||
            part.score < victim.score ||
            (part.score === victim.score && (part.registeredAt < victim.at || (part.registeredAt === victim.at && part.uid < victim.uid)))
          if (better) victim = { key: k, score: part.score, at: part.registeredAt, uid: part.uid }
        }
        if (!victim) throw new SlotsFull({ brain: b.brain, role: b.role })
        removeParticipant(st, brain, g, victim.key, b.role)
      }
      st.debit(fromHex, 'based', fee)
      st.credit(toHex(brain.owner), 'based', fee)
      st.setParticipant(b.brain, ckHex, {
        owner: from, role: b.role, uid: brain.nextUid, registeredAt: ctx.height, feePaid: fee, score: 0n, stake: 0n,
      })
      brain.nextUid++
      if (b.role === 'validator') brain.validators++
      else brain.miners++
      st.setMembers(b.brain, b.role, [...st.members(b.brain, b.role), b.computeKey])
      if (!bound) st.setComputeOwner(ckHex, from)
      st.setBrain(brain)
      st.setGlobals(g)
      return
    }
    case 'addStake':
    case 'removeStake': {
      positive('amount', b.amount)
      const brain = st.brain(b.brain)
      if (!brain) throw new UnknownBrain({ brain: b.brain })
      const target = b.target.length === 0 ? BRAIN_POOL : toHex(b.target)
      const validator = target === BRAIN_POOL ? undefined : st.participant(b.brain, target)
      if (target !== BRAIN_POOL && (!validator || validator.role !== 'validator'))
        throw new UnknownParticipant({ brain: b.brain, key: target })
      const g = st.globals()
      const pos = st.position(b.brain, target, fromHex)
      let delta: bigint
      if (b.kind === 'addStake') {
        st.debit(fromHex, 'based', b.amount)
        if (pos === 0n) st.setPoolStakers(b.brain, target, [...st.poolStakers(b.brain, target), from])
        st.setPosition(b.brain, target, fromHex, pos + b.amount)
        delta = b.amount
      } else {
        if (pos < b.amount)
          throw new InsufficientFunds({ account: fromHex, asset: 'stake', needed: String(b.amount), available: String(pos) })
        st.setPosition(b.brain, target, fromHex, pos - b.amount)
        if (pos === b.amount)
          st.setPoolStakers(b.brain, target, st.poolStakers(b.brain, target).filter((k) => !bytesEqual(k, from)))
        st.credit(fromHex, 'based', b.amount)
        delta = -b.amount
      }
      if (validator) {
        validator.stake += delta
        st.setParticipant(b.brain, target, validator)
      } else brain.directStake += delta
      brain.stake += delta
      g.totalStake += delta
      st.setBrain(brain)
      st.setGlobals(g)
      return
    }
    case 'propose': {
      const [lo, hi] = GOVERNABLE_BOUNDS[b.param]
      if (b.value < lo || b.value > hi) throw new MalformedTx({ field: 'value', reason: `${b.param} must be in [${lo}, ${hi}]` })
      const g = st.globals()
      const isFoundation = !bytesEqual(p.foundation, ZERO32) && bytesEqual(p.foundation, from)
      const ownsGiga = g.brains.some((id) => {
        const br = st.brain(id)
        return br !== undefined && bytesEqual(br.owner, from) && isGigaBrain(br, g, p)
      })
      if (!isFoundation && !ownsGiga) throw new PermissionDenied({ reason: 'only the foundation or a GigaBrain owner proposes' })
      const id = g.nextProposal++
      st.setProposal({
        id, proposer: from, param: GOVERNABLE.indexOf(b.param),
        value: b.value, createdAt: ctx.height, deadline: ctx.height + p.votingPeriod, status: 'open', votes: [],
      })
      g.openProposals = insertSorted(g.openProposals, id)
      st.setGlobals(g)
      return
    }
    case 'vote': {
      const prop = st.proposal(b.proposal)
      if (!prop || prop.status !== 'open') throw new UnknownProposal({ proposal: b.proposal })
      const brain = ownedBrain(st, b.brain, from)
      if (!isGigaBrain(brain, st.globals(), p)) throw new NotGigaBrain({ brain: b.brain })
      if (prop.votes.some((v) => v.brain === b.brain)) throw new AlreadyVoted({ proposal: b.proposal, brain: b.brain })
      prop.votes.push({ brain: b.brain, approve: b.approve })
      st.setProposal(prop)
      return
    }
    case 'setWeights': {
      if (!st.brain(b.brain)) throw new UnknownBrain({ brain: b.brain })
      const ckHex = toHex(b.computeKey)
      const v = st.participant(b.brain, ckHex)
      if (!v || v.role !== 'validator') throw new UnknownParticipant({ brain: b.brain, key: ckHex })
      if (!bytesEqual(v.owner, from)) throw new PermissionDenied({ reason: 'only the validator\'s personal key sets its weights' })
      st.setWeights(b.brain, ckHex, b.uids, b.weights)
      st.setLastWeightsAt(b.brain, ckHex, ctx.height)
      return
    }
    case 'commitForecast':
      execCommit(st, from, b, ctx.height, p)
      return
    case 'revealForecast':
      execReveal(st, from, b, ctx.height, p)
      return
    case 'escrowOpen':
    case 'escrowAuthorize':
    case 'escrowClose':
    case 'escrowWithdraw':
    case 'escrowSettle':
      execEscrow(st, from, fromHex, b, ctx.height, p)
      return
    case 'serveMiner': {
      if (!st.brain(b.brain)) throw new UnknownBrain({ brain: b.brain })
      const ckHex = toHex(b.computeKey)
      const m = st.participant(b.brain, ckHex)
      if (!m || m.role !== 'miner') throw new UnknownParticipant({ brain: b.brain, key: ckHex })
      if (!bytesEqual(m.owner, from)) throw new PermissionDenied({ reason: 'only the personal key that registered the miner announces where it serves' })
      const bad = checkServe({ chainId: p.chainId, ...b }, b.computeSig, b.peerSig)
      if (bad) throw new InvalidServeRecord({ reason: bad, peerId: b.peerId })
      if (b.issuedAt > ctx.time + SERVE_MAX_SKEW_MS) throw new InvalidServeRecord({ reason: 'from_future', peerId: b.peerId })
      const current = st.served(b.brain, ckHex)
      if (current && current.issuedAt >= b.issuedAt) throw new InvalidServeRecord({ reason: 'stale', peerId: b.peerId })
      st.setServed(b.brain, ckHex, {
        peerId: b.peerId, addrs: b.addrs, actor: b.actor, issuedAt: b.issuedAt, servedAt: ctx.height, computeSig: b.computeSig, peerSig: b.peerSig,
      })
      return
    }
  }
}
