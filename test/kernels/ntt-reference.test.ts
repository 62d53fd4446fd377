import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  bitReverse,
  FAST_MODULUS_LIMIT,
  forwardNtt,
  inverseNtt,
  invMod,
  isPrime,
  makeNttTables,
  minimalPrimitiveRoot,
  montgomeryConstants,
  montMul,
  mul64,
  mulMod,
  mulModFast,
  mulModMontgomery,
  mulShoup,
  pointwiseAdd,
  pointwiseMul,
  pointwiseSub,
  polyMulNegacyclic,
  powMod,
  shoupPrecompute,
} from '../../kernels/ntt/reference.ts'
import { nttByDefinitionBigInt, polyMulSchoolbookBigInt } from '../../kernels/ntt/slow.ts'
import { PRIMES_31, randomResidues, rng } from './support.ts'

const FC = { seed: 20261124, numRuns: 2000 }
const MODULI = [...PRIMES_31, 2 ** 31 - 1, 3, 17, 65537, 12289, 1073479681]

describe('scalar modular arithmetic', () => {
  test('mulMod edges: (q−1)², 0, 1', () => {
    for (const q of MODULI) {
      const Q = BigInt(q)
      assert.equal(mulMod(q - 1, q - 1, q), Number(((Q - 1n) * (Q - 1n)) % Q))
      assert.equal(mulMod(q - 1, q - 1, q), 1)
      assert.equal(mulMod(0, q - 1, q), 0)
      assert.equal(mulMod(q - 1, 0, q), 0)
      assert.equal(mulMod(1, q - 1, q), q - 1)
      assert.equal(mulMod(q - 1, 1, q), q - 1)
    }
  })

  test('mulMod, mulShoup and Montgomery agree with BigInt on random operands', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MODULI.filter((q) => q % 2 === 1)), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (q, x, y) => {
        const a = Math.min(q - 1, Math.floor(x * q))
        const b = Math.min(q - 1, Math.floor(y * q))
        const want = Number((BigInt(a) * BigInt(b)) % BigInt(q))
        assert.equal(mulMod(a, b, q), want)
        assert.equal(mulShoup(a, b, shoupPrecompute(b, q), q), want)
        assert.equal(mulModMontgomery(a, b, montgomeryConstants(q)), want)
      }),
      FC,
    )
  })

  test('Montgomery edges and constants', () => {
    for (const q of MODULI.filter((m) => m % 2 === 1)) {
      const c = montgomeryConstants(q)
      assert.equal((Math.imul(c.qInvNeg, q) + 1) >>> 0, 0, 'q·qInvNeg ≡ −1 mod 2^32')
      assert.equal(BigInt(c.r2), (1n << 64n) % BigInt(q))
      for (const [a, b] of [[q - 1, q - 1], [0, 0], [0, q - 1], [1, 1], [1, q - 1]] as const) {
        const want = Number((BigInt(a) * BigInt(b)) % BigInt(q))
        assert.equal(mulModMontgomery(a, b, c), want, `q=${q} a=${a} b=${b}`)
        const mont = Number((BigInt(a) * BigInt(b) * BigInt(invMod(2 ** 32 % q, q))) % BigInt(q))
        assert.equal(montMul(a, b, c), mont)
      }
      assert.equal(shoupPrecompute(q - 1, q), Number((BigInt(q - 1) << 32n) / BigInt(q)))
    }
  })

  test('mul64 equals the BigInt product, including 0xffffffff²', () => {
    const cases: Array<[number, number]> = [[0xffffffff, 0xffffffff], [0, 0xffffffff], [1, 1], [0x10000, 0x10000], [0xffff, 0x10001]]
    const next = rng(7)
    for (let i = 0; i < 500; i++) cases.push([Math.floor(next() * 2 ** 32), Math.floor(next() * 2 ** 32)])
    for (const [a, b] of cases) {
      const [lo, hi] = mul64(a, b)
      assert.equal((BigInt(hi) << 32n) | BigInt(lo), BigInt(a) * BigInt(b))
    }
  })

  test('powMod, invMod, isPrime', () => {
    for (const q of PRIMES_31) {
      assert.ok(isPrime(q))
      assert.equal(powMod(3, q - 1, q), 1, 'Fermat')
      const x = 123456789 % q
      assert.equal(mulMod(x, invMod(x, q), q), 1)
    }
    assert.ok(isPrime(2 ** 31 - 1))
    for (const c of [1, 0, 561, 1105, 1729, 2465, 2147352575, 2 ** 31 - 3, 25326001, 3215031751]) {
      assert.equal(isPrime(c), false, String(c)) // 25326001: strong pseudoprime to 2, 3, 5; 3215031751: to 2, 3, 5, 7
    }
    assert.throws(() => invMod(6, 12), (e: unknown) => (e as { _tag?: string })._tag === 'NotInvertible')
  })
})

