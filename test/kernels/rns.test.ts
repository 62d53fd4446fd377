import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BaseConvKernels } from '../../kernels/rns/gpu.ts'
import { baseConvertExact, fastBaseConvert, makeBaseConvTables } from '../../kernels/rns/reference.ts'
import { gpuForTests, need } from './gpu-support.ts'
import { PRIMES_31, rng } from './support.ts'

const gpu = await gpuForTests()
after(() => gpu.rt?.destroy())

const FROM = [PRIMES_31[0], PRIMES_31[1], PRIMES_31[2]]
const TO = [PRIMES_31[3], PRIMES_31[4], 65537, 12289]

/** Residues of B random integers x ∈ [0, Q) (plus the edges 0, 1, Q−1), as B·k rows of n; also returns the xs. */
function residues(from: readonly number[], B: number, n: number, seed: number): { x: Uint32Array; values: bigint[] } {
  const next = rng(seed)
  const Q = from.reduce((a, q) => a * BigInt(q), 1n)
  const values: bigint[] = []
  for (let i = 0; i < B * n; i++) {
    let v = 0n
    for (let w = 0; w < 4; w++) v = (v << 32n) | BigInt(Math.floor(next() * 2 ** 32))
    values.push(v % Q)
  }
  values[0] = 0n
  values[1] = 1n
  values[2] = Q - 1n
  values[3] = Q / 2n
  const k = from.length
  const x = new Uint32Array(B * k * n)
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < n; c++) {
      for (let i = 0; i < k; i++) x[(b * k + i) * n + c] = Number((values[b * n + c] as bigint) % BigInt(from[i] as number))
    }
  }
  return { x, values }
}

describe('RNS base conversion (reference)', () => {
  test('fast conversion equals (x + αQ) mod p_j with 0 ≤ α < k, checked in BigInt', () => {
    const t = makeBaseConvTables(FROM, TO)
    const n = 64
    const B = 3
    const { x, values } = residues(FROM, B, n, 1)
    const out = fastBaseConvert(x, n, t)
    const Q = FROM.reduce((a, q) => a * BigInt(q), 1n)
    const k = FROM.length
    const m = TO.length
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < n; c++) {
        const X = values[b * n + c] as bigint
        // Σ y_i·q̂_i exactly, then α = (Σ − X)/Q must be an integer in [0, k).
        let S = 0n
        for (let i = 0; i < k; i++) {
          const qi = BigInt(FROM[i] as number)
          const qh = Q / qi
          let inv = 1n
          for (let e = qi - 2n, base = qh % qi; e > 0n; e >>= 1n, base = (base * base) % qi) if (e & 1n) inv = (inv * base) % qi
          S += (((X % qi) * inv) % qi) * qh
        }
        assert.equal((S - X) % Q, 0n)
        const alpha = (S - X) / Q
        assert.ok(alpha >= 0n && alpha < BigInt(k), `alpha ${alpha}`)
        for (let j = 0; j < m; j++) assert.equal(BigInt(out[(b * m + j) * n + c] as number), S % BigInt(TO[j] as number))
      }
    }
  })

  test('exact (HPS) conversion gives the centered representative mod p_j', () => {
    const t = makeBaseConvTables(FROM, TO)
    const n = 64
    const { x, values } = residues(FROM, 2, n, 2)
    const out = baseConvertExact(x, n, t)
    const Q = FROM.reduce((a, q) => a * BigInt(q), 1n)
    const m = TO.length
    for (let b = 0; b < 2; b++) {
      for (let c = 0; c < n; c++) {
        const X = values[b * n + c] as bigint
        // The documented float64 window: x within ~k·2^−52·Q of Q/2 (values[3] = ⌊Q/2⌋ is in it) may round either way.
        const dist = X > Q / 2n ? X - Q / 2n : Q / 2n - X
        if (dist < Q >> 40n) continue
        const centered = X >= Q / 2n + 1n ? X - Q : X // Q odd: round(X/Q) flips at X = (Q+1)/2
        for (let j = 0; j < m; j++) {
          const p = BigInt(TO[j] as number)
          assert.equal(BigInt(out[(b * m + j) * n + c] as number), ((centered % p) + p) % p, `x=${X}`)
        }
      }
    }
  })

  test('tables refuse bad bases; inputs are checked', () => {
    assert.throws(() => makeBaseConvTables([], TO), { _tag: 'InvalidInput', reason: 'bad_argument' })
    assert.throws(() => makeBaseConvTables(FROM, [FROM[0] as number]), { _tag: 'InvalidInput', reason: 'bad_argument' })
    assert.throws(() => makeBaseConvTables([15], TO), { _tag: 'InvalidInput', reason: 'bad_argument' })
    const t = makeBaseConvTables(FROM, TO)
    assert.throws(() => fastBaseConvert(new Uint32Array(10), 4, t), { _tag: 'InvalidInput', reason: 'length_mismatch' })
    assert.throws(() => fastBaseConvert(new Uint32Array(3 * 4).fill(2 ** 31), 4, t), { _tag: 'InvalidInput', reason: 'coefficient_out_of_range' })
  })
})

describe('RNS base conversion on WebGPU', { skip: gpu.skip }, () => {
  test('bit-exact against the reference (B polys, several bases)', async () => {
    const k = new BaseConvKernels(need(gpu))
    for (const [from, to, n] of [
      [FROM, TO, 4096],
      [TO, FROM, 1024],
      [PRIMES_31.slice(0, 1), PRIMES_31.slice(1, 8), 1024],
    ] as const) {
      const { x } = residues(from, 2, n, n)
      const got = await k.convert(x, n, from, to)
      const want = fastBaseConvert(x, n, makeBaseConvTables(from, to))
      assert.deepEqual(got, want)
    }
  })
})
