/**
 * Consensus epoch benchmark: time of one Yuma epoch (exact Q52/Q40 fixed point) for n = 256, 1024, 2048 uids with
 * dense weights from a seeded PRNG, in steady state (previous bonds from an earlier epoch). The peer measured in the
 * same run is a plain float64 implementation of the same formulas with the same algorithms (the cost of exactness).
 * Target: n = 2048 dense in < 1 s.
 */
import os from 'node:os'
import { EpochWorkspace, epoch, runEpoch, type EpochInput } from 'basedai/consensus'
import { cpuDescription, fmt, timeIt, type BenchContext, type BenchSection } from './harness.ts'
import { mulberry32 } from '../model/weights.ts'

const prng = mulberry32

/** A dense metagraph: `validators` permitted uids with stake weight every uid (u16-style weights). */
function metagraph(n: number, validators: number, seed: number): EpochInput {
  const rnd = prng(seed)
  const stake = Array.from({ length: n }, (_, i) => (i < validators ? Math.floor(rnd() * 1e12) + 1 : 0))
  const weights = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, () => (i < validators ? Math.floor(rnd() * 65536) : 0)),
  )
  return {
    stake,
    weights,
    validatorPermit: stake.map((s) => s > 0),
    bonds: Array.from({ length: n }, () => new Array<number>(n).fill(0)),
  }
}

/** The peer: the same epoch in plain float64 (same steps and algorithms, no exact arithmetic). */
function floatEpoch(inp: EpochInput): { incentive: Float64Array; dividends: Float64Array; bonds: Float64Array } {
  const n = inp.stake.length
  const S = new Float64Array(n)
  let st = 0
  for (let i = 0; i < n; i++) st += inp.validatorPermit[i] ? (inp.stake[i] as number) : 0
  for (let i = 0; i < n; i++) S[i] = inp.validatorPermit[i] && st > 0 ? (inp.stake[i] as number) / st : 0
  const W = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    if (!inp.validatorPermit[i]) continue
    const row = inp.weights[i] as readonly number[]
    let s = 0
    for (let j = 0; j < n; j++) if (j !== i) s += row[j] as number
    if (s > 0) for (let j = 0; j < n; j++) W[i * n + j] = j === i ? 0 : (row[j] as number) / s
  }
  const C = new Float64Array(n)
  const vals = new Float64Array(n)
  const wts = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    let m = 0
    for (let i = 0; i < n; i++) {
      const w = W[i * n + j] as number
      if (w > 0 && (S[i] as number) > 0) {
        vals[m] = w
        wts[m] = S[i] as number
        m++
      }
    }
    // Weighted quickselect (same algorithm family as the exact path).
    let lo = 0
    let hi = m
    let need = 0.5
    let c = 0
    while (hi > lo) {
      const pivot = vals[(lo + hi) >>> 1] as number
      let gt = lo
      let i = lo
      let lt = hi
      let sG = 0
      let sE = 0
      while (i < lt) {
        const x = vals[i] as number
        const w = wts[i] as number
        if (x > pivot) {
          vals[i] = vals[gt] as number
          wts[i] = wts[gt] as number
          vals[gt] = x
          wts[gt] = w
          sG += w
          gt++
          i++
        } else if (x < pivot) {
          lt--
          vals[i] = vals[lt] as number
          wts[i] = wts[lt] as number
          vals[lt] = x
          wts[lt] = w
        } else {
          sE += w
          i++
        }
      }
      if (sG >= need) {
        hi = gt
        continue
      }
      if (sG + sE >= need) {
        c = pivot
        break
      }
      need -= sG + sE
      lo = lt
    }
    C[j] = c
  }
  const P = new Float64Array(n)
  const R = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const s = S[i] as number
    if (!inp.validatorPermit[i]) continue
    const o = i * n
    for (let j = 0; j < n; j++) {
      const w = W[o + j] as number
      const wb = Math.min(w, C[j] as number)
      W[o + j] = wb
      P[j] = (P[j] as number) + s * w
      R[j] = (R[j] as number) + s * wb
    }
  }
  let rs = 0
  for (let j = 0; j < n; j++) rs += R[j] as number
  const I = R.map((r) => (rs > 0 ? r / rs : 0))
  const B = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    if ((S[i] as number) === 0) continue
    for (let j = 0; j < n; j++) B[i * n + j] = (R[j] as number) > 0 ? ((S[i] as number) * (W[i * n + j] as number)) / (R[j] as number) : 0
  }
  // Previous bonds column-normalised, EMA with α = 0.1, columns normalised again.
  const colPrev = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const row = inp.bonds[i] as readonly number[]
    for (let j = 0; j < n; j++) colPrev[j] = (colPrev[j] as number) + (row[j] as number)
  }
  const colB = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const row = inp.bonds[i] as readonly number[]
    const o = i * n
    for (let j = 0; j < n; j++) {
      const cp = colPrev[j] as number
      const e = 0.1 * (B[o + j] as number) + 0.9 * (cp > 0 ? (row[j] as number) / cp : 0)
      B[o + j] = e
      colB[j] = (colB[j] as number) + e
    }
  }
  for (let i = 0; i < n; i++) {
    const o = i * n
    for (let j = 0; j < n; j++) B[o + j] = (colB[j] as number) > 0 ? (B[o + j] as number) / (colB[j] as number) : 0
  }
  const D = new Float64Array(n)
  let ds = 0
  for (let i = 0; i < n; i++) {
    let d = 0
    for (let j = 0; j < n; j++) d += (B[i * n + j] as number) * (I[j] as number)
    D[i] = d
    ds += d
  }
  for (let i = 0; i < n; i++) D[i] = ds > 0 ? (D[i] as number) / ds : 0
  return { incentive: I, dividends: D, bonds: B }
}

