// AssemblyScript source of the WebAssembly polynomial backend (compiled by fhe/wasm/build.ts, not by tsc).
//
// Everything works on u32 residues of primes q < 2^31 held in this module's linear memory; the JavaScript side
// (fhe/wasm/backend.ts) owns the memory layout, copies operands in and results out, and keeps twiddle tables
// resident. One source, two builds: with `--enable simd` the hot loops run four lanes at a time (ASC_FEATURE_SIMD is
// a compile-time constant, so the other branch is dropped), without it they run the scalar i64 loops.
//
// Arithmetic (no `%` anywhere):
// - Shoup products: r = x·w − ⌊x·w'/2^32⌋·q with w' = ⌊w·2^32/q⌋ lies in [0, 2q) for any x < 2^32.
// - Generic products: Montgomery REDC (R = 2^32) then a Shoup product by R mod q, so a·b mod q needs no division.
// - Conditional subtraction: min_u(x, x − q) (u32 wrap-around makes x − q huge when x < q).
// - Sums of many products (RNS base conversion, scaling): exact u64 accumulation modulo 2^64 beside a float64 copy
//   of the same sum; the float quotient ⌊S/p⌋ is off by at most one, and the true remainder S − ⌊S/p⌋·p is small,
//   so the wrapped u64 arithmetic recovers it exactly with one correction on each side. One reduction per output.
//
// NTTs are the negacyclic Cooley–Tukey (forward: natural in, bit-reversed out) and Gentleman–Sande (inverse)
// transforms of kernels/ntt/reference.ts with the same twiddle tables. Butterflies are lazy: values stay in [0, 2q)
// between stages (two conditional subtractions per butterfly instead of three) and are made canonical once at the end.

// ---------------------------------------------------------------------------------------------------------------
// Scalar helpers

function shoup(x: u32, w: u32, ws: u32, q: u32): u32 {
  const qhat = <u32>((<u64>x * <u64>ws) >> 32)
  return x * w - qhat * q
}

function csub(x: u32, q: u32): u32 {
  const y = x - q
  return select<u32>(y, x, y < x)
}

/** a·b·2^−32 mod q in [0, 2q) (Montgomery REDC), for a, b < 2^32 with a·b < q·2^32. */
function mont(a: u32, b: u32, q: u32, qInvNeg: u32): u32 {
  const p = <u64>a * <u64>b
  const m = <u32>p * qInvNeg
  return <u32>((p + <u64>m * <u64>q) >> 32)
}

/** Math.round for non-negative doubles (ties towards +∞), exactly: x − ⌊x⌋ is exact below 2^52. */
function roundHalfUp(x: f64): f64 {
  const f = Math.floor(x)
  return f + select<f64>(1.0, 0.0, x - f >= 0.5)
}

/** Float estimates within 2^−12 of a half-integer are recomputed exactly (their error is below 2^−15). */
const AMBIG: f64 = 0.000244140625

function ambiguousF(x: f64): bool {
  return Math.abs(x - Math.floor(x) - 0.5) < AMBIG
}

/**
 * Exact round(S) in integer fixed point (kernels/rns/exact.ts): ⌊(Σ_i y_i·Θ_i + 2^(32L−1)) / 2^(32L)⌋ with y_i read
 * as u32 at y + i·stride and Θ_i the L words (least significant first) at fix + 4·(i·L + w).
 */
function fixedRound(y: usize, stride: usize, fix: usize, k: u32, L: u32): u64 {
  let carry: u64 = 0
  for (let w: usize = 0; w < <usize>L; w++) {
    let lo: u64 = carry
    let hi: u64 = 0
    for (let i: usize = 0; i < <usize>k; i++) {
      const p = <u64>load<u32>(y + i * stride) * <u64>load<u32>(fix + ((i * <usize>L + w) << 2))
      lo += p & 0xffffffff
      hi += p >> 32
    }
    if (w == <usize>L - 1) lo += 0x80000000
    carry = hi + (lo >> 32)
  }
  return carry
}

/** S mod p for S given exactly modulo 2^64 (s) and approximately (sf, |sf − S| < p/2), with 0 ≤ S. */
function reduceSum(s: u64, sf: f64, p: u32, invP: f64): u32 {
  let qf = <i64>Math.floor(sf * invP)
  qf = select<i64>(qf, 0, qf >= 0)
  let r = <i64>(s - <u64>qf * <u64>p)
  const pp = <i64>p
  r += select<i64>(pp, 0, r < 0)
  r += select<i64>(pp, 0, r < 0)
  r -= select<i64>(pp, 0, r >= pp)
  r -= select<i64>(pp, 0, r >= pp)
  return <u32>r
}

/** x mod q for any u32 x (float quotient, corrected). */
function reduceU32(x: u32, q: u32, invQ: f64): u32 {
  const qf = <u32>Math.floor(<f64>x * invQ)
  let r = <i64>x - <i64>qf * <i64>q
  const qq = <i64>q
  r += select<i64>(qq, 0, r < 0)
  r -= select<i64>(qq, 0, r >= qq)
  return <u32>r
}

// ---------------------------------------------------------------------------------------------------------------
// SIMD helpers (used only when ASC_FEATURE_SIMD)

