// AssemblyScript source of the training kernels (compiled by model/train/wasm/build.ts with `--enable simd`; kept as
// `.as` so that tsc, whose config covers model/, does not type-check it). The JavaScript side
// (model/train/wasm/kernels.ts) owns the memory layout: it copies operands in from the
// module's heap base, calls one of these functions and copies results out. Pointers are byte offsets; every matrix
// is f32, row-major, with an explicit row stride (in elements), so the same kernel runs X·W, Xᵀ·dY and the per-head
// attention products on slices of the fused QKV buffer without gathering them.
//
// One GEMM does all the dense work: C[i, j] (+)= Σ_k A[i, k] · B[k, j] with A addressed through two strides (sai per
// row, sak per k: (lda, 1) for A, (1, lda) for Aᵀ) and B row-major. The register tile is 4 rows × 8 columns (eight
// f32x4 accumulators; each k loads two vectors of B and four broadcast scalars of A), then 4 × 4, then scalar
// columns, then single rows. Products and sums are plain f32 mul + add (no fused multiply-add), in k order.

/** First free byte after the module's static data: the JavaScript side lays its buffers out from here. */
export function heapBase(): usize {
  return __heap_base
}

/**
 * C[M × N] (+)= A[M × K] · B[K × N].
 * A[i, k] is at A + 4·(i·sai + k·sak); B[k, j] at B + 4·(k·ldb + j); C[i, j] at C + 4·(i·ldc + j).
 * accumulate ≠ 0: add to C, else overwrite. tri: 0 full; 1 only columns j < i0 + 4 of each 4-row tile starting at
 * row i0 are computed (a causal score matrix: the rest is left untouched); 2 the k loop stops at i0 + 4 (A is lower
 * triangular: A[i, k] = 0 for k > i); 3 the k loop starts at i0 (A[i, k] = 0 for k < i, e.g. the transpose of a
 * lower-triangular matrix).
 */
