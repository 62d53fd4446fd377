/**
 * Genesis: parameters, initial $BASED and Pepecoin balances, and the reserved foundation Brains (#0–#6, #47,
 * owned by `params.foundation` when one is set). Genesis is block 0: its header has the genesis state root, a zero
 * parent hash, a zero transactions root and a zero proposer.
 */
import { toHex } from './codec.ts'
import { InvalidGenesis } from './errors.ts'
import { MemoryKV } from './kv.ts'
import { newBrain } from './apply.ts'
import type { Params } from './params.ts'
import { State } from './state.ts'

export interface GenesisAccount {
  readonly publicKey: Uint8Array
  readonly based?: bigint
  readonly pepe?: bigint
}
export interface GenesisConfig {
  readonly params: Params
  /** Genesis time (ms since the epoch). */
  readonly time: number
  readonly accounts: readonly GenesisAccount[]
}

const ZERO32 = new Uint8Array(32)

/** The genesis state as key/value entries. {@link InvalidGenesis} on inconsistent input. */
export function genesisEntries(cfg: GenesisConfig): Map<string, Uint8Array> {
  const p = cfg.params
  if (p.reservedBrains.some((id) => !Number.isInteger(id) || id < 0 || id >= p.maxBrains))
    throw new InvalidGenesis({ reason: 'reserved Brain id outside 0..maxBrains-1' })
  if (new Set(p.reservedBrains).size !== p.reservedBrains.length) throw new InvalidGenesis({ reason: 'duplicate reserved id' })
  if (p.blockTimeMs <= 0 || p.halvingInterval <= 0 || p.tempo <= 0) throw new InvalidGenesis({ reason: 'non-positive interval' })
  if (p.forecastBlocksPerYear < 1) throw new InvalidGenesis({ reason: 'forecastBlocksPerYear must be ≥ 1' })
  if (p.forecastPeriod > 0) {
    if (p.forecastBlocksPerStep < 1 || p.forecastHorizon < 1 || p.forecastCommitLead < 1 || p.forecastRevealWindow < 1)
      throw new InvalidGenesis({ reason: 'forecast step, horizon, commit lead and reveal window must be ≥ 1' })
    if (p.forecastPeriod % p.forecastBlocksPerStep !== 0)
      throw new InvalidGenesis({ reason: 'forecastPeriod must be a multiple of forecastBlocksPerStep' })
    if (p.forecastHorizon * 3 > 4096) throw new InvalidGenesis({ reason: 'forecastHorizon × 3 quantiles above 4096 values' })
  }
  const kv = new MemoryKV()
  const st = new State(kv)
  st.setParams(p)
  let based = 0n
  let pepe = 0n
  const seen = new Set<string>()
  for (const a of cfg.accounts) {
    if (a.publicKey.length !== 32) throw new InvalidGenesis({ reason: 'public key must be 32 bytes' })
    const h = toHex(a.publicKey)
    if (seen.has(h)) throw new InvalidGenesis({ reason: `duplicate account ${h}` })
    seen.add(h)
    const b = a.based ?? 0n
    const q = a.pepe ?? 0n
    if (b < 0n || q < 0n) throw new InvalidGenesis({ reason: 'negative balance' })
    st.setAccount(h, { based: b, pepe: q, nonce: 0n })
    based += b
    pepe += q
  }
  if (based > (1n << 128n) - 1n || pepe > (1n << 128n) - 1n) throw new InvalidGenesis({ reason: 'supply above 2^128-1' })
  const brains: number[] = []
  if (!p.foundation.every((x, i) => x === ZERO32[i])) {
    for (const id of [...p.reservedBrains].sort((x, y) => x - y)) {
      st.setBrain(newBrain(id, p.foundation, 'reserved', 0, p))
      brains.push(id)
    }
  }
  st.setGlobals({
    height: 0, lastHash: new Uint8Array(32), lastTime: cfg.time, totalStake: 0n, emitted: 0n, basedGenesis: based,
    pepeGenesis: pepe, pepeMinted: 0n, pepeBurned: 0n, pepeLocked: 0n, burnCount: 0, nextProposal: 0, brains,
    openProposals: [],
  })
  return kv.map
}