function mulhiV(x: v128, y: v128): v128 {
  const lo = i64x2.extmul_low_i32x4_u(x, y)
  const hi = i64x2.extmul_high_i32x4_u(x, y)
  return i32x4.shuffle(lo, hi, 1, 3, 5, 7)
}

function shoupV(x: v128, w: v128, ws: v128, q: v128): v128 {
  return i32x4.sub(i32x4.mul(x, w), i32x4.mul(mulhiV(x, ws), q))
}

function csubV(x: v128, q: v128): v128 {
  return i32x4.min_u(x, i32x4.sub(x, q))
}

function montV(a: v128, b: v128, q: v128, qInvNeg: v128): v128 {
  const plo = i64x2.extmul_low_i32x4_u(a, b)
  const phi = i64x2.extmul_high_i32x4_u(a, b)
  const m = i32x4.mul(i32x4.mul(a, b), qInvNeg)
  const slo = i64x2.add(plo, i64x2.extmul_low_i32x4_u(m, q))
  const shi = i64x2.add(phi, i64x2.extmul_high_i32x4_u(m, q))
  return i32x4.shuffle(slo, shi, 1, 3, 5, 7)
}

// ---------------------------------------------------------------------------------------------------------------
// NTT

/** Forward negacyclic NTT of n u32 at a (in [0, q)); tw/tws: psiRev and its Shoup quotients (n u32 each). */
export function forward(a: usize, n: u32, q: u32, tw: usize, tws: usize): void {
  let span = n
  for (let m: u32 = 1; m < n; m <<= 1) {
    span >>= 1
    if (ASC_FEATURE_SIMD) forwardStageSimd(a, m, span, q, tw, tws)
    else forwardStage(a, m, span, q, tw, tws)
  }
  reduceRange(a, n, q)
}

function forwardStage(a: usize, m: u32, span: u32, q: u32, tw: usize, tws: usize): void {
  for (let i: u32 = 0; i < m; i++) {
    const w = load<u32>(tw + ((<usize>(m + i)) << 2))
    const ws = load<u32>(tws + ((<usize>(m + i)) << 2))
    const p1 = a + ((<usize>(2 * i * span)) << 2)
    const end = p1 + ((<usize>span) << 2)
    const off = (<usize>span) << 2
    for (let p = p1; p < end; p += 4) {
      const u = csub(load<u32>(p), q)
      const v = csub(shoup(load<u32>(p + off), w, ws, q), q)
      store<u32>(p, u + v)
      store<u32>(p + off, u - v + q)
    }
  }
}

function forwardStageSimd(a: usize, m: u32, span: u32, q: u32, tw: usize, tws: usize): void {
    if (span >= 4) {
      const qv = i32x4.splat(q)
      for (let i: u32 = 0; i < m; i++) {
        const w = i32x4.splat(load<u32>(tw + ((<usize>(m + i)) << 2)))
        const ws = i32x4.splat(load<u32>(tws + ((<usize>(m + i)) << 2)))
        const p1 = a + ((<usize>(2 * i * span)) << 2)
        const end = p1 + ((<usize>span) << 2)
        const off = (<usize>span) << 2
        for (let p = p1; p < end; p += 16) {
          const u = csubV(v128.load(p), qv)
          const v = csubV(shoupV(v128.load(p + off), w, ws, qv), qv)
          v128.store(p, i32x4.add(u, v))
          v128.store(p + off, i32x4.add(i32x4.sub(u, v), qv))
        }
      }
    } else if (span == 2 && m >= 2) {
      // Two blocks per step: U = [a0 a1 a4 a5], X = [a2 a3 a6 a7], twiddles [w_i w_i w_i+1 w_i+1].
      const qv = i32x4.splat(q)
      for (let i: u32 = 0; i < m; i += 2) {
        const t = tw + ((<usize>(m + i)) << 2)
        const ts = tws + ((<usize>(m + i)) << 2)
        const w = i32x4.shuffle(v128.load64_zero(t), v128.load64_zero(t), 0, 0, 1, 1)
        const ws = i32x4.shuffle(v128.load64_zero(ts), v128.load64_zero(ts), 0, 0, 1, 1)
        const p = a + ((<usize>(4 * i)) << 2)
        const v0 = v128.load(p)
        const v1 = v128.load(p + 16)
        const u = csubV(i32x4.shuffle(v0, v1, 0, 1, 4, 5), qv)
        const x = i32x4.shuffle(v0, v1, 2, 3, 6, 7)
        const v = csubV(shoupV(x, w, ws, qv), qv)
        const s = i32x4.add(u, v)
        const d = i32x4.add(i32x4.sub(u, v), qv)
        v128.store(p, i32x4.shuffle(s, d, 0, 1, 4, 5))
        v128.store(p + 16, i32x4.shuffle(s, d, 2, 3, 6, 7))
      }
    } else if (span == 1 && m >= 4) {
      // Four blocks per step: U = [a0 a2 a4 a6], X = [a1 a3 a5 a7], twiddles w_i … w_i+3.
      const qv = i32x4.splat(q)
      for (let i: u32 = 0; i < m; i += 4) {
        const w = v128.load(tw + ((<usize>(m + i)) << 2))
        const ws = v128.load(tws + ((<usize>(m + i)) << 2))
        const p = a + ((<usize>(2 * i)) << 2)
        const v0 = v128.load(p)
        const v1 = v128.load(p + 16)
        const u = csubV(i32x4.shuffle(v0, v1, 0, 2, 4, 6), qv)
        const x = i32x4.shuffle(v0, v1, 1, 3, 5, 7)
        const v = csubV(shoupV(x, w, ws, qv), qv)
        const s = i32x4.add(u, v)
        const d = i32x4.add(i32x4.sub(u, v), qv)
        v128.store(p, i32x4.shuffle(s, d, 0, 4, 1, 5))
        v128.store(p + 16, i32x4.shuffle(s, d, 2, 6, 3, 7))
      }
    } else {
      forwardStage(a, m, span, q, tw, tws)
    }
}

