/**
 * State records and the key scheme. Every record is stored as canonical bytes (codec.ts), so the state root is a
 * function of the logical state only.
 *
 * | key                        | record                                                  |
 * |----------------------------|---------------------------------------------------------|
 * | `P`                        | network parameters (params.ts)                          |
 * | `G`                        | globals: height, head, supply counters, active Brains   |
 * | `a:<pubhex>`               | account: $BASED balance, Pepecoin balance, nonce        |
 * | `b:<id>`                   | Brain: ownership token + owner settings + totals        |
 * | `n:<id>:<computehex>`      | participant (miner or validator) of a Brain             |
 * | `l:<id>:v`, `l:<id>:m`     | member lists (validators / miners), concatenated keys   |
 * | `s:<id>:<target>:<staker>` | stake position; target = validator compute hex or `-`   |
 * | `p:<id>:<target>`          | stakers of one pool (concatenated keys)                 |
 * | `c:<computehex>`           | compute key → the personal key that registered it       |
 * | `r:<refhex>`               | used bridge-mint reference                              |
 * | `q:<id>`                   | governance proposal                                     |
 * | `w:<id>:<computehex>`      | a validator's weights (uid, weight) on its Brain        |
 * | `o:<id>`                   | the Brain's consensus bonds (validator uid, uid, value) |
 * | `f:<id>:…`                 | forecast rounds, window counts, accuracy sums (forecast.ts) |
 * | `e:<id>`                   | the Brain's last epoch outputs per uid (rank, trust, …, emission paid) |
 * | `u:<id>:<computehex>`      | height of the validator's last `setWeights` (absent: its registration) |
 * | `x:<payerhex>:<id>`        | spending account (escrow) of a payer on a Brain (ledger/escrow.ts) |
 * | `y:<sessionhashhex>`       | a session's tab: payer, Brain, allowance in compute units, price, units settled |
 * | `z:<receipthashhex>`       | a settled compute receipt (replay protection)           |
 * | `g:<id>:<computehex>`      | $BASED a uid earned from paid queries (`-`: the owner)  |
 * | `m:<id>:<computehex>`      | where a miner serves: peer id, multiaddrs, actor, signed binding (serve.ts) |
 */
import { Reader, Writer, DecodeError } from './codec.ts'
import { CorruptState } from './errors.ts'
import type { Role } from './tx.ts'
import { MAX_SERVE_ADDRS, MAX_SERVE_TEXT, type ServeRecord } from './serve.ts'

export interface Account {
  based: bigint
  pepe: bigint
  nonce: bigint
}
export type BrainMethod = 'burn' | 'stake' | 'reserved'
const METHODS: readonly BrainMethod[] = ['burn', 'stake', 'reserved']

export interface Brain {
  id: number
  owner: Uint8Array
  method: BrainMethod
  acquiredAt: number
  /** Height from which a staked Brain may be deactivated and its owner earns (0 for others). */
  unlockAt: number
  lockedPepe: bigint
  burnedPepe: bigint
  name: string
  modelId: string
  weightsHash: string
  rewardTo: Uint8Array
  registrationFee: bigint
  ownerBps: number
  minerBps: number
  validators: number
  miners: number
  /** Stake placed on the Brain itself (pool `-`). */
  directStake: bigint
  /** All stake on the Brain: directStake + every validator pool. */
  stake: bigint
  /** Emission credited to the Brain and not yet distributed (distributed every tempo blocks). */
  pending: bigint
  /** Performance from the last epoch (consensus); 1 until a consensus module supplies one. */
  performance: bigint
  nextUid: number
  /** $BASED base units per 1,000 compute units charged for a query (§3.5.1); 0 = queries are free. */
  queryPrice: bigint
}
/** A payer's spending account on one Brain (key `x:<payerhex>:<brain>`). */
export interface Escrow {
  balance: bigint
  /** 0 while open; once a withdrawal is announced, the height from which it can be withdrawn. */
  unlockAt: number
  /** Session hashes of the tabs opened on it (deleted with it). */
  tabs: Uint8Array[]
}
/** What a payer authorized for one session (key `y:<sha256(session)>`). */
export interface Tab {
  payer: Uint8Array
  brain: number
  /** Most compute units the session may be charged for. */
  maxUnits: bigint
  /** The Brain's price per 1,000 units when the tab was opened (what the session pays, whatever the price later). */
  price: bigint
  /** Units paid so far. */
  settledUnits: bigint
}
export interface Participant {
  owner: Uint8Array
  role: Role
  uid: number
  registeredAt: number
  feePaid: bigint
  score: bigint
  /** Total of the stake pool on this validator (0 for miners). */
  stake: bigint
}
export interface Globals {
  height: number
  lastHash: Uint8Array
  lastTime: number
  totalStake: bigint
  emitted: bigint
  basedGenesis: bigint
  pepeGenesis: bigint
  pepeMinted: bigint
  pepeBurned: bigint
  pepeLocked: bigint
  burnCount: number
  nextProposal: number
  /** Active Brain ids, ascending. */
  brains: number[]
  /** Open proposal ids, ascending. */
  openProposals: number[]
}
export type ProposalStatus = 'open' | 'passed' | 'rejected'
const STATUSES: readonly ProposalStatus[] = ['open', 'passed', 'rejected']
export interface Proposal {
  id: number
  proposer: Uint8Array
  param: number
  value: bigint
  createdAt: number
  deadline: number
  status: ProposalStatus
  votes: Array<{ brain: number; approve: boolean }>
}