export function gemm(M: i32, N: i32, K: i32, A: usize, sai: i32, sak: i32, B: usize, ldb: i32, C: usize, ldc: i32, accumulate: i32, tri: i32): void {
  const sa = <usize>sai << 2
  const sk = <usize>sak << 2
  const sb = <usize>ldb << 2
  const sc = <usize>ldc << 2
  let i = 0
  for (; i + 4 <= M; i += 4) {
    const nEnd = tri == 1 ? min(N, i + 4) : N
    const kBeg = tri == 3 ? min(K, i) : 0
    const kEnd = tri == 2 ? min(K, i + 4) : K
    const a0 = A + <usize>i * sa
    const c0 = C + <usize>i * sc
    let j = 0
    for (; j + 8 <= nEnd; j += 8) {
      let x00 = f32x4.splat(0), x01 = f32x4.splat(0)
      let x10 = f32x4.splat(0), x11 = f32x4.splat(0)
      let x20 = f32x4.splat(0), x21 = f32x4.splat(0)
      let x30 = f32x4.splat(0), x31 = f32x4.splat(0)
      let pa = a0 + <usize>kBeg * sk
      let pb = B + <usize>kBeg * sb + (<usize>j << 2)
      for (let k = kBeg; k < kEnd; k++) {
        const b0 = v128.load(pb)
        const b1 = v128.load(pb, 16)
        let a = v128.load32_splat(pa)
        x00 = f32x4.add(x00, f32x4.mul(a, b0)); x01 = f32x4.add(x01, f32x4.mul(a, b1))
        a = v128.load32_splat(pa + sa)
        x10 = f32x4.add(x10, f32x4.mul(a, b0)); x11 = f32x4.add(x11, f32x4.mul(a, b1))
        a = v128.load32_splat(pa + 2 * sa)
        x20 = f32x4.add(x20, f32x4.mul(a, b0)); x21 = f32x4.add(x21, f32x4.mul(a, b1))
        a = v128.load32_splat(pa + 3 * sa)
        x30 = f32x4.add(x30, f32x4.mul(a, b0)); x31 = f32x4.add(x31, f32x4.mul(a, b1))
        pa += sk
        pb += sb
      }
      const pc = c0 + (<usize>j << 2)
      if (accumulate != 0) {
        x00 = f32x4.add(x00, v128.load(pc)); x01 = f32x4.add(x01, v128.load(pc, 16))
        x10 = f32x4.add(x10, v128.load(pc + sc)); x11 = f32x4.add(x11, v128.load(pc + sc, 16))
        x20 = f32x4.add(x20, v128.load(pc + 2 * sc)); x21 = f32x4.add(x21, v128.load(pc + 2 * sc, 16))
        x30 = f32x4.add(x30, v128.load(pc + 3 * sc)); x31 = f32x4.add(x31, v128.load(pc + 3 * sc, 16))
      }
      v128.store(pc, x00); v128.store(pc, x01, 16)
      v128.store(pc + sc, x10); v128.store(pc + sc, x11, 16)
      v128.store(pc + 2 * sc, x20); v128.store(pc + 2 * sc, x21, 16)
      v128.store(pc + 3 * sc, x30); v128.store(pc + 3 * sc, x31, 16)
    }
    for (; j + 4 <= nEnd; j += 4) {
      let x0 = f32x4.splat(0), x1 = f32x4.splat(0), x2 = f32x4.splat(0), x3 = f32x4.splat(0)
      let pa = a0 + <usize>kBeg * sk
      let pb = B + <usize>kBeg * sb + (<usize>j << 2)
      for (let k = kBeg; k < kEnd; k++) {
        const b0 = v128.load(pb)
        x0 = f32x4.add(x0, f32x4.mul(v128.load32_splat(pa), b0))
        x1 = f32x4.add(x1, f32x4.mul(v128.load32_splat(pa + sa), b0))
        x2 = f32x4.add(x2, f32x4.mul(v128.load32_splat(pa + 2 * sa), b0))
        x3 = f32x4.add(x3, f32x4.mul(v128.load32_splat(pa + 3 * sa), b0))
        pa += sk
        pb += sb
      }
      const pc = c0 + (<usize>j << 2)
      if (accumulate != 0) {
        x0 = f32x4.add(x0, v128.load(pc)); x1 = f32x4.add(x1, v128.load(pc + sc))
        x2 = f32x4.add(x2, v128.load(pc + 2 * sc)); x3 = f32x4.add(x3, v128.load(pc + 3 * sc))
      }
      v128.store(pc, x0); v128.store(pc + sc, x1); v128.store(pc + 2 * sc, x2); v128.store(pc + 3 * sc, x3)
    }
    for (; j < nEnd; j++) {
      for (let r = 0; r < 4; r++) {
        let s: f32 = 0
        let pa = a0 + <usize>r * sa + <usize>kBeg * sk
        let pb = B + <usize>kBeg * sb + (<usize>j << 2)
        for (let k = kBeg; k < kEnd; k++) {
          s += load<f32>(pa) * load<f32>(pb)
          pa += sk
          pb += sb
        }
        const pc = c0 + <usize>r * sc + (<usize>j << 2)
        store<f32>(pc, accumulate != 0 ? load<f32>(pc) + s : s)
      }
    }
  }
  for (; i < M; i++) {
    const nEnd = tri == 1 ? min(N, i + 1) : N
    const kBeg = tri == 3 ? min(K, i) : 0
    const kEnd = tri == 2 ? min(K, i + 1) : K
    const a0 = A + <usize>i * sa
    const c0 = C + <usize>i * sc
    let j = 0
    for (; j + 4 <= nEnd; j += 4) {
      let x0 = f32x4.splat(0)
      let pa = a0 + <usize>kBeg * sk
      let pb = B + <usize>kBeg * sb + (<usize>j << 2)
      for (let k = kBeg; k < kEnd; k++) {
        x0 = f32x4.add(x0, f32x4.mul(v128.load32_splat(pa), v128.load(pb)))
        pa += sk
        pb += sb
      }
      const pc = c0 + (<usize>j << 2)
      if (accumulate != 0) x0 = f32x4.add(x0, v128.load(pc))
      v128.store(pc, x0)
    }
    for (; j < nEnd; j++) {
      let s: f32 = 0
      let pa = a0 + <usize>kBeg * sk
      let pb = B + <usize>kBeg * sb + (<usize>j << 2)
      for (let k = kBeg; k < kEnd; k++) {
        s += load<f32>(pa) * load<f32>(pb)
        pa += sk
        pb += sb
      }
      const pc = c0 + (<usize>j << 2)
      store<f32>(pc, accumulate != 0 ? load<f32>(pc) + s : s)
    }
  }
}

/** dst[c · rows + r] = src[r · ld + c] for r < rows, c < cols (dst is cols × rows, contiguous). */
export function transpose(src: usize, rows: i32, cols: i32, ld: i32, dst: usize): void {
  for (let r = 0; r < rows; r++) {
    const ps = src + ((<usize>r * <usize>ld) << 2)
    for (let c = 0; c < cols; c++) store<f32>(dst + ((<usize>c * <usize>rows + <usize>r) << 2), load<f32>(ps + (<usize>c << 2)))
  }
}

/**
 * Causal multi-head self-attention, forward, for B sequences of T positions. qkv: [B·T, 3·H·hd] (Q, K, V blocks per
 * row, as c_attn writes them); probs: [B, H, T, T] out (softmax rows, zero above the diagonal); att: [B·T, H·hd] out.
 * scratch: hd·T floats. Softmax in f32 with Mathf.exp after subtracting the row maximum.
 */
