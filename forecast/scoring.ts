/**
 * Pure, deterministic scoring of validators' forecasts for the chain (§3.4.2's Accuracy(TFT)): commit, reveal, score,
 * and the incentive combination I = R·C + β(t)·Accuracy. No I/O, no floats in any decision: every node computes the
 * same bytes, hashes, integers and Q40 fractions.
 *
 * 1. **Commit** (block h): a validator posts c = sha256(tag ‖ len‖key ‖ len‖encode(forecast) ‖ len‖salt), 32 bytes. The
 *    key is inside the hash, so a commitment copied from another validator cannot be opened by the copier, and two
 *    equal commitments in one round are flagged ({@link CopiedCommitment}, naming the later one in chain order; when
 *    scoring, the holder that opens it is the original whatever the order, so front-running gains nothing).
 * 2. **Reveal** (a few blocks later, after the commit window closed): the forecast and the salt (≥ 16 bytes, so the
 *    commitment cannot be brute-forced over plausible forecasts). {@link verifyReveal} recomputes the hash
 *    ({@link RevealMismatch} otherwise).
 * 3. **Score** once the forecast windows are realised: quantile loss in exact integers,
 *    L = Σ_h Σ_q QL with QL = q_ppm·(y − ŷ) if y ≥ ŷ else (10^6 − q_ppm)·(ŷ − y) (the pinball loss × 10^6), and
 *    Accuracy A = S / (S + 2L) with S = Q·10^6·Σ_h |y_h|, i.e. A = 1 / (1 + R̄) with R̄ the q-risk averaged over the
 *    quantile levels. A ∈ (0, 1], 1 for a perfect forecast, floored to Q40. A validator that committed and did not
 *    reveal, revealed something that does not open its commitment or does not answer the round, or copied a
 *    commitment, scores A = 0: the worst possible.
 * 4. **Incentive**: I = normalise(Î + β(t)·Â), Î the consensus incentive R·C normalised, Â the accuracies normalised
 *    over the round, β(t) consensus/'s schedule (exact rational). As in consensus/, both terms are distributions, so
 *    β is the forecasters' weight relative to consensus; all arithmetic is BigInt, the result Q40.
 */
import { createHash } from 'node:crypto'
import { betaRational } from '../consensus/index.ts'
import { CopiedCommitment, InvalidForecastRecord, RevealMismatch } from './errors.ts'

/** 1.0 in Q40, as consensus/ uses. */
export const Q40_ONE = 1n << 40n
const PPM = 1_000_000n
const TAG = new TextEncoder().encode('basedai/forecast-commit/v1')
const MAGIC = [0x42, 0x46, 0x43, 0x31] // "BFC1"
export const MIN_SALT_BYTES = 16

/** A validator's forecast for one round, in integers (the series' own units, or fixed point chosen by the round). */
export interface ForecastRecord {
  /** Brain whose series is forecast. */
  readonly brain: number
  /** First block of the first forecast window. */
  readonly originHeight: number
  /** Blocks per window. */
  readonly blocksPerStep: number
  /** Quantile levels in parts per million, strictly increasing in (0, 10^6). */
  readonly quantilesPpm: readonly number[]
  /** horizon × Q quantile values, row-major (window-major), signed 64-bit integers. */
  readonly values: readonly bigint[]
}

/** What a round asks for; a reveal answering another round is scored as the worst. */
export interface RoundSpec {
  readonly brain: number
  readonly originHeight: number
  readonly blocksPerStep: number
  readonly quantilesPpm: readonly number[]
  readonly horizon: number
}

export interface Commit {
  readonly validator: Uint8Array
  readonly commitment: Uint8Array
}

export interface Reveal {
  readonly validator: Uint8Array
  readonly forecast: ForecastRecord
  readonly salt: Uint8Array
}

export type RoundStatus = 'revealed' | 'unrevealed' | 'mismatch' | 'copied' | 'wrong-round'

