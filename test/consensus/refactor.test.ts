/**
 * The epoch split into named steps (consensus/epoch.ts and its modules) is bit-for-bit the epoch it replaced: every
 * output of `runEpoch`, over random metagraphs of both rules, with Credits and the β(t) term, rounded stake (near-κ
 * exact median path), and columns wide enough for the sampled median band (n > 192 active rows), has the fingerprint
 * (epoch-fingerprint.ts: an exact canonical text, SHA-256) that the pre-split 944-line epoch gave for the same input.
 * Those fingerprints were computed once from the frozen pre-split file and are pinned in
 * fixtures/epoch-v1-fingerprints.json; the cases are drawn from fixed seeds, so the inputs are the same every run.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { EpochWorkspace, runEpoch } from '../../consensus/index.ts'
import { BLOCKS_PER_YEAR } from '../../consensus/index.ts'
import type { EpochOptions } from '../../consensus/index.ts'
import { mulberry32 } from '../../numeric/index.ts'
import { fingerprint } from './epoch-fingerprint.ts'

const CREDIT = 1n << 40n

/** A random epoch input from a seed: sizes, stake styles, sparsity, rule and extensions all vary. */
export function randomInput(seed: number, n: number): EpochOptions {
  const r = mulberry32(seed)
  const stakeStyle = Math.floor(r() * 4)
  const stake = Array.from({ length: n }, () => {
    if (r() < 0.15) return 0
    if (stakeStyle === 0) return Math.floor(r() * 1e6)
    if (stakeStyle === 1) return 0.1 // equal non-dyadic stakes: every column on κ, the exact path
    if (stakeStyle === 2) return Math.floor(r() * 2 ** 52) * 2 ** 20 // > 2^53 in total: rounded stake units
    return r() * 1e6
  })
  const validatorPermit = stake.map(() => r() < 0.8)
  const u16 = r() < 0.5
  const weights = Array.from({ length: n }, () =>
    Array.from({ length: n }, () => (r() < 0.3 ? 0 : u16 ? Math.floor(r() * 65536) : r())),
  )
  const bonds = Array.from({ length: n }, () => Array.from({ length: n }, () => (r() < 0.5 ? 0 : r())))
  const extra = r()
  return {
    stake,
    weights,
    validatorPermit,
    bonds,
    kappa: [0.5, 0.3, 0.75][Math.floor(r() * 3)] as number,
    bondsMovingAverage: [900_000, 0, 1_000_000, 975_000, 123_457][Math.floor(r() * 5)] as number,
    rule: r() < 0.5 ? 'yuma' : 'sigmoid',
    ...(extra < 0.5 ? { credits: stake.map(() => BigInt(Math.floor(r() * 40)) * CREDIT) } : {}),
    ...(extra > 0.3 ? { tft: { block: Math.floor(r() * 5 * BLOCKS_PER_YEAR), forecast: stake.map(() => r()), accuracy: r() } } : {}),
  }
}

/** The small cases: 400 (seed, n) pairs drawn from one fixed seed. */
export function smallCases(): Array<{ seed: number; n: number }> {
  const r = mulberry32(20261130)
  return Array.from({ length: 400 }, () => ({ seed: Math.floor(r() * 2 ** 31), n: 1 + Math.floor(r() * 14) }))
}
/** The large cases: n = 320 (the sampled median band and quickselect), each followed by a small one on the same workspace. */
export const LARGE_SEEDS = [1, 2, 3, 4, 5, 6] as const

const pinned = JSON.parse(fs.readFileSync(new URL('./fixtures/epoch-v1-fingerprints.json', import.meta.url), 'utf8')) as {
  small: string[]
  large: Array<{ big: string; small: string }>
}

test('runEpoch has the pre-split epoch\'s output on 400 small random metagraphs', () => {
  const cases = smallCases()
  assert.equal(pinned.small.length, cases.length)
  cases.forEach(({ seed, n }, i) => assert.equal(fingerprint(runEpoch(randomInput(seed, n))), pinned.small[i], `case ${i}: seed ${seed}, n ${n}`))
})

test('runEpoch has the pre-split epoch\'s output at n = 320, with one workspace reused across sizes', () => {
  const workspace = new EpochWorkspace()
  LARGE_SEEDS.forEach((seed, i) => {
    assert.equal(fingerprint(runEpoch(randomInput(seed * 7919, 320), workspace)), pinned.large[i]?.big, `seed ${seed}`)
    assert.equal(fingerprint(runEpoch(randomInput(seed, 5 + seed), workspace)), pinned.large[i]?.small, `seed ${seed}, small`)
  })
})