export function attnForward(qkv: usize, probs: usize, att: usize, B: i32, T: i32, H: i32, hd: i32, scale: f32, scratch: usize): void {
  const d = H * hd
  const row = 3 * d
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const q = qkv + ((<usize>(b * T) * <usize>row + <usize>(h * hd)) << 2)
      const k = q + (<usize>d << 2)
      const v = q + (<usize>(2 * d) << 2)
      const P = probs + (<usize>((b * H + h) * T) * <usize>T << 2)
      transpose(k, T, hd, row, scratch)
      gemm(T, T, hd, q, row, 1, scratch, T, P, T, 0, 1)
      for (let t = 0; t < T; t++) {
        const pr = P + (<usize>(t * T) << 2)
        let mx: f32 = -Infinity
        for (let j = 0; j <= t; j++) {
          const s = load<f32>(pr + (<usize>j << 2)) * scale
          store<f32>(pr + (<usize>j << 2), s)
          if (s > mx) mx = s
        }
        let sum: f32 = 0
        for (let j = 0; j <= t; j++) {
          const e = Mathf.exp(load<f32>(pr + (<usize>j << 2)) - mx)
          store<f32>(pr + (<usize>j << 2), e)
          sum += e
        }
        const inv: f32 = 1 / sum
        for (let j = 0; j <= t; j++) store<f32>(pr + (<usize>j << 2), load<f32>(pr + (<usize>j << 2)) * inv)
        for (let j = t + 1; j < T; j++) store<f32>(pr + (<usize>j << 2), 0)
      }
      const o = att + ((<usize>(b * T) * <usize>d + <usize>(h * hd)) << 2)
      gemm(T, hd, T, P, T, 1, v, row, o, d, 0, 2)
    }
  }
}

/**
 * Backward of attnForward: given qkv, probs and datt ([B·T, H·hd]), adds the gradient into dqkv ([B·T, 3·H·hd]).
 * scratch: hd·T + T·T floats.
 */
export function attnBackward(qkv: usize, probs: usize, datt: usize, dqkv: usize, B: i32, T: i32, H: i32, hd: i32, scale: f32, scratch: usize): void {
  const d = H * hd
  const row = 3 * d
  const vt = scratch
  const dS = scratch + (<usize>(hd * T) << 2)
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const off = (<usize>(b * T) * <usize>row + <usize>(h * hd)) << 2
      const q = qkv + off, k = q + (<usize>d << 2), v = q + (<usize>(2 * d) << 2)
      const dq = dqkv + off, dk = dq + (<usize>d << 2), dv = dq + (<usize>(2 * d) << 2)
      const P = probs + (<usize>((b * H + h) * T) * <usize>T << 2)
      const dO = datt + ((<usize>(b * T) * <usize>d + <usize>(h * hd)) << 2)
      transpose(v, T, hd, row, vt)
      gemm(T, T, hd, dO, d, 1, vt, T, dS, T, 0, 1)
      for (let t = 0; t < T; t++) {
        const pr = P + (<usize>(t * T) << 2)
        const gr = dS + (<usize>(t * T) << 2)
        let dot: f32 = 0
        for (let j = 0; j <= t; j++) dot += load<f32>(pr + (<usize>j << 2)) * load<f32>(gr + (<usize>j << 2))
        for (let j = 0; j <= t; j++) {
          store<f32>(gr + (<usize>j << 2), load<f32>(pr + (<usize>j << 2)) * (load<f32>(gr + (<usize>j << 2)) - dot) * scale)
        }
        for (let j = t + 1; j < T; j++) store<f32>(gr + (<usize>j << 2), 0)
      }
      gemm(T, hd, T, P, 1, T, dO, d, dv, row, 1, 3)
      gemm(T, hd, T, dS, T, 1, k, row, dq, row, 1, 2)
      gemm(T, hd, T, dS, 1, T, q, row, dk, row, 1, 3)
    }
  }
}

const GC: f32 = 0.7978845608028654
const GA: f32 = 0.044715

function tanhf(u: f32): f32 {
  // tanh(u) = 1 − 2 / (e^{2u} + 1), saturating for large |u|
  if (u > 15) return 1
  if (u < -15) return -1
  return 1 - 2 / (Mathf.exp(2 * u) + 1)
}

/** y[i] = gelu(x[i]) (GPT-2's tanh approximation). */
export function geluForward(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2))
    store<f32>(y + (<usize>i << 2), 0.5 * v * (1 + tanhf(GC * (v + GA * v * v * v))))
  }
}

/** g[i] *= gelu'(x[i]). */
export function geluBackward(x: usize, g: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2))
    const t = tanhf(GC * (v + GA * v * v * v))
    const dg: f32 = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GC * (1 + 3 * GA * v * v)
    store<f32>(g + (<usize>i << 2), load<f32>(g + (<usize>i << 2)) * dg)
  }
}
