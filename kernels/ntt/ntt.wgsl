// Negacyclic NTT over rows of n residues; row r is reduced modulo primes[r % nprimes]. The same butterflies, in the
// same stage order, as kernels/ntt/reference.ts (Cooley–Tukey forward, Gentleman–Sande inverse), so results are
// bit-identical. Twiddles per prime p, at tw[4·n·p …]: psiRev | psiRevShoup | psiInvRev | psiInvRevShoup.
#include "../common/modarith.wgsl"

struct Params {
  n: u32,
  log_n: u32,
  nprimes: u32,
  rows: u32,
  m: u32,        // twiddle base of a global stage: n / (2·span)
  log_span: u32, // log2 of a global stage's span
  grid_x: u32,   // workgroups along x of the 2-D grid
  flags: u32,    // bit 0: multiply outputs by n^-1 (last inverse pass)
}

@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@group(0) @binding(1) var<storage, read> tw: array<u32>;
@group(0) @binding(2) var<storage, read> primes: array<Prime>;
@group(0) @binding(3) var<uniform> P: Params;

override WG: u32 = 256u;
override TILE: u32 = 2048u;
override LOG_TILE: u32 = 11u;

var<workgroup> sh: array<u32, TILE>;

// One radix-2 stage over global memory, one butterfly per invocation.
@compute @workgroup_size(WG)
fn fwd_global(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = (wid.y * P.grid_x + wid.x) * WG + lid.x;
  let half_n = P.n >> 1u;
  if (g >= P.rows * half_n) {
    return;
  }
  let row = g >> (P.log_n - 1u);
  let k = g & (half_n - 1u);
  let span = 1u << P.log_span;
  let grp = k >> P.log_span;
  let i0 = row * P.n + (grp << (P.log_span + 1u)) + (k & (span - 1u));
  let pi = row % P.nprimes;
  let q = primes[pi].q;
  let tb = pi * 4u * P.n + P.m + grp;
  let u = data[i0];
  let v = mul_shoup(data[i0 + span], tw[tb], tw[tb + P.n], q);
  data[i0] = add_mod(u, v, q);
  data[i0 + span] = sub_mod(u, v, q);
}

@compute @workgroup_size(WG)
fn inv_global(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = (wid.y * P.grid_x + wid.x) * WG + lid.x;
  let half_n = P.n >> 1u;
  if (g >= P.rows * half_n) {
    return;
  }
  let row = g >> (P.log_n - 1u);
  let k = g & (half_n - 1u);
  let span = 1u << P.log_span;
  let grp = k >> P.log_span;
  let i0 = row * P.n + (grp << (P.log_span + 1u)) + (k & (span - 1u));
  let pi = row % P.nprimes;
  let pr = primes[pi];
  let q = pr.q;
  let tb = pi * 4u * P.n + 2u * P.n + P.m + grp;
  let u = data[i0];
  let x = data[i0 + span];
  var s = add_mod(u, x, q);
  var d = mul_shoup(sub_mod(u, x, q), tw[tb], tw[tb + P.n], q);
  if ((P.flags & 1u) != 0u) {
    s = mul_shoup(s, pr.n_inv, pr.n_inv_shoup, q);
    d = mul_shoup(d, pr.n_inv, pr.n_inv_shoup, q);
  }
  data[i0] = s;
  data[i0 + span] = d;
}

// Every stage with span < TILE, one tile of one row per workgroup, in workgroup memory.
@compute @workgroup_size(WG)
fn fwd_local(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tiles_per_row = P.n >> LOG_TILE;
  let tile_id = wid.y * P.grid_x + wid.x;
  if (tile_id >= P.rows * tiles_per_row) {
    return;
  }
  let row = tile_id / tiles_per_row;
  let pos0 = (tile_id % tiles_per_row) << LOG_TILE;
  let base = row * P.n + pos0;
  let pi = row % P.nprimes;
  let q = primes[pi].q;
  let tb = pi * 4u * P.n;
  for (var i = lid.x; i < TILE; i += WG) {
    sh[i] = data[base + i];
  }
  workgroupBarrier();
  var ls = LOG_TILE - 1u;
  loop {
    let span = 1u << ls;
    let m = P.n >> (ls + 1u);
    let grp0 = pos0 >> (ls + 1u);
    for (var b = lid.x; b < (TILE >> 1u); b += WG) {
      let gl = b >> ls;
      let i0 = (gl << (ls + 1u)) + (b & (span - 1u));
      let t = tb + m + grp0 + gl;
      let u = sh[i0];
      let v = mul_shoup(sh[i0 + span], tw[t], tw[t + P.n], q);
      sh[i0] = add_mod(u, v, q);
      sh[i0 + span] = sub_mod(u, v, q);
    }
    workgroupBarrier();
    if (ls == 0u) {
      break;
    }
    ls -= 1u;
  }
  for (var i = lid.x; i < TILE; i += WG) {
    data[base + i] = sh[i];
  }
}

