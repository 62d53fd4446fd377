// Fast RNS base conversion (see kernels/rns/reference.ts): one invocation per (polynomial, coefficient).
// tables: q[k] | qHatInv[k] | qHatInvShoup[k] | p[m] | qHatModP[k·m] | qHatModPShoup[k·m]
#include "../common/modarith.wgsl"

struct Params {
  n: u32,
  k: u32,
  m: u32,
  total: u32, // polys · n
  grid_x: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<storage, read> tab: array<u32>;
@group(0) @binding(3) var<uniform> P: Params;

override WG: u32 = 256u;
const MAX_K: u32 = 32u;

@compute @workgroup_size(WG)
fn base_convert(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = (wid.y * P.grid_x + wid.x) * WG + lid.x;
  if (g >= P.total) {
    return;
  }
  let b = g / P.n;
  let c = g % P.n;
  let k = P.k;
  let m = P.m;
  var y: array<u32, MAX_K>;
  for (var i = 0u; i < k; i += 1u) {
    y[i] = mul_shoup(src[(b * k + i) * P.n + c], tab[k + i], tab[2u * k + i], tab[i]);
  }
  let pb = 3u * k;
  let hb = pb + m;
  let sb = hb + k * m;
  for (var j = 0u; j < m; j += 1u) {
    let p = tab[pb + j];
    var acc = 0u;
    for (var i = 0u; i < k; i += 1u) {
      acc = add_mod(acc, mul_shoup(y[i], tab[hb + i * m + j], tab[sb + i * m + j], p), p);
    }
    dst[(b * m + j) * P.n + c] = acc;
  }
}
