/**
 * Network parameters. They live in the state (key `P`), so they are covered by the state root, and the governable
 * ones ({@link GOVERNABLE}) change only through a passed GigaBrain proposal.
 */
import type { ConsensusRule } from '../consensus/index.ts'
import { DecodeError, Reader, Writer } from './codec.ts'
import { UNIT } from './units.ts'

export interface Params {
  readonly chainId: string
  /** Target block interval (ms); also converts the 90-day lock to blocks at genesis. */
  readonly blockTimeMs: number
  /** Block reward in year one (units): 10 $BASED. */
  readonly initialBlockReward: bigint
  /** Blocks per halving: 3,155,760 = 365.25 days of 10 s blocks. */
  readonly halvingInterval: number
  /** Brain ids are 0 … maxBrains−1. */
  readonly maxBrains: number
  /** Foundation Brains (table 1): never acquirable, never transferable. */
  readonly reservedBrains: readonly number[]
  /** Pepecoin burned for the first Brain acquired by burn (units). */
  readonly burnBaseCost: bigint
  /** Added per earlier burn: the k-th burn costs burnBaseCost + burnStepCost·(k−1). */
  readonly burnStepCost: bigint
  /** Pepecoin locked to acquire a Brain by stake (units). */
  readonly stakeBrainAmount: bigint
  /** Lock length of a staked Brain, in blocks (90 days at blockTimeMs). */
  readonly stakeLockBlocks: number
  readonly validatorSlots: number
  readonly minerSlots: number
  /** Registration fee of a new Brain (units): 100 $BASED. */
  readonly defaultRegistrationFee: bigint
  /** Blocks after registration during which a participant cannot be replaced. */
  readonly immunityPeriod: number
  /** Blocks between a Brain's epochs (distribution of its accumulated emission). */
  readonly tempo: number
  /** A validator is active when its stake is ≥ this percentile (nearest rank) of its Brain's validator stakes. */
  readonly activeValidatorPercentile: number
  /** A Brain's stake counted for emission is capped at this many basis points of total stake (50 = 0.5%). */
  readonly brainStakeCapBps: number
  /** A Brain with ≥ this many basis points of total stake is a GigaBrain. */
  readonly gigaBrainBps: number
  /** Share of each block reward (bps) reserved as the bonus for the top-performing Brains. */
  readonly bonusBps: number
  /** The bonus goes to the top this-many percent of Brains by performance (rounded up). */
  readonly bonusTopPercent: number
  /** Owner's share (bps) of a new Brain's emission; the rest goes to its miners, validators and stakers. */
  readonly defaultOwnerBps: number
  /** Miners' share (bps) of the participants' part of a new Brain's emission; the rest to validators' stakers. */
  readonly defaultMinerBps: number
  /** Fee rule: a tx must offer fee ≥ baseFee + byteFee × (encoded length in bytes). */
  readonly baseFee: bigint
  readonly byteFee: bigint
  /** Blocks a proposal stays open. */
  readonly votingPeriod: number
  /** Public key allowed to mint bridged Pepecoin (32 bytes; all zero = no bridge). */
  readonly bridgeAuthority: Uint8Array
  /** Public key of Based Labs leadership: may open proposals and owns the reserved Brains (all zero = none). */
  readonly foundation: Uint8Array
  /**
   * Forecast rounds (ledger/forecast.ts): a round's origin is every multiple of this many blocks (≥ 1 × it);
   * 0 = forecasting off. Must be a multiple of `forecastBlocksPerStep`.
   */
  readonly forecastPeriod: number
  /** Blocks per forecast window (the realised series is counted per window of this many blocks). */
  readonly forecastBlocksPerStep: number
  /** Windows forecast per round (τ). */
  readonly forecastHorizon: number
  /** Commit window: [origin − forecastCommitLead, origin). */
  readonly forecastCommitLead: number
  /** Reveal window: [origin, origin + forecastRevealWindow). */
  readonly forecastRevealWindow: number
  /** Length of a year in blocks for β(t) (§3.4.2: β = 0 to 2 years, linear to 0.9 at 4, then 1). Governable. */
  readonly forecastBlocksPerYear: number
  // --- The epoch's rule (§3.4, docs/CONSENSUS.md "On the chain"), governable ---
  /** Consensus rule of every Brain's epoch: `'yuma'` (subtensor's, the default) or the seed's `'sigmoid'` rule (§3.4.1). */
  readonly epochRule: ConsensusRule
  /**
   * Credits (§3.4.3): the most a validator's Credits raise its bond accrual, in millionths (250 000 = +25%).
   * 0 = Credits off (nothing accrued or stored; the default, as subtensor).
   */
  readonly creditMaxBoostPpm: number
  /** Credits (whole Credits) at which half of `creditMaxBoostPpm` is reached. */
  readonly creditHalfCredits: number
  // --- Spending accounts (§3.5.1, ledger/escrow.ts), fixed at genesis ---
  /** Blocks between announcing a withdrawal (escrowClose) and being able to withdraw (miners settle meanwhile). */
  readonly escrowWithdrawDelay: number
  /** Share (bps) of each query settlement paid to the miner that signed the receipts. */
  readonly queryMinerBps: number
  /** Share (bps) paid to the Brain's permitted validators, by pool stake (none permitted: to the owner). The owner gets the rest. */
  readonly queryValidatorBps: number
  // --- Block agreement (bft/, ledger/ledger.ts "Double signing"), governable ---
  /**
   * Share (bps) of a validator's voting power removed for each height at which it double-signed (evidence carried in
   * a block); at least one unit is removed; a validator left at 0 leaves the set. 10 000 = removed at once.
   */
  readonly doubleSignSlashBps: number
}