/** Median CPU time (user + system, this process) of one call, in ms: less sensitive than wall-clock to other load. */
function cpuMs(fn: () => unknown, runs: number): number {
  fn()
  const samples: number[] = []
  for (let r = 0; r < runs; r++) {
    const t0 = process.cpuUsage()
    fn()
    const d = process.cpuUsage(t0)
    samples.push((d.user + d.system) / 1000)
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)] ?? 0
}

export async function bench(ctx: BenchContext): Promise<BenchSection> {
  const rows: Record<string, string | number>[] = []
  const notes: string[] = []
  const cases: { n: number; validators: number }[] = [
    { n: 256, validators: 256 },
    { n: 1024, validators: 1024 },
    { n: 2048, validators: 256 },
    { n: 2048, validators: 2048 },
  ]
  let target = Number.NaN
  let targetCpu = Number.NaN
  for (const { n, validators } of cases) {
    ctx.progress(`n = ${n}, ${validators} validators`)
    const input = metagraph(n, validators, 4 + n + validators)
    const first = epoch(input)
    const steady: EpochInput = { ...input, bonds: first.bonds }
    const opts = ctx.quick ? { minMs: 0, minRuns: 2 } : { minMs: 2000, minRuns: 5 }
    // A node's epoch loop keeps one workspace (the two n×n work matrices); `epoch()` allocates them per call.
    const workspace = new EpochWorkspace()
    const exactMs = await timeIt(() => runEpoch(steady, workspace), opts)
    const freshMs = await timeIt(() => epoch(steady), opts)
    const floatMs = await timeIt(() => floatEpoch(steady), opts)
    const exactCpu = cpuMs(() => runEpoch(steady, workspace), ctx.quick ? 2 : 5)
    if (n === 2048 && validators === 2048) {
      target = exactMs
      targetCpu = exactCpu
    }
    rows.push({
      n,
      validators,
      'weights (dense)': `${validators} × ${n}`,
      'exact epoch ms': fmt(exactMs),
      'exact CPU ms': fmt(exactCpu),
      'epoch() ms (fresh matrices)': fmt(freshMs),
      'float64 peer ms': fmt(floatMs),
      'exact / float64': fmt(exactMs / floatMs),
    })
  }
  notes.push(
    `Target n = 2048 dense (every uid a permitted validator weighting every uid) in < 1 s: ${fmt(target)} ms wall-clock — ${target < 1000 ? 'met' : 'NOT met'} (CPU time ${fmt(targetCpu)} ms; load average ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores while measuring).`,
    'Steady state: previous bonds from an earlier epoch, median of runs after one warm-up; u16-style weights, integer stakes; seeded PRNG (mulberry32). "exact epoch" is runEpoch with one EpochWorkspace kept between runs (bit-identical to epoch()); "epoch()" allocates its two n×n work matrices each call.',
    'The float64 peer runs the same steps with the same weighted quickselect, without exact arithmetic; the ratio is the cost of determinism.',
    'The machine is shared with other work while this runs: wall-clock figures include waiting for a core; CPU ms is the time this process itself spent.',
  )
  return {
    title: 'Consensus: Yuma epoch (exact fixed point)',
    device: cpuDescription(),
    columns: ['n', 'validators', 'weights (dense)', 'exact epoch ms', 'exact CPU ms', 'float64 peer ms', 'exact / float64'],
    rows,
    notes,
  }
}