export const K = {
  params: 'P',
  globals: 'G',
  account: (pubHex: string) => `a:${pubHex}`,
  brain: (id: number) => `b:${id}`,
  participant: (id: number, ckHex: string) => `n:${id}:${ckHex}`,
  members: (id: number, role: Role) => `l:${id}:${role === 'validator' ? 'v' : 'm'}`,
  position: (id: number, target: string, stakerHex: string) => `s:${id}:${target}:${stakerHex}`,
  pool: (id: number, target: string) => `p:${id}:${target}`,
  computeKey: (ckHex: string) => `c:${ckHex}`,
  mintRef: (refHex: string) => `r:${refHex}`,
  proposal: (id: number) => `q:${id}`,
  weights: (id: number, ckHex: string) => `w:${id}:${ckHex}`,
  bonds: (id: number) => `o:${id}`,
  epoch: (id: number) => `e:${id}`,
  lastUpdate: (id: number, ckHex: string) => `u:${id}:${ckHex}`,
  escrow: (payerHex: string, id: number) => `x:${payerHex}:${id}`,
  tab: (sessionHashHex: string) => `y:${sessionHashHex}`,
  settled: (receiptHashHex: string) => `z:${receiptHashHex}`,
  queryEarnings: (id: number, ckHex: string) => `g:${id}:${ckHex}`,
  served: (id: number, ckHex: string) => `m:${id}:${ckHex}`,
} as const
/** Pool name of stake placed on a Brain rather than on one of its validators. */
export const BRAIN_POOL = '-'

function decoding<T>(key: string, bytes: Uint8Array, f: (r: Reader) => T): T {
  try {
    const r = new Reader(bytes)
    const v = f(r)
    r.end()
    return v
  } catch (e) {
    if (e instanceof DecodeError) throw new CorruptState({ key, reason: `${e.field}: ${e.reason}` })
    throw e
  }
}

export function encodeAccount(a: Account): Uint8Array {
  return new Writer(24).big(a.based).big(a.pepe).big(a.nonce).finish()
}
export function decodeAccount(key: string, b: Uint8Array): Account {
  return decoding(key, b, (r) => ({ based: r.big('based'), pepe: r.big('pepe'), nonce: r.big('nonce') }))
}

