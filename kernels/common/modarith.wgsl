// Modular arithmetic on u32 for primes q < 2^31 (so 2q < 2^32). WGSL has no 64-bit integers: the 32×32→64
// product is built from four 16×16-bit products; u32 multiplication wraps modulo 2^32.

// Full product a·b as vec2(lo, hi).
fn mul64(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>((p00 & 0xffffu) | (mid << 16u), p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}

// High word of a·b.
fn mulhi(a: u32, b: u32) -> u32 {
  return mul64(a, b).y;
}

fn add_mod(a: u32, b: u32, q: u32) -> u32 {
  let s = a + b;
  return select(s, s - q, s >= q);
}

fn sub_mod(a: u32, b: u32, q: u32) -> u32 {
  let d = a - b;
  return select(d, d + q, a < b);
}

// a·w mod q with ws = floor(w·2^32 / q) (Shoup): a·w − floor(a·ws / 2^32)·q lies in [0, 2q) for any a < 2^32.
fn mul_shoup(a: u32, w: u32, ws: u32, q: u32) -> u32 {
  let qhat = mulhi(a, ws);
  let r = a * w - qhat * q;
  return select(r, r - q, r >= q);
}

// Montgomery product a·b·2^-32 mod q (a, b < q; qinv_neg = −q^-1 mod 2^32).
fn mont_mul(a: u32, b: u32, q: u32, qinv_neg: u32) -> u32 {
  let t = mul64(a, b);
  let m = t.x * qinv_neg;
  let r = t.y + mulhi(m, q) + select(0u, 1u, t.x != 0u);
  return select(r, r - q, r >= q);
}

struct Prime {
  q: u32,
  n_inv: u32,
  n_inv_shoup: u32,
  qinv_neg: u32,
  r2: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}
