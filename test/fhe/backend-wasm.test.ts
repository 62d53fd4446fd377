/**
 * Every polynomial backend against the plain-TypeScript reference, word for word: NTTs, pointwise operations, and
 * the RNS steps (centred base conversion, HPS scale-and-round, decryption's rounding, modulus switching), on random
 * and edge inputs (0, q − 1, X^(n−1)·X wrap-around), n = 2^10 … 2^16; and whole BFV operations run on each backend.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createFheContext } from '../../fhe/context.ts'
import { decrypt, noiseBudget } from '../../fhe/decrypt.ts'
import { encodeIntegers } from '../../fhe/encoder.ts'
import { encryptPublic } from '../../fhe/encrypt.ts'
import * as ev from '../../fhe/evaluate.ts'
import { createKeyGenerator } from '../../fhe/keygen.ts'
import { cpuBackend, makeRnsBase, type PolyBackend, type RnsBase, type RnsPoly } from '../../fhe/poly.ts'
import { PRIMES_31, presets } from '../../fhe/presets.ts'
import { seededRandom } from '../../fhe/rng.ts'
import { referenceRns } from '../../fhe/rns.ts'
import { availablePolyBackends, defaultPolyBackend, engineHasSimd, wasmScalarBackend, wasmSimdBackend } from '../../fhe/wasm/load.ts'
import { negacyclicMod, prng } from './helpers.ts'

const wasmBackends = availablePolyBackends.filter((b) => b !== cpuBackend)

function randomPoly(base: RnsBase, seed: number): RnsPoly {
  const r = prng(seed)
  const n = base.n
  const data = new Uint32Array(n * base.moduli.length)
  base.moduli.forEach((q, i) => {
    for (let c = 0; c < n; c++) data[i * n + c] = Math.floor(r() * q)
  })
  return { n, k: base.moduli.length, data }
}

function filled(base: RnsBase, f: (q: number, c: number) => number): RnsPoly {
  const n = base.n
  const data = new Uint32Array(n * base.moduli.length)
  base.moduli.forEach((q, i) => {
    for (let c = 0; c < n; c++) data[i * n + c] = f(q, c)
  })
  return { n, k: base.moduli.length, data }
}

const copy = (p: RnsPoly): RnsPoly => ({ n: p.n, k: p.k, data: p.data.slice() })

/** Runs the same sequence of operations on `be` and on the reference and compares every intermediate result. */
function compareOps(be: PolyBackend, base: RnsBase, a0: RnsPoly, b0: RnsPoly, label: string): void {
  const run = (x: PolyBackend): Uint32Array[] => {
    const a = copy(a0)
    const b = copy(b0)
    const out: Uint32Array[] = []
    const c = filled(base, () => 0)
    x.add(a, b, c, base)
    out.push(c.data.slice())
    x.sub(a, b, c, base)
    out.push(c.data.slice())
    x.negate(a, c, base)
    out.push(c.data.slice())
    x.forwardMany([a, b], base)
    out.push(a.data.slice(), b.data.slice())
    x.mul(a, b, c, base)
    out.push(c.data.slice())
    x.mulAcc(c, a, b, base)
    out.push(c.data.slice())
    const w = x.prepare(b, base)
    out.push(w.wShoup.slice())
    x.mulAccPrepared(c, a, w, base)
    out.push(c.data.slice())
    x.mulScalar(c, base.moduli.map((q) => q - 1), c, base)
    out.push(c.data.slice())
    x.inverseMany([c, a], base)
    out.push(c.data.slice(), a.data.slice())
    return out
  }
  const want = run(cpuBackend)
  const got = run(be)
  want.forEach((w, i) => assert.deepEqual(got[i], w, `${be.name} ${label}: step ${i}`))
}

describe('polynomial backends are bit-identical to the TypeScript reference', () => {
  test('the WebAssembly backends load (both variants; SIMD where the engine has it) and SIMD is the default', () => {
    assert.ok(wasmScalarBackend, 'scalar wasm backend must build and load')
    if (engineHasSimd()) {
      assert.ok(wasmSimdBackend, 'SIMD wasm backend must build and load on an engine with SIMD')
      assert.equal(defaultPolyBackend, wasmSimdBackend)
    }
    assert.ok(wasmBackends.length >= 1)
  })

  for (const be of wasmBackends) {
    test(`${be.name}: random and edge polynomials, n = 2^10 … 2^16`, () => {
      for (let logN = 10; logN <= 16; logN++) {
        const n = 2 ** logN
        const base = makeRnsBase(n, logN >= 15 ? [PRIMES_31[0]] : [PRIMES_31[0], PRIMES_31[3]])
        compareOps(be, base, randomPoly(base, logN), randomPoly(base, 100 + logN), `n=${n} random`)
        if (logN <= 12) {
          compareOps(be, base, filled(base, (q) => q - 1), filled(base, (q) => q - 1), `n=${n} all q−1`)
          compareOps(be, base, filled(base, () => 0), randomPoly(base, 7), `n=${n} zero`)
        }
      }
    })

    test(`${be.name}: X^(n−1)·X wraps to −1; other primes (small, near 2^31)`, () => {
      for (const [n, moduli] of [
        [4096, [PRIMES_31[1], PRIMES_31[2]]],
        [1024, [12289, 1073479681]],
        [16, [2147483137, 97]],
      ] as const) {
        const base = makeRnsBase(n, moduli)
        const a = filled(base, (_, c) => (c === n - 1 ? 1 : 0))
        const b = filled(base, (_, c) => (c === 1 ? 1 : 0))
        be.forwardMany([a, b], base)
        be.mul(a, b, a, base)
        be.inverseMany([a], base)
        assert.deepEqual(a.data, filled(base, (q, c) => (c === 0 ? q - 1 : 0)).data, `n=${n}`)
        compareOps(be, base, randomPoly(base, n), randomPoly(base, n + 1), `n=${n} moduli ${moduli.join(',')}`)
      }
    })
  }
})

