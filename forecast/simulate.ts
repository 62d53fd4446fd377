/**
 * A long simulated chain from the dev cluster's economy, deterministic in its seed: the per-Brain and chain-wide
 * series a validator's forecaster reads, aggregated into windows of `blocksPerStep` blocks (360 blocks ≈ one hour at
 * the 10 s target). See docs/FORECAST.md for the processes; in short:
 *
 * - **Emission** follows the ledger's rules from ledger/params.ts: the block reward is `initialBlockReward >>
 *   ⌊h / halvingInterval⌋`, summed exactly over the blocks of each window (a halving may fall inside one), and split
 *   across Brains in proportion to `min(stake, cap)` with `cap = brainStakeCapBps` of the network's total stake (the
 *   rest of the network, outside the simulated Brains, holds a fixed stake). The top-30 % bonus and the performance
 *   factor are left out (performance is 1 in the ledger until consensus supplies scores).
 * - **Demand** per Brain: Poisson queries with rate base · growth(t) · daily(t) · weekly(t) · exp(z_t), where the daily
 *   and weekly profiles depend on the Brain's template, growth is a per-Brain linear trend, and z is an AR(1) log
 *   shock. Queries **settled** are capped by the Brain's miner capacity (60 per miner per window).
 * - **Registrations**: Poisson, more frequent when a Brain runs near capacity; idle miners occasionally leave.
 * - **Stake flows**: multiplicative random walk whose drift follows utilisation and the emission yield (so a halving
 *   slows stake growth), with rare large moves.
 * - **Transactions** (chain-wide): settlement batches, registrations, stake moves and background traffic with its own
 *   daily cycle; **fees** from the ledger's fee rule (baseFee + byteFee × bytes) with a congestion premium; **block
 *   time** rises with load around the 10 s target.
 */
import { defaultParams, type Params } from '../ledger/params.ts'
import { gaussian, mulberry32 } from '../numeric/prng.ts'
import { InvalidSeries } from './errors.ts'

export interface ChainSimOptions {
  readonly seed?: number
  readonly brains?: number
  readonly days?: number
  /** Blocks per window (default 360). */
  readonly blocksPerStep?: number
  /** Height of the first block (default: 60 days before the first halving, so the halving falls inside). */
  readonly startHeight?: number
  readonly params?: Params
}

/** Windows per day and per week of the simulated calendar (one window ≈ one hour). */
export const STEPS_PER_DAY = 24
export const STEPS_PER_WEEK = 168

export interface SimulatedChain {
  readonly steps: number
  readonly brains: number
  readonly blocksPerStep: number
  readonly startHeight: number
  readonly halvingInterval: number
  /** Template of each Brain (0 = chat, 1 = code): a static covariate. */
  readonly template: readonly number[]
  /** Height of each window's first block. */
  readonly height: Float64Array
  /** Chain-wide per window. */
  readonly transactions: Float64Array
  readonly fees: Float64Array
  /** Mean block time (ms). */
  readonly blockTimeMs: Float64Array
  /** Per Brain per window ([brain][step]). */
  readonly queries: readonly Float64Array[]
  readonly emission: readonly Float64Array[]
  readonly stake: readonly Float64Array[]
  readonly registrations: readonly Float64Array[]
}

function poisson(r: () => number, lambda: number): number {
  if (lambda <= 0) return 0
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian(r)))
  const l = Math.exp(-lambda)
  let k = 0
  let p = 1
  do {
    k++
    p *= r()
  } while (p > l)
  return k - 1
}

/** Σ of the ledger's block reward over heights [from, from + count) in whole $BASED (exact up to 2^53 units). */
export function rewardOverBlocks(p: Params, from: number, count: number): number {
  let total = 0n
  let h = from
  const end = from + count
  while (h < end) {
    const halvings = Math.floor(h / p.halvingInterval)
    const next = Math.min(end, (halvings + 1) * p.halvingInterval)
    const reward = halvings >= 128 ? 0n : p.initialBlockReward >> BigInt(halvings)
    total += reward * BigInt(next - h)
    h = next
  }
  return Number(total) / 1e9
}

