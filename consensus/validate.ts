/**
 * Input validation for the epoch: every failure is an {@link InvalidEpochInput} naming the field (and the entry).
 */
import { InvalidEpochInput, type EpochField } from './errors.ts'
import type { EpochOptions } from './types.ts'

function fail(field: EpochField, reason: string, index?: number[]): never {
  throw index === undefined ? new InvalidEpochInput({ field, reason }) : new InvalidEpochInput({ field, reason, index })
}

function checkEntry(field: EpochField, x: unknown, index: number[]): void {
  if (typeof x !== 'number') fail(field, `entry is ${typeof x}, not a number`, index)
  if (Number.isNaN(x)) fail(field, 'entry is NaN', index)
  if (!Number.isFinite(x)) fail(field, 'entry is not finite', index)
  if (x < 0) fail(field, 'entry is negative', index)
}

function checkVector(field: EpochField, v: unknown, n: number): void {
  if (!Array.isArray(v)) fail(field, 'not an array')
  if (v.length !== n) fail(field, `length ${v.length}, expected ${n} (the length of stake)`)
  for (let i = 0; i < n; i++) checkEntry(field, v[i], [i])
}

function checkMatrix(field: EpochField, m: unknown, n: number): void {
  if (!Array.isArray(m)) fail(field, 'not an array of rows')
  if (m.length !== n) fail(field, `${m.length} rows, expected ${n} (the length of stake)`)
  for (let i = 0; i < n; i++) {
    const row: unknown = m[i]
    if (!Array.isArray(row)) fail(field, 'row is not an array', [i])
    if (row.length !== n) fail(field, `row has ${row.length} entries; the matrix must be ${n}×${n}`, [i])
    for (let j = 0; j < n; j++) {
      const x: unknown = row[j]
      // Fast path for the common case; the detailed check names the failure.
      if (typeof x === 'number' && x >= 0 && x !== Infinity) continue
      checkEntry(field, x, [i, j])
    }
  }
}

export interface ValidatedOptions {
  readonly n: number
  readonly kappa: number
  readonly bondsMovingAverage: number
  readonly rule: 'yuma' | 'sigmoid'
  readonly rho: number
}

/** Validates every field of the epoch input; returns the parameters with their defaults filled in. */
export function validateEpoch(input: EpochOptions): ValidatedOptions {
  if (typeof input !== 'object' || input === null) fail('stake', 'epoch input is not an object')
  const stake: unknown = input.stake
  if (!Array.isArray(stake)) fail('stake', 'not an array')
  const n = stake.length
  checkVector('stake', stake, n)
  checkMatrix('weights', input.weights, n)
  const permit: unknown = input.validatorPermit
  if (!Array.isArray(permit)) fail('validatorPermit', 'not an array')
  if (permit.length !== n) fail('validatorPermit', `length ${permit.length}, expected ${n} (the length of stake)`)
  for (let i = 0; i < n; i++) {
    if (typeof permit[i] !== 'boolean') fail('validatorPermit', 'entry is not a boolean', [i])
  }
  checkMatrix('bonds', input.bonds, n)

  const kappa = input.kappa ?? 0.5
  if (typeof kappa !== 'number' || !Number.isFinite(kappa) || kappa <= 0 || kappa > 1) {
    fail('kappa', 'must be a number in (0, 1]')
  }
  const bma = input.bondsMovingAverage ?? 900_000
  if (typeof bma !== 'number' || !Number.isInteger(bma) || bma < 0 || bma > 1_000_000) {
    fail('bondsMovingAverage', 'must be an integer in [0, 1000000]')
  }
  const rule = input.rule ?? 'yuma'
  if (rule !== 'yuma' && rule !== 'sigmoid') fail('rule', "must be 'yuma' or 'sigmoid'")
  const rho = input.rho ?? 10
  if (typeof rho !== 'number' || !Number.isFinite(rho) || rho <= 0 || rho > 1e6) fail('rho', 'must be a number in (0, 1e6]')

  if (input.credits !== undefined) {
    const c: unknown = input.credits
    if (!Array.isArray(c)) fail('credits', 'not an array')
    if (c.length !== n) fail('credits', `length ${c.length}, expected ${n}`)
    for (let i = 0; i < n; i++) {
      const x: unknown = c[i]
      if (typeof x !== 'bigint') fail('credits', 'entry is not a bigint', [i])
      if (x < 0n) fail('credits', 'entry is negative', [i])
    }
  }
  const ci = input.creditInfluence
  if (ci !== undefined && ci !== null) {
    if (!Number.isInteger(ci.maxBoostPpm) || ci.maxBoostPpm < 0 || ci.maxBoostPpm > 1_000_000) {
      fail('creditInfluence', 'maxBoostPpm must be an integer in [0, 1000000]')
    }
    if (typeof ci.halfCredits !== 'bigint' || ci.halfCredits <= 0n) {
      fail('creditInfluence', 'halfCredits must be a positive bigint')
    }
  }
  const tft = input.tft
  if (tft !== undefined) {
    if (!Number.isInteger(tft.block) || tft.block < 0) fail('tft', 'block must be a non-negative integer')
    if (!Array.isArray(tft.forecast) || tft.forecast.length !== n) fail('tft', `forecast must have ${n} entries`)
    for (let j = 0; j < n; j++) checkEntry('tft', tft.forecast[j], [j])
    if (typeof tft.accuracy !== 'number' || !(tft.accuracy >= 0 && tft.accuracy <= 1)) {
      fail('tft', 'accuracy must be a number in [0, 1]')
    }
  }
  return { n, kappa, bondsMovingAverage: bma, rule, rho }
}