export const BLOCKS_PER_DAY_AT_10S = 8640
/** Defaults of the escrow section (see Params). */
const ESCROW_DEFAULTS = { escrowWithdrawDelay: 100, queryMinerBps: 7000, queryValidatorBps: 1000 } as const
/** Default of the block-agreement section (see Params): 10% of the offender's power per offence height. */
const DOUBLE_SIGN_SLASH_BPS_DEFAULT = 1000

export function defaultParams(over: Partial<Params> = {}): Params {
  const blockTimeMs = over.blockTimeMs ?? 10_000
  return {
    chainId: 'basedai-dev',
    blockTimeMs,
    initialBlockReward: 10n * UNIT,
    halvingInterval: 3_155_760,
    maxBrains: 1024,
    reservedBrains: [0, 1, 2, 3, 4, 5, 6, 47],
    burnBaseCost: 1000n * UNIT,
    burnStepCost: 200n * UNIT,
    stakeBrainAmount: 100_000n * UNIT,
    stakeLockBlocks: Math.ceil((90 * 86_400_000) / blockTimeMs),
    validatorSlots: 256,
    minerSlots: 1792,
    defaultRegistrationFee: 100n * UNIT,
    immunityPeriod: 7200,
    tempo: 99,
    activeValidatorPercentile: 70,
    brainStakeCapBps: 50,
    gigaBrainBps: 50,
    bonusBps: 1000,
    bonusTopPercent: 30,
    defaultOwnerBps: 2500,
    defaultMinerBps: 5000,
    baseFee: 1000n,
    byteFee: 10n,
    votingPeriod: 7 * BLOCKS_PER_DAY_AT_10S,
    bridgeAuthority: new Uint8Array(32),
    foundation: new Uint8Array(32),
    forecastPeriod: 360,
    forecastBlocksPerStep: 60,
    forecastHorizon: 6,
    forecastCommitLead: 60,
    forecastRevealWindow: 60,
    forecastBlocksPerYear: 3_155_760,
    epochRule: 'yuma',
    creditMaxBoostPpm: 0,
    creditHalfCredits: 10,
    ...ESCROW_DEFAULTS,
    doubleSignSlashBps: DOUBLE_SIGN_SLASH_BPS_DEFAULT,
    ...over,
  }
}

/** The epoch-rule parameters a new chain may set at genesis (`based cluster up --epoch-rule … --credits`). */
export type EpochRuleParams = Partial<Pick<Params, 'epochRule' | 'creditMaxBoostPpm' | 'creditHalfCredits'>>

/** Wire codes of the epoch rule (its index here): in the params' encoding and in an `epochRule` proposal's value. */
export const EPOCH_RULES: readonly ConsensusRule[] = ['yuma', 'sigmoid']

function epochRuleCode(rule: ConsensusRule): number {
  const code = EPOCH_RULES.indexOf(rule)
  if (code < 0) throw new RangeError(`epochRule: unknown rule ${String(rule)}`)
  return code
}

