/**
 * Read-only queries the ledger actor answers for participants' tools (`based metagraph`, `based brain list`,
 * `based chain block`, `based chain supply`): plain functions of a {@link Ledger}, no writes.
 *
 * - {@link metagraphOf}: a Brain's record and one row per participant (uid order) — compute key, owner, role,
 *   pool stake, the last epoch's score, validator permit (the same 70th-percentile rule emission uses), registration
 *   height and fee, number of stored weights; the Brain's tempo and last epoch height (by the current tempo); from
 *   the Brain's epoch record (`e:<id>`, written by every epoch) each uid's rank, trust, consensus, incentive,
 *   dividends (⌊x × 10⁹⌉, null before the uid's first epoch or when the hook gave none) and the emission paid for it;
 *   last update = the height of the validator's last `setWeights`, else its registration.
 * - {@link blockOf}: a stored block's header and its transactions (hash, kind, sender, nonce, fee).
 * - {@link ledgerStats}: the supply audit of audit.ts (O(state)), the next burn price and open proposals.
 * - {@link forecastSeriesOf}: a Brain's realised forecasting series, open rounds' commitments, accuracy sums.
 */
import { auditSupply } from './audit.ts'
import { decodeBlock, blockHash } from './block.ts'
import { Reader, toHex } from './codec.ts'
import { FORECAST_QUANTILES_PPM, ForecastKeys, forecastEnabled, readAccuracySums, readCommit, scoreDelay } from './forecast.ts'
import { toAddress } from './keys.ts'
import { burnPrice } from './params.ts'
import { OWNER_EARNINGS } from './escrow.ts'
import { Overlay } from './kv.ts'
import type { Ledger } from './ledger.ts'
import { activeMask } from './math.ts'
import { State } from './state.ts'
import { serveRecordData } from './serve.ts'
import { decodeTx } from './tx.ts'

export interface BrainSummaryData {
  readonly id: number
  readonly owner: string
  readonly method: 'burn' | 'stake' | 'reserved'
  readonly acquiredAt: number
  readonly unlockAt: number
  readonly lockedPepe: string
  readonly burnedPepe: string
  readonly name: string
  readonly modelId: string
  readonly weightsHash: string
  readonly rewardTo: string
  readonly registrationFee: string
  readonly ownerBps: number
  readonly minerBps: number
  readonly validators: number
  readonly miners: number
  readonly directStake: string
  readonly stake: string
  readonly pending: string
  readonly performance: string
  /** $BASED base units per 1,000 compute units for a query (§3.5.1); '0': free. */
  readonly queryPrice: string
  /** What the owner (its `rewardTo`) has earned from paid queries on this Brain. */
  readonly ownerQueryEarned: string
}
export interface MetagraphRowData {
  readonly uid: number
  readonly role: 'miner' | 'validator'
  readonly computeKey: string
  readonly owner: string
  readonly stake: string
  readonly score: string
  readonly validatorPermit: boolean
  readonly registeredAt: number
  readonly feePaid: string
  readonly weights: number
  /** ⌊x × 10⁹⌉ from the last epoch (decimal strings); null when the epoch record has no consensus columns for the uid. */
  readonly rank: string | null
  readonly trust: string | null
  readonly consensus: string | null
  readonly incentive: string | null
  readonly dividends: string | null
  /** Base units paid for the uid by the last epoch (its incentive share + its validator pool's part); null: not in it. */
  readonly emission: string | null
  /** Height of the last `setWeights` (validators) or of the registration. */
  readonly lastUpdate: number
  /** $BASED base units this uid has earned from paid queries (miner share, or a validator's share) since it registered. */
  readonly queryEarned: string
  /** Where the miner serves (its last `serveMiner`, ledger/serve.ts); absent when it announced none. */
  readonly serving?: ReturnType<typeof serveRecordData>
}
/** The stored epoch record's totals: the Brain's last epoch height, its owner cut and its own pool's part. */
export interface EpochTotalsData {
  readonly height: number
  readonly ownerCut: string
  readonly brainPool: string
}