export interface ValidatorScore {
  /** Hex of the validator key. */
  readonly validator: string
  readonly status: RoundStatus
  /** Σ QL × 10^6 (null unless revealed). */
  readonly loss: bigint | null
  /** Accuracy in Q40 (0 unless revealed). */
  readonly accuracyQ40: bigint
  /** The same as a number in [0, 1] (exact: a Q40 value). */
  readonly accuracy: number
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const I64_MIN = -(1n << 63n)
const I64_MAX = (1n << 63n) - 1n

function bad(field: string, reason: string): InvalidForecastRecord {
  return new InvalidForecastRecord({ field, reason })
}

function checkUint(field: string, v: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw bad(field, `must be an integer in [0, ${max}]`)
}

function checkQuantiles(q: readonly number[]): void {
  if (!Array.isArray(q) || q.length === 0 || q.length > 255) throw bad('quantilesPpm', 'between 1 and 255 levels')
  let prev = 0
  for (const x of q) {
    if (!Number.isInteger(x) || x <= prev || x >= 1_000_000) throw bad('quantilesPpm', 'strictly increasing integers in (0, 10^6)')
    prev = x
  }
}

function checkRecord(f: ForecastRecord): number {
  checkUint('brain', f.brain, 0xffff_ffff)
  checkUint('originHeight', f.originHeight, Number.MAX_SAFE_INTEGER)
  checkUint('blocksPerStep', f.blocksPerStep, 0xffff_ffff)
  if (f.blocksPerStep === 0) throw bad('blocksPerStep', 'must be positive')
  checkQuantiles(f.quantilesPpm)
  const Q = f.quantilesPpm.length
  if (!Array.isArray(f.values) || f.values.length === 0 || f.values.length % Q !== 0) {
    throw bad('values', `a positive multiple of ${Q} values`)
  }
  const horizon = f.values.length / Q
  if (horizon > 0xffff) throw bad('values', 'horizon above 65535')
  for (const v of f.values) if (typeof v !== 'bigint' || v < I64_MIN || v > I64_MAX) throw bad('values', 'signed 64-bit integers')
  return horizon
}

/** Canonical bytes of a forecast: "BFC1", u32 brain, u64 origin, u32 blocksPerStep, u16 horizon, u8 Q, Q × u32 ppm, values as i64, big-endian. */
export function encodeForecast(f: ForecastRecord): Uint8Array {
  const horizon = checkRecord(f)
  const Q = f.quantilesPpm.length
  const buf = new Uint8Array(4 + 4 + 8 + 4 + 2 + 1 + 4 * Q + 8 * f.values.length)
  const v = new DataView(buf.buffer)
  buf.set(MAGIC, 0)
  let o = 4
  v.setUint32(o, f.brain)
  o += 4
  v.setBigUint64(o, BigInt(f.originHeight))
  o += 8
  v.setUint32(o, f.blocksPerStep)
  o += 4
  v.setUint16(o, horizon)
  o += 2
  v.setUint8(o, Q)
  o += 1
  for (const q of f.quantilesPpm) {
    v.setUint32(o, q)
    o += 4
  }
  for (const x of f.values) {
    v.setBigInt64(o, x)
    o += 8
  }
  return buf
}

/** Inverse of {@link encodeForecast}; throws InvalidForecastRecord on malformed bytes. */
export function decodeForecast(buf: Uint8Array): ForecastRecord {
  if (buf.length < 23 || MAGIC.some((m, i) => buf[i] !== m)) throw bad('bytes', 'not an encoded forecast')
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const brain = v.getUint32(4)
  const origin = v.getBigUint64(8)
  if (origin > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('originHeight', 'above 2^53')
  const blocksPerStep = v.getUint32(16)
  const horizon = v.getUint16(20)
  const Q = v.getUint8(22)
  if (buf.length !== 23 + 4 * Q + 8 * horizon * Q) throw bad('bytes', 'length does not match the header')
  const quantilesPpm = Array.from({ length: Q }, (_, i) => v.getUint32(23 + 4 * i))
  const base = 23 + 4 * Q
  const values = Array.from({ length: horizon * Q }, (_, i) => v.getBigInt64(base + 8 * i))
  const f: ForecastRecord = { brain, originHeight: Number(origin), blocksPerStep, quantilesPpm, values }
  checkRecord(f)
  return f
}

function checkSalt(salt: Uint8Array): void {
  if (!(salt instanceof Uint8Array) || salt.length < MIN_SALT_BYTES || salt.length > 1024) {
    throw bad('salt', `between ${MIN_SALT_BYTES} and 1024 bytes`)
  }
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length === 0 || key.length > 1024) throw bad('validator', '1 to 1024 bytes')
}

/** sha256(tag ‖ u32 len ‖ validator key ‖ u32 len ‖ encoded forecast ‖ u32 len ‖ salt). */
export function commitForecast(validator: Uint8Array, forecast: ForecastRecord, salt: Uint8Array): Uint8Array {
  checkKey(validator)
  checkSalt(salt)
  const enc = encodeForecast(forecast)
  const h = createHash('sha256')
  const len = (n: number): Uint8Array => {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setUint32(0, n)
    return b
  }
  h.update(TAG)
  h.update(len(validator.length))
  h.update(validator)
  h.update(len(enc.length))
  h.update(enc)
  h.update(len(salt.length))
  h.update(salt)
  return new Uint8Array(h.digest())
}

/** Throws {@link RevealMismatch} unless the reveal opens the commitment (same validator key, forecast and salt). */
export function verifyReveal(commit: Commit, reveal: Reveal): void {
  if (hex(commit.validator) !== hex(reveal.validator)) throw new RevealMismatch({ validator: hex(reveal.validator) })
  const c = commitForecast(reveal.validator, reveal.forecast, reveal.salt)
  if (commit.commitment.length !== 32 || hex(c) !== hex(commit.commitment)) {
    throw new RevealMismatch({ validator: hex(reveal.validator) })
  }
}

/**
 * Throws {@link CopiedCommitment} for the first commitment (in chain order) equal to an earlier one of another
 * validator; InvalidForecastRecord when a validator committed twice.
 */
export function assertUniqueCommitments(commits: readonly Commit[]): void {
  const seen = new Map<string, string>()
  const who = new Set<string>()
  for (const c of commits) {
    checkKey(c.validator)
    if (!(c.commitment instanceof Uint8Array) || c.commitment.length !== 32) throw bad('commitment', '32 bytes')
    const v = hex(c.validator)
    if (who.has(v)) throw bad('commits', `validator ${v} committed twice in one round`)
    who.add(v)
    const k = hex(c.commitment)
    const first = seen.get(k)
    if (first !== undefined) throw new CopiedCommitment({ validator: v, original: first })
    seen.set(k, v)
  }
}

/** Exact quantile loss × 10^6 of one forecast against the realised values (horizon values). */
export function quantileLossPpm(values: readonly bigint[], quantilesPpm: readonly number[], realised: readonly bigint[]): bigint {
  const Q = quantilesPpm.length
  if (values.length !== realised.length * Q) throw bad('realised', `${values.length / Q} values expected`)
  let L = 0n
  for (let h = 0; h < realised.length; h++) {
    const y = realised[h] as bigint
    for (let k = 0; k < Q; k++) {
      const q = BigInt(quantilesPpm[k] as number)
      const d = y - (values[h * Q + k] as bigint)
      L += d >= 0n ? q * d : (PPM - q) * -d
    }
  }
  return L
}

/** A = S / (S + 2L), S = Q·10^6·Σ|y|, floored to Q40 (1 when both are 0). */
export function accuracyQ40(lossPpm: bigint, quantileCount: number, realised: readonly bigint[]): bigint {
  let absY = 0n
  for (const y of realised) absY += y < 0n ? -y : y
  const S = BigInt(quantileCount) * PPM * absY
  const den = S + 2n * lossPpm
  if (den === 0n) return Q40_ONE
  return (S << 40n) / den
}

function matchesRound(f: ForecastRecord, r: RoundSpec): boolean {
  return f.brain === r.brain && f.originHeight === r.originHeight && f.blocksPerStep === r.blocksPerStep &&
    f.quantilesPpm.length === r.quantilesPpm.length && f.quantilesPpm.every((q, i) => q === r.quantilesPpm[i]) &&
    f.values.length === r.horizon * r.quantilesPpm.length
}

/**
 * Scores one round: every validator that committed gets a {@link ValidatorScore}, in commit order. Copied
 * commitments (a commitment several validators posted: all but the one that opens it), reveals that do not open their commitment or answer another round, and missing reveals all score
 * Accuracy 0. Realised values are integers in the round's units (horizon of them).
 */
export function scoreRound(input: {
  readonly round: RoundSpec
  readonly commits: readonly Commit[]
  readonly reveals: readonly Reveal[]
  readonly realised: readonly bigint[]
}): ValidatorScore[] {
  const { round, commits, reveals, realised } = input
  checkQuantiles(round.quantilesPpm)
  checkUint('horizon', round.horizon, 0xffff)
  if (realised.length !== round.horizon || realised.some((y) => typeof y !== 'bigint')) {
    throw bad('realised', `${round.horizon} integers expected`)
  }
  const holders = new Map<string, number>() // commitment → how many validators posted it
  const status = new Map<string, RoundStatus>()
  const order: string[] = []
  for (const c of commits) {
    checkKey(c.validator)
    const v = hex(c.validator)
    if (status.has(v)) throw bad('commits', `validator ${v} committed twice in one round`)
    order.push(v)
    status.set(v, 'unrevealed')
    const k = hex(c.commitment)
    holders.set(k, (holders.get(k) ?? 0) + 1)
  }
  const byValidator = new Map(commits.map((c) => [hex(c.validator), c] as const))
  const loss = new Map<string, bigint>()
  for (const r of reveals) {
    const v = hex(r.validator)
    const c = byValidator.get(v)
    if (c === undefined || status.get(v) !== 'unrevealed') continue // no commitment, or already handled
    try {
      verifyReveal(c, r)
    } catch (e) {
      if (e instanceof RevealMismatch || e instanceof InvalidForecastRecord) {
        status.set(v, 'mismatch')
        continue
      }
      throw e
    }
    if (!matchesRound(r.forecast, round)) {
      status.set(v, 'wrong-round')
      continue
    }
    status.set(v, 'revealed')
    loss.set(v, quantileLossPpm(r.forecast.values, round.quantilesPpm, realised))
  }
  // A commitment posted by several validators can be opened only by the one whose key is inside it; every other
  // holder copied it, whatever the chain order (so front-running the original's commitment earns nothing and costs
  // the original nothing).
  for (const c of commits) {
    const v = hex(c.validator)
    if ((holders.get(hex(c.commitment)) ?? 0) > 1 && status.get(v) !== 'revealed') status.set(v, 'copied')
  }
  return order.map((v) => {
    const st = status.get(v) as RoundStatus
    const L = loss.get(v)
    const a = st === 'revealed' && L !== undefined ? accuracyQ40(L, round.quantilesPpm.length, realised) : 0n
    return { validator: v, status: st, loss: st === 'revealed' ? (L ?? null) : null, accuracyQ40: a, accuracy: Number(a) / 2 ** 40 }
  })
}

/**
 * I = normalise(Î + β(block)·Â) in exact Q40 (see the module doc). `consensusIncentive` is the epoch's incentive per uid
 * (Q40 values as consensus/ returns them: read exactly as ⌊x·2^40⌋); `accuracyQ40` per uid (0 for uids that do not
 * forecast). Returns Q40 integers (summing to at most 2^40) and the same as numbers.
 */
export function forecastIncentive(input: {
  readonly consensusIncentive: readonly number[]
  readonly accuracyQ40: readonly bigint[]
  readonly block: number
  /** Length of a year in blocks for β(t) (default consensus/'s BLOCKS_PER_YEAR; the ledger passes its parameter). */
  readonly blocksPerYear?: number
}): { readonly incentiveQ40: bigint[]; readonly incentive: number[]; readonly beta: { num: bigint; den: bigint } } {
  const { consensusIncentive, accuracyQ40: acc, block } = input
  if (consensusIncentive.length !== acc.length) throw bad('accuracyQ40', 'one accuracy per uid')
  const I = consensusIncentive.map((x) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > 2 ** 12) throw bad('consensusIncentive', 'finite numbers in [0, 4096]')
    return BigInt(Math.floor(x * 2 ** 40))
  })
  for (const a of acc) if (typeof a !== 'bigint' || a < 0n || a > Q40_ONE) throw bad('accuracyQ40', 'Q40 integers in [0, 2^40]')
  const beta = input.blocksPerYear === undefined ? betaRational(block) : betaRational(block, input.blocksPerYear)
  const SI = I.reduce((s, x) => s + x, 0n)
  const SA = acc.reduce((s, x) => s + x, 0n)
  const num = I.map((x, i) => {
    const a = acc[i] as bigint
    if (SI > 0n && SA > 0n) return x * SA * beta.den + beta.num * a * SI
    if (SI > 0n) return x
    return SA > 0n ? beta.num * a : 0n
  })
  const total = num.reduce((s, x) => s + x, 0n)
  const incentiveQ40 = num.map((x) => (total === 0n ? 0n : (x << 40n) / total))
  return { incentiveQ40, incentive: incentiveQ40.map((x) => Number(x) / 2 ** 40), beta }
}

/** Rounds a float forecast (τ × Q, row-major) to the integers a validator commits to, at `scale` units per 1. */
export function toForecastRecord(round: RoundSpec, quantiles: Float64Array, scale = 1): ForecastRecord {
  if (quantiles.length !== round.horizon * round.quantilesPpm.length) throw bad('values', 'horizon × Q values expected')
  const values = Array.from(quantiles, (x) => {
    if (!Number.isFinite(x)) throw bad('values', 'non-finite forecast')
    return BigInt(Math.round(x * scale))
  })
  return { brain: round.brain, originHeight: round.originHeight, blocksPerStep: round.blocksPerStep, quantilesPpm: round.quantilesPpm, values }
}