export function encodeBrain(x: Brain): Uint8Array {
  const w = new Writer(256)
  w.uint(x.id).fixed(x.owner, 32).u8(METHODS.indexOf(x.method)).uint(x.acquiredAt).uint(x.unlockAt)
  w.big(x.lockedPepe).big(x.burnedPepe).str(x.name).str(x.modelId).str(x.weightsHash).fixed(x.rewardTo, 32)
  w.big(x.registrationFee).uint(x.ownerBps).uint(x.minerBps).uint(x.validators).uint(x.miners)
  w.big(x.directStake).big(x.stake).big(x.pending).big(x.performance).uint(x.nextUid)
  // Optional trailer, absent when 0: a Brain stored before query prices existed keeps its bytes.
  if (x.queryPrice > 0n) w.big(x.queryPrice)
  return w.finish()
}
export function decodeBrain(key: string, b: Uint8Array): Brain {
  return decoding(key, b, (r) => {
    const id = r.uint('id')
    const owner = r.fixed(32, 'owner')
    const m = METHODS[r.u8('method')]
    if (m === undefined) throw new DecodeError('method', 'unknown')
    return {
      id, owner, method: m, acquiredAt: r.uint('acquiredAt'), unlockAt: r.uint('unlockAt'),
      lockedPepe: r.big('lockedPepe'), burnedPepe: r.big('burnedPepe'), name: r.str('name', 1024),
      modelId: r.str('modelId', 1024), weightsHash: r.str('weightsHash', 1024), rewardTo: r.fixed(32, 'rewardTo'),
      registrationFee: r.big('registrationFee'), ownerBps: r.uint('ownerBps'), minerBps: r.uint('minerBps'),
      validators: r.uint('validators'), miners: r.uint('miners'), directStake: r.big('directStake'),
      stake: r.big('stake'), pending: r.big('pending'), performance: r.big('performance'), nextUid: r.uint('nextUid'),
      queryPrice: r.remaining > 0 ? nonZero('queryPrice', r.big('queryPrice')) : 0n,
    }
  })
}
function nonZero(field: string, v: bigint): bigint {
  if (v === 0n) throw new DecodeError(field, 'an explicit 0 is not canonical (absent means 0)')
  return v
}

export function encodeEscrow(e: Escrow): Uint8Array {
  const w = new Writer(16 + e.tabs.length * 32).big(e.balance).uint(e.unlockAt).uint(e.tabs.length)
  for (const t of e.tabs) w.fixed(t, 32)
  return w.finish()
}
export function decodeEscrow(key: string, b: Uint8Array): Escrow {
  return decoding(key, b, (r) => {
    const balance = r.big('balance')
    const unlockAt = r.uint('unlockAt')
    const n = r.uint('tabs')
    const tabs: Uint8Array[] = []
    for (let i = 0; i < n; i++) tabs.push(r.fixed(32, 'tab'))
    return { balance, unlockAt, tabs }
  })
}
export function encodeTab(t: Tab): Uint8Array {
  return new Writer(64).fixed(t.payer, 32).uint(t.brain).big(t.maxUnits).big(t.price).big(t.settledUnits).finish()
}
export function decodeTab(key: string, b: Uint8Array): Tab {
  return decoding(key, b, (r) => ({
    payer: r.fixed(32, 'payer'), brain: r.uint('brain'), maxUnits: r.big('maxUnits'), price: r.big('price'), settledUnits: r.big('settledUnits'),
  }))
}

export function encodeParticipant(p: Participant): Uint8Array {
  return new Writer(80)
    .fixed(p.owner, 32).u8(p.role === 'validator' ? 1 : 0).uint(p.uid).uint(p.registeredAt)
    .big(p.feePaid).big(p.score).big(p.stake).finish()
}
export function decodeParticipant(key: string, b: Uint8Array): Participant {
  return decoding(key, b, (r) => {
    const owner = r.fixed(32, 'owner')
    const role = r.u8('role')
    if (role > 1) throw new DecodeError('role', 'unknown')
    return {
      owner, role: role === 1 ? 'validator' : 'miner', uid: r.uint('uid'), registeredAt: r.uint('registeredAt'),
      feePaid: r.big('feePaid'), score: r.big('score'), stake: r.big('stake'),
    }
  })
}

function writeUints(w: Writer, xs: readonly number[]): void {
  w.uint(xs.length)
  for (const x of xs) w.uint(x)
}
function readUints(r: Reader, field: string): number[] {
  const n = r.uint(field)
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(r.uint(field))
  return out
}

