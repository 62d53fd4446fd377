import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { epoch, runEpoch, type EpochInput, type EpochOptions } from 'basedai/consensus'
import { maxDiff, referenceEpoch } from './reference.ts'

/**
 * A random metagraph: n uids, some permitted, weights with zeros, previous bonds sometimes non-zero. Each weight
 * matrix is either u16-style integers (as validators submit them) or doubles in [10^-3, 1]; stakes are integers up
 * to 10^12 or doubles in [10^-3, 10^6]. (The fixed-point envelope is documented in docs/CONSENSUS.md: a weight far
 * below 2^-20 of its row maximum, or a positive consensus weight below ~10^-9, loses the relative precision that
 * trust and bond normalisation need.)
 */
const metagraph = (maxN: number): fc.Arbitrary<EpochInput> =>
  fc.tuple(fc.integer({ min: 1, max: maxN }), fc.boolean(), fc.boolean()).chain(([n, intWeights, intStake]) => {
    const weight = intWeights ? fc.integer({ min: 0, max: 65535 }) : fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1, noNaN: true }))
    const stake = intStake ? fc.integer({ min: 0, max: 1e12 }) : fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1e6, noNaN: true }))
    const row = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[]> => fc.array(a, { minLength: n, maxLength: n })
    return fc.record({
      stake: row(stake),
      weights: row(row(fc.oneof(fc.constant(0), weight))),
      validatorPermit: row(fc.boolean()),
      bonds: fc.oneof(
        fc.constant(Array.from({ length: n }, () => new Array<number>(n).fill(0))),
        row(row(fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1, noNaN: true })))),
      ),
      kappa: fc.constantFrom(0.5, 0.3, 0.75),
      bondsMovingAverage: fc.constantFrom(900_000, 0, 1_000_000, 975_000, 123_457),
    })
  })

const sum = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0)

/** Each suite takes under 5 s on this loaded 2-core machine; the limit is far below the runner's 300 s. */
const T = { timeout: 30_000 }

describe('epoch properties (fast-check)', T, () => {
  test('every output is within 1e-6 of the double-precision formulas (Yuma)', () => {
    fc.assert(
      fc.property(metagraph(12), (input) => {
        const d = maxDiff(epoch(input), referenceEpoch(input))
        assert.ok(d.diff <= 1e-6, `${d.where} differs by ${d.diff}`)
      }),
      { numRuns: Number(process.env.CONSENSUS_RUNS ?? 300), seed: Number(process.env.CONSENSUS_SEED ?? 4) },
    )
  })

  test('every output is within 1e-6 of the double-precision formulas (sigmoid rule)', () => {
    fc.assert(
      fc.property(metagraph(10), (input) => {
        const d = maxDiff(runEpoch({ ...input, rule: 'sigmoid' }), referenceEpoch(input, 'sigmoid'))
        assert.ok(d.diff <= 1e-6, `${d.where} differs by ${d.diff}`)
      }),
      { numRuns: Number(process.env.CONSENSUS_RUNS ?? 150), seed: Number(process.env.CONSENSUS_SEED ?? 5) },
    )
  })

  test('exact ties at κ: non-dyadic stakes (0.1, 0.2, …) and tied weights match the exact formulas', () => {
    const tied = fc.integer({ min: 2, max: 10 }).chain((n) =>
      fc.record({
        stake: fc.array(fc.constantFrom(0, 0.1, 0.2, 0.3, 0.7, 999999.9999999986, 999999.9999999987), { minLength: n, maxLength: n }),
        weights: fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }), { minLength: n, maxLength: n }),
        validatorPermit: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
        bonds: fc.constant(Array.from({ length: n }, () => new Array<number>(n).fill(0))),
        kappa: fc.constantFrom(0.5, 0.25, 0.75),
      }),
    )
    fc.assert(
      fc.property(tied, (input) => {
        const d = maxDiff(epoch(input), referenceEpoch(input))
        assert.ok(d.diff <= 1e-6, `${d.where} differs by ${d.diff}`)
      }),
      { numRuns: Number(process.env.CONSENSUS_RUNS ?? 400), seed: Number(process.env.CONSENSUS_SEED ?? 16) },
    )
  })

  test('incentive and dividends each sum to 1 or are all 0', () => {
    fc.assert(
      fc.property(metagraph(16), (input) => {
        const out = epoch(input)
        for (const v of [out.incentive, out.dividends]) {
          const s = sum(v)
          assert.ok(v.every((x) => x === 0) || Math.abs(s - 1) < 1e-9, `sum ${s}`)
          assert.ok(v.every((x) => x >= 0))
        }
        // Bond columns are normalised: each sums to 1 or is all 0.
        for (let j = 0; j < input.stake.length; j++) {
          const col = out.bonds.map((r) => r[j] as number)
          const s = sum(col)
          assert.ok(s === 0 || Math.abs(s - 1) < 1e-9)
        }
      }),
      { numRuns: 200, seed: 6 },
    )
  })

  test('permuting uids permutes every output exactly', () => {
    const withPerm = metagraph(12).chain((input) =>
      fc.tuple(fc.constant(input), fc.shuffledSubarray(Array.from({ length: input.stake.length }, (_, i) => i), {
        minLength: input.stake.length,
        maxLength: input.stake.length,
      })),
    )
    fc.assert(
      fc.property(withPerm, ([input, p]) => {
        // New uid k is old uid p[k].
        const perm = <T>(v: readonly T[]): T[] => p.map((i) => v[i] as T)
        const permM = (m: readonly (readonly number[])[]): number[][] => p.map((i) => p.map((j) => (m[i] as number[])[j] as number))
        const permuted: EpochInput = {
          ...input,
          stake: perm(input.stake),
          validatorPermit: perm(input.validatorPermit),
          weights: permM(input.weights),
          bonds: permM(input.bonds),
        }
        const a = epoch(input)
        const b = epoch(permuted)
        assert.deepEqual(b.consensus, perm(a.consensus))
        assert.deepEqual(b.rank, perm(a.rank))
        assert.deepEqual(b.trust, perm(a.trust))
        assert.deepEqual(b.incentive, perm(a.incentive))
        assert.deepEqual(b.validatorTrust, perm(a.validatorTrust))
        assert.deepEqual(b.dividends, perm(a.dividends))
        assert.deepEqual(b.bonds, permM(a.bonds))
      }),
      { numRuns: 150, seed: 7 },
    )
  })

  test('scaling a stake vector or a weight row by a power of two changes nothing', () => {
    fc.assert(
      fc.property(metagraph(8), fc.integer({ min: -60, max: 60 }), (input, k) => {
        const f = 2 ** k
        const scaled = { ...input, stake: input.stake.map((s) => s * f), weights: input.weights.map((r, i) => (i % 2 ? r.map((x) => x * f) : r)) }
        assert.deepEqual(epoch(scaled), epoch(input))
      }),
      { numRuns: 100, seed: 8 },
    )
  })
})