/** [0, 2q) → [0, q) over n words. */
function reduceRange(a: usize, n: u32, q: u32): void {
  const end = a + ((<usize>n) << 2)
  let p = a
  if (ASC_FEATURE_SIMD) {
    const qv = i32x4.splat(q)
    for (; p + 16 <= end; p += 16) v128.store(p, csubV(v128.load(p), qv))
  }
  for (; p < end; p += 4) store<u32>(p, csub(load<u32>(p), q))
}

/** Inverse negacyclic NTT (bit-reversed in, natural out, times n^−1); tw/tws: psiInvRev and Shoup quotients. */
export function inverse(a: usize, n: u32, q: u32, tw: usize, tws: usize, nInv: u32, nInvShoup: u32): void {
  let span: u32 = 1
  for (let m = n; m > 1; m >>= 1) {
    const h = m >> 1
    if (ASC_FEATURE_SIMD) inverseStageSimd(a, h, span, q, tw, tws)
    else inverseStage(a, h, span, q, tw, tws)
    span <<= 1
  }
  mulScalar(a, a, n, q, nInv, nInvShoup)
}

function inverseStage(a: usize, h: u32, span: u32, q: u32, tw: usize, tws: usize): void {
  for (let i: u32 = 0; i < h; i++) {
    const w = load<u32>(tw + ((<usize>(h + i)) << 2))
    const ws = load<u32>(tws + ((<usize>(h + i)) << 2))
    const p1 = a + ((<usize>(2 * i * span)) << 2)
    const end = p1 + ((<usize>span) << 2)
    const off = (<usize>span) << 2
    for (let p = p1; p < end; p += 4) {
      const u = csub(load<u32>(p), q)
      const x = csub(load<u32>(p + off), q)
      store<u32>(p, u + x)
      store<u32>(p + off, shoup(u - x + q, w, ws, q))
    }
  }
}

