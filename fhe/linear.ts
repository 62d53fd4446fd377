/**
 * Encrypted linear layers y = W·x with coefficient encoding (Cheetah, Huang et al., USENIX Security 2022).
 *
 * Roles: the client holds the secret key and its int8 activations X (T tokens × d_in); the miner holds the public
 * int8 weights W (d_out × d_in). The client sends encryptions of X, the miner returns encryptions of W·X^T, the client
 * decrypts exactly the int32 results. The miner never holds a key; it sees ciphertexts, the shapes (T, d_in, d_out,
 * the plan) and its own timing.
 *
 * Encoding (one ring element of N coefficients; chunk a of the inputs, block b of tokens, block r of rows):
 *   X̂[c·n_i + k]                = x[b·m_t + c][a·n_i + k]            (c < m_t tokens, k < n_i inputs)
 *   Ŵ[o·n_i·m_t + n_i − 1 − k]   = W[r·n_o + o][a·n_i + k]            (o < n_o rows)
 * with n_o·n_i·m_t ≤ N. In X̂·Ŵ mod X^N + 1, coefficient o·n_i·m_t + c·n_i + n_i − 1 equals
 * Σ_k W[r·n_o + o][a·n_i + k]·x[b·m_t + c][a·n_i + k] — one plaintext product yields n_o·m_t inner products of
 * length n_i, with no rotations and no Galois keys. Partial sums over chunks a are ciphertext additions, done in the
 * NTT domain (inputs are transformed once; weights are pre-transformed once per model).
 *
 * Each result ciphertext is modulus-switched down to the fewest primes that keep a worst-case positive budget, and
 * only the n_o·m_t useful coefficients of c0 are sent back, with c1 (see `PartialCiphertext`).
 *
 * The plan (n_i, m_t, n_o) minimizes estimated total time = bytes both ways / link bandwidth + miner compute, over all
 * shapes that fit N; see `planLinear` and docs/FHE.md for the numbers.
 */
import type { FheContext } from './context.ts'
import { decryptPartial } from './decrypt.ts'
import { encodeIntegers } from './encoder.ts'
import { encryptSymmetric } from './encrypt.ts'
import { InvalidOperand } from './errors.ts'
import { modSwitchTo } from './evaluate.ts'
import { clonePoly, zeroPoly, type PreparedPoly, type RnsPoly } from './poly.ts'
import { cryptoRandom, type RandomSource } from './rng.ts'
import type { PartialCiphertext } from './serialize.ts'
import type { Ciphertext, SecretKey } from './types.ts'
import { checkCiphertext, checkParamsId } from './validate.ts'

export interface LinearShape {
  readonly dIn: number
  readonly dOut: number
  readonly tokens: number
}

export interface LinearPlan extends LinearShape {
  readonly paramsId: string
  readonly n: number
  /** Inputs per chunk, tokens per ciphertext, output rows per ciphertext. */
  readonly ni: number
  readonly mt: number
  readonly no: number
  readonly inChunks: number
  readonly tokenBlocks: number
  readonly rowBlocks: number
  /** Input ciphertexts (client → miner) and result ciphertexts (miner → client). */
  readonly inputCiphertexts: number
  readonly outputCiphertexts: number
  /** Plaintext products (each: 2 polys × L primes × N pointwise multiply-adds). */
  readonly products: number
  /** Primes kept in each result after modulus switching. */
  readonly outputLevel: number
  /** Estimated bytes on the wire each way (serialized, seeded inputs and partial outputs). */
  readonly bytesUp: number
  readonly bytesDown: number
  /** Worst-case noise budget (bits) of a result, from the bound in `worstCaseBudget`. */
  readonly worstCaseBudgetBits: number
  /** The cost-model estimate that chose this plan (seconds): client + miner compute + bytes both ways. */
  readonly estimatedSeconds: number
}

export interface PlanOptions {
  /** Link bandwidth for the cost model, bytes/s each way (default 12.5e6 = 100 Mbit/s). */
  readonly bytesPerSecond?: number
  /**
   * Cost of one modular multiply-add, seconds (default 15e-9). The CPU reference measured 58–83 ns per multiply-add and
   * per NTT butterfly on this project's 2-core machine under load average ~11, i.e. the two cost about the same;
   * calibrate both for the miner's hardware (a GPU backend is far cheaper per operation).
   */
  readonly secondsPerMulAdd?: number
  /** Cost of one NTT butterfly, seconds (default 15e-9). */
  readonly secondsPerButterfly?: number
  /** Smallest worst-case budget accepted for results, bits (default 4). */
  readonly minBudgetBits?: number
  /** Force a shape (tests, benchmarks). */
  readonly force?: { readonly ni: number; readonly mt: number; readonly no: number }
}