describe('makeNttTables', () => {
  test('refuses bad (n, q) with typed reasons', () => {
    const reason = (n: number, q: number): string => {
      try {
        makeNttTables(n, q)
        return 'ok'
      } catch (e) {
        const err = e as { _tag?: string; reason?: string }
        assert.equal(err._tag, 'InvalidNttParams')
        return err.reason ?? '?'
      }
    }
    assert.equal(reason(1000, 2147352577), 'n_not_power_of_two')
    assert.equal(reason(0, 2147352577), 'n_not_power_of_two')
    assert.equal(reason(2 ** 17, 2147352577), 'n_out_of_range')
    assert.equal(reason(1, 2147352577), 'n_out_of_range')
    assert.equal(reason(1024, 2 ** 31 + 11), 'q_out_of_range')
    assert.equal(reason(1024, 1.5), 'q_not_integer')
    assert.equal(reason(1024, 2147352577 + 2), 'q_not_prime')
    assert.equal(reason(1024, 2 ** 31 - 1), 'q_not_ntt_friendly')
    assert.equal(reason(4096, 12289), 'q_not_ntt_friendly')
    assert.equal(reason(4096, 2147352577), 'ok')
  })

  test('ψ is the smallest primitive 2n-th root (brute force for small q)', () => {
    for (const [n, q] of [[8, 17], [4, 17], [16, 97], [256, 7681], [512, 12289]] as const) {
      const psi = minimalPrimitiveRoot(n, q)
      let min = -1
      for (let x = 1; x < q && min < 0; x++) {
        if (powMod(x, n, q) === q - 1) min = x
      }
      assert.equal(psi, min, `n=${n} q=${q}`)
      const t = makeNttTables(n, q)
      assert.equal(t.psi, psi)
      assert.equal(powMod(t.psi, n, q), q - 1)
      assert.equal(mulMod(t.nInv, n, q), 1)
      assert.equal(t.psiRev[1], powMod(psi, bitReverse(1, t.logN), q))
    }
    assert.equal(minimalPrimitiveRoot(8, 17), 3)
  })
})