function inverseStageSimd(a: usize, h: u32, span: u32, q: u32, tw: usize, tws: usize): void {
    if (span >= 4) {
      const qv = i32x4.splat(q)
      for (let i: u32 = 0; i < h; i++) {
        const w = i32x4.splat(load<u32>(tw + ((<usize>(h + i)) << 2)))
        const ws = i32x4.splat(load<u32>(tws + ((<usize>(h + i)) << 2)))
        const p1 = a + ((<usize>(2 * i * span)) << 2)
        const end = p1 + ((<usize>span) << 2)
        const off = (<usize>span) << 2
        for (let p = p1; p < end; p += 16) {
          const u = csubV(v128.load(p), qv)
          const x = csubV(v128.load(p + off), qv)
          v128.store(p, i32x4.add(u, x))
          v128.store(p + off, shoupV(i32x4.add(i32x4.sub(u, x), qv), w, ws, qv))
        }
      }
    } else if (span == 2 && h >= 2) {
      const qv = i32x4.splat(q)
      for (let i: u32 = 0; i < h; i += 2) {
        const t = tw + ((<usize>(h + i)) << 2)
        const ts = tws + ((<usize>(h + i)) << 2)
        const w = i32x4.shuffle(v128.load64_zero(t), v128.load64_zero(t), 0, 0, 1, 1)
        const ws = i32x4.shuffle(v128.load64_zero(ts), v128.load64_zero(ts), 0, 0, 1, 1)
        const p = a + ((<usize>(4 * i)) << 2)
        const v0 = v128.load(p)
        const v1 = v128.load(p + 16)
        const u = csubV(i32x4.shuffle(v0, v1, 0, 1, 4, 5), qv)
        const x = csubV(i32x4.shuffle(v0, v1, 2, 3, 6, 7), qv)
        const s = i32x4.add(u, x)
        const d = shoupV(i32x4.add(i32x4.sub(u, x), qv), w, ws, qv)
        v128.store(p, i32x4.shuffle(s, d, 0, 1, 4, 5))
        v128.store(p + 16, i32x4.shuffle(s, d, 2, 3, 6, 7))
      }
    } else if (span == 1 && h >= 4) {
      const qv = i32x4.splat(q)
      for (let i: u32 = 0; i < h; i += 4) {
        const w = v128.load(tw + ((<usize>(h + i)) << 2))
        const ws = v128.load(tws + ((<usize>(h + i)) << 2))
        const p = a + ((<usize>(2 * i)) << 2)
        const v0 = v128.load(p)
        const v1 = v128.load(p + 16)
        const u = csubV(i32x4.shuffle(v0, v1, 0, 2, 4, 6), qv)
        const x = csubV(i32x4.shuffle(v0, v1, 1, 3, 5, 7), qv)
        const s = i32x4.add(u, x)
        const d = shoupV(i32x4.add(i32x4.sub(u, x), qv), w, ws, qv)
        v128.store(p, i32x4.shuffle(s, d, 0, 4, 1, 5))
        v128.store(p + 16, i32x4.shuffle(s, d, 2, 6, 3, 7))
      }
    } else {
      inverseStage(a, h, span, q, tw, tws)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Pointwise operations over len words (one prime). Inputs in [0, q); outputs in [0, q). out may alias an input.

export function add(a: usize, b: usize, out: usize, len: u32, q: u32): void {
  let i: usize = 0
  const bytes = (<usize>len) << 2
  if (ASC_FEATURE_SIMD) {
    const qv = i32x4.splat(q)
    for (; i + 16 <= bytes; i += 16) v128.store(out + i, csubV(i32x4.add(v128.load(a + i), v128.load(b + i)), qv))
  }
  for (; i < bytes; i += 4) store<u32>(out + i, csub(load<u32>(a + i) + load<u32>(b + i), q))
}

/** out = a ⊙ b mod q (Montgomery REDC, then × (2^32 mod q) by Shoup). */
export function mul(a: usize, b: usize, out: usize, len: u32, q: u32, qInvNeg: u32, r: u32, rs: u32): void {
  let i: usize = 0
  const bytes = (<usize>len) << 2
  if (ASC_FEATURE_SIMD) {
    const qv = i32x4.splat(q)
    const qi = i32x4.splat(qInvNeg)
    const rv = i32x4.splat(r)
    const rsv = i32x4.splat(rs)
    for (; i + 16 <= bytes; i += 16) {
      const m = csubV(montV(v128.load(a + i), v128.load(b + i), qv, qi), qv)
      v128.store(out + i, csubV(shoupV(m, rv, rsv, qv), qv))
    }
  }
  for (; i < bytes; i += 4) {
    const m = csub(mont(load<u32>(a + i), load<u32>(b + i), q, qInvNeg), q)
    store<u32>(out + i, csub(shoup(m, r, rs, q), q))
  }
}

/** acc += a ⊙ b mod q. */
export function mulAcc(acc: usize, a: usize, b: usize, len: u32, q: u32, qInvNeg: u32, r: u32, rs: u32): void {
  let i: usize = 0
  const bytes = (<usize>len) << 2
  if (ASC_FEATURE_SIMD) {
    const qv = i32x4.splat(q)
    const qi = i32x4.splat(qInvNeg)
    const rv = i32x4.splat(r)
    const rsv = i32x4.splat(rs)
    for (; i + 16 <= bytes; i += 16) {
      const m = csubV(montV(v128.load(a + i), v128.load(b + i), qv, qi), qv)
      const p = csubV(shoupV(m, rv, rsv, qv), qv)
      v128.store(acc + i, csubV(i32x4.add(v128.load(acc + i), p), qv))
    }
  }
  for (; i < bytes; i += 4) {
    const m = csub(mont(load<u32>(a + i), load<u32>(b + i), q, qInvNeg), q)
    store<u32>(acc + i, csub(load<u32>(acc + i) + csub(shoup(m, r, rs, q), q), q))
  }
}

/** acc += a ⊙ w mod q for a prepared w (Shoup quotients ws). */
export function mulAccShoup(acc: usize, a: usize, w: usize, ws: usize, len: u32, q: u32): void {
  let i: usize = 0
  const bytes = (<usize>len) << 2
  if (ASC_FEATURE_SIMD) {
    const qv = i32x4.splat(q)
    for (; i + 16 <= bytes; i += 16) {
      const p = csubV(shoupV(v128.load(a + i), v128.load(w + i), v128.load(ws + i), qv), qv)
      v128.store(acc + i, csubV(i32x4.add(v128.load(acc + i), p), qv))
    }
  }
  for (; i < bytes; i += 4) {
    const p = csub(shoup(load<u32>(a + i), load<u32>(w + i), load<u32>(ws + i), q), q)
    store<u32>(acc + i, csub(load<u32>(acc + i) + p, q))
  }
}

/** out = a · c mod q for one scalar c with Shoup quotient cs. */
export function mulScalar(a: usize, out: usize, len: u32, q: u32, c: u32, cs: u32): void {
  let i: usize = 0
  const bytes = (<usize>len) << 2
  if (ASC_FEATURE_SIMD) {
    const qv = i32x4.splat(q)
    const cv = i32x4.splat(c)
    const csv = i32x4.splat(cs)
    for (; i + 16 <= bytes; i += 16) v128.store(out + i, csubV(shoupV(v128.load(a + i), cv, csv, qv), qv))
  }
  for (; i < bytes; i += 4) store<u32>(out + i, csub(shoup(load<u32>(a + i), c, cs, q), q))
}

/** ws[i] = ⌊w[i]·2^32/q⌋ (Shoup quotients of a prepared operand), exactly: two 16-bit long-division steps in u64. */
export function shoupQuotients(w: usize, ws: usize, len: u32, q: u32): void {
  const bytes = (<usize>len) << 2
  const invQ = 1.0 / <f64>q
  for (let i: usize = 0; i < bytes; i += 4) {
    // ⌊w·2^32/q⌋ with w·2^32 < 2^63: float estimate, then exact correction in u64.
    const num = <u64>load<u32>(w + i) << 32
    let est = <u64>Math.floor(<f64>num * invQ)
    let rem = <i64>(num - est * <u64>q)
    while (rem < 0) {
      est -= 1
      rem += <i64>q
    }
    while (rem >= <i64>q) {
      est += 1
      rem -= <i64>q
    }
    store<u32>(ws + i, <u32>est)
  }
}

/** dst = src mod q for arbitrary u32 words (e.g. one prime's residues read modulo another prime). */
export function reduceMod(src: usize, dst: usize, len: u32, q: u32): void {
  const bytes = (<usize>len) << 2
  const invQ = 1.0 / <f64>q
  for (let i: usize = 0; i < bytes; i += 4) store<u32>(dst + i, reduceU32(load<u32>(src + i), q, invQ))
}

// ---------------------------------------------------------------------------------------------------------------
// SIMD RNS: four coefficients per step (two i64x2 / f64x2 halves). Same integer results as the scalar loops; the
// float estimates run the same IEEE operations per lane, so v and the rounding are bit-identical to them.

const MAGIC: f64 = 4503599627370496.0 // 2^52

/** f64x2 lanes holding integers in [0, 2^52) → i64x2, exactly (2^52 + x has x in its mantissa). */
function f2iV(x: v128): v128 {
  return i64x2.sub(f64x2.add(x, f64x2.splat(MAGIC)), i64x2.splat(0x4330000000000000))
}

function roundHalfUpV(x: v128): v128 {
  const f = f64x2.floor(x)
  return f64x2.add(f, v128.and(f64x2.ge(f64x2.sub(x, f), f64x2.splat(0.5)), f64x2.splat(1.0)))
}

function reduceSumV(s: v128, sf: v128, p: v128, invP: v128): v128 {
  const qf = f64x2.max(f64x2.floor(f64x2.mul(sf, invP)), f64x2.splat(0.0))
  let r = i64x2.sub(s, i64x2.mul(f2iV(qf), p))
  const zero = i64x2.splat(0)
  r = i64x2.add(r, v128.and(i64x2.lt_s(r, zero), p))
  r = i64x2.add(r, v128.and(i64x2.lt_s(r, zero), p))
  r = i64x2.sub(r, v128.and(i64x2.ge_s(r, p), p))
  r = i64x2.sub(r, v128.and(i64x2.ge_s(r, p), p))
  return r
}

/** y_i = [x_i·w_i]_{q_i} for four coefficients, stored at y + 48·i as i32x4 and two f64x2; returns Σ y_i·m_i as f64x2 ×2. */
function liftYV(src: usize, nb: usize, c: usize, k: u32, qm: usize, w: usize, ws: usize, mult: usize, y: usize): v128 {
  let fLo = f64x2.splat(0.0)
  let fHi = f64x2.splat(0.0)
  for (let i: usize = 0; i < <usize>k; i++) {
    const qv = i32x4.splat(load<u32>(qm + (i << 2)))
    const wv = i32x4.splat(load<u32>(w + (i << 2)))
    const wsv = i32x4.splat(load<u32>(ws + (i << 2)))
    const yi = csubV(shoupV(v128.load(src + i * nb + c), wv, wsv, qv), qv)
    const ylo = f64x2.convert_low_i32x4_u(yi)
    const yhi = f64x2.convert_low_i32x4_u(i32x4.shuffle(yi, yi, 2, 3, 0, 1))
    const o = y + i * 48
    v128.store(o, yi)
    v128.store(o + 16, ylo)
    v128.store(o + 32, yhi)
    const m = f64x2.splat(load<f64>(mult + (i << 3)))
    fLo = f64x2.add(fLo, f64x2.mul(ylo, m))
    fHi = f64x2.add(fHi, f64x2.mul(yhi, m))
  }
  v128.store(y + <usize>k * 48, fHi)
  return fLo
}

/** Replaces the lanes of r (rounded x, lanes lane0 and lane0 + 1 of the y scratch) whose x is ambiguous by the exact value. */
function fixLanes(x: v128, r: v128, y: usize, lane0: usize, fix: usize, k: u32, L: u32): v128 {
  const d = f64x2.abs(f64x2.sub(f64x2.sub(x, f64x2.floor(x)), f64x2.splat(0.5)))
  const m = f64x2.lt(d, f64x2.splat(AMBIG))
  if (!v128.any_true(m)) return r
  let out = r
  if (i64x2.extract_lane(m, 0) != 0) out = f64x2.replace_lane(out, 0, <f64>fixedRound(y + (lane0 << 2), 48, fix, k, L))
  if (i64x2.extract_lane(m, 1) != 0) out = f64x2.replace_lane(out, 1, <f64>fixedRound(y + ((lane0 + 1) << 2), 48, fix, k, L))
  return out
}

/** Adds Σ_i y_i·row_i to (sLo, sHi, sfLo, sfHi) stored at acc (4 × v128). */
function macV(y: usize, k: u32, row: usize, acc: usize): void {
  let sLo = v128.load(acc)
  let sHi = v128.load(acc + 16)
  let sfLo = v128.load(acc + 32)
  let sfHi = v128.load(acc + 48)
  for (let i: usize = 0; i < <usize>k; i++) {
    const o = y + i * 48
    const cj = load<u32>(row + (i << 2))
    const cv = i32x4.splat(cj)
    const cf = f64x2.splat(<f64>cj)
    const yi = v128.load(o)
    sLo = i64x2.add(sLo, i64x2.extmul_low_i32x4_u(yi, cv))
    sHi = i64x2.add(sHi, i64x2.extmul_high_i32x4_u(yi, cv))
    sfLo = f64x2.add(sfLo, f64x2.mul(v128.load(o + 16), cf))
    sfHi = f64x2.add(sfHi, f64x2.mul(v128.load(o + 32), cf))
  }
  v128.store(acc, sLo)
  v128.store(acc + 16, sHi)
  v128.store(acc + 32, sfLo)
  v128.store(acc + 48, sfHi)
}

function convertCenteredSimd(
  src: usize, dst: usize, n: u32, k: u32, K: u32, qm: usize, qhi: usize, qhis: usize, invQ: usize, pm: usize,
  invP: usize, qhp: usize, qp: usize, y: usize, fix: usize, L: u32,
): void {
  const nb = (<usize>n) << 2
  const acc = y + (<usize>k + 1) * 48
  for (let c: usize = 0; c < nb; c += 16) {
    const fLo = liftYV(src, nb, c, k, qm, qhi, qhis, invQ, y)
    const fHi = v128.load(y + <usize>k * 48)
    const vLo = fixLanes(fLo, roundHalfUpV(fLo), y, 0, fix, k, L)
    const vHi = fixLanes(fHi, roundHalfUpV(fHi), y, 2, fix, k, L)
    for (let j: usize = 0; j < <usize>K; j++) {
      const p = load<u32>(pm + (j << 2))
      const qpj = f64x2.splat(<f64>load<u32>(qp + (j << 2)))
      const corr = f64x2.splat(<f64>(k + 1) * <f64>p)
      // (k + 1)·p − v·[Q]_p: exact in doubles (< 2^36), then exact as integers.
      const sfLo = f64x2.sub(corr, f64x2.mul(vLo, qpj))
      const sfHi = f64x2.sub(corr, f64x2.mul(vHi, qpj))
      v128.store(acc, f2iV(sfLo))
      v128.store(acc + 16, f2iV(sfHi))
      v128.store(acc + 32, sfLo)
      v128.store(acc + 48, sfHi)
      macV(y, k, qhp + ((j * <usize>k) << 2), acc)
      const p64 = i64x2.splat(<i64>p)
      const ip = f64x2.splat(load<f64>(invP + (j << 3)))
      const rLo = reduceSumV(v128.load(acc), v128.load(acc + 32), p64, ip)
      const rHi = reduceSumV(v128.load(acc + 16), v128.load(acc + 48), p64, ip)
      v128.store(dst + j * nb + c, i32x4.shuffle(rLo, rHi, 0, 2, 4, 6))
    }
  }
}

function scaleRoundSimd(
  src: usize, dst: usize, n: u32, k: u32, K: u32, qm: usize, yInv: usize, yInvS: usize, theta: usize, pm: usize,
  invP: usize, omega: usize, tq: usize, y: usize, fix: usize, L: u32,
): void {
  const nb = (<usize>n) << 2
  const acc = y + (<usize>k + 1) * 48
  for (let c: usize = 0; c < nb; c += 16) {
    const fLo = liftYV(src, nb, c, k, qm, yInv, yInvS, theta, y)
    const fHi = v128.load(y + <usize>k * 48)
    const rdLo = fixLanes(fLo, roundHalfUpV(fLo), y, 0, fix, k, L)
    const rdHi = fixLanes(fHi, roundHalfUpV(fHi), y, 2, fix, k, L)
    for (let j: usize = 0; j < <usize>K; j++) {
      const p = load<u32>(pm + (j << 2))
      const xp = v128.load(src + (<usize>k + j) * nb + c)
      const t = load<u32>(tq + (j << 2))
      const tv = i32x4.splat(t)
      const tf = f64x2.splat(<f64>t)
      v128.store(acc, i64x2.add(f2iV(rdLo), i64x2.extmul_low_i32x4_u(xp, tv)))
      v128.store(acc + 16, i64x2.add(f2iV(rdHi), i64x2.extmul_high_i32x4_u(xp, tv)))
      v128.store(acc + 32, f64x2.add(rdLo, f64x2.mul(f64x2.convert_low_i32x4_u(xp), tf)))
      v128.store(acc + 48, f64x2.add(rdHi, f64x2.mul(f64x2.convert_low_i32x4_u(i32x4.shuffle(xp, xp, 2, 3, 0, 1)), tf)))
      macV(y, k, omega + ((j * <usize>k) << 2), acc)
      const p64 = i64x2.splat(<i64>p)
      const ip = f64x2.splat(load<f64>(invP + (j << 3)))
      const rLo = reduceSumV(v128.load(acc), v128.load(acc + 32), p64, ip)
      const rHi = reduceSumV(v128.load(acc + 16), v128.load(acc + 48), p64, ip)
      v128.store(dst + j * nb + c, i32x4.shuffle(rLo, rHi, 0, 2, 4, 6))
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// RNS. Tables are arrays in linear memory prepared by the JavaScript side; `y` is a scratch of (k + 3)·48 bytes.

/**
 * Exact centred base conversion (HPS §2.2): dst (K limbs of n) ← residues mod p_j of the centred representative of
 * src (k limbs of n, base q). y_i = [x_i·q̂_i^−1]_{q_i}; v = round(Σ y_i/q_i); out_j = Σ y_i·[q̂_i]_{p_j} − v·[Q]_{p_j}.
 * qm: q_i (u32 k); qhi/qhis: q̂_i^−1 and Shoup (u32 k); invQ: 1/q_i (f64 k); pm: p_j (u32 K); invP: 1/p_j (f64 K);
 * qhp: [q̂_i]_{p_j} at j·k + i (u32 K·k); qp: [Q]_{p_j} (u32 K); y: scratch (f64 k); fix: 1/q_i in fixed point
 * (L u32 words each) for the exact fallback when the float estimate of v is within 2^−12 of a half-integer.
 */
export function convertCentered(
  src: usize,
  dst: usize,
  n: u32,
  k: u32,
  K: u32,
  qm: usize,
  qhi: usize,
  qhis: usize,
  invQ: usize,
  pm: usize,
  invP: usize,
  qhp: usize,
  qp: usize,
  y: usize,
  fix: usize,
  L: u32,
): void {
  if (ASC_FEATURE_SIMD) {
    if ((n & 3) == 0) {
      convertCenteredSimd(src, dst, n, k, K, qm, qhi, qhis, invQ, pm, invP, qhp, qp, y, fix, L)
      return
    }
  }
  const nb = (<usize>n) << 2
  for (let c: usize = 0; c < nb; c += 4) {
    let frac: f64 = 0
    for (let i: usize = 0; i < <usize>k; i++) {
      const q = load<u32>(qm + (i << 2))
      const yi = csub(shoup(load<u32>(src + i * nb + c), load<u32>(qhi + (i << 2)), load<u32>(qhis + (i << 2)), q), q)
      store<u64>(y + (i << 3), <u64>yi)
      frac += <f64>yi * load<f64>(invQ + (i << 3))
    }
    const v = ambiguousF(frac) ? fixedRound(y, 8, fix, k, L) : <u64>roundHalfUp(frac)
    for (let j: usize = 0; j < <usize>K; j++) {
      const p = load<u32>(pm + (j << 2))
      const row = qhp + ((j * <usize>k) << 2)
      // S = Σ y_i·[q̂_i]_p + (k + 1)·p − v·[Q]_p ≥ 0 (v ≤ k).
      const corr = <u64>(k + 1) * <u64>p - v * <u64>load<u32>(qp + (j << 2))
      let s: u64 = corr
      let sf: f64 = <f64>corr
      for (let i: usize = 0; i < <usize>k; i++) {
        const yi = load<u64>(y + (i << 3))
        const c2 = <u64>load<u32>(row + (i << 2))
        s += yi * c2
        sf += <f64>yi * <f64>c2
      }
      store<u32>(dst + j * nb + c, reduceSum(s, sf, p, load<f64>(invP + (j << 3))))
    }
  }
}

/**
 * HPS scale-and-round (§4.2): dst (K limbs of n, base P) ← round(t·x/Q) mod p_j for x given over Q ∪ P in src
 * (k limbs of q, then K of p). y_i = [x_i·(QP/q_i)^−1]_{q_i}; rounded = round(Σ y_i·θ_i);
 * out_j = rounded + Σ y_i·ω_{j,i} + x_{k+j}·[t·Q^−1]_{p_j}.
 * qm, yi/yis (u32 k), theta (f64 k), pm (u32 K), invP (f64 K), omega (u32 K·k at j·k + i), tq (u32 K), y (f64 k),
 * fix: θ_i in fixed point (L words each), the exact fallback of the rounding.
 */
export function scaleRound(
  src: usize,
  dst: usize,
  n: u32,
  k: u32,
  K: u32,
  qm: usize,
  yInv: usize,
  yInvS: usize,
  theta: usize,
  pm: usize,
  invP: usize,
  omega: usize,
  tq: usize,
  y: usize,
  fix: usize,
  L: u32,
): void {
  if (ASC_FEATURE_SIMD) {
    if ((n & 3) == 0) {
      scaleRoundSimd(src, dst, n, k, K, qm, yInv, yInvS, theta, pm, invP, omega, tq, y, fix, L)
      return
    }
  }
  const nb = (<usize>n) << 2
  for (let c: usize = 0; c < nb; c += 4) {
    let f: f64 = 0
    for (let i: usize = 0; i < <usize>k; i++) {
      const q = load<u32>(qm + (i << 2))
      const yi = csub(shoup(load<u32>(src + i * nb + c), load<u32>(yInv + (i << 2)), load<u32>(yInvS + (i << 2)), q), q)
      store<u64>(y + (i << 3), <u64>yi)
      f += <f64>yi * load<f64>(theta + (i << 3))
    }
    const rounded = ambiguousF(f) ? <f64>fixedRound(y, 8, fix, k, L) : roundHalfUp(f)
    for (let j: usize = 0; j < <usize>K; j++) {
      const p = load<u32>(pm + (j << 2))
      const row = omega + ((j * <usize>k) << 2)
      const xp = <u64>load<u32>(src + (<usize>k + j) * nb + c)
      const tqj = <u64>load<u32>(tq + (j << 2))
      let s: u64 = <u64>rounded + xp * tqj
      let sf: f64 = rounded + <f64>xp * <f64>tqj
      for (let i: usize = 0; i < <usize>k; i++) {
        const yi = load<u64>(y + (i << 3))
        const o = <u64>load<u32>(row + (i << 2))
        s += yi * o
        sf += <f64>yi * <f64>o
      }
      store<u32>(dst + j * nb + c, reduceSum(s, sf, p, load<f64>(invP + (j << 3))))
    }
  }
}

/**
 * Decryption's round(t·x/Q) mod t for count coefficients listed at idx (u32) of x (k limbs of n), into out (u32).
 * y_i = [x_i·q̂_i^−1]_{q_i}; hi = Σ y_i·H_i mod t·2^22 (exact), lo = Σ y_i·θlo_i; m = round(hi/2^22 + lo) mod t.
 * qm, qhi/qhis (u32 k), thetaHi/thetaLo (f64 k).
 */
export function decryptScale(
  x: usize,
  idx: usize,
  out: usize,
  count: u32,
  n: u32,
  k: u32,
  t: u32,
  qm: usize,
  qhi: usize,
  qhis: usize,
  thetaHi: usize,
  thetaLo: usize,
): void {
  const nb = (<usize>n) << 2
  const t22 = <u64>t << 22
  const t22f = <f64>t22
  const invT22 = 1.0 / t22f
  const invT = 1.0 / <f64>t
  for (let e: usize = 0; e < <usize>count; e++) {
    const c = (<usize>load<u32>(idx + (e << 2))) << 2
    let hi: u64 = 0
    let lo: f64 = 0
    for (let i: usize = 0; i < <usize>k; i++) {
      const q = load<u32>(qm + (i << 2))
      const yi = csub(shoup(load<u32>(x + i * nb + c), load<u32>(qhi + (i << 2)), load<u32>(qhis + (i << 2)), q), q)
      hi += <u64>yi * <u64>load<f64>(thetaHi + (i << 3))
      lo += <f64>yi * load<f64>(thetaLo + (i << 3))
    }
    // hi < k·2^53: reduce mod t·2^22 with a float quotient, corrected.
    // Branch-free (select): these values depend on the secret key.
    let qf = <i64>Math.floor(<f64>hi * invT22)
    qf = select<i64>(qf, 0, qf >= 0)
    const tt = <i64>t22
    let h = <i64>hi - qf * tt
    h += select<i64>(tt, 0, h < 0)
    h += select<i64>(tt, 0, h < 0)
    h -= select<i64>(tt, 0, h >= tt)
    h -= select<i64>(tt, 0, h >= tt)
    const r = roundHalfUp(<f64>h / 4194304.0 + lo)
    const ti = <i64>t
    let m = <i64>r - <i64>Math.floor(r * invT) * ti
    m += select<i64>(ti, 0, m < 0)
    m -= select<i64>(ti, 0, m >= ti)
    store<u32>(out + (e << 2), <u32>m)
  }
}

/**
 * Modulus switching, one polynomial: dst (k−1 limbs) ← (x_i − [x]_{q_last, centred}) · q_last^−1 mod q_i.
 * qm (u32 k−1), inv/invS (u32 k−1: [q_last^−1]_{q_i} and Shoup), src has k limbs.
 */
export function modSwitchLast(src: usize, dst: usize, n: u32, k: u32, qm: usize, inv: usize, invS: usize, qLast: u32): void {
  const nb = (<usize>n) << 2
  const last = src + (<usize>(k - 1)) * nb
  const half = qLast >> 1
  for (let i: usize = 0; i < <usize>(k - 1); i++) {
    const q = load<u32>(qm + (i << 2))
    const invQ = 1.0 / <f64>q
    const w = load<u32>(inv + (i << 2))
    const ws = load<u32>(invS + (i << 2))
    const qlModQ = reduceU32(qLast, q, invQ)
    for (let c: usize = 0; c < nb; c += 4) {
      const l = load<u32>(last + c)
      const lr = reduceU32(l, q, invQ)
      // centred: l > q_last/2 stands for l − q_last ≡ lr − [q_last]_q.
      const lc = select<u32>(csub(lr + q - qlModQ, q), lr, l > half)
      const d = csub(load<u32>(src + i * nb + c) + q - lc, q)
      store<u32>(dst + i * nb + c, csub(shoup(d, w, ws, q), q))
    }
  }
}

/** First free byte after the module's static data: the JavaScript side lays its buffers out from here. */
export function heapBase(): usize {
  return __heap_base
}
