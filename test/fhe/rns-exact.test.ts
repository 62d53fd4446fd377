/**
 * The RNS steps of ciphertext multiplication are mathematically exact on every CPU backend: the centred base
 * conversion gives the residues of the centred representative and the HPS scaling gives round(t·x/Q), checked against
 * BigInt on random words and on the inputs where a float64 estimate is ambiguous (x = (Q ± 1)/2 and neighbours for
 * the conversion; t·x/Q within a few 1/Q of a half-integer for the scaling). The float-only rounding the backends used
 * before is shown to be wrong on some of these inputs, so the test would catch a backend that dropped the exact
 * fallback.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createFheContext } from '../../fhe/context.ts'
import { presets } from '../../fhe/presets.ts'
import { referenceRns, type BaseConverter, type Scaler } from '../../fhe/rns.ts'
import { availablePolyBackends } from '../../fhe/wasm/load.ts'
import type { RnsKernels } from '../../fhe/poly.ts'
import { fixedFractions, fixedRound, fixedWords } from '../../kernels/rns/exact.ts'
import { bigInvMod, mulShoup } from '../../numeric/index.ts'
import { mod, prng, prod, randomBig, residues } from './helpers.ts'


/** n values below Q: the edges first (0, 1, Q − 1, (Q ± 1)/2 ± small), random words after. */
function conversionInputs(Q: bigint, n: number, seed: number): bigint[] {
  const h = (Q - 1n) / 2n
  const edges = [0n, 1n, Q - 1n, Q - 2n, h, h + 1n, h - 1n, h + 2n, h - 2n, h + 3n, h - 3n]
  const r = prng(seed)
  return Array.from({ length: n }, (_, c) => (c < edges.length ? (edges[c] as bigint) : randomBig(r, Q)))
}

/** n values below QP: t·x/Q within δ/Q (|δ| ≤ 3) of a half-integer first, random after. */
function scaleInputs(Q: bigint, P: bigint, t: bigint, n: number, seed: number): bigint[] {
  const r = prng(seed)
  const tInv = bigInvMod(t, Q)
  const h = (Q - 1n) / 2n
  const out: bigint[] = []
  for (let c = 0; c < n; c++) {
    if (c < 256) {
      const d = BigInt((c % 7) - 3)
      out.push(mod(tInv * (h + d), Q) + Q * randomBig(r, P))
    } else out.push(randomBig(r, Q * P))
  }
  return out
}

const backends: Array<{ name: string; rns: RnsKernels }> = [
  { name: 'reference', rns: referenceRns },
  ...availablePolyBackends.flatMap((b) => (b.rns ? [{ name: b.name, rns: b.rns }] : [])),
]

/** What the float-only rounding (the code before the exact fallback) gives for v = round(Σ y_i·m_i). */
function floatOnly(ys: readonly number[], mult: ArrayLike<number>): number {
  let f = 0
  ys.forEach((y, i) => (f += y * (mult[i] as number)))
  return Math.round(f)
}

function yOf(x: Uint32Array, n: number, c: number, moduli: readonly number[], inv: Uint32Array, invShoup: Uint32Array): number[] {
  return moduli.map((q, i) => mulShoup(x[i * n + c] as number, inv[i] as number, invShoup[i] as number, q))
}

describe('exact RNS rounding (CPU backends) against BigInt', () => {
  test('fixedRound equals round(Σ y_i·ρ_i/q_i) at the words fixedWords gives (random and tie-adjacent sums)', () => {
    const moduli = presets.bfv8192.coeffModulus.slice(0, 7)
    const M = prod(moduli)
    const L = fixedWords(moduli)
    const rhos = moduli.map((q, i) => BigInt(Math.floor(q / (i + 2))))
    const fix = fixedFractions(moduli, L, rhos)
    const r = prng(5)
    for (let trial = 0; trial < 400; trial++) {
      const y = moduli.map((q) => (trial < 4 ? (trial % 2 === 0 ? 0 : q - 1) : Math.floor(r() * q)))
      // z/M = Σ y_i·ρ_i/q_i; round = ⌊(2z + M)/(2M)⌋
      const z = y.reduce((s, yi, i) => s + BigInt(yi) * (rhos[i] as bigint) * (M / BigInt(moduli[i] as number)), 0n)
      assert.equal(BigInt(fixedRound(y, fix, moduli.length, L)), (2n * z + M) / (2n * M), `trial ${trial}`)
    }
  })

  for (const preset of ['bfv4096', 'bfv8192'] as const) {
    const ctx = createFheContext(presets[preset])
    const n = ctx.n
    for (const k of preset === 'bfv4096' ? [3, 2] : [7, 4]) {
      const md = ctx.mulData(k)
      const q = md.qToP.from
      const p = md.qToP.to
      const Q = prod(q)
      const P = prod(p)
      const conv = (cv: BaseConverter, M: bigint, seed: number) => {
        const xs = conversionInputs(M, n, seed)
        const src = residues(xs, cv.from, n)
        const want = residues(xs.map((x) => (x > M / 2n ? x - M : x)), cv.to, n)
        return { src, want }
      }
      const up = conv(md.qToP, Q, 1)
      const down = conv(md.pToQ, P, 2)
      const sxs = scaleInputs(Q, P, BigInt(ctx.t), n, 3)
      const ssrc = residues(sxs, [...q, ...p], n)
      const swant = residues(sxs.map((x) => (2n * BigInt(ctx.t) * x + Q) / (2n * Q)), p, n)

      test(`${preset} level ${k}: the edge inputs defeat float-only rounding`, () => {
        const sc: Scaler = md.scaler
        let wrongScale = 0
        for (let c = 0; c < 256; c++) {
          const y = yOf(ssrc, n, c, q, sc.yInv, sc.yInvShoup)
          const exact = (2n * BigInt(ctx.t) * (sxs[c] as bigint) + Q) / (2n * Q)
          if (BigInt(floatOnly(y, sc.theta)) !== exact) wrongScale++
        }
        let wrongConv = 0
        for (let c = 0; c < 11; c++) {
          const y = yOf(up.src, n, c, q, md.qToP.qhatInv, md.qToP.qhatInvShoup)
          const x = conversionInputs(Q, 11, 1)[c] as bigint
          const zq = y.reduce((s, yi, i) => s + BigInt(yi) * (Q / BigInt(q[i] as number)), 0n)
          if (BigInt(floatOnly(y, md.qToP.invQ)) !== (zq - (x > Q / 2n ? x - Q : x)) / Q) wrongConv++
        }
        assert.ok(wrongScale > 0, 'some scaling inputs must round wrongly in float64 alone')
        assert.ok(wrongConv > 0, 'some conversion inputs must round wrongly in float64 alone')
      })

      for (const { name, rns } of backends) {
        test(`${preset} level ${k} on ${name}: centred conversions and scale-and-round are exact`, () => {
          const gotUp = new Uint32Array(p.length * n)
          rns.convertCentered(md.qToP, up.src, gotUp, n)
          assert.deepEqual(gotUp, up.want, 'Q → P')
          const gotDown = new Uint32Array(q.length * n)
          rns.convertCentered(md.pToQ, down.src, gotDown, n)
          assert.deepEqual(gotDown, down.want, 'P → Q')
          const gotScale = new Uint32Array(p.length * n)
          rns.scaleRound(md.scaler, ssrc, gotScale, n)
          assert.deepEqual(gotScale, swant, 'round(t·x/Q)')
        })
      }
    }
  }
})