/** The metagraph of Brain `id`, or undefined when no such Brain is active. */
export function metagraphOf(ledger: Ledger, id: number): {
  height: number; tempo: number; lastEpoch: number | null; epoch: EpochTotalsData | null; brain: BrainSummaryData; rows: MetagraphRowData[]
} | undefined {
  const st = new State(new Overlay(ledger.store))
  const b = st.brain(id)
  if (!b) return undefined
  const validators = st.members(id, 'validator')
  const miners = st.members(id, 'miner')
  const vparts = validators.map((k) => ({ k, p: st.participant(id, toHex(k)) }))
  const permit = activeMask(vparts.map((v) => v.p?.stake ?? 0n), st.params().activeValidatorPercentile)
  const er = st.epochRecord(id)
  const epochRows = new Map((er?.rows ?? []).map((r) => [r.uid, r] as const))
  const rows: MetagraphRowData[] = []
  const row = (k: Uint8Array, active: boolean): void => {
    const hex = toHex(k)
    const p = st.participant(id, hex)
    if (!p) return
    const e = epochRows.get(p.uid)
    const m = e?.metrics
    const served = p.role === 'miner' ? st.served(id, hex) : undefined
    rows.push({
      uid: p.uid, role: p.role, computeKey: toAddress(k), owner: toAddress(p.owner), stake: String(p.stake), score: String(p.score),
      validatorPermit: p.role === 'validator' && active, registeredAt: p.registeredAt, feePaid: String(p.feePaid),
      weights: p.role === 'validator' ? st.weights(id, hex).length : 0,
      rank: m ? String(m.rank) : null, trust: m ? String(m.trust) : null, consensus: m ? String(m.consensus) : null,
      incentive: m ? String(m.incentive) : null, dividends: m ? String(m.dividends) : null, emission: e ? String(e.emission) : null,
      lastUpdate: Math.max(p.registeredAt, st.lastWeightsAt(id, hex) ?? 0),
      queryEarned: String(st.queryEarnings(id, hex)),
      ...(served ? { serving: serveRecordData(served) } : {}),
    })
  }
  vparts.forEach((v, i) => row(v.k, permit[i] === true))
  for (const k of miners) row(k, false)
  rows.sort((x, y) => x.uid - y.uid)
  const height = ledger.head().height
  const tempo = st.params().tempo
  // Epochs run at heights h with (h + id) % tempo = 0 (emission.ts), from the block after the Brain was acquired.
  const last = height - ((((height + id) % tempo) + tempo) % tempo)
  return {
    height,
    tempo,
    lastEpoch: last >= b.acquiredAt ? last : null,
    epoch: er ? { height: er.height, ownerCut: String(er.ownerCut), brainPool: String(er.brainPool) } : null,
    brain: {
      id: b.id, owner: toAddress(b.owner), method: b.method, acquiredAt: b.acquiredAt, unlockAt: b.unlockAt,
      lockedPepe: String(b.lockedPepe), burnedPepe: String(b.burnedPepe), name: b.name, modelId: b.modelId, weightsHash: b.weightsHash,
      rewardTo: toAddress(b.rewardTo), registrationFee: String(b.registrationFee), ownerBps: b.ownerBps, minerBps: b.minerBps,
      validators: b.validators, miners: b.miners, directStake: String(b.directStake), stake: String(b.stake), pending: String(b.pending),
      performance: String(b.performance), queryPrice: String(b.queryPrice), ownerQueryEarned: String(st.queryEarnings(id, OWNER_EARNINGS)),
    },
    rows,
  }
}

export interface BlockTxData {
  readonly hash: string
  readonly kind: string
  readonly from: string
  readonly nonce: string
  readonly fee: string
}
/** Block `height` as stored, or undefined when the ledger has no such block. */
export function blockOf(ledger: Ledger, height: number): {
  height: number; hash: string; parentHash: string; stateRoot: string; txRoot: string; time: number; proposer: string; txs: BlockTxData[]
} | undefined {
  const bytes = ledger.store.block(height)
  if (!bytes) return undefined
  const { header, txs } = decodeBlock(bytes)
  return {
    height: header.height, hash: toHex(blockHash(header)), parentHash: toHex(header.parentHash), stateRoot: toHex(header.stateRoot),
    txRoot: toHex(header.txRoot), time: header.time, proposer: toAddress(header.proposer),
    txs: txs.map((t) => {
      const d = decodeTx(t)
      return { hash: toHex(d.hash), kind: d.tx.body.kind, from: toAddress(d.tx.from), nonce: String(d.tx.nonce), fee: String(d.tx.fee) }
    }),
  }
}

/** Supply audit and a few globals. */
export function ledgerStats(ledger: Ledger): {
  height: number; supplyOk: boolean; basedIssued: string; basedHeld: string; pepeIssued: string; pepeHeld: string; staked: string
  totalStake: string; emitted: string; burnCount: number; nextBurnPrice: string; stakeBrainAmount: string; nextProposal: number
  openProposals: number[]; escrowed: string
} {
  const a = auditSupply(ledger.store)
  const g = ledger.globals()
  const p = ledger.params()
  return {
    height: ledger.head().height, supplyOk: a.ok, basedIssued: String(a.basedIssued), basedHeld: String(a.basedHeld),
    pepeIssued: String(a.pepeIssued), pepeHeld: String(a.pepeHeld), staked: String(a.staked), totalStake: String(a.totalStake),
    emitted: String(g.emitted), burnCount: g.burnCount, nextBurnPrice: String(burnPrice(p, g.burnCount)),
    stakeBrainAmount: String(p.stakeBrainAmount), nextProposal: g.nextProposal, openProposals: [...g.openProposals],
    escrowed: String(a.escrowed),
  }
}

