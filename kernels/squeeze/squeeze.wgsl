// Cerberus squeeze (whitepaper §5.1; definitions in kernels/squeeze/reference.ts). One workgroup per sample (row):
// reductions for Σx, min, max, then Σ(x − μ)², then every element is quantized to its level index and value.

struct Params {
  rows: u32,
  cols: u32,
  levels: u32,
  grid_x: u32,
  threshold: f32,
  alpha: f32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> codes: array<u32>;
@group(0) @binding(2) var<storage, read_write> values: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>; // 8 per row
@group(0) @binding(4) var<uniform> P: Params;

const WG: u32 = 256u;
var<workgroup> r_sum: array<f32, WG>;
var<workgroup> r_min: array<f32, WG>;
var<workgroup> r_max: array<f32, WG>;

@compute @workgroup_size(WG)
fn squeeze(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.y * P.grid_x + wid.x;
  if (row >= P.rows) {
    return;
  }
  let base = row * P.cols;
  var s = 0.0;
  var mn = 3.4e38;
  var mx = -3.4e38;
  for (var j = lid.x; j < P.cols; j += WG) {
    let v = x[base + j];
    s += v;
    mn = min(mn, v);
    mx = max(mx, v);
  }
  r_sum[lid.x] = s;
  r_min[lid.x] = mn;
  r_max[lid.x] = mx;
  workgroupBarrier();
  for (var h = WG >> 1u; h > 0u; h >>= 1u) {
    if (lid.x < h) {
      r_sum[lid.x] += r_sum[lid.x + h];
      r_min[lid.x] = min(r_min[lid.x], r_min[lid.x + h]);
      r_max[lid.x] = max(r_max[lid.x], r_max[lid.x + h]);
    }
    workgroupBarrier();
  }
  let mean = r_sum[0] / f32(P.cols);
  mn = r_min[0];
  mx = r_max[0];
  workgroupBarrier();
  var sq = 0.0;
  for (var j = lid.x; j < P.cols; j += WG) {
    let d = x[base + j] - mean;
    sq += d * d;
  }
  r_sum[lid.x] = sq;
  workgroupBarrier();
  for (var h = WG >> 1u; h > 0u; h >>= 1u) {
    if (lid.x < h) {
      r_sum[lid.x] += r_sum[lid.x + h];
    }
    workgroupBarrier();
  }
  let sigma = sqrt(r_sum[0] / f32(P.cols));
  let scale = select(1.0 / P.alpha, P.alpha, sigma > P.threshold);
  let range = mx - mn;
  let top = f32(P.levels - 1u);
  let delta = range / top;
  let inv = select(0.0, top / range, range > 0.0);
  if (lid.x == 0u) {
    let o = row * 8u;
    stats[o] = mean;
    stats[o + 1u] = sigma;
    stats[o + 2u] = mn;
    stats[o + 3u] = mx;
    stats[o + 4u] = scale;
    stats[o + 5u] = scale * delta;
    stats[o + 6u] = inv;
    stats[o + 7u] = delta;
  }
  for (var j = lid.x; j < P.cols; j += WG) {
    let t = (x[base + j] - mn) * inv;
    let k = min(u32(floor(max(t, 0.0))), P.levels - 1u);
    codes[base + j] = k;
    let lv = f32(k) * delta;
    values[base + j] = scale * (lv + mn);
  }
}