describe('RNS kernels are bit-identical to the reference', () => {
  for (const be of wasmBackends) {
    test(`${be.name}: base conversion, scale-and-round, decryption rounding, modulus switch, reduce`, () => {
      const rns = be.rns
      assert.ok(rns, `${be.name} provides RNS kernels`)
      for (const preset of ['bfv4096', 'bfv8192Linear'] as const) {
        const ctx = createFheContext(presets[preset], cpuBackend)
        const n = ctx.n
        const k = ctx.levels
        const md = ctx.mulData(k)
        const K = md.pBase.moduli.length
        const r = prng(k * 31 + n)
        // Random words plus the edges 0 and q − 1 in the first coefficients of every limb.
        const words = (moduli: readonly number[]): Uint32Array => {
          const d = new Uint32Array(moduli.length * n)
          moduli.forEach((q, i) => {
            for (let c = 0; c < n; c++) d[i * n + c] = c === 0 ? 0 : c === 1 ? q - 1 : Math.floor(r() * q)
          })
          return d
        }
        const q = words(md.qToP.from)
        const want = new Uint32Array(K * n)
        const got = new Uint32Array(K * n)
        referenceRns.convertCentered(md.qToP, q, want, n)
        rns.convertCentered(md.qToP, q, got, n)
        assert.deepEqual(got, want, `${preset} Q→P`)
        const p = words(md.pToQ.from)
        const wantQ = new Uint32Array(k * n)
        const gotQ = new Uint32Array(k * n)
        referenceRns.convertCentered(md.pToQ, p, wantQ, n)
        rns.convertCentered(md.pToQ, p, gotQ, n)
        assert.deepEqual(gotQ, wantQ, `${preset} P→Q`)
        const qp = words(md.qpBase.moduli)
        referenceRns.scaleRound(md.scaler, qp, want, n)
        rns.scaleRound(md.scaler, qp, got, n)
        assert.deepEqual(got, want, `${preset} scaleRound`)
        for (let level = 1; level <= k; level++) {
          const ld = ctx.levelData[level - 1]
          assert.ok(ld)
          const x = words(ld.moduli)
          const idx = Uint32Array.from({ length: n }, (_, i) => (i * 7) % n)
          const mw = new Uint32Array(n)
          const mg = new Uint32Array(n)
          referenceRns.decryptScale(ld, x, n, ctx.t, idx, mw)
          rns.decryptScale(ld, x, n, ctx.t, idx, mg)
          assert.deepEqual(mg, mw, `${preset} decryptScale level ${level}`)
          if (level > 1) {
            const sw = new Uint32Array((level - 1) * n)
            const sg = new Uint32Array((level - 1) * n)
            referenceRns.modSwitchLast(x, sw, n, ld.moduli, ld.lastInv)
            rns.modSwitchLast(x, sg, n, ld.moduli, ld.lastInv)
            assert.deepEqual(sg, sw, `${preset} modSwitch level ${level}`)
          }
        }
        const src = words([md.pBase.moduli[0] as number])
        for (const m of ctx.base.moduli.slice(0, 2).concat([65537, 3])) {
          const rw = new Uint32Array(n)
          const rg = new Uint32Array(n)
          referenceRns.reduceMod(src, rw, m)
          rns.reduceMod(src, rg, m)
          assert.deepEqual(rg, rw, `${preset} reduceMod ${m}`)
        }
      }
    })
  }
})

describe('BFV on every backend gives the same ciphertexts', () => {
  test('keygen, encrypt, multiply + relinearize, plaintext multiply, decrypt: word for word (bfv4096)', () => {
    const results = availablePolyBackends.map((be) => {
      const ctx = createFheContext(presets.bfv4096, be)
      const kg = createKeyGenerator(ctx, seededRandom('backend-equivalence'))
      const pk = kg.createPublicKey()
      const rlk = kg.createRelinKeys()
      const rng = seededRandom('backend-equivalence-enc')
      const a = encryptPublic(ctx, pk, encodeIntegers(ctx, [3, -5, 7, 1000]), rng)
      const b = encryptPublic(ctx, pk, encodeIntegers(ctx, [-2, 4]), rng)
      const prod = ev.multiplyRelin(ctx, a, b, rlk)
      const pm = ev.multiplyPlain(ctx, a, encodeIntegers(ctx, [0, 3]))
      const low = ev.modSwitchToNext(ctx, prod)
      const m = decrypt(ctx, kg.secretKey, low).coeffs
      return { be: be.name, words: [prod, pm, low].flatMap((c) => c.polys.map((p) => p.data)), m, budget: noiseBudget(ctx, kg.secretKey, prod) }
    })
    const [ref, ...rest] = results
    assert.ok(ref)
    const want = negacyclicMod([3, -5, 7, 1000], [-2, 4], 4096, 65537).map((v) => (v < 0 ? v + 65537 : v))
    assert.deepEqual([...ref.m], want)
    for (const r of rest) {
      r.words.forEach((w, i) => assert.deepEqual(w, ref.words[i], `${r.be}: polynomial ${i}`))
      assert.deepEqual(r.m, ref.m)
      assert.equal(r.budget, ref.budget)
    }
  })
})
