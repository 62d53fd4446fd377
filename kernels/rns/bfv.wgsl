// BFV multiply + relinearize on the device (kernels/rns/bfv.ts is the reference; same integer steps, same words).
// Integers only: u32 words, 32×32→64 products from 16-bit halves (mul64). The two roundings of HPS multiplication
// (the centred conversion's v and the t/Q scaling) are computed exactly in fixed point (fixed_round; the argument is
// in kernels/rns/exact.ts). The NTTs between these entry points are ntt.wgsl's, recorded into the same compute pass.
//
// Buffers (u32, polynomials limb-major, n words per limb): operands B × [a0 a1 b0 b1] × k; lifted B × 4 × L
// (L = k + K: Q limbs then P limbs); tensor B × 3 × L; scaled B × 3 × k; digits B × k digits × k limbs; keys
// [b_0 … b_{k−1} a_0 … a_{k−1}] × k; acc B × 2 × k; result B × 2 × k. `tab` holds the constants at the offsets in P.
#include "../common/modarith.wgsl"

struct Params {
  n: u32,
  k: u32,
  kp: u32,      // K: auxiliary primes
  count: u32,   // invocations that do work
  grid_x: u32,
  wq: u32,      // fixed-point words over Q (lift, scale)
  wp: u32,      // fixed-point words over P (back to Q)
  o_mont: u32,  // Q ∪ P: (q, qinv_neg, r2) triples
  o_up: u32,    // Q → P conversion block
  o_sc: u32,    // scaling block
  o_down: u32,  // P → Q conversion block
  o_one: u32,   // ⌊2^32 / q_j⌋ for Q
  _p0: u32,
  _p1: u32,
  _p2: u32,
  _p3: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<storage, read> tab: array<u32>;
@group(0) @binding(3) var<uniform> P: Params;
@group(0) @binding(4) var<storage, read> aux: array<u32>;

override WG: u32 = 64u;
// The level's shape as pipeline constants (one pipeline per shape), so every loop has a constant trip count and the
// per-coefficient residue arrays can live in registers. The same values are in Params for reference.
override KQ: u32 = 3u; // primes of Q at this level
override KP: u32 = 5u; // auxiliary primes P
override WQ: u32 = 4u; // fixed-point words over Q
override WP: u32 = 6u; // fixed-point words over P
const MAXR: u32 = 16u;

fn gid(wid: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wid.y * P.grid_x + wid.x) * WG + lid.x;
}

// ⌊(Σ_i y_i·Θ_i + 2^(32W−1)) / 2^(32W)⌋ with Θ_i the W words (least significant first) at tab[off + i·W]: the exact
// round(S) (kernels/rns/exact.ts). Returns (lo, hi) of the 64-bit result.
fn fixed_round(y: ptr<function, array<u32, MAXR>>, cnt: u32, off: u32, words: u32) -> vec2<u32> {
  var c0 = 0u;
  var c1 = 0u;
  for (var w = 0u; w < words; w += 1u) {
    var a0 = c0;
    var a1 = c1;
    var a2 = 0u;
    for (var i = 0u; i < cnt; i += 1u) {
      let pr = mul64((*y)[i], tab[off + i * words + w]);
      let s0 = a0 + pr.x;
      let k0 = select(0u, 1u, s0 < a0);
      a0 = s0;
      let s1 = a1 + (pr.y + k0); // pr.y < 2^31, so pr.y + k0 does not wrap
      a2 += select(0u, 1u, s1 < a1);
      a1 = s1;
    }
    if (w + 1u == words) {
      let s0 = a0 + 0x80000000u;
      let k0 = select(0u, 1u, s0 < a0);
      let s1 = a1 + k0;
      a2 += select(0u, 1u, s1 < a1);
      a1 = s1;
    }
    c0 = a1;
    c1 = a2;
  }
  return vec2<u32>(c0, c1);
}