export function encodeGlobals(g: Globals): Uint8Array {
  const w = new Writer(256)
  w.uint(g.height).fixed(g.lastHash, 32).uint(g.lastTime).big(g.totalStake).big(g.emitted).big(g.basedGenesis)
  w.big(g.pepeGenesis).big(g.pepeMinted).big(g.pepeBurned).big(g.pepeLocked).uint(g.burnCount).uint(g.nextProposal)
  writeUints(w, g.brains)
  writeUints(w, g.openProposals)
  return w.finish()
}
export function decodeGlobals(key: string, b: Uint8Array): Globals {
  return decoding(key, b, (r) => ({
    height: r.uint('height'), lastHash: r.fixed(32, 'lastHash'), lastTime: r.uint('lastTime'),
    totalStake: r.big('totalStake'), emitted: r.big('emitted'), basedGenesis: r.big('basedGenesis'),
    pepeGenesis: r.big('pepeGenesis'), pepeMinted: r.big('pepeMinted'), pepeBurned: r.big('pepeBurned'),
    pepeLocked: r.big('pepeLocked'), burnCount: r.uint('burnCount'), nextProposal: r.uint('nextProposal'),
    brains: readUints(r, 'brains'), openProposals: readUints(r, 'openProposals'),
  }))
}

export function encodeProposal(p: Proposal): Uint8Array {
  const w = new Writer(128)
  w.uint(p.id).fixed(p.proposer, 32).u8(p.param).big(p.value).uint(p.createdAt).uint(p.deadline)
  w.u8(STATUSES.indexOf(p.status)).uint(p.votes.length)
  for (const v of p.votes) w.uint(v.brain).bool(v.approve)
  return w.finish()
}
export function decodeProposal(key: string, b: Uint8Array): Proposal {
  return decoding(key, b, (r) => {
    const id = r.uint('id')
    const proposer = r.fixed(32, 'proposer')
    const param = r.u8('param')
    const value = r.big('value')
    const createdAt = r.uint('createdAt')
    const deadline = r.uint('deadline')
    const status = STATUSES[r.u8('status')]
    if (status === undefined) throw new DecodeError('status', 'unknown')
    const n = r.uint('votes')
    const votes: Array<{ brain: number; approve: boolean }> = []
    for (let i = 0; i < n; i++) votes.push({ brain: r.uint('vote.brain'), approve: r.bool('vote.approve') })
    return { id, proposer, param, value, createdAt, deadline, status, votes }
  })
}

export function encodeAmount(x: bigint): Uint8Array {
  return new Writer(10).big(x).finish()
}
export function decodeAmount(key: string, b: Uint8Array): bigint {
  return decoding(key, b, (r) => r.big('amount'))
}

/** A list of 32-byte keys stored as their concatenation (order is meaningful: insertion order). */
export function encodeKeyList(keys: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(keys.length * 32)
  keys.forEach((k, i) => out.set(k, i * 32))
  return out
}
export function decodeKeyList(key: string, b: Uint8Array): Uint8Array[] {
  if (b.length % 32 !== 0) throw new CorruptState({ key, reason: 'key list length not a multiple of 32' })
  const out: Uint8Array[] = []
  for (let i = 0; i < b.length; i += 32) out.push(b.slice(i, i + 32))
  return out
}

/** (uid, weight) pairs, uids ascending. */
export function encodeWeights(uids: readonly number[], weights: readonly number[]): Uint8Array {
  const w = new Writer(8 + uids.length * 4).uint(uids.length)
  uids.forEach((u, i) => w.uint(u).uint(weights[i] as number))
  return w.finish()
}
export function decodeWeights(key: string, b: Uint8Array): Array<readonly [number, number]> {
  return decoding(key, b, (r) => {
    const n = r.uint('n')
    const out: Array<readonly [number, number]> = []
    for (let i = 0; i < n; i++) out.push([r.uint('uid'), r.uint('weight')] as const)
    return out
  })
}
/** Sparse bonds: (validator uid, uid, float64 value) with value ≠ 0, in (from, to) order. */
export function encodeBonds(bonds: ReadonlyArray<readonly [number, number, number]>): Uint8Array {
  const w = new Writer(8 + bonds.length * 14).uint(bonds.length)
  const f = new Uint8Array(8)
  const dv = new DataView(f.buffer)
  for (const [i, j, v] of bonds) {
    dv.setFloat64(0, v, true)
    w.uint(i).uint(j).fixed(f, 8)
  }
  return w.finish()
}
export function decodeBonds(key: string, b: Uint8Array): Array<readonly [number, number, number]> {
  return decoding(key, b, (r) => {
    const n = r.uint('n')
    const out: Array<readonly [number, number, number]> = []
    for (let k = 0; k < n; k++) {
      const i = r.uint('from')
      const j = r.uint('to')
      const f = r.fixed(8, 'value')
      out.push([i, j, new DataView(f.buffer, f.byteOffset, 8).getFloat64(0, true)] as const)
    }
    return out
  })
}