describe('determinism', T, () => {
  const inputs: EpochOptions[] = fc.sample(metagraph(24), { numRuns: 12, seed: 9 }).map((input, k) => ({
    ...input,
    rule: k % 3 === 2 ? 'sigmoid' : 'yuma',
    credits: input.stake.map((_, i) => BigInt(i * k) << 40n),
    tft: { block: 3 * 3_155_760, forecast: input.stake.map((_, i) => (i * 7 + k) % 5), accuracy: 0.75 },
  }))
  // One dense 300-uid metagraph with rounded (non-representable) stakes, so the sampled quickselect, the limb sums
  // and the exact near-tie path all run in both threads.
  {
    let x = 17
    const rnd = (): number => {
      x = (x * 1103515245 + 12345) % 2147483648
      return x / 2147483648
    }
    const n = 300
    const stake = Array.from({ length: n }, () => rnd() * 1e6)
    const weights = Array.from({ length: n }, () => Array.from({ length: n }, () => Math.floor(rnd() * 65536)))
    const first = epoch({ stake, weights, validatorPermit: stake.map(() => true), bonds: weights.map((r) => r.map(() => 0)) })
    inputs.push({ stake, weights, validatorPermit: stake.map(() => true), bonds: first.bonds })
  }

  test('identical across runs', () => {
    const a = inputs.map((x) => runEpoch(x))
    const b = inputs.map((x) => runEpoch(x))
    assert.deepEqual(a, b)
  })

  test('identical in a worker thread', async (t) => {
    const here = inputs.map((x) => runEpoch(x))
    const worker = new Worker(new URL('./epoch-worker.ts', import.meta.url), { workerData: inputs })
    t.after(async () => {
      await worker.terminate()
    })
    const there = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
      worker.once('exit', (code) => reject(new Error(`epoch worker exited with code ${code} before answering`)))
    })
    assert.deepEqual(there, here)
  })
})

describe('consensus on larger metagraphs (the quickselect path)', T, () => {
  /** Exact stake-weighted upper median per column by sorting (integer stakes, so float sums are exact). */
  function sortedMedian(stake: number[], W: number[][], kappa: number): number[] {
    const n = stake.length
    const total = stake.reduce((a, b) => a + b, 0)
    return Array.from({ length: n }, (_, j) => {
      const col = W.map((r, i) => [r[j] as number, stake[i] as number] as const).filter(([w, s]) => w > 0 && s > 0)
      col.sort((a, b) => b[0] - a[0])
      let acc = 0
      for (let k = 0; k < col.length; k++) {
        acc += (col[k] as readonly [number, number])[1]
        const w = (col[k] as readonly [number, number])[0]
        const next = k + 1 < col.length ? (col[k + 1] as readonly [number, number])[0] : -1
        if (next !== w && acc >= kappa * total) return w
      }
      return 0
    })
  }

  test('matches an exact sort-based median, with many ties', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60, max: 220 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom(2, 7, 65535),
        fc.constantFrom(0.5, 0.3, 0.8),
        (n, seed, range, kappa) => {
          let x = seed
          const rnd = (): number => {
            x = (x * 1103515245 + 12345) % 2147483648
            return x / 2147483648
          }
          const stake = Array.from({ length: n }, () => (rnd() < 0.2 ? 0 : Math.floor(rnd() * 1000) + 1))
          // Every uid permitted; each row has one non-zero weight off the diagonal at least.
          const weights = Array.from({ length: n }, (_, i) =>
            Array.from({ length: n }, (_, j) => (i === j ? 0 : j === (i + 1) % n ? 1 : Math.floor(rnd() * (range + 1)))),
          )
          const out = epoch({ stake, weights, validatorPermit: stake.map(() => true), bonds: weights.map((r) => r.map(() => 0)), kappa })
          // Row-normalised weights as the epoch sees them (the consensus is one of them, exactly in Q52).
          const rowSums = weights.map((r) => r.reduce((a, b) => a + b, 0))
          const W = weights.map((r, i) => r.map((v) => Math.floor((v / (rowSums[i] as number)) * 2 ** 52) / 2 ** 52))
          const expected = sortedMedian(stake, W, kappa)
          out.consensus.forEach((c, j) => assert.ok(Math.abs(c - (expected[j] as number)) < 1e-15, `column ${j}: ${c} vs ${expected[j]}`))
        },
      ),
      { numRuns: 40, seed: 15 },
    )
  })
})