// Exact centred conversion of one coefficient from `cnt` residues x (moduli at tab[base], block at `blk`) to `cm`
// residues (moduli at tab[tbase]). Block: qhatInv[cnt] qhatInvShoup[cnt] qhatMod[cm·cnt] qhatModShoup[cm·cnt]
// prodMod[cm] prodModShoup[cm] invFix[cnt·words].
fn convert_exact(x: ptr<function, array<u32, MAXR>>, cnt: u32, base: u32, cm: u32, tbase: u32, blk: u32, words: u32,
                 out: ptr<function, array<u32, MAXR>>) {
  var y: array<u32, MAXR>;
  for (var i = 0u; i < cnt; i += 1u) {
    y[i] = mul_shoup((*x)[i], tab[blk + i], tab[blk + cnt + i], tab[base + 3u * i]);
  }
  let o_hm = blk + 2u * cnt;
  let o_hs = o_hm + cm * cnt;
  let o_pm = o_hs + cm * cnt;
  let o_ps = o_pm + cm;
  let o_fix = o_ps + cm;
  let v = fixed_round(&y, cnt, o_fix, words).x; // v ≤ cnt
  for (var j = 0u; j < cm; j += 1u) {
    let p = tab[tbase + 3u * j];
    var s = 0u;
    for (var i = 0u; i < cnt; i += 1u) {
      s = add_mod(s, mul_shoup(y[i], tab[o_hm + j * cnt + i], tab[o_hs + j * cnt + i], p), p);
    }
    (*out)[j] = sub_mod(s, mul_shoup(v, tab[o_pm + j], tab[o_ps + j], p), p);
  }
}

// 1. Lift: one invocation per (operand polynomial, coefficient). src = operands, dst = lifted.
@compute @workgroup_size(WG)
fn lift(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = gid(wid, lid);
  if (g >= P.count) {
    return;
  }
  let n = P.n;
  let k = KQ;
  let L = k + KP;
  let poly = g / n;
  let c = g % n;
  var x: array<u32, MAXR>;
  for (var i = 0u; i < k; i += 1u) {
    x[i] = src[(poly * k + i) * n + c];
    dst[(poly * L + i) * n + c] = x[i];
  }
  var r: array<u32, MAXR>;
  convert_exact(&x, k, P.o_mont, KP, P.o_mont + 3u * k, P.o_up, WQ, &r);
  for (var j = 0u; j < KP; j += 1u) {
    dst[(poly * L + k + j) * n + c] = r[j];
  }
}

fn mont_full(a: u32, b: u32, q: u32, qinv: u32, r2: u32) -> u32 {
  return mont_mul(mont_mul(a, b, q, qinv), r2, q, qinv);
}

// 3. Tensor: one invocation per (pair, limb of Q ∪ P, coefficient). src = lifted (NTT form), dst = tensor.
@compute @workgroup_size(WG)
fn tensor(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = gid(wid, lid);
  if (g >= P.count) {
    return;
  }
  let n = P.n;
  let L = KQ + KP;
  let b = g / (L * n);
  let l = (g / n) % L;
  let c = g % n;
  let q = tab[P.o_mont + 3u * l];
  let qi = tab[P.o_mont + 3u * l + 1u];
  let r2 = tab[P.o_mont + 3u * l + 2u];
  let x0 = src[((4u * b) * L + l) * n + c];
  let x1 = src[((4u * b + 1u) * L + l) * n + c];
  let y0 = src[((4u * b + 2u) * L + l) * n + c];
  let y1 = src[((4u * b + 3u) * L + l) * n + c];
  dst[((3u * b) * L + l) * n + c] = mont_full(x0, y0, q, qi, r2);
  dst[((3u * b + 1u) * L + l) * n + c] = add_mod(mont_full(x0, y1, q, qi, r2), mont_full(x1, y0, q, qi, r2), q);
  dst[((3u * b + 2u) * L + l) * n + c] = mont_full(x1, y1, q, qi, r2);
}