/** Parameters a proposal may change, by wire id (the index in this list). */
export const GOVERNABLE = [
  'defaultRegistrationFee',
  'immunityPeriod',
  'tempo',
  'activeValidatorPercentile',
  'brainStakeCapBps',
  'gigaBrainBps',
  'bonusBps',
  'bonusTopPercent',
  'baseFee',
  'byteFee',
  'votingPeriod',
  'forecastBlocksPerYear',
  'epochRule',
  'creditMaxBoostPpm',
  'creditHalfCredits',
  'doubleSignSlashBps',
] as const
export type GovernableParam = (typeof GOVERNABLE)[number]

/** Bounds a proposal's value must respect (inclusive). */
export const GOVERNABLE_BOUNDS: Readonly<Record<GovernableParam, readonly [bigint, bigint]>> = {
  defaultRegistrationFee: [0n, 1_000_000n * UNIT],
  immunityPeriod: [0n, 1_000_000n],
  tempo: [1n, 100_000n],
  activeValidatorPercentile: [0n, 100n],
  brainStakeCapBps: [1n, 10_000n],
  gigaBrainBps: [1n, 10_000n],
  bonusBps: [0n, 10_000n],
  bonusTopPercent: [0n, 100n],
  baseFee: [0n, UNIT],
  byteFee: [0n, UNIT],
  votingPeriod: [1n, 10_000_000n],
  forecastBlocksPerYear: [1n, 1_000_000_000n],
  epochRule: [0n, BigInt(EPOCH_RULES.length - 1)],
  creditMaxBoostPpm: [0n, 1_000_000n],
  creditHalfCredits: [1n, 1_000_000_000n],
  doubleSignSlashBps: [0n, 10_000n],
}

/** The PEPE price of the next Brain acquired by burn, after `burnCount` earlier burns. */
export function burnPrice(p: Params, burnCount: number): bigint {
  return p.burnBaseCost + p.burnStepCost * BigInt(burnCount)
}

export function withParam(p: Params, name: GovernableParam, value: bigint): Params {
  const bigParams: ReadonlySet<string> = new Set(['defaultRegistrationFee', 'baseFee', 'byteFee'])
  if (name === 'epochRule') {
    const rule = EPOCH_RULES[Number(value)]
    if (rule === undefined) throw new RangeError(`epochRule: no rule with code ${value}`)
    return { ...p, epochRule: rule }
  }
  return { ...p, [name]: bigParams.has(name) ? value : Number(value) }
}

export function encodeParams(p: Params): Uint8Array {
  const w = new Writer(256)
  w.str(p.chainId).uint(p.blockTimeMs).big(p.initialBlockReward).uint(p.halvingInterval).uint(p.maxBrains)
  w.uint(p.reservedBrains.length)
  for (const r of p.reservedBrains) w.uint(r)
  w.big(p.burnBaseCost).big(p.burnStepCost).big(p.stakeBrainAmount).uint(p.stakeLockBlocks)
  w.uint(p.validatorSlots).uint(p.minerSlots).big(p.defaultRegistrationFee).uint(p.immunityPeriod).uint(p.tempo)
  w.uint(p.activeValidatorPercentile).uint(p.brainStakeCapBps).uint(p.gigaBrainBps).uint(p.bonusBps)
  w.uint(p.bonusTopPercent).uint(p.defaultOwnerBps).uint(p.defaultMinerBps).big(p.baseFee).big(p.byteFee)
  w.uint(p.votingPeriod).fixed(p.bridgeAuthority, 32).fixed(p.foundation, 32)
  w.uint(p.forecastPeriod).uint(p.forecastBlocksPerStep).uint(p.forecastHorizon).uint(p.forecastCommitLead)
  w.uint(p.forecastRevealWindow).uint(p.forecastBlocksPerYear)
  w.uint(epochRuleCode(p.epochRule)).uint(p.creditMaxBoostPpm).uint(p.creditHalfCredits)
  // Trailing sections (escrow, then block agreement): written only when they (or a later one) differ from the
  // defaults, so parameters stored before a section existed keep their bytes (and their state root); read back when
  // present. A later section present means every earlier one is written too (the decoding is positional).
  const d = ESCROW_DEFAULTS
  const slashSection = p.doubleSignSlashBps !== DOUBLE_SIGN_SLASH_BPS_DEFAULT
  if (slashSection || p.escrowWithdrawDelay !== d.escrowWithdrawDelay || p.queryMinerBps !== d.queryMinerBps || p.queryValidatorBps !== d.queryValidatorBps)
    w.uint(p.escrowWithdrawDelay).uint(p.queryMinerBps).uint(p.queryValidatorBps)
  if (slashSection) w.uint(p.doubleSignSlashBps)
  return w.finish()
}

