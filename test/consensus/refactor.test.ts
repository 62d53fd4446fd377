/**
 * The epoch split into named steps (consensus/epoch.ts and its modules) is bit-for-bit the epoch it replaced
 * (test/consensus/fixtures/epoch-v1.ts, a frozen copy of the 944-line file): every output of `runEpoch`, over random
 * metagraphs of both rules, with Credits and the β(t) term, rounded stake (near-κ exact median path), and columns
 * wide enough for the sampled median band (n > 192 active rows).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { EpochWorkspace, runEpoch } from '../../consensus/index.ts'
import { runEpoch as runEpochV1 } from './fixtures/epoch-v1.ts'
import { BLOCKS_PER_YEAR } from '../../consensus/index.ts'
import type { EpochOptions } from '../../consensus/index.ts'

const CREDIT = 1n << 40n

function mulberry(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A random epoch input from a seed: sizes, stake styles, sparsity, rule and extensions all vary. */
function randomInput(seed: number, n: number): EpochOptions {
  const r = mulberry(seed)
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

test('runEpoch equals the pre-split epoch bit for bit (small metagraphs, fast-check)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 14 }), (seed, n) => {
      const input = randomInput(seed, n)
      assert.deepStrictEqual(runEpoch(input), runEpochV1(input))
    }),
    { numRuns: 400, seed: 20261130 },
  )
})

test('runEpoch equals the pre-split epoch bit for bit (n = 320: the sampled median band and quickselect), with one workspace reused across sizes', () => {
  const workspace = new EpochWorkspace()
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const input = randomInput(seed * 7919, 320)
    assert.deepStrictEqual(runEpoch(input, workspace), runEpochV1(input), `seed ${seed}`)
    const small = randomInput(seed, 5 + seed) // a smaller epoch on the same (dirty) workspace
    assert.deepStrictEqual(runEpoch(small, workspace), runEpochV1(small), `seed ${seed}, small`)
  }
})