const HEADER_BYTES = 64
const SEED_BYTES = 32
const INT8_MAX_ABS = 128

function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b)
}

/**
 * Worst-case invariant-noise budget of a result. With c0 + c1·s = Δ·m − e (Δ = ⌊Q/t⌋, r = Q mod t), a fresh input has
 * invariant noise v = −(t·e + r·m)/Q with |e| ≤ η (CBD is bounded) and |m| ≤ 128 (int8 activations). Multiplying by
 * the weight polynomials and summing over chunks multiplies both terms by at most ‖Ŵ‖₁ ≤ 128·n_o·d_in. Modulus switching
 * to `level` primes keeps v (it is scale-free) and adds t·(1 + ‖s‖₁)/(2·Q_level) ≤ t·(1 + N)/(2·Q_level) for ternary s.
 * Budget = −log2(2·v).
 */
export function worstCaseBudget(ctx: FheContext, dIn: number, no: number, level: number): number {
  const top = ctx.levelData[ctx.levels - 1]
  const low = ctx.levelData[level - 1]
  if (!top || !low) return -Infinity
  const t = ctx.t
  const r = Number(top.Q % BigInt(t))
  const eta = ctx.params.errorDistribution.eta
  const l1 = INT8_MAX_ABS * no * dIn
  let v = 2 ** (Math.log2(t * eta + r * INT8_MAX_ABS) + Math.log2(l1) - top.logQ)
  if (level < ctx.levels) v += 2 ** (Math.log2(t) + Math.log2((1 + ctx.n) / 2) - low.logQ)
  return -Math.log2(2 * v)
}

function candidates(limit: number, exact: number): number[] {
  const out = new Set<number>()
  for (let v = 1; v <= limit; v *= 2) out.add(v)
  if (exact <= limit) out.add(exact)
  return [...out]
}

function makePlan(ctx: FheContext, shape: LinearShape, ni: number, mt: number, no: number, opts: PlanOptions): LinearPlan | undefined {
  const n = ctx.n
  const L = ctx.levels
  if (ni * mt * no > n || ni < 1 || mt < 1 || no < 1) return undefined
  const minBudget = opts.minBudgetBits ?? 4
  const inChunks = ceilDiv(shape.dIn, ni)
  const tokenBlocks = ceilDiv(shape.tokens, mt)
  const rowBlocks = ceilDiv(shape.dOut, no)
  let outputLevel = 0
  let budget = -Infinity
  for (let level = 1; level <= L; level++) {
    const b = worstCaseBudget(ctx, inChunks * ni, no, level)
    if (b >= minBudget) {
      outputLevel = level
      budget = b
      break
    }
  }
  if (outputLevel === 0) return undefined
  const inputCiphertexts = inChunks * tokenBlocks
  const outputCiphertexts = rowBlocks * tokenBlocks
  const products = inChunks * rowBlocks * tokenBlocks
  const bytesUp = inputCiphertexts * (HEADER_BYTES + SEED_BYTES + 4 * L * n)
  const useful = no * mt
  const bytesDown = outputCiphertexts * (HEADER_BYTES + 4 + 2 * useful + 4 * outputLevel * (useful + n))
  const bw = opts.bytesPerSecond ?? 12.5e6
  const mulAdd = opts.secondsPerMulAdd ?? 15e-9
  const bfly = opts.secondsPerButterfly ?? 15e-9
  // Client: one NTT per limb per input (NTT-form encryption), two per limb per result (c1·s). Miner: pointwise
  // multiply-adds, then two inverse NTTs per limb per result. Inputs arrive in NTT form, so no forward NTTs.
  const nttCost = (n / 2) * Math.log2(n) * bfly
  const client = inputCiphertexts * L * nttCost + outputCiphertexts * 2 * outputLevel * nttCost
  const miner = products * 2 * L * n * mulAdd + outputCiphertexts * 2 * L * nttCost
  const compute = client + miner
  return {
    ...shape,
    paramsId: ctx.paramsId,
    n,
    ni,
    mt,
    no,
    inChunks,
    tokenBlocks,
    rowBlocks,
    inputCiphertexts,
    outputCiphertexts,
    products,
    outputLevel,
    bytesUp,
    bytesDown,
    worstCaseBudgetBits: budget,
    estimatedSeconds: (bytesUp + bytesDown) / bw + compute,
  }
}