@compute @workgroup_size(WG)
fn inv_local(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tiles_per_row = P.n >> LOG_TILE;
  let tile_id = wid.y * P.grid_x + wid.x;
  if (tile_id >= P.rows * tiles_per_row) {
    return;
  }
  let row = tile_id / tiles_per_row;
  let pos0 = (tile_id % tiles_per_row) << LOG_TILE;
  let base = row * P.n + pos0;
  let pi = row % P.nprimes;
  let pr = primes[pi];
  let q = pr.q;
  let tb = pi * 4u * P.n + 2u * P.n;
  for (var i = lid.x; i < TILE; i += WG) {
    sh[i] = data[base + i];
  }
  workgroupBarrier();
  for (var ls = 0u; ls < LOG_TILE; ls += 1u) {
    let span = 1u << ls;
    let m = P.n >> (ls + 1u);
    let grp0 = pos0 >> (ls + 1u);
    for (var b = lid.x; b < (TILE >> 1u); b += WG) {
      let gl = b >> ls;
      let i0 = (gl << (ls + 1u)) + (b & (span - 1u));
      let t = tb + m + grp0 + gl;
      let u = sh[i0];
      let x = sh[i0 + span];
      sh[i0] = add_mod(u, x, q);
      sh[i0 + span] = mul_shoup(sub_mod(u, x, q), tw[t], tw[t + P.n], q);
    }
    workgroupBarrier();
  }
  let scale = (P.flags & 1u) != 0u;
  for (var i = lid.x; i < TILE; i += WG) {
    var v = sh[i];
    if (scale) {
      v = mul_shoup(v, pr.n_inv, pr.n_inv_shoup, q);
    }
    data[base + i] = v;
  }
}

// Register passes: `r` (≤ 4) consecutive stages per dispatch, no barriers and no workgroup memory. Invocation g of
// a row owns the 2^r elements base + j·s (s = smallest span of the pass, j < 2^r), which the pass's stages only
// ever combine with each other; it loads them, runs the stages in registers and stores them back. `P.m` carries s,
// `P.log_span` log2(s); the stage count r is the pipeline constant R (1 … 4), so every loop below has a constant trip
// count and compilers can unroll it and keep x[] in registers.
const RMAX: u32 = 16u;
override R: u32 = 4u;

fn reg_group(g: u32, r: u32) -> vec3<u32> {
  // (row, base index within the data buffer, base position within the row)
  let per_row = P.n >> r;
  let row = g / per_row;
  let gi = g % per_row;
  let s = P.m;
  let off = gi & (s - 1u);
  let blk = gi >> P.log_span;
  let pos = (blk << (P.log_span + r)) + off;
  return vec3<u32>(row, row * P.n + pos, pos);
}

@compute @workgroup_size(WG)
fn fwd_regs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = (wid.y * P.grid_x + wid.x) * WG + lid.x;
  let r = R;
  if (g >= P.rows * (P.n >> r)) {
    return;
  }
  let grp = reg_group(g, r);
  let pi = grp.x % P.nprimes;
  let q = primes[pi].q;
  let tb = pi * 4u * P.n;
  let s = P.m;
  let cnt = 1u << r;
  var x: array<u32, RMAX>;
  for (var j = 0u; j < cnt; j += 1u) {
    x[j] = data[grp.y + j * s];
  }
  for (var i = r; i > 0u; i -= 1u) {
    let half_j = 1u << (i - 1u);          // partner distance in j
    let lsp = P.log_span + i - 1u;        // log2 of this stage's span
    let m = P.n >> (lsp + 1u);
    for (var j = 0u; j < cnt; j += 1u) {
      if ((j & half_j) == 0u) {
        let t = tb + m + ((grp.z + j * s) >> (lsp + 1u));
        let u = x[j];
        let v = mul_shoup(x[j + half_j], tw[t], tw[t + P.n], q);
        x[j] = add_mod(u, v, q);
        x[j + half_j] = sub_mod(u, v, q);
      }
    }
  }
  for (var j = 0u; j < cnt; j += 1u) {
    data[grp.y + j * s] = x[j];
  }
}

@compute @workgroup_size(WG)
fn inv_regs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = (wid.y * P.grid_x + wid.x) * WG + lid.x;
  let r = R;
  if (g >= P.rows * (P.n >> r)) {
    return;
  }
  let grp = reg_group(g, r);
  let pi = grp.x % P.nprimes;
  let pr = primes[pi];
  let q = pr.q;
  let tb = pi * 4u * P.n + 2u * P.n;
  let s = P.m;
  let cnt = 1u << r;
  var x: array<u32, RMAX>;
  for (var j = 0u; j < cnt; j += 1u) {
    x[j] = data[grp.y + j * s];
  }
  for (var i = 1u; i <= r; i += 1u) {
    let half_j = 1u << (i - 1u);
    let lsp = P.log_span + i - 1u;
    let h = P.n >> (lsp + 1u);
    for (var j = 0u; j < cnt; j += 1u) {
      if ((j & half_j) == 0u) {
        let t = tb + h + ((grp.z + j * s) >> (lsp + 1u));
        let u = x[j];
        let v = x[j + half_j];
        x[j] = add_mod(u, v, q);
        x[j + half_j] = mul_shoup(sub_mod(u, v, q), tw[t], tw[t + P.n], q);
      }
    }
  }
  let scale = (P.flags & 1u) != 0u;
  for (var j = 0u; j < cnt; j += 1u) {
    var v = x[j];
    if (scale) {
      v = mul_shoup(v, pr.n_inv, pr.n_inv_shoup, q);
    }
    data[grp.y + j * s] = v;
  }
}