/** One spending account of a payer (GetEscrows). */
export interface EscrowData {
  readonly brain: number
  readonly balance: string
  /** 0 while open; else the height from which the balance can be withdrawn. */
  readonly unlockAt: number
  /** Sessions authorized and not used up. */
  readonly openSessions: number
  /** The Brain's current price per 1,000 compute units ('0' when the Brain no longer exists). */
  readonly queryPrice: string
}
/** Every spending account of the payer (public key), Brain ids ascending. */
export function escrowsOf(ledger: Ledger, payer: Uint8Array): { withdrawDelay: number; escrows: EscrowData[] } {
  const st = new State(new Overlay(ledger.store))
  const payerHex = toHex(payer)
  const escrows: EscrowData[] = []
  for (const [k] of st.kv.scan(`x:${payerHex}:`)) {
    const brain = Number(k.slice(k.lastIndexOf(':') + 1))
    const e = st.escrow(payerHex, brain)
    if (!e) continue
    escrows.push({ brain, balance: String(e.balance), unlockAt: e.unlockAt, openSessions: e.tabs.length, queryPrice: String(st.brain(brain)?.queryPrice ?? 0n) })
  }
  escrows.sort((a, b) => a.brain - b.brain)
  return { withdrawDelay: ledger.params().escrowWithdrawDelay, escrows }
}

/** A session's tab and its payer's spending account (GetSessionTab), by the session id's SHA-256 (hex). */
export interface SessionTabData {
  readonly payer: string
  readonly brain: number
  readonly maxUnits: string
  readonly settledUnits: string
  /** Price per 1,000 units recorded when the session was authorized. */
  readonly price: string
  /** The payer's spending account on the Brain. */
  readonly balance: string
  readonly unlockAt: number
}
export function sessionTabOf(ledger: Ledger, sessionHashHex: string): SessionTabData | undefined {
  const st = new State(new Overlay(ledger.store))
  const t = st.tab(sessionHashHex)
  if (!t) return undefined
  const e = st.escrow(toHex(t.payer), t.brain)
  if (!e) return undefined
  return {
    payer: toAddress(t.payer), brain: t.brain, maxUnits: String(t.maxUnits), settledUnits: String(t.settledUnits), price: String(t.price),
    balance: String(e.balance), unlockAt: e.unlockAt,
  }
}

/** The reply data of GetForecastSeries (protocol/ledger-messages.ts): see there. */
export interface ForecastSeriesData {
  readonly brain: number
  readonly height: number
  readonly period: number
  readonly blocksPerStep: number
  readonly horizon: number
  readonly commitLead: number
  readonly revealWindow: number
  readonly quantilesPpm: readonly number[]
  readonly firstWindow: number
  readonly counts: readonly number[]
  readonly commits: ReadonlyArray<{ origin: number; computeKey: string; revealed: boolean }>
  readonly accuracy: { rounds: number; sums: ReadonlyArray<{ computeKey: string; sumQ40: string }> } | null
}

/**
 * A Brain's forecasting view (ledger/forecast.ts): the round parameters, its realised series over the windows the
 * ledger still keeps (window w's counter is deleted at the end of block (w + 1)·blocksPerStep + scoreDelay, so the
 * oldest kept at head h is ⌊(h − scoreDelay) / blocksPerStep⌋), at most `maxWindows` of the newest; the commitments
 * of rounds not yet scored and the accuracy sums since the last epoch. Undefined for an unknown Brain.
 */
export function forecastSeriesOf(ledger: Ledger, brain: number, maxWindows = 4096): ForecastSeriesData | undefined {
  const st = new State(new Overlay(ledger.store))
  if (!st.brain(brain)) return undefined
  const p = ledger.params()
  const height = ledger.head().height
  const base = {
    brain, height, period: p.forecastPeriod, blocksPerStep: p.forecastBlocksPerStep, horizon: p.forecastHorizon,
    commitLead: p.forecastCommitLead, revealWindow: p.forecastRevealWindow, quantilesPpm: [...FORECAST_QUANTILES_PPM],
  }
  if (!forecastEnabled(p)) return { ...base, firstWindow: 0, counts: [], commits: [], accuracy: null }
  const bps = p.forecastBlocksPerStep
  const current = Math.floor(height / bps)
  const kept = Math.max(0, Math.floor((height - scoreDelay(p)) / bps))
  const firstWindow = Math.max(kept, current - Math.max(1, maxWindows) + 1)
  const counts: number[] = []
  for (let w = firstWindow; w <= current; w++) {
    const b = st.kv.get(ForecastKeys.count(brain, w))
    counts.push(b ? new Reader(b).uint('count') : 0)
  }
  const commits: Array<{ origin: number; computeKey: string; revealed: boolean }> = []
  for (const [k] of st.kv.scan(ForecastKeys.brain(brain))) {
    const m = /^f:\d+:(\d+):c:([0-9a-f]{64})$/.exec(k)
    if (!m) continue
    const origin = Number(m[1])
    const c = readCommit(st, brain, origin, m[2] as string)
    if (c) commits.push({ origin, computeKey: m[2] as string, revealed: c.revealed })
  }
  const acc = readAccuracySums(st, brain)
  return {
    ...base, firstWindow, counts, commits,
    accuracy: acc ? { rounds: acc.rounds, sums: [...acc.sums].map(([computeKey, s]) => ({ computeKey, sumQ40: String(s) })) } : null,
  }
}