/** The epoch-rule section of the encoding (always present; a code out of range is malformed params). */
function epochRuleSection(r: Reader): Pick<Params, 'epochRule' | 'creditMaxBoostPpm' | 'creditHalfCredits'> {
  const code = r.uint('epochRule')
  const epochRule = EPOCH_RULES[code]
  if (epochRule === undefined) throw new DecodeError('epochRule', `no rule with code ${code}`)
  const creditMaxBoostPpm = r.uint('creditMaxBoostPpm')
  const creditHalfCredits = r.uint('creditHalfCredits')
  if (creditMaxBoostPpm > 1_000_000) throw new DecodeError('creditMaxBoostPpm', 'above 1000000')
  if (creditHalfCredits < 1) throw new DecodeError('creditHalfCredits', 'below 1')
  return { epochRule, creditMaxBoostPpm, creditHalfCredits }
}

export function decodeParams(b: Uint8Array): Params {
  const r = new Reader(b)
  const chainId = r.str('chainId', 64)
  const blockTimeMs = r.uint('blockTimeMs')
  const initialBlockReward = r.big('initialBlockReward')
  const halvingInterval = r.uint('halvingInterval')
  const maxBrains = r.uint('maxBrains')
  const n = r.uint('reserved')
  const reservedBrains: number[] = []
  for (let i = 0; i < n; i++) reservedBrains.push(r.uint('reserved'))
  const p: Params = {
    chainId, blockTimeMs, initialBlockReward, halvingInterval, maxBrains, reservedBrains,
    burnBaseCost: r.big('burnBaseCost'), burnStepCost: r.big('burnStepCost'), stakeBrainAmount: r.big('stakeBrainAmount'),
    stakeLockBlocks: r.uint('stakeLockBlocks'), validatorSlots: r.uint('validatorSlots'), minerSlots: r.uint('minerSlots'),
    defaultRegistrationFee: r.big('defaultRegistrationFee'), immunityPeriod: r.uint('immunityPeriod'), tempo: r.uint('tempo'),
    activeValidatorPercentile: r.uint('activeValidatorPercentile'), brainStakeCapBps: r.uint('brainStakeCapBps'),
    gigaBrainBps: r.uint('gigaBrainBps'), bonusBps: r.uint('bonusBps'), bonusTopPercent: r.uint('bonusTopPercent'),
    defaultOwnerBps: r.uint('defaultOwnerBps'), defaultMinerBps: r.uint('defaultMinerBps'), baseFee: r.big('baseFee'),
    byteFee: r.big('byteFee'), votingPeriod: r.uint('votingPeriod'), bridgeAuthority: r.fixed(32, 'bridgeAuthority'),
    foundation: r.fixed(32, 'foundation'), forecastPeriod: r.uint('forecastPeriod'),
    forecastBlocksPerStep: r.uint('forecastBlocksPerStep'), forecastHorizon: r.uint('forecastHorizon'),
    forecastCommitLead: r.uint('forecastCommitLead'), forecastRevealWindow: r.uint('forecastRevealWindow'),
    forecastBlocksPerYear: r.uint('forecastBlocksPerYear'),
    ...epochRuleSection(r),
    ...(r.remaining > 0
      ? { escrowWithdrawDelay: r.uint('escrowWithdrawDelay'), queryMinerBps: r.uint('queryMinerBps'), queryValidatorBps: r.uint('queryValidatorBps') }
      : { escrowWithdrawDelay: ESCROW_DEFAULTS.escrowWithdrawDelay, queryMinerBps: ESCROW_DEFAULTS.queryMinerBps, queryValidatorBps: ESCROW_DEFAULTS.queryValidatorBps }),
    doubleSignSlashBps: r.remaining > 0 ? r.uint('doubleSignSlashBps') : DOUBLE_SIGN_SLASH_BPS_DEFAULT,
  }
  r.end()
  if (p.doubleSignSlashBps > 10_000) throw new DecodeError('doubleSignSlashBps', 'above 10000')
  if (p.queryMinerBps + p.queryValidatorBps > 10_000) throw new RangeError('queryMinerBps + queryValidatorBps above 10000')
  return p
}
