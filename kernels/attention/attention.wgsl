// Causal multi-head attention over an int8 KV cache (see kernels/attention/reference.ts). At most 8 storage
// bindings (WebGPU's default limit): keys and values share one buffer, scores and probabilities another. One workgroup per
// (active head, new token); heads not listed in `heads` get no workgroup at all. Every workgroup bumps
// work[head] once, so tests can prove pruned heads did no work.

struct Params {
  n_heads: u32,  // H
  d: u32,        // head size D
  d4: u32,       // ⌈D/4⌉ packed words per (token, head)
  t: u32,        // new tokens T
  len0: u32,     // cache length before the step (absolute position of token 0)
  s: u32,        // keys after the step: len0 + T
  n_active: u32,
  grid_x: u32,
  inv_sqrt_d: f32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<storage, read> q: array<u32>;         // [T][H][D4]
@group(0) @binding(1) var<storage, read> q_scale: array<f32>;   // [T][H]
@group(0) @binding(2) var<storage, read> kv: array<u32>;        // [C][H][2][D4]: keys then values of a (token, head)
@group(0) @binding(3) var<storage, read> kvs: array<f32>;       // [C][H][2]: key scale, value scale
@group(0) @binding(4) var<storage, read> heads: array<u32>;     // active head indices
@group(0) @binding(5) var<storage, read_write> sp: array<u32>;  // [A][T][S] int32 scores, then [A][T][S] f32 probs
@group(0) @binding(6) var<storage, read_write> out: array<f32>; // [T][H][D]
@group(0) @binding(7) var<storage, read_write> work: array<atomic<u32>>; // [H]
@group(0) @binding(8) var<uniform> P: Params;

const WG: u32 = 64u;
var<workgroup> red: array<f32, WG>;

fn unpack_i8(word: u32, byte: u32) -> f32 {
  return f32(extractBits(bitcast<i32>(word), byte * 8u, 8u));
}

// QKᵀ: int32 scores for s ≤ len0 + t, 0 above the diagonal.
@compute @workgroup_size(WG)
fn attn_scores(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let id = wid.y * P.grid_x + wid.x;
  if (id >= P.n_active * P.t) {
    return;
  }
  let a = id / P.t;
  let t = id % P.t;
  let h = heads[a];
  if (lid.x == 0u) {
    atomicAdd(&work[h], 1u);
  }
  let lim = P.len0 + t;
  let qo = (t * P.n_heads + h) * P.d4;
  let row = (a * P.t + t) * P.s;
  for (var s = lid.x; s < P.s; s += WG) {
    var acc = 0i;
    if (s <= lim) {
      let ko = (s * P.n_heads + h) * 2u * P.d4;
      for (var w = 0u; w < P.d4; w += 1u) {
        acc += dot4I8Packed(q[qo + w], kv[ko + w]);
      }
    }
    sp[row + s] = bitcast<u32>(acc);
  }
}

// Softmax (f32) over the causal row, then ·V.
@compute @workgroup_size(WG)
fn attn_softmax_v(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let id = wid.y * P.grid_x + wid.x;
  let live = id < P.n_active * P.t;
  let a = id / P.t;
  let t = id % P.t;
  var h = 0u;
  var lim = 0u;
  var row = 0u;
  var qsc = 0.0;
  let pb = P.n_active * P.t * P.s; // probabilities follow the scores in sp
  if (live) {
    h = heads[a];
    if (lid.x == 0u) {
      atomicAdd(&work[h], 1u);
    }
    lim = P.len0 + t;
    row = (a * P.t + t) * P.s;
    qsc = q_scale[t * P.n_heads + h] * P.inv_sqrt_d;
  }
  // max
  var mx = -3.4e38;
  if (live) {
    for (var s = lid.x; s <= lim; s += WG) {
      mx = max(mx, f32(bitcast<i32>(sp[row + s])) * qsc * kvs[(s * P.n_heads + h) * 2u]);
    }
  }
  red[lid.x] = mx;
  workgroupBarrier();
  for (var k = WG >> 1u; k > 0u; k >>= 1u) {
    if (lid.x < k) {
      red[lid.x] = max(red[lid.x], red[lid.x + k]);
    }
    workgroupBarrier();
  }
  mx = red[0];
  workgroupBarrier();
  // exp and sum
  var sum = 0.0;
  if (live) {
    for (var s = lid.x; s <= lim; s += WG) {
      let e = exp(f32(bitcast<i32>(sp[row + s])) * qsc * kvs[(s * P.n_heads + h) * 2u] - mx);
      sp[pb + row + s] = bitcast<u32>(e);
      sum += e;
    }
  }
  red[lid.x] = sum;
  workgroupBarrier();
  for (var k = WG >> 1u; k > 0u; k >>= 1u) {
    if (lid.x < k) {
      red[lid.x] = red[lid.x] + red[lid.x + k];
    }
    workgroupBarrier();
  }
  let inv_sum = 1.0 / red[0];
  if (live) {
    for (var s = lid.x; s < P.s; s += WG) {
      if (s <= lim) {
        sp[pb + row + s] = bitcast<u32>(bitcast<f32>(sp[pb + row + s]) * inv_sum);
      } else {
        sp[pb + row + s] = 0u;
      }
    }
  }
  storageBarrier();
  workgroupBarrier();
  if (!live) {
    return;
  }
  for (var d = lid.x; d < P.d; d += WG) {
    var o = 0.0;
    let w = d >> 2u;
    let byte = d & 3u;
    for (var s = 0u; s <= lim; s += 1u) {
      let vo = (s * P.n_heads + h) * 2u * P.d4 + P.d4 + w;
      o += bitcast<f32>(sp[pb + row + s]) * unpack_i8(kv[vo], byte) * kvs[(s * P.n_heads + h) * 2u + 1u];
    }
    out[(t * P.n_heads + h) * P.d + d] = o;
  }
}
