// Elementwise modular ops on rows of n residues; row r uses primes[r % nprimes]. out may alias neither input.
#include "../common/modarith.wgsl"

struct Params {
  n: u32,
  log_n: u32,
  nprimes: u32,
  total: u32, // rows · n
  grid_x: u32,
  op: u32,    // 0 mul, 1 add, 2 sub
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<storage, read> primes: array<Prime>;
@group(0) @binding(4) var<uniform> P: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn pointwise(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.y * P.grid_x + wid.x) * WG + lid.x;
  if (i >= P.total) {
    return;
  }
  let pr = primes[(i >> P.log_n) % P.nprimes];
  let x = a[i];
  let y = b[i];
  var r: u32;
  switch P.op {
    case 0u: {
      // Two Montgomery products: (x·y·R^-1)·R²·R^-1 = x·y mod q.
      r = mont_mul(mont_mul(x, y, pr.q, pr.qinv_neg), pr.r2, pr.q, pr.qinv_neg);
    }
    case 1u: {
      r = add_mod(x, y, pr.q);
    }
    default: {
      r = sub_mod(x, y, pr.q);
    }
  }
  out[i] = r;
}