// 5. Scale: one invocation per (tensor polynomial, coefficient): round(t·x/Q) into P, then exactly back to Q.
// src = tensor (coefficient form), dst = scaled. Scaling block: yInv[k] yInvShoup[k] omega[K·k] omegaShoup[K·k]
// tQinv[K] tQinvShoup[K] two32[K] two32Shoup[K] oneShoup[K] (⌊2^32/p_j⌋) thetaFix[k·wq].
@compute @workgroup_size(WG)
fn scale(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = gid(wid, lid);
  if (g >= P.count) {
    return;
  }
  let n = P.n;
  let k = KQ;
  let K = KP;
  let L = k + K;
  let poly = g / n;
  let c = g % n;
  let o = P.o_sc;
  let o_om = o + 2u * k;
  let o_os = o_om + K * k;
  let o_tq = o_os + K * k;
  let o_ts = o_tq + K;
  let o_tw = o_ts + K;
  let o_tws = o_tw + K;
  let o_one = o_tws + K;
  let o_fix = o_one + K;
  var y: array<u32, MAXR>;
  for (var i = 0u; i < k; i += 1u) {
    y[i] = mul_shoup(src[(poly * L + i) * n + c], tab[o + i], tab[o + k + i], tab[P.o_mont + 3u * i]);
  }
  let rd = fixed_round(&y, k, o_fix, WQ);
  var r: array<u32, MAXR>;
  for (var j = 0u; j < K; j += 1u) {
    let p = tab[P.o_mont + 3u * (k + j)];
    // rounded mod p = hi·[2^32]_p + lo mod p (lo reduced by a Shoup product with w = 1).
    var s = add_mod(mul_shoup(rd.y, tab[o_tw + j], tab[o_tws + j], p), mul_shoup(rd.x, 1u, tab[o_one + j], p), p);
    for (var i = 0u; i < k; i += 1u) {
      s = add_mod(s, mul_shoup(y[i], tab[o_om + j * k + i], tab[o_os + j * k + i], p), p);
    }
    r[j] = add_mod(s, mul_shoup(src[(poly * L + k + j) * n + c], tab[o_tq + j], tab[o_ts + j], p), p);
  }
  var out: array<u32, MAXR>;
  convert_exact(&r, K, P.o_mont + 3u * k, k, P.o_mont, P.o_down, WP, &out);
  for (var i = 0u; i < k; i += 1u) {
    dst[(poly * k + i) * n + c] = out[i];
  }
}

// 6. Digits: one invocation per (pair, digit i, limb j, coefficient): [c2 limb i]_{q_j}. src = scaled, dst = digits.
@compute @workgroup_size(WG)
fn digits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = gid(wid, lid);
  if (g >= P.count) {
    return;
  }
  let n = P.n;
  let k = KQ;
  let b = g / (k * k * n);
  let i = (g / (k * n)) % k;
  let j = (g / n) % k;
  let c = g % n;
  let x = src[((3u * b + 2u) * k + i) * n + c];
  dst[g] = mul_shoup(x, 1u, tab[P.o_one + j], tab[P.o_mont + 3u * j]);
}

// 8. Key products: one invocation per (pair, limb, coefficient). src = digits (NTT form), aux = keys, dst = acc.
@compute @workgroup_size(WG)
fn keymul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = gid(wid, lid);
  if (g >= P.count) {
    return;
  }
  let n = P.n;
  let k = KQ;
  let b = g / (k * n);
  let l = (g / n) % k;
  let c = g % n;
  let q = tab[P.o_mont + 3u * l];
  let qi = tab[P.o_mont + 3u * l + 1u];
  let r2 = tab[P.o_mont + 3u * l + 2u];
  var s0 = 0u;
  var s1 = 0u;
  for (var i = 0u; i < k; i += 1u) {
    let d = src[((b * k + i) * k + l) * n + c];
    s0 = add_mod(s0, mont_full(d, aux[(i * k + l) * n + c], q, qi, r2), q);
    s1 = add_mod(s1, mont_full(d, aux[((k + i) * k + l) * n + c], q, qi, r2), q);
  }
  dst[((2u * b) * k + l) * n + c] = s0;
  dst[((2u * b + 1u) * k + l) * n + c] = s1;
}

// 10. Finish: one invocation per (pair, output polynomial, limb, coefficient): acc + c_h. src = acc (coefficient
// form), aux = scaled, dst = result.
@compute @workgroup_size(WG)
fn finish(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = gid(wid, lid);
  if (g >= P.count) {
    return;
  }
  let n = P.n;
  let k = KQ;
  let b = g / (2u * k * n);
  let h = (g / (k * n)) % 2u;
  let l = (g / n) % k;
  let c = g % n;
  dst[g] = add_mod(src[g], aux[((3u * b + h) * k + l) * n + c], tab[P.o_mont + 3u * l]);
}