function checkShape(ctx: FheContext, s: LinearShape): void {
  for (const [k, v] of Object.entries(s)) {
    if (!Number.isInteger(v) || v < 1) throw new InvalidOperand({ reason: 'shape', message: `${k} = ${v} must be a positive integer` })
  }
  // Exactness: every result must be a centred representative mod t.
  if (s.dIn * INT8_MAX_ABS * INT8_MAX_ABS >= ctx.t / 2) {
    throw new InvalidOperand({
      reason: 'value_out_of_range',
      message: `d_in = ${s.dIn}: int8·int8 sums reach ${s.dIn * 16384}, not below t/2 = ${ctx.t / 2}; use a larger t`,
    })
  }
}

/**
 * Chooses (n_i, m_t, n_o) minimizing the cost model over every shape that fits N and keeps a worst-case positive
 * budget. @throws InvalidOperand (`shape`, `value_out_of_range` when t is too small for exact int32 results)
 */
export function planLinear(ctx: FheContext, shape: LinearShape, opts: PlanOptions = {}): LinearPlan {
  checkShape(ctx, shape)
  if (opts.force) {
    const p = makePlan(ctx, shape, opts.force.ni, opts.force.mt, opts.force.no, opts)
    if (!p) throw new InvalidOperand({ reason: 'shape', message: 'forced plan does not fit N or has no positive budget' })
    return p
  }
  let best: LinearPlan | undefined
  for (const ni of candidates(ctx.n, shape.dIn)) {
    for (const mt of candidates(Math.floor(ctx.n / ni), shape.tokens)) {
      const no = Math.min(shape.dOut, Math.floor(ctx.n / (ni * mt)))
      const p = makePlan(ctx, shape, ni, mt, no, opts)
      if (p && (!best || p.estimatedSeconds < best.estimatedSeconds)) best = p
    }
  }
  if (!best) throw new InvalidOperand({ reason: 'shape', message: 'no packing keeps a positive noise budget for this shape' })
  return best
}

function checkPlan(ctx: FheContext, plan: LinearPlan): void {
  checkParamsId(ctx, plan.paramsId)
  if (plan.n !== ctx.n || plan.ni * plan.mt * plan.no > ctx.n) throw new InvalidOperand({ reason: 'shape', message: 'plan does not fit this context' })
}

function checkInt8(name: string, a: Int8Array, length: number): void {
  if (!(a instanceof Int8Array) || a.length !== length) {
    throw new InvalidOperand({ reason: 'shape', message: `${name} must be an Int8Array of length ${length}` })
  }
}

/** Weights encoded, transformed and prepared for the miner (once per model layer and plan). */
export interface PreparedLinear {
  readonly plan: LinearPlan
  /** weights[r·inChunks + a]. */
  readonly weights: readonly PreparedPoly[]
}

/** Miner side, once per layer: W (d_out × d_in, row-major int8) → prepared NTT-form plaintexts. */
export function prepareLinear(ctx: FheContext, plan: LinearPlan, w: Int8Array): PreparedLinear {
  checkPlan(ctx, plan)
  checkInt8('W', w, plan.dOut * plan.dIn)
  const { ni, mt, no, inChunks, rowBlocks, dIn, dOut } = plan
  const n = ctx.n
  const L = ctx.levels
  const polys: RnsPoly[] = []
  for (let r = 0; r < rowBlocks; r++) {
    for (let a = 0; a < inChunks; a++) {
      const p = zeroPoly(n, L)
      for (let o = 0; o < no; o++) {
        const row = r * no + o
        if (row >= dOut) break
        for (let k = 0; k < ni; k++) {
          const col = a * ni + k
          if (col >= dIn) break
          const v = w[row * dIn + col] as number
          if (v === 0) continue
          const pos = o * ni * mt + ni - 1 - k
          for (let l = 0; l < L; l++) p.data[l * n + pos] = v < 0 ? (ctx.base.moduli[l] as number) + v : v
        }
      }
      polys.push(p)
    }
  }
  ctx.backend.forwardMany(polys, ctx.base)
  return { plan, weights: polys.map((p) => ctx.backend.prepare(p, ctx.base)) }
}

/**
 * Client side: X (tokens × d_in, row-major int8) → seeded secret-key ciphertexts, ordered [token block][chunk].
 * Secret-key encryption halves the upload (c1 travels as a 32-byte seed); NTT form spares the miner its forward
 * transforms.
 */
