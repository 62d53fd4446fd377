/**
 * Typed access to the state records over any {@link KV}. Holds no state of its own besides the KV: build one per
 * transaction (over that transaction's overlay) or per block.
 */
import { toHex } from './codec.ts'
import type { KV } from './kv.ts'
import {
  K, decodeAccount, decodeAmount, decodeBrain, decodeGlobals, decodeKeyList, decodeParticipant, decodeProposal,
  encodeAccount, encodeAmount, encodeBrain, encodeGlobals, encodeKeyList, encodeParticipant, encodeProposal,
  encodeWeights, decodeWeights, encodeBonds, decodeBonds, encodeEpochRecord, decodeEpochRecord,
  encodeEscrow, decodeEscrow, encodeTab, decodeTab, encodeServeRecord, decodeServeRecord,
  type Account, type EpochRecord, type Brain, type Escrow, type Globals, type Participant, type Proposal, type Tab,
} from './records.ts'
import { CorruptState, InsufficientFunds } from './errors.ts'
import { decodeParams, encodeParams, type Params } from './params.ts'
import type { Role } from './tx.ts'
import type { ServeRecord } from './serve.ts'

export class State {
  readonly kv: KV
  constructor(kv: KV) {
    this.kv = kv
  }
  params(): Params {
    const b = this.kv.get(K.params)
    if (!b) throw new CorruptState({ key: K.params, reason: 'missing (no genesis?)' })
    try {
      return decodeParams(b)
    } catch (e) {
      throw new CorruptState({ key: K.params, reason: String(e) })
    }
  }
  setParams(p: Params): void {
    this.kv.put(K.params, encodeParams(p))
  }
  globals(): Globals {
    const b = this.kv.get(K.globals)
    if (!b) throw new CorruptState({ key: K.globals, reason: 'missing (no genesis?)' })
    return decodeGlobals(K.globals, b)
  }
  setGlobals(g: Globals): void {
    this.kv.put(K.globals, encodeGlobals(g))
  }
  account(pubHex: string): Account | undefined {
    const key = K.account(pubHex)
    const b = this.kv.get(key)
    return b ? decodeAccount(key, b) : undefined
  }
  setAccount(pubHex: string, a: Account): void {
    this.kv.put(K.account(pubHex), encodeAccount(a))
  }
  /** Adds to a balance, creating the account when absent. */
  credit(pubHex: string, asset: 'based' | 'pepe', amount: bigint): void {
    if (amount === 0n) return
    const a = this.account(pubHex) ?? { based: 0n, pepe: 0n, nonce: 0n }
    a[asset] += amount
    this.setAccount(pubHex, a)
  }
  /** Subtracts from a balance; {@link InsufficientFunds} when it would go negative. */
  debit(pubHex: string, asset: 'based' | 'pepe', amount: bigint): void {
    if (amount === 0n) return
    const a = this.account(pubHex) ?? { based: 0n, pepe: 0n, nonce: 0n }
    if (a[asset] < amount)
      throw new InsufficientFunds({ account: pubHex, asset, needed: String(amount), available: String(a[asset]) })
    a[asset] -= amount
    this.setAccount(pubHex, a)
  }
  brain(id: number): Brain | undefined {
    const key = K.brain(id)
    const b = this.kv.get(key)
    return b ? decodeBrain(key, b) : undefined
  }
  setBrain(b: Brain): void {
    this.kv.put(K.brain(b.id), encodeBrain(b))
  }
  delBrain(id: number): void {
    this.kv.del(K.brain(id))
  }
  participant(brain: number, ckHex: string): Participant | undefined {
    const key = K.participant(brain, ckHex)
    const b = this.kv.get(key)
    return b ? decodeParticipant(key, b) : undefined
  }
  setParticipant(brain: number, ckHex: string, p: Participant): void {
    this.kv.put(K.participant(brain, ckHex), encodeParticipant(p))
  }
  delParticipant(brain: number, ckHex: string): void {
    this.kv.del(K.participant(brain, ckHex))
  }
  members(brain: number, role: Role): Uint8Array[] {
    const key = K.members(brain, role)
    const b = this.kv.get(key)
    return b ? decodeKeyList(key, b) : []
  }
  setMembers(brain: number, role: Role, keys: readonly Uint8Array[]): void {
    if (keys.length === 0) this.kv.del(K.members(brain, role))
    else this.kv.put(K.members(brain, role), encodeKeyList(keys))
  }
  position(brain: number, target: string, stakerHex: string): bigint {
    const key = K.position(brain, target, stakerHex)
    const b = this.kv.get(key)
    return b ? decodeAmount(key, b) : 0n
  }
  setPosition(brain: number, target: string, stakerHex: string, amount: bigint): void {
    if (amount === 0n) this.kv.del(K.position(brain, target, stakerHex))
    else this.kv.put(K.position(brain, target, stakerHex), encodeAmount(amount))
  }
  poolStakers(brain: number, target: string): Uint8Array[] {
    const key = K.pool(brain, target)
    const b = this.kv.get(key)
    return b ? decodeKeyList(key, b) : []
  }
  setPoolStakers(brain: number, target: string, keys: readonly Uint8Array[]): void {
    if (keys.length === 0) this.kv.del(K.pool(brain, target))
    else this.kv.put(K.pool(brain, target), encodeKeyList(keys))
  }
  computeOwner(ckHex: string): Uint8Array | undefined {
    return this.kv.get(K.computeKey(ckHex))
  }
  setComputeOwner(ckHex: string, owner: Uint8Array): void {
    this.kv.put(K.computeKey(ckHex), owner)
  }
  mintRefUsed(refHex: string): boolean {
    return this.kv.get(K.mintRef(refHex)) !== undefined
  }
  useMintRef(refHex: string): void {
    this.kv.put(K.mintRef(refHex), new Uint8Array([1]))
  }
  proposal(id: number): Proposal | undefined {
    const key = K.proposal(id)
    const b = this.kv.get(key)
    return b ? decodeProposal(key, b) : undefined
  }
  setProposal(p: Proposal): void {
    this.kv.put(K.proposal(p.id), encodeProposal(p))
  }
  weights(brain: number, ckHex: string): Array<readonly [number, number]> {
    const key = K.weights(brain, ckHex)
    const b = this.kv.get(key)
    return b ? decodeWeights(key, b) : []
  }
  setWeights(brain: number, ckHex: string, uids: readonly number[], weights: readonly number[]): void {
    if (uids.length === 0) this.kv.del(K.weights(brain, ckHex))
    else this.kv.put(K.weights(brain, ckHex), encodeWeights(uids, weights))
  }
  bonds(brain: number): Array<readonly [number, number, number]> {
    const key = K.bonds(brain)
    const b = this.kv.get(key)
    return b ? decodeBonds(key, b) : []
  }
  setBonds(brain: number, bonds: ReadonlyArray<readonly [number, number, number]>): void {
    if (bonds.length === 0) this.kv.del(K.bonds(brain))
    else this.kv.put(K.bonds(brain), encodeBonds(bonds))
  }
  /** The Brain's last epoch outputs, or undefined before its first epoch (or on a ledger written before they were stored). */
  epochRecord(brain: number): EpochRecord | undefined {
    const key = K.epoch(brain)
    const b = this.kv.get(key)
    return b ? decodeEpochRecord(key, b) : undefined
  }
  setEpochRecord(brain: number, e: EpochRecord | undefined): void {
    if (e === undefined) this.kv.del(K.epoch(brain))
    else this.kv.put(K.epoch(brain), encodeEpochRecord(e))
  }
  /** Height of the participant's last `setWeights`, or undefined when it has not set any since it registered. */
  lastWeightsAt(brain: number, ckHex: string): number | undefined {
    const key = K.lastUpdate(brain, ckHex)
    const b = this.kv.get(key)
    return b ? Number(decodeAmount(key, b)) : undefined
  }
  setLastWeightsAt(brain: number, ckHex: string, height: number | undefined): void {
    if (height === undefined) this.kv.del(K.lastUpdate(brain, ckHex))
    else this.kv.put(K.lastUpdate(brain, ckHex), encodeAmount(BigInt(height)))
  }
  /** The payer's spending account on a Brain, or undefined. */
  escrow(payerHex: string, brain: number): Escrow | undefined {
    const key = K.escrow(payerHex, brain)
    const b = this.kv.get(key)
    return b ? decodeEscrow(key, b) : undefined
  }
  setEscrow(payerHex: string, brain: number, e: Escrow | undefined): void {
    if (e === undefined) this.kv.del(K.escrow(payerHex, brain))
    else this.kv.put(K.escrow(payerHex, brain), encodeEscrow(e))
  }
  tab(sessionHashHex: string): Tab | undefined {
    const key = K.tab(sessionHashHex)
    const b = this.kv.get(key)
    return b ? decodeTab(key, b) : undefined
  }
  setTab(sessionHashHex: string, t: Tab | undefined): void {
    if (t === undefined) this.kv.del(K.tab(sessionHashHex))
    else this.kv.put(K.tab(sessionHashHex), encodeTab(t))
  }
  receiptSettled(hashHex: string): boolean {
    return this.kv.get(K.settled(hashHex)) !== undefined
  }
  markReceiptSettled(hashHex: string): void {
    this.kv.put(K.settled(hashHex), new Uint8Array([1]))
  }
  /** $BASED a participant (compute key hex, or `-` for the owner) has earned from paid queries on a Brain. */
  queryEarnings(brain: number, ckHex: string): bigint {
    const key = K.queryEarnings(brain, ckHex)
    const b = this.kv.get(key)
    return b ? decodeAmount(key, b) : 0n
  }
  addQueryEarnings(brain: number, ckHex: string, amount: bigint): void {
    if (amount === 0n) return
    this.kv.put(K.queryEarnings(brain, ckHex), encodeAmount(this.queryEarnings(brain, ckHex) + amount))
  }
  clearQueryEarnings(brain: number, ckHex: string): void {
    this.kv.del(K.queryEarnings(brain, ckHex))
  }
  /** Where a miner of the Brain serves (its last `serveMiner`), or undefined. */
  served(brain: number, ckHex: string): ServeRecord | undefined {
    const key = K.served(brain, ckHex)
    const b = this.kv.get(key)
    return b ? decodeServeRecord(key, b) : undefined
  }
  setServed(brain: number, ckHex: string, r: ServeRecord | undefined): void {
    if (r === undefined) this.kv.del(K.served(brain, ckHex))
    else this.kv.put(K.served(brain, ckHex), encodeServeRecord(r))
  }
}

export { toHex }
