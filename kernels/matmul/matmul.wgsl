// int8 × int8 → int32 matrix products. A: M×K activations, W: N×K weights (one row per output channel), both packed
// four int8 to a u32 along K (zero-padded to K4 = ⌈K/4⌉ words). acc[m][n] = Σ_k A[m][k]·W[n][k] exactly (int32);
// y[m][n] = f32(acc)·sa[m]·sw[n] + bias[n] (per-row activation scale, per-channel weight scale).

struct Params {
  m: u32,
  n: u32,
  k4: u32,
  grid_x: u32,
  has_bias: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> sa: array<f32>;
@group(0) @binding(3) var<storage, read> sw: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> acc_out: array<i32>;
@group(0) @binding(6) var<storage, read_write> y_out: array<f32>;
@group(0) @binding(7) var<uniform> P: Params;

fn finish(row: u32, col: u32, acc: i32) {
  let i = row * P.n + col;
  acc_out[i] = acc;
  var y = f32(acc) * sa[row] * sw[col];
  if (P.has_bias != 0u) {
    y = y + bias[col];
  }
  y_out[i] = y;
}

// GEMV-shaped work (few rows): one invocation per output element, looping over K (no barriers: on CPU adapters such
// as lavapipe a workgroup barrier costs far more than the loop).
@compute @workgroup_size(64)
fn gemv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = (wid.y * P.grid_x + wid.x) * 64u + lid.x;
  if (o >= P.m * P.n) {
    return;
  }
  let row = o / P.n;
  let col = o % P.n;
  var s = 0i;
  let ao = row * P.k4;
  let wo = col * P.k4;
  for (var k = 0u; k < P.k4; k += 1u) {
    s += dot4I8Packed(a[ao + k], w[wo + k]);
  }
  finish(row, col, s);
}

// GEMM, register-blocked: 8×8 invocations per 32×32 output tile, each computing a 4×4 block straight from global
// memory (rows past M or N are clamped for loads and skipped for stores).
@compute @workgroup_size(8, 8)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tiles_n = (P.n + 31u) / 32u;
  let tile = wid.y * P.grid_x + wid.x;
  if (tile >= tiles_n * ((P.m + 31u) / 32u)) {
    return;
  }
  let r0 = (tile / tiles_n) * 32u + lid.y * 4u;
  let c0 = (tile % tiles_n) * 32u + lid.x * 4u;
  if (r0 >= P.m || c0 >= P.n) {
    return;
  }
  var ra: array<u32, 4>;
  var wa: array<u32, 4>;
  for (var i = 0u; i < 4u; i += 1u) {
    ra[i] = min(r0 + i, P.m - 1u) * P.k4;
    wa[i] = min(c0 + i, P.n - 1u) * P.k4;
  }
  var acc: array<i32, 16>;
  for (var k = 0u; k < P.k4; k += 1u) {
    let a0 = a[ra[0] + k];
    let a1 = a[ra[1] + k];
    let a2 = a[ra[2] + k];
    let a3 = a[ra[3] + k];
    for (var j = 0u; j < 4u; j += 1u) {
      let wj = w[wa[j] + k];
      acc[j] += dot4I8Packed(a0, wj);
      acc[4u + j] += dot4I8Packed(a1, wj);
      acc[8u + j] += dot4I8Packed(a2, wj);
      acc[12u + j] += dot4I8Packed(a3, wj);
    }
  }
  for (var i = 0u; i < 4u; i += 1u) {
    for (var j = 0u; j < 4u; j += 1u) {
      if (r0 + i < P.m && c0 + j < P.n) {
        finish(r0 + i, c0 + j, acc[i * 4u + j]);
      }
    }
  }
}

// GEMM, tiled through workgroup memory (for GPUs with fast barriers): 16×16 invocations, each computing a 2×2 block
// of a 32×32 output tile; K in chunks of 16 words (64 int8).
const TM: u32 = 32u;
const TK: u32 = 16u;
var<workgroup> as_: array<u32, 512>; // TM × TK
var<workgroup> ws_: array<u32, 512>; // TM × TK

@compute @workgroup_size(16, 16)
fn gemm_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tiles_n = (P.n + TM - 1u) / TM;
  let tile = wid.y * P.grid_x + wid.x;
  let tiles = tiles_n * ((P.m + TM - 1u) / TM);
  let live = tile < tiles;
  let row0 = (tile / tiles_n) * TM;
  let col0 = (tile % tiles_n) * TM;
  let t = lid.y * 16u + lid.x;
  var c00 = 0i;
  var c01 = 0i;
  var c10 = 0i;
  var c11 = 0i;
  for (var k0 = 0u; k0 < P.k4; k0 += TK) {
    for (var e = t; e < TM * TK; e += 256u) {
      let r = e / TK;
      let kk = k0 + e % TK;
      var va = 0u;
      var vw = 0u;
      if (live && kk < P.k4) {
        if (row0 + r < P.m) {
          va = a[(row0 + r) * P.k4 + kk];
        }
        if (col0 + r < P.n) {
          vw = w[(col0 + r) * P.k4 + kk];
        }
      }
      as_[e] = va;
      ws_[e] = vw;
    }
    workgroupBarrier();
    let ra = lid.y * 2u * TK;
    let rw = lid.x * 2u * TK;
    for (var kk = 0u; kk < TK; kk += 1u) {
      let a0 = as_[ra + kk];
      let a1 = as_[ra + TK + kk];
      let w0 = ws_[rw + kk];
      let w1 = ws_[rw + TK + kk];
      c00 += dot4I8Packed(a0, w0);
      c01 += dot4I8Packed(a0, w1);
      c10 += dot4I8Packed(a1, w0);
      c11 += dot4I8Packed(a1, w1);
    }
    workgroupBarrier();
  }
  if (!live) {
    return;
  }
  let r = row0 + lid.y * 2u;
  let c = col0 + lid.x * 2u;
  if (r < P.m && c < P.n) {
    finish(r, c, c00);
  }
  if (r < P.m && c + 1u < P.n) {
    finish(r, c + 1u, c01);
  }
  if (r + 1u < P.m && c < P.n) {
    finish(r + 1u, c, c10);
  }
  if (r + 1u < P.m && c + 1u < P.n) {
    finish(r + 1u, c + 1u, c11);
  }
}