export function encryptActivations(ctx: FheContext, sk: SecretKey, plan: LinearPlan, x: Int8Array, rng: RandomSource = cryptoRandom): Ciphertext[] {
  checkPlan(ctx, plan)
  checkInt8('X', x, plan.tokens * plan.dIn)
  const { ni, mt, inChunks, tokenBlocks, dIn, tokens } = plan
  const out: Ciphertext[] = []
  const vals = new Int32Array(ni * mt)
  for (let b = 0; b < tokenBlocks; b++) {
    for (let a = 0; a < inChunks; a++) {
      vals.fill(0)
      for (let c = 0; c < mt; c++) {
        const tok = b * mt + c
        if (tok >= tokens) break
        for (let k = 0; k < ni; k++) {
          const col = a * ni + k
          if (col >= dIn) break
          vals[c * ni + k] = x[tok * dIn + col] as number
        }
      }
      out.push(encryptSymmetric(ctx, sk, encodeIntegers(ctx, vals), rng, { ntt: true }))
      vals.fill(0)
    }
  }
  return out
}

/** Coefficient indices of the useful results of row block r (all token blocks use the same positions). */
export function resultIndices(plan: LinearPlan, r: number, b: number): Uint32Array {
  const idx: number[] = []
  for (let o = 0; o < plan.no; o++) {
    if (r * plan.no + o >= plan.dOut) break
    for (let c = 0; c < plan.mt; c++) {
      if (b * plan.mt + c >= plan.tokens) break
      idx.push(o * plan.ni * plan.mt + c * plan.ni + plan.ni - 1)
    }
  }
  return Uint32Array.from(idx)
}

/**
 * Miner side: encrypted activations → partial result ciphertexts, ordered [token block][row block], already
 * modulus-switched to `plan.outputLevel` primes. Never touches a secret key. Runs on the context's synchronous
 * backend; `LinearPlanner.evaluate` (frontend.ts) is the same on an injected (e.g. GPU) backend.
 * @throws ParamsMismatch, InvalidOperand (`shape` for a wrong number of inputs, `level_mismatch` below the top level)
 */
export function evaluateLinear(ctx: FheContext, prepared: PreparedLinear, inputs: readonly Ciphertext[]): PartialCiphertext[] {
  return toPartials(ctx, prepared.plan, evaluateLinearFull(ctx, prepared, inputs))
}

/** Whole result ciphertexts → what travels back: the plan's useful c0 coefficients and c1 (see `PartialCiphertext`). */
export function toPartials(ctx: FheContext, plan: LinearPlan, full: readonly Ciphertext[]): PartialCiphertext[] {
  const n = ctx.n
  return full.map((ct, idx) => {
    const b = Math.floor(idx / plan.rowBlocks)
    const r = idx % plan.rowBlocks
    const indices = resultIndices(plan, r, b)
    const k = ct.level
    const m = indices.length
    const c0 = new Uint32Array(k * m)
    const src = (ct.polys[0] as RnsPoly).data
    for (let l = 0; l < k; l++) for (let i = 0; i < m; i++) c0[l * m + i] = src[l * n + (indices[i] as number)] as number
    return { paramsId: ctx.paramsId, level: k, indices, c0, c1: ct.polys[1] as RnsPoly }
  })
}

/** The checks every linear-layer evaluation makes on its plan and inputs (sync and async paths). */
export function checkLinearInputs(ctx: FheContext, plan: LinearPlan, inputs: readonly Ciphertext[]): void {
  checkPlan(ctx, plan)
  if (inputs.length !== plan.inputCiphertexts) {
    throw new InvalidOperand({ reason: 'shape', message: `${inputs.length} input ciphertexts, plan needs ${plan.inputCiphertexts}` })
  }
  for (const ct of inputs) {
    checkCiphertext(ctx, ct)
    if (ct.level !== ctx.levels || ct.polys.length !== 2) {
      throw new InvalidOperand({ reason: 'level_mismatch', message: 'linear-layer inputs must be fresh size-2 top-level ciphertexts' })
    }
  }
}

/**
 * The steps of one linear-layer evaluation, whatever runs the NTTs: `inputs` checked, their polynomials in NTT form
 * (`toTransform`: the copies still to transform forward — inputs made by `encryptActivations` arrive in NTT form),
 * and `accumulate()`, the multiply-accumulates against the prepared weights (NTT-form results at the top level,
 * [token block][row block]; to transform back, then `finish`).
 */