describe('negacyclic NTT', () => {
  test('forwardNtt equals the definition (bit-reversed evaluation at odd powers of ψ)', () => {
    const next = rng(11)
    for (const [n, q] of [[2, 17], [8, 17], [16, 97], [64, PRIMES_31[0]], [128, PRIMES_31[3]]] as const) {
      const t = makeNttTables(n, q)
      const a = randomResidues(n, q, next)
      const want = nttByDefinitionBigInt(a, q, t.psi)
      const got = a.slice()
      forwardNtt(got, t)
      assert.deepEqual(got, want, `n=${n} q=${q}`)
    }
  })

  test('inverseNtt(forwardNtt(x)) = x for every n = 2 … 2^16, edge vectors included', () => {
    const next = rng(12)
    for (let logN = 1; logN <= 16; logN++) {
      const n = 2 ** logN
      const q = PRIMES_31[logN % PRIMES_31.length] as number
      const t = makeNttTables(n, q)
      for (const a of [randomResidues(n, q, next), new Uint32Array(n).fill(q - 1), new Uint32Array(n), new Uint32Array(n).fill(1)]) {
        const b = a.slice()
        forwardNtt(b, t)
        inverseNtt(b, t)
        assert.deepEqual(b, a, `n=${n}`)
      }
    }
  })

  test('polyMulNegacyclic equals the BigInt schoolbook product (small n)', () => {
    const next = rng(13)
    for (const n of [2, 4, 16, 64, 256]) {
      for (const q of [PRIMES_31[0], PRIMES_31[7], 7681, 12289].filter((p) => (p - 1) % (2 * n) === 0)) {
        const t = makeNttTables(n, q)
        const a = randomResidues(n, q, next)
        const b = randomResidues(n, q, next)
        assert.deepEqual(polyMulNegacyclic(a, b, t), polyMulSchoolbookBigInt(a, b, q), `n=${n} q=${q}`)
        const top = new Uint32Array(n).fill(q - 1)
        assert.deepEqual(polyMulNegacyclic(top, top, t), polyMulSchoolbookBigInt(top, top, q))
      }
    }
    // X^(n−1) · X = X^n = −1
    const t = makeNttTables(8, 17)
    const x7 = new Uint32Array(8)
    x7[7] = 1
    const x1 = new Uint32Array(8)
    x1[1] = 1
    assert.deepEqual(Array.from(polyMulNegacyclic(x7, x1, t)), [16, 0, 0, 0, 0, 0, 0, 0])
  })

  test('pointwise ops match BigInt and refuse bad input', () => {
    const next = rng(14)
    const q = PRIMES_31[1]
    const a = randomResidues(1000, q, next)
    const b = randomResidues(1000, q, next)
    a[0] = q - 1
    b[0] = q - 1
    const m = pointwiseMul(a, b, q)
    const s = pointwiseAdd(a, b, q)
    const d = pointwiseSub(a, b, q)
    for (let i = 0; i < a.length; i++) {
      const A = BigInt(a[i] as number)
      const B = BigInt(b[i] as number)
      const Q = BigInt(q)
      assert.equal(BigInt(m[i] as number), (A * B) % Q)
      assert.equal(BigInt(s[i] as number), (A + B) % Q)
      assert.equal(BigInt(d[i] as number), (((A - B) % Q) + Q) % Q)
    }
    const tag = (f: () => unknown): string | undefined => {
      try {
        f()
      } catch (e) {
        return `${(e as { _tag?: string })._tag}:${(e as { reason?: string }).reason}`
      }
      return undefined
    }
    assert.equal(tag(() => pointwiseAdd(a, b.subarray(1), q)), 'InvalidInput:length_mismatch')
    assert.equal(tag(() => pointwiseMul(new Uint32Array([q]), new Uint32Array([1]), q)), 'InvalidInput:coefficient_out_of_range')
    const t = makeNttTables(16, 97)
    assert.equal(tag(() => forwardNtt(new Uint32Array(8), t)), 'InvalidInput:length_mismatch')
    assert.equal(tag(() => inverseNtt(new Uint32Array(16).fill(97), t)), 'InvalidInput:coefficient_out_of_range')
  })
})

describe('branch-free products (float quotient, sign masks) at the edges of their range', () => {
  test('mulModFast equals BigInt for q just below FAST_MODULUS_LIMIT, small q, and the edges 0, 1, q − 1', () => {
    let big = FAST_MODULUS_LIMIT - 1
    while (!isPrime(big)) big -= 1
    const r = rng(77)
    for (const q of [big, ...PRIMES_31, 12289, 17, 3]) {
      const Q = BigInt(q)
      const vals = [0, 1, q - 1, q - 2, Math.floor(q / 2), ...Array.from({ length: 300 }, () => Math.floor(r() * q))]
      for (const a of vals) {
        for (const b of vals.slice(0, 8)) {
          assert.equal(mulModFast(a, b, q), Number((BigInt(a) * BigInt(b)) % Q), `q=${q} a=${a} b=${b}`)
          assert.equal(mulModFast(b, a, q), Number((BigInt(a) * BigInt(b)) % Q), `q=${q} a=${b} b=${a}`)
        }
      }
    }
  })

  test('NTT round trip and product against BigInt for an NTT-friendly prime just below the limit and one above it', () => {
    const n = 64
    const found: number[] = []
    for (let q = Math.floor((FAST_MODULUS_LIMIT - 1) / (2 * n)) * 2 * n + 1; found.length < 1; q -= 2 * n) if (isPrime(q)) found.push(q)
    for (let q = Math.floor((2 ** 31 - 2) / (2 * n)) * 2 * n + 1; found.length < 2 && q >= FAST_MODULUS_LIMIT; q -= 2 * n) if (isPrime(q)) found.push(q)
    for (const q of found) {
      const t = makeNttTables(n, q)
      const a = randomResidues(n, q, rng(q))
      const b = randomResidues(n, q, rng(q + 1))
      a[0] = q - 1
      b[n - 1] = q - 1
      const f = a.slice()
      forwardNtt(f, t)
      assert.deepEqual(f, nttByDefinitionBigInt(a, q, t.psi), `q=${q}`)
      inverseNtt(f, t)
      assert.deepEqual(f, a)
      assert.deepEqual(polyMulNegacyclic(a, b, t), polyMulSchoolbookBigInt(a, b, q), `q=${q}`)
    }
  })
})