/** Simulates the chain; same options → bit-identical series. */
export function simulateChain(opts: ChainSimOptions = {}): SimulatedChain {
  const p = opts.params ?? defaultParams()
  const seed = opts.seed ?? 1
  const B = opts.brains ?? 8
  const days = opts.days ?? 120
  const bps = opts.blocksPerStep ?? 360
  const startHeight = opts.startHeight ?? Math.max(1, p.halvingInterval - 60 * STEPS_PER_DAY * bps)
  for (const [field, v] of [['brains', B], ['days', days], ['blocksPerStep', bps], ['startHeight', startHeight]] as const) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new InvalidSeries({ field, reason: 'must be a positive integer' })
  }
  const steps = days * STEPS_PER_DAY
  const r = mulberry32(seed)
  const template = Array.from({ length: B }, (_, b) => b % 2)
  const base = Array.from({ length: B }, () => 250 * Math.exp(0.5 * gaussian(r)))
  const growth = Array.from({ length: B }, () => -0.002 + 0.01 * r()) // per day
  const phase = Array.from({ length: B }, () => Math.floor(r() * 4) - 2) // hours of shift in the daily peak
  const miners = Array.from({ length: B }, (_, b) => Math.ceil(((base[b] as number) * 1.6) / 60) + poisson(r, 2))
  const stakeNow = Array.from({ length: B }, () => 20_000 * Math.exp(0.4 * gaussian(r)))
  const z = new Array<number>(B).fill(0)
  const restStake = 4_000_000 // stake of the rest of the network
  const bytesPerTx = 300
  const feePerTx = Number(p.baseFee + p.byteFee * BigInt(bytesPerTx)) // smallest units

  const height = new Float64Array(steps)
  const transactions = new Float64Array(steps)
  const fees = new Float64Array(steps)
  const blockTimeMs = new Float64Array(steps)
  const queries = Array.from({ length: B }, () => new Float64Array(steps))
  const emission = Array.from({ length: B }, () => new Float64Array(steps))
  const stake = Array.from({ length: B }, () => new Float64Array(steps))
  const registrations = Array.from({ length: B }, () => new Float64Array(steps))
  const yieldRef = rewardOverBlocks(p, startHeight, bps) / (restStake + 8 * 20_000)

  for (let t = 0; t < steps; t++) {
    const h0 = startHeight + t * bps
    height[t] = h0
    const hour = t % STEPS_PER_DAY
    const dow = Math.floor(t / STEPS_PER_DAY) % 7
    const day = t / STEPS_PER_DAY
    const reward = rewardOverBlocks(p, h0, bps)
    let totalStake = restStake
    for (let b = 0; b < B; b++) totalStake += stakeNow[b] as number
    const cap = (totalStake * p.brainStakeCapBps) / 10_000
    let weightSum = Math.min(restStake, cap * 200) // the rest of the network: ~200 Brains at the cap
    for (let b = 0; b < B; b++) weightSum += Math.min(stakeNow[b] as number, cap)
    let tx = 0
    for (let b = 0; b < B; b++) {
      const hb = (hour + (phase[b] as number) + STEPS_PER_DAY) % STEPS_PER_DAY
      const daily = template[b] === 0
        ? 1 + 0.6 * Math.cos((2 * Math.PI * (hb - 14)) / 24)
        : 1 + 0.35 * Math.cos((2 * Math.PI * (hb - 10)) / 24) + 0.25 * Math.cos((4 * Math.PI * (hb - 20)) / 24)
      const weekly = template[b] === 0 ? (dow >= 5 ? 1.25 : 0.95) : dow >= 5 ? 0.6 : 1.1
      z[b] = 0.92 * (z[b] as number) + 0.08 * gaussian(r)
      const trend = Math.max(0.2, 1 + (growth[b] as number) * day)
      const demand = poisson(r, (base[b] as number) * trend * daily * weekly * Math.exp(z[b] as number))
      const capacity = 60 * (miners[b] as number)
      const settled = Math.min(demand, capacity)
      const util = settled / capacity
      const regs = poisson(r, 0.03 + 1.5 * Math.max(0, demand / capacity - 0.85))
      miners[b] = (miners[b] as number) + regs
      if (util < 0.25 && (miners[b] as number) > 3 && r() < 0.01) miners[b] = (miners[b] as number) - 1
      const em = (reward * Math.min(stakeNow[b] as number, cap)) / weightSum
      const yieldNow = em / (stakeNow[b] as number)
      let s = (stakeNow[b] as number) * (1 + 0.0003 * (util - 0.5) + 0.0003 * (yieldNow / yieldRef - 1) + 0.002 * gaussian(r))
      if (r() < 0.002) s *= 1 + 0.2 * gaussian(r)
      stakeNow[b] = Math.max(1000, s)
      const stakeTx = poisson(r, 4)
      tx += Math.ceil(settled / 20) + regs + stakeTx
      queries[b]![t] = settled
      emission[b]![t] = em
      stake[b]![t] = stakeNow[b] as number
      registrations[b]![t] = regs
    }
    tx += poisson(r, 150 * (1 + 0.3 * Math.cos((2 * Math.PI * (hour - 16)) / 24)))
    transactions[t] = tx
    const load = tx / bps
    fees[t] = tx * feePerTx * (1 + Math.max(0, load - 0.5))
    blockTimeMs[t] = p.blockTimeMs * (1 + 0.01 * load) + 60 * gaussian(r)
  }
  return {
    steps, brains: B, blocksPerStep: bps, startHeight, halvingInterval: p.halvingInterval, template, height,
    transactions, fees, blockTimeMs, queries, emission, stake, registrations,
  }
}
