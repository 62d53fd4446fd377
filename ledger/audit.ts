/**
 * Whole-state audits (O(state); for tests, tools and restarts, not the hot path).
 */
import type { KVRead } from './kv.ts'
import { decodeAccount, decodeAmount, decodeBrain, decodeEscrow, decodeGlobals, K } from './records.ts'

export interface SupplyReport {
  readonly ok: boolean
  /** Σ account.based + Σ positions + Σ brain.pending + Σ spending-account balances */
  readonly basedHeld: bigint
  /** basedGenesis + emitted */
  readonly basedIssued: bigint
  /** Σ account.pepe + Σ brain.lockedPepe */
  readonly pepeHeld: bigint
  /** pepeGenesis + pepeMinted − pepeBurned */
  readonly pepeIssued: bigint
  /** Σ positions */
  readonly staked: bigint
  /** globals.totalStake */
  readonly totalStake: bigint
  /** Σ brain.stake (must equal totalStake) */
  readonly brainStake: bigint
  /** Σ spending-account (escrow) balances, part of basedHeld */
  readonly escrowed: bigint
}

export function auditSupply(kv: KVRead): SupplyReport {
  const gb = kv.get(K.globals)
  if (!gb) throw new Error('no globals')
  const g = decodeGlobals(K.globals, gb)
  let based = 0n
  let pepe = 0n
  for (const [k, v] of kv.scan('a:')) {
    const a = decodeAccount(k, v)
    based += a.based
    pepe += a.pepe
  }
  let staked = 0n
  for (const [k, v] of kv.scan('s:')) staked += decodeAmount(k, v)
  let pending = 0n
  let locked = 0n
  let brainStake = 0n
  for (const [k, v] of kv.scan('b:')) {
    const b = decodeBrain(k, v)
    pending += b.pending
    locked += b.lockedPepe
    brainStake += b.stake
  }
  let escrowed = 0n
  for (const [k, v] of kv.scan('x:')) escrowed += decodeEscrow(k, v).balance
  const basedHeld = based + staked + pending + escrowed
  const basedIssued = g.basedGenesis + g.emitted
  const pepeHeld = pepe + locked
  const pepeIssued = g.pepeGenesis + g.pepeMinted - g.pepeBurned
  return {
    ok: basedHeld === basedIssued && pepeHeld === pepeIssued && staked === g.totalStake && brainStake === g.totalStake && locked === g.pepeLocked,
    basedHeld, basedIssued, pepeHeld, pepeIssued, staked, totalStake: g.totalStake, brainStake, escrowed,
  }
}