/** Consensus columns of one uid from the epoch hook, each ⌊x × 10⁹⌉ of the epoch's value in [0, 1]. */
export interface EpochMetrics {
  readonly rank: bigint
  readonly trust: bigint
  readonly consensus: bigint
  /** The incentive paid by (the consensus incentive, or I = normalise(Î + β(t)·Â) with the forecaster term). */
  readonly incentive: bigint
  readonly dividends: bigint
}
export interface EpochUid {
  readonly uid: number
  /** Absent when the hook returned no consensus columns (no validators, degenerate input, `equalPerformance`). */
  readonly metrics?: EpochMetrics
  /** $BASED base units this epoch paid for the uid: its incentive share (to its owner) + its validator pool's part. */
  readonly emission: bigint
}
/**
 * What a Brain's last epoch produced (key `e:<id>`), rewritten by every epoch. The pending emission P it distributed
 * is exactly Σ rows' emission + ownerCut + brainPool.
 */
export interface EpochRecord {
  readonly height: number
  /** Paid to the Brain's `rewardTo` (the owner cut plus any part that had no recipient). */
  readonly ownerCut: bigint
  /** Paid to the stakers of the Brain's own pool (`-`). */
  readonly brainPool: bigint
  /** One entry per participant, uids ascending. */
  readonly rows: readonly EpochUid[]
}
export function encodeEpochRecord(e: EpochRecord): Uint8Array {
  const w = new Writer(32 + e.rows.length * 40)
  w.uint(e.height).big(e.ownerCut).big(e.brainPool).uint(e.rows.length)
  for (const r of e.rows) {
    w.uint(r.uid).big(r.emission).bool(r.metrics !== undefined)
    if (r.metrics) w.big(r.metrics.rank).big(r.metrics.trust).big(r.metrics.consensus).big(r.metrics.incentive).big(r.metrics.dividends)
  }
  return w.finish()
}
export function decodeEpochRecord(key: string, b: Uint8Array): EpochRecord {
  return decoding(key, b, (r) => {
    const height = r.uint('height')
    const ownerCut = r.big('ownerCut')
    const brainPool = r.big('brainPool')
    const n = r.uint('rows')
    const rows: EpochUid[] = []
    for (let i = 0; i < n; i++) {
      const uid = r.uint('uid')
      const emission = r.big('emission')
      const metrics = r.bool('metrics')
        ? { rank: r.big('rank'), trust: r.big('trust'), consensus: r.big('consensus'), incentive: r.big('incentive'), dividends: r.big('dividends') }
        : undefined
      rows.push(metrics ? { uid, emission, metrics } : { uid, emission })
    }
    return { height, ownerCut, brainPool, rows }
  })
}

export function encodeServeRecord(x: ServeRecord): Uint8Array {
  const w = new Writer(256).str(x.peerId).uint(x.addrs.length)
  for (const a of x.addrs) w.str(a)
  return w.str(x.actor).uint(x.issuedAt).uint(x.servedAt).fixed(x.computeSig, 64).fixed(x.peerSig, 64).finish()
}
export function decodeServeRecord(key: string, b: Uint8Array): ServeRecord {
  return decoding(key, b, (r) => {
    const peerId = r.str('peerId', MAX_SERVE_TEXT)
    const n = r.uint('addrs')
    if (n > MAX_SERVE_ADDRS) throw new DecodeError('addrs', `more than ${MAX_SERVE_ADDRS}`)
    const addrs: string[] = []
    for (let i = 0; i < n; i++) addrs.push(r.str('addr', MAX_SERVE_TEXT))
    return { peerId, addrs, actor: r.str('actor', MAX_SERVE_TEXT), issuedAt: r.uint('issuedAt'), servedAt: r.uint('servedAt'), computeSig: r.fixed(64, 'computeSig'), peerSig: r.fixed(64, 'peerSig') }
  })
}
