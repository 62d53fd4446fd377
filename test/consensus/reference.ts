/**
 * A plain double-precision reference of the epoch formulas of issue 4, written independently of consensus/ (no
 * import from it) so that tests compare the fixed-point implementation against the formulas themselves.
 */
export interface RefInput {
  readonly stake: readonly number[]
  readonly weights: readonly (readonly number[])[]
  readonly validatorPermit: readonly boolean[]
  readonly bonds: readonly (readonly number[])[]
  kappa?: number
  bondsMovingAverage?: number
}
export interface RefOutput {
  consensus: number[]
  rank: number[]
  trust: number[]
  incentive: number[]
  validatorTrust: number[]
  dividends: number[]
  bonds: number[][]
}

const sum = (v: number[]): number => v.reduce((a, b) => a + b, 0)

/** A finite float64 ≥ 0 as an exact rational m·2^e (m a BigInt), read from its bits. */
function dyadic(x: number): { m: bigint; e: number } {
  if (x === 0) return { m: 0n, e: 0 }
  const v = new DataView(new ArrayBuffer(8))
  v.setFloat64(0, x)
  const biased = (v.getUint32(0) >>> 20) & 0x7ff
  const frac = (BigInt(v.getUint32(0) & 0xfffff) << 32n) | BigInt(v.getUint32(4))
  return biased === 0 ? { m: frac, e: -1074 } : { m: frac | (1n << 52n), e: biased - 1075 }
}

/** Exact comparison Σ_{i∈A} stake_i ≥ κ·Σ_i stake_i (the issue asks for the median by exact comparison). */
function exactMajority(stake: readonly number[], inA: (i: number) => boolean, kappa: number): boolean {
  const parts = stake.map(dyadic)
  const e0 = Math.min(...parts.filter((p) => p.m > 0n).map((p) => p.e), 0)
  const ints = parts.map((p) => p.m << BigInt(p.e - e0))
  const total = ints.reduce((a, b) => a + b, 0n)
  const part = ints.reduce((a, b, i) => (inA(i) ? a + b : a), 0n)
  if (total === 0n) return false // S is all 0 when no permitted stake: 0 ≥ κ is false
  const k = dyadic(kappa)
  // part ≥ κ·total ⇔ part·2^-k.e ≥ k.m·total   (k.e < 0 for κ ≤ 1 unless κ = 1)
  return k.e < 0 ? part << BigInt(-k.e) >= k.m * total : part >= (k.m * total) << BigInt(k.e)
}
const normalise = (v: number[]): number[] => {
  const s = sum(v)
  return s === 0 ? v.map(() => 0) : v.map((x) => x / s)
}
const colNormalise = (m: readonly (readonly number[])[]): number[][] => {
  const n = m.length
  const cs = Array.from({ length: n }, (_, j) => sum(m.map((r) => r[j] as number)))
  return m.map((r) => r.map((x, j) => ((cs[j] as number) === 0 ? 0 : x / (cs[j] as number))))
}

/** Yuma (default) or the seed's sigmoid rule, in doubles. */
export function referenceEpoch(inp: RefInput, rule: 'yuma' | 'sigmoid' = 'yuma', rho = 10): RefOutput {
  const n = inp.stake.length
  const kappa = inp.kappa ?? 0.5
  const bma = inp.bondsMovingAverage ?? 900_000
  const S = normalise(inp.stake.map((s, i) => (inp.validatorPermit[i] ? s : 0)))
  const W: number[][] = inp.weights.map((row, i) =>
    inp.validatorPermit[i] ? normalise(row.map((x, j) => (i === j ? 0 : x))) : row.map(() => 0),
  )
  const P = Array.from({ length: n }, (_, j) => sum(W.map((r, i) => (S[i] as number) * (r[j] as number))))
  let C: number[]
  let Wc: number[][]
  let R: number[]
  let T: number[]
  let I: number[]
  let Tv: number[]
  if (rule === 'yuma') {
    C = Array.from({ length: n }, (_, j) => {
      let best = 0
      for (let k = 0; k < n; k++) {
        const w = (W[k] as number[])[j] as number
        if (w <= best) continue
        const permittedStake = inp.stake.map((x, i) => (inp.validatorPermit[i] ? x : 0))
        if (exactMajority(permittedStake, (i) => ((W[i] as number[])[j] as number) >= w, kappa)) best = w
      }
      return best
    })
    Wc = W.map((r) => r.map((x, j) => Math.min(x, C[j] as number)))
    Tv = Wc.map((r) => sum(r))
    R = Array.from({ length: n }, (_, j) => sum(Wc.map((r, i) => (S[i] as number) * (r[j] as number))))
    T = R.map((r, j) => ((P[j] as number) === 0 ? 0 : r / (P[j] as number)))
    I = normalise(R)
  } else {
    T = Array.from({ length: n }, (_, j) => sum(W.map((r, i) => ((r[j] as number) > 0 ? (S[i] as number) : 0))))
    const sumS = sum(S)
    C = T.map((t) => (sumS === 0 ? 0 : 1 / (1 + Math.exp(-rho * (t - kappa)))))
    Wc = W
    R = P
    Tv = W.map((r) => sum(r.map((x, j) => x * (C[j] as number))))
    I = normalise(R.map((r, j) => r * (C[j] as number)))
  }
  const dB = colNormalise(Wc.map((r, i) => r.map((x) => (S[i] as number) * x)))
  const Bp = colNormalise(inp.bonds)
  const alpha = 1 - bma / 1e6
  const B = colNormalise(dB.map((r, i) => r.map((x, j) => alpha * x + (1 - alpha) * ((Bp[i] as number[])[j] as number))))
  const D = normalise(B.map((r) => sum(r.map((x, j) => x * (I[j] as number)))))
  return { consensus: C, rank: R, trust: T, incentive: I, validatorTrust: Tv, dividends: D, bonds: B }
}

/** Largest absolute difference between two outputs, with the field where it occurs. */
export function maxDiff(a: RefOutput, b: RefOutput): { diff: number; where: string } {
  let diff = 0
  let where = ''
  const keys = ['consensus', 'rank', 'trust', 'incentive', 'validatorTrust', 'dividends'] as const
  for (const k of keys) {
    a[k].forEach((x, i) => {
      const d = Math.abs(x - (b[k][i] as number))
      if (!(d <= diff)) {
        diff = d
        where = `${k}[${i}]`
      }
    })
  }
  a.bonds.forEach((r, i) =>
    r.forEach((x, j) => {
      const d = Math.abs(x - ((b.bonds[i] as number[])[j] as number))
      if (!(d <= diff)) {
        diff = d
        where = `bonds[${i}][${j}]`
      }
    }),
  )
  return { diff, where }
}