export function linearSteps(ctx: FheContext, prepared: PreparedLinear, inputs: readonly Ciphertext[]): {
  readonly toTransform: RnsPoly[]
  accumulate(): Ciphertext[]
  finish(results: readonly Ciphertext[]): Ciphertext[]
} {
  const plan = prepared.plan
  checkLinearInputs(ctx, plan, inputs)
  const be = ctx.backend
  const base = ctx.base
  const n = ctx.n
  const L = ctx.levels
  const ins = inputs.map((ct) => (ct.ntt === true ? [...ct.polys] : ct.polys.map(clonePoly)))
  return {
    toTransform: inputs.flatMap((ct, i) => (ct.ntt === true ? [] : (ins[i] as RnsPoly[]))),
    accumulate() {
      const results: Ciphertext[] = []
      for (let b = 0; b < plan.tokenBlocks; b++) {
        for (let r = 0; r < plan.rowBlocks; r++) {
          const acc0 = zeroPoly(n, L)
          const acc1 = zeroPoly(n, L)
          for (let a = 0; a < plan.inChunks; a++) {
            const w = prepared.weights[r * plan.inChunks + a] as PreparedPoly
            const [x0, x1] = ins[b * plan.inChunks + a] as [RnsPoly, RnsPoly]
            be.mulAccPrepared(acc0, x0, w, base)
            be.mulAccPrepared(acc1, x1, w, base)
          }
          results.push({ paramsId: ctx.paramsId, level: L, polys: [acc0, acc1] })
        }
      }
      return results
    },
    finish: (results) => results.map((ct) => modSwitchTo(ctx, ct, plan.outputLevel)),
  }
}

/** `evaluateLinear` before the c0 coefficients are dropped: whole ciphertexts at `plan.outputLevel` (for diagnostics). */
export function evaluateLinearFull(ctx: FheContext, prepared: PreparedLinear, inputs: readonly Ciphertext[]): Ciphertext[] {
  const steps = linearSteps(ctx, prepared, inputs)
  ctx.backend.forwardMany(steps.toTransform, ctx.base)
  const results = steps.accumulate()
  ctx.backend.inverseMany(results.flatMap((c) => c.polys as RnsPoly[]), ctx.base)
  return steps.finish(results)
}

/** Client side: partial results → Y (tokens × d_out, row-major int32), exactly W·x per token. */
export function decryptLinear(ctx: FheContext, sk: SecretKey, plan: LinearPlan, outputs: readonly PartialCiphertext[]): Int32Array {
  checkPlan(ctx, plan)
  if (outputs.length !== plan.outputCiphertexts) {
    throw new InvalidOperand({ reason: 'shape', message: `${outputs.length} results, plan has ${plan.outputCiphertexts}` })
  }
  const y = new Int32Array(plan.tokens * plan.dOut)
  const t = ctx.t
  for (let b = 0; b < plan.tokenBlocks; b++) {
    for (let r = 0; r < plan.rowBlocks; r++) {
      const p = outputs[b * plan.rowBlocks + r] as PartialCiphertext
      const expect = resultIndices(plan, r, b)
      if (p.indices.length !== expect.length || p.indices.some((v, i) => v !== expect[i])) {
        throw new InvalidOperand({ reason: 'shape', message: `result ${b}/${r} carries other coefficients than the plan's` })
      }
      const vals = decryptPartial(ctx, sk, p)
      let i = 0
      for (let o = 0; o < plan.no; o++) {
        const row = r * plan.no + o
        if (row >= plan.dOut) break
        for (let c = 0; c < plan.mt; c++) {
          const tok = b * plan.mt + c
          if (tok >= plan.tokens) break
          const v = vals[i++] as number
          y[tok * plan.dOut + row] = v > t / 2 ? v - t : v
        }
      }
    }
  }
  return y
}

/** Plain int32 reference: Y[tok][row] = Σ_k W[row][k]·X[tok][k]. */
export function linearPlain(w: Int8Array, x: Int8Array, shape: LinearShape): Int32Array {
  const y = new Int32Array(shape.tokens * shape.dOut)
  for (let tok = 0; tok < shape.tokens; tok++) {
    for (let row = 0; row < shape.dOut; row++) {
      let s = 0
      for (let k = 0; k < shape.dIn; k++) s += (w[row * shape.dIn + k] as number) * (x[tok * shape.dIn + k] as number)
      y[tok * shape.dOut + row] = s
    }
  }
  return y
}
