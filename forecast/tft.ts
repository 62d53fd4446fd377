/**
 * The Temporal Fusion Transformer (Lim, Arık, Loeff & Pfister, "Temporal Fusion Transformers for interpretable
 * multi-horizon time series forecasting", International Journal of Forecasting 37 (2021)), written over the
 * autodiff tape in tape.ts, one sample per tape.
 *
 * Layout (the paper's section 4, names as there):
 * - **Input transformations**: every real input is mapped to d dimensions by its own linear layer; every categorical
 *   static covariate by its own embedding.
 * - **Gated residual network** GRN(a, c) = LayerNorm(skip(a) + GLU(η₁)), η₁ = W₁η₂ + b₁, η₂ = ELU(W₂a + W₃c + b₂),
 *   GLU(γ) = σ(W₄γ + b₄) ⊙ (W₅γ + b₅); skip is the identity when the sizes agree, else a linear map.
 * - **Variable selection networks** (static, past, future): weights v = Softmax(GRN_v(Ξ, c_s)) over the flattened
 *   transformed inputs Ξ, each input through its own GRN, combined as Σ_j v_j ξ̃_j.
 * - **Static covariate encoders**: four GRNs turn the selected static embedding into c_s (selection context), c_e
 *   (enrichment), c_h and c_c (the LSTM's initial hidden and cell state).
 * - **Local processing**: an LSTM encoder over the k past steps, a second LSTM (decoder) over the τ future steps
 *   continuing its state; gated skip φ̃ = LayerNorm(ξ̃ + GLU(φ)).
 * - **Static enrichment** θ = GRN(φ̃, c_e).
 * - **Interpretable multi-head attention**: per-head query and key projections, one value projection shared by all
 *   heads, the heads' attention matrices averaged, H̃ = (1/H)·Σ_h A_h·V·W_H; causal (a decoder step sees the past
 *   and the future steps up to itself). Gated skip δ = LayerNorm(θ + GLU(H̃)).
 * - **Position-wise feed-forward** ψ = GRN(δ), then ψ̃ = LayerNorm(φ̃ + GLU(ψ)).
 * - **Quantile outputs** ŷ(q, t) = W_q ψ̃_t + b_q, trained with the quantile loss summed over q and t.
 *
 * Differences from the paper: no dropout (the model is small and deterministic; early stopping on the validation span
 * regularises instead), attention queries only from the decoder positions (the only outputs used), and the
 * per-variable GRNs apply to every time step with shared weights (as in the paper's code).
 */
import { mulberry32 } from '../numeric/prng.ts'
import { InvalidModelConfig, InvalidSample } from './errors.ts'
import { Tape, Tensor, param } from './tape.ts'

export interface TftConfig {
  /** Model width d. */
  readonly hidden: number
  /** Attention heads H (hidden must be divisible by heads). */
  readonly heads: number
  /** Past steps k the encoder sees. */
  readonly encoderLength: number
  /** Future steps τ forecast. */
  readonly horizon: number
  /** Cardinality of each categorical static covariate (at least one). */
  readonly staticCardinalities: readonly number[]
  /** Past-only real inputs per step (the target's own history among them). */
  readonly observedCount: number
  /** Real inputs known in the past and the future (calendar, block height, halving position). */
  readonly knownCount: number
  /** Quantile levels, each in (0, 1). */
  readonly quantiles: readonly number[]
  /** Seed of the initialisation. */
  readonly seed: number
}

/** One training or forecasting window. */
export interface TftSample {
  /** One category index per static covariate. */
  readonly staticCats: readonly number[]
  /** k × observedCount, row-major (scaled). */
  readonly observed: Float64Array
  /** (k + τ) × knownCount, row-major (scaled). */
  readonly known: Float64Array
  /** τ target values (scaled); needed for training, not for forecasting. */
  readonly target?: Float64Array
}

/** What one forward pass produces, with the paper's interpretability outputs. */
export interface TftOutput {
  /** τ × Q quantile forecasts (scaled), row-major. */
  readonly quantiles: Float64Array
  /** τ × (k + τ) attention averaged over heads. */
  readonly attention: Float64Array
  /** Mean past variable-selection weight per past input (observed first, then known). */
  readonly pastWeights: Float64Array
  /** Mean future variable-selection weight per known input. */
  readonly futureWeights: Float64Array
  /** Static variable-selection weights. */
  readonly staticWeights: Float64Array
}

interface Grn {
  readonly W2: Tensor
  readonly b2: Tensor
  readonly W3: Tensor | null
  readonly W1: Tensor
  readonly b1: Tensor
  readonly gate: Glu
  readonly skip: Tensor | null
  readonly skipB: Tensor | null
  readonly lnG: Tensor
  readonly lnB: Tensor
}

interface Glu {
  readonly W4: Tensor
  readonly b4: Tensor
  readonly W5: Tensor
  readonly b5: Tensor
}

interface GateNorm {
  readonly glu: Glu
  readonly lnG: Tensor
  readonly lnB: Tensor
}

interface Vsn {
  readonly weights: Grn
  readonly perVariable: readonly Grn[]
}

interface Lstm {
  readonly Wx: Tensor
  readonly Wh: Tensor
  readonly b: Tensor
}

/** Checks a configuration; throws {@link InvalidModelConfig}. */
export function checkConfig(c: TftConfig): void {
  const posInt = (field: string, v: number): void => {
    if (!Number.isSafeInteger(v) || v <= 0) throw new InvalidModelConfig({ field, reason: 'must be a positive integer' })
  }
  posInt('hidden', c.hidden)
  posInt('heads', c.heads)
  posInt('encoderLength', c.encoderLength)
  posInt('horizon', c.horizon)
  posInt('observedCount', c.observedCount)
  if (!Number.isSafeInteger(c.knownCount) || c.knownCount < 0) {
    throw new InvalidModelConfig({ field: 'knownCount', reason: 'must be a non-negative integer' })
  }
  if (c.hidden % c.heads !== 0) throw new InvalidModelConfig({ field: 'heads', reason: 'must divide hidden' })
  if (c.staticCardinalities.length === 0) {
    throw new InvalidModelConfig({ field: 'staticCardinalities', reason: 'at least one static covariate' })
  }
  for (const k of c.staticCardinalities) posInt('staticCardinalities', k)
  if (c.quantiles.length === 0 || c.quantiles.some((q) => !(q > 0 && q < 1))) {
    throw new InvalidModelConfig({ field: 'quantiles', reason: 'each must lie in (0, 1)' })
  }
  if (!Number.isSafeInteger(c.seed)) throw new InvalidModelConfig({ field: 'seed', reason: 'must be an integer' })
}

/** A Temporal Fusion Transformer's parameters and forward pass. */
export class TemporalFusionTransformer {
  readonly config: TftConfig
  /** Every parameter by name (the name says which component it belongs to). */
  readonly params: ReadonlyMap<string, Tensor>
  private readonly named = new Map<string, Tensor>()
  private readonly rand: () => number
  private readonly obsIn: { W: Tensor; b: Tensor }[]
  private readonly knownIn: { W: Tensor; b: Tensor }[]
  private readonly staticEmb: Tensor[]
  private readonly staticVsn: Vsn
  private readonly ctx: { s: Grn; e: Grn; h: Grn; c: Grn }
  private readonly pastVsn: Vsn
  private readonly futureVsn: Vsn | null
  private readonly encoder: Lstm
  private readonly decoder: Lstm
  private readonly postLstm: GateNorm
  private readonly enrich: Grn
  private readonly WQ: Tensor[]
  private readonly WK: Tensor[]
  private readonly WV: Tensor
  private readonly WH: Tensor
  private readonly postAttn: GateNorm
  private readonly ff: Grn
  private readonly postFf: GateNorm
  private readonly Wout: Tensor
  private readonly bout: Tensor

  constructor(config: TftConfig) {
    checkConfig(config)
    this.config = config
    this.params = this.named
    this.rand = mulberry32(config.seed)
    const d = config.hidden
    const dk = d / config.heads
    this.obsIn = Array.from({ length: config.observedCount }, (_, j) => ({
      W: this.weight(`input.observed${j}.W`, 1, d), b: this.zeros(`input.observed${j}.b`, 1, d),
    }))
    this.knownIn = Array.from({ length: config.knownCount }, (_, j) => ({
      W: this.weight(`input.known${j}.W`, 1, d), b: this.zeros(`input.known${j}.b`, 1, d),
    }))
    this.staticEmb = config.staticCardinalities.map((n, j) => this.weight(`input.static${j}.embedding`, n, d, 1))
    this.staticVsn = this.vsn('vsn.static', config.staticCardinalities.length, false)
    this.ctx = { s: this.grn('static.cs', d, d, d, false), e: this.grn('static.ce', d, d, d, false),
      h: this.grn('static.ch', d, d, d, false), c: this.grn('static.cc', d, d, d, false) }
    this.pastVsn = this.vsn('vsn.past', config.observedCount + config.knownCount, true)
    this.futureVsn = config.knownCount > 0 ? this.vsn('vsn.future', config.knownCount, true) : null
    this.encoder = this.lstm('lstm.encoder')
    this.decoder = this.lstm('lstm.decoder')
    this.postLstm = this.gateNorm('gate.lstm')
    this.enrich = this.grn('enrichment', d, d, d, true)
    this.WQ = Array.from({ length: config.heads }, (_, h) => this.weight(`attention.head${h}.WQ`, d, dk))
    this.WK = Array.from({ length: config.heads }, (_, h) => this.weight(`attention.head${h}.WK`, d, dk))
    this.WV = this.weight('attention.WV', d, dk)
    this.WH = this.weight('attention.WH', dk, d)
    this.postAttn = this.gateNorm('gate.attention')
    this.ff = this.grn('feedforward', d, d, d, false)
    this.postFf = this.gateNorm('gate.output')
    this.Wout = this.weight('output.W', d, config.quantiles.length)
    this.bout = this.zeros('output.b', 1, config.quantiles.length)
  }

  private add(name: string, t: Tensor): Tensor {
    this.named.set(name, t)
    return t
  }

  /** Glorot-uniform initialisation (gain scales it). */
  private weight(name: string, rows: number, cols: number, gain = Math.sqrt(6 / (rows + cols))): Tensor {
    return this.add(name, param(rows, cols, () => (2 * this.rand() - 1) * gain))
  }

  private zeros(name: string, rows: number, cols: number, value = 0): Tensor {
    return this.add(name, param(rows, cols, () => value))
  }

  private glu(name: string, inDim: number, outDim: number): Glu {
    return { W4: this.weight(`${name}.W4`, inDim, outDim), b4: this.zeros(`${name}.b4`, 1, outDim),
      W5: this.weight(`${name}.W5`, inDim, outDim), b5: this.zeros(`${name}.b5`, 1, outDim) }
  }

  private grn(name: string, inDim: number, hidden: number, outDim: number, context: boolean): Grn {
    return {
      W2: this.weight(`${name}.W2`, inDim, hidden), b2: this.zeros(`${name}.b2`, 1, hidden),
      W3: context ? this.weight(`${name}.W3`, this.config.hidden, hidden) : null,
      W1: this.weight(`${name}.W1`, hidden, hidden), b1: this.zeros(`${name}.b1`, 1, hidden),
      gate: this.glu(`${name}.glu`, hidden, outDim),
      skip: inDim === outDim ? null : this.weight(`${name}.skip.W`, inDim, outDim),
      skipB: inDim === outDim ? null : this.zeros(`${name}.skip.b`, 1, outDim),
      lnG: this.zeros(`${name}.ln.g`, 1, outDim, 1), lnB: this.zeros(`${name}.ln.b`, 1, outDim),
    }
  }

  private gateNorm(name: string): GateNorm {
    const d = this.config.hidden
    return { glu: this.glu(`${name}.glu`, d, d), lnG: this.zeros(`${name}.ln.g`, 1, d, 1), lnB: this.zeros(`${name}.ln.b`, 1, d) }
  }

  private vsn(name: string, count: number, context: boolean): Vsn {
    const d = this.config.hidden
    return {
      weights: this.grn(`${name}.weights`, count * d, d, count, context),
      perVariable: Array.from({ length: count }, (_, j) => this.grn(`${name}.var${j}`, d, d, d, false)),
    }
  }

  private lstm(name: string): Lstm {
    const d = this.config.hidden
    const b = this.zeros(`${name}.b`, 1, 4 * d)
    for (let i = d; i < 2 * d; i++) b.data[i] = 1 // forget-gate bias 1
    return { Wx: this.weight(`${name}.Wx`, d, 4 * d), Wh: this.weight(`${name}.Wh`, d, 4 * d), b }
  }

  private applyGlu(t: Tape, g: Glu, x: Tensor): Tensor {
    return t.mul(t.sigmoid(t.linear(x, g.W4, g.b4)), t.linear(x, g.W5, g.b5))
  }

  private applyGrn(t: Tape, g: Grn, a: Tensor, c?: Tensor): Tensor {
    let pre = t.linear(a, g.W2, g.b2)
    if (g.W3 !== null && c !== undefined) pre = t.add(pre, t.linear(c, g.W3))
    const eta1 = t.linear(t.elu(pre), g.W1, g.b1)
    const skip = g.skip === null ? a : t.linear(a, g.skip, g.skipB ?? undefined)
    return t.layerNorm(t.add(skip, this.applyGlu(t, g.gate, eta1)), g.lnG, g.lnB)
  }

  private applyGateNorm(t: Tape, g: GateNorm, x: Tensor, residual: Tensor): Tensor {
    return t.layerNorm(t.add(residual, this.applyGlu(t, g.glu, x)), g.lnG, g.lnB)
  }

  private applyVsn(t: Tape, v: Vsn, inputs: readonly Tensor[], c?: Tensor): { out: Tensor; weights: Tensor } {
    const flat = inputs.length === 1 ? (inputs[0] as Tensor) : t.concatCols(inputs)
    const weights = t.softmax(this.applyGrn(t, v.weights, flat, c))
    const processed = inputs.map((x, j) => this.applyGrn(t, v.perVariable[j] as Grn, x))
    return { out: t.weightedSum(weights, processed), weights }
  }

  private runLstm(t: Tape, l: Lstm, x: Tensor, h0: Tensor, c0: Tensor): { out: Tensor; h: Tensor; c: Tensor } {
    const d = this.config.hidden
    const gx = t.linear(x, l.Wx, l.b)
    let h = h0
    let c = c0
    const outs: Tensor[] = []
    for (let s = 0; s < x.rows; s++) {
      const g = t.add(t.row(gx, s), t.linear(h, l.Wh))
      const i = t.sigmoid(t.sliceCols(g, 0, d))
      const f = t.sigmoid(t.sliceCols(g, d, d))
      const u = t.tanh(t.sliceCols(g, 2 * d, d))
      const o = t.sigmoid(t.sliceCols(g, 3 * d, d))
      c = t.add(t.mul(f, c), t.mul(i, u))
      h = t.mul(o, t.tanh(c))
      outs.push(h)
    }
    return { out: t.concatRows(outs), h, c }
  }

  private checkSample(s: TftSample, needTarget: boolean): void {
    const c = this.config
    const k = c.encoderLength
    const T = k + c.horizon
    if (s.staticCats.length !== c.staticCardinalities.length) {
      throw new InvalidSample({ field: 'staticCats', reason: `expected ${c.staticCardinalities.length} categories` })
    }
    s.staticCats.forEach((v, j) => {
      if (!Number.isInteger(v) || v < 0 || v >= (c.staticCardinalities[j] as number)) {
        throw new InvalidSample({ field: 'staticCats', reason: `category ${j} out of range` })
      }
    })
    const finite = (field: string, a: Float64Array, n: number): void => {
      if (a.length !== n) throw new InvalidSample({ field, reason: `length ${a.length}, expected ${n}` })
      for (const x of a) if (!Number.isFinite(x)) throw new InvalidSample({ field, reason: 'non-finite value' })
    }
    finite('observed', s.observed, k * c.observedCount)
    finite('known', s.known, T * c.knownCount)
    if (needTarget) {
      if (s.target === undefined) throw new InvalidSample({ field: 'target', reason: 'missing' })
      finite('target', s.target, c.horizon)
    }
  }

  /** Forward pass on a tape; returns the τ × Q quantile tensor and interpretability tensors. */
  forwardOn(t: Tape, s: TftSample): { pred: Tensor; attention: Tensor; past: Tensor; future: Tensor | null; stat: Tensor } {
    const c = this.config
    const d = c.hidden
    const k = c.encoderLength
    const tau = c.horizon
    // static covariate encoders
    const embs = s.staticCats.map((cat, j) => t.row(this.staticEmb[j] as Tensor, cat))
    const stat = this.applyVsn(t, this.staticVsn, embs)
    const zeta = stat.out
    const cs = this.applyGrn(t, this.ctx.s, zeta)
    const ce = this.applyGrn(t, this.ctx.e, zeta)
    const ch = this.applyGrn(t, this.ctx.h, zeta)
    const cc = this.applyGrn(t, this.ctx.c, zeta)
    // input transformations
    const column = (src: Float64Array, width: number, j: number, from: number, len: number): Tensor => {
      const col = new Float64Array(len)
      for (let r = 0; r < len; r++) col[r] = src[(from + r) * width + j] as number
      return t.constant(len, 1, col)
    }
    const pastInputs: Tensor[] = []
    for (let j = 0; j < c.observedCount; j++) {
      const p = this.obsIn[j] as { W: Tensor; b: Tensor }
      pastInputs.push(t.linear(column(s.observed, c.observedCount, j, 0, k), p.W, p.b))
    }
    const futureInputs: Tensor[] = []
    for (let j = 0; j < c.knownCount; j++) {
      const p = this.knownIn[j] as { W: Tensor; b: Tensor }
      pastInputs.push(t.linear(column(s.known, c.knownCount, j, 0, k), p.W, p.b))
      futureInputs.push(t.linear(column(s.known, c.knownCount, j, k, tau), p.W, p.b))
    }
    // variable selection
    const past = this.applyVsn(t, this.pastVsn, pastInputs, cs)
    let futureSel: Tensor
    let futureWeights: Tensor | null = null
    if (this.futureVsn !== null) {
      const f = this.applyVsn(t, this.futureVsn, futureInputs, cs)
      futureSel = f.out
      futureWeights = f.weights
    } else {
      futureSel = t.constant(tau, d, new Float64Array(tau * d))
    }
    // LSTM encoder–decoder
    const enc = this.runLstm(t, this.encoder, past.out, ch, cc)
    const dec = this.runLstm(t, this.decoder, futureSel, enc.h, enc.c)
    const phi = t.concatRows([enc.out, dec.out])
    const xi = t.concatRows([past.out, futureSel])
    const phiT = this.applyGateNorm(t, this.postLstm, phi, xi)
    // static enrichment
    const theta = this.applyGrn(t, this.enrich, phiT, ce)
    // interpretable multi-head attention (queries from the decoder positions)
    const thetaDec = t.sliceRows(theta, k, tau)
    const V = t.linear(theta, this.WV)
    const dk = d / c.heads
    let avg: Tensor | null = null
    for (let h = 0; h < c.heads; h++) {
      const Q = t.linear(thetaDec, this.WQ[h] as Tensor)
      const K = t.linear(theta, this.WK[h] as Tensor)
      const A = t.softmax(t.scale(t.matmulNT(Q, K), 1 / Math.sqrt(dk)), k)
      avg = avg === null ? A : t.add(avg, A)
    }
    const attention = t.scale(avg as Tensor, 1 / c.heads)
    const heads = t.linear(t.matmul(attention, V), this.WH)
    const delta = this.applyGateNorm(t, this.postAttn, heads, thetaDec)
    // position-wise feed-forward and output
    const psi = this.applyGrn(t, this.ff, delta)
    const psiT = this.applyGateNorm(t, this.postFf, psi, t.sliceRows(phiT, k, tau))
    const pred = t.linear(psiT, this.Wout, this.bout)
    return { pred, attention, past: past.weights, future: futureWeights, stat: stat.weights }
  }

  /** Quantile loss of one sample (mean over horizon steps), with gradients accumulated into the parameters. */
  lossAndGrad(s: TftSample): number {
    this.checkSample(s, true)
    const t = new Tape(true)
    const { pred } = this.forwardOn(t, s)
    const loss = t.quantileLoss(pred, s.target as Float64Array, this.config.quantiles, 1 / this.config.horizon)
    t.backward(loss)
    return loss.data[0] as number
  }

  /** Loss only (no gradient). */
  loss(s: TftSample): number {
    this.checkSample(s, true)
    const t = new Tape(false)
    const { pred } = this.forwardOn(t, s)
    return t.quantileLoss(pred, s.target as Float64Array, this.config.quantiles, 1 / this.config.horizon).data[0] as number
  }

  /** Forecast for one window, with the interpretability outputs. */
  predict(s: TftSample): TftOutput {
    this.checkSample(s, false)
    const t = new Tape(false)
    const o = this.forwardOn(t, s)
    const meanCols = (x: Tensor | null): Float64Array => {
      if (x === null) return new Float64Array(0)
      const m = new Float64Array(x.cols)
      for (let r = 0; r < x.rows; r++) for (let j = 0; j < x.cols; j++) m[j] = (m[j] as number) + (x.data[r * x.cols + j] as number) / x.rows
      return m
    }
    return {
      quantiles: o.pred.data,
      attention: o.attention.data,
      pastWeights: meanCols(o.past),
      futureWeights: meanCols(o.future),
      staticWeights: o.stat.data,
    }
  }

  /** Number of trainable scalars. */
  parameterCount(): number {
    let n = 0
    for (const p of this.named.values()) n += p.size
    return n
  }

  /** A copy of every parameter's values (for keeping the best model on validation). */
  snapshot(): Float64Array[] {
    return [...this.named.values()].map((p) => p.data.slice())
  }

  restore(snap: readonly Float64Array[]): void {
    let i = 0
    for (const p of this.named.values()) p.data.set(snap[i++] as Float64Array)
  }
}

export interface AdamOptions {
  readonly lr: number
  readonly beta1?: number
  readonly beta2?: number
  readonly eps?: number
  /** Global gradient-norm clip (default 1). */
  readonly clip?: number
}

/** Adam (Kingma & Ba) with global-norm gradient clipping. */
export class Adam {
  private readonly m: Float64Array[]
  private readonly v: Float64Array[]
  private step = 0
  readonly params: readonly Tensor[]
  private readonly opts: AdamOptions
  constructor(params: readonly Tensor[], opts: AdamOptions) {
    this.params = params
    this.opts = opts
    this.m = params.map((p) => new Float64Array(p.size))
    this.v = params.map((p) => new Float64Array(p.size))
  }

  /** One update from the accumulated gradients divided by `batch`; zeroes the gradients. */
  update(batch: number, lr = this.opts.lr): void {
    const b1 = this.opts.beta1 ?? 0.9
    const b2 = this.opts.beta2 ?? 0.999
    const eps = this.opts.eps ?? 1e-8
    let norm2 = 0
    for (const p of this.params) for (const g of p.grad as Float64Array) norm2 += (g / batch) ** 2
    const norm = Math.sqrt(norm2)
    const clip = this.opts.clip ?? 1
    const scale = (norm > clip ? clip / norm : 1) / batch
    this.step++
    const c1 = 1 - b1 ** this.step
    const c2 = 1 - b2 ** this.step
    this.params.forEach((p, i) => {
      const g = p.grad as Float64Array
      const m = this.m[i] as Float64Array
      const v = this.v[i] as Float64Array
      for (let j = 0; j < p.size; j++) {
        const gj = (g[j] as number) * scale
        m[j] = b1 * (m[j] as number) + (1 - b1) * gj
        v[j] = b2 * (v[j] as number) + (1 - b2) * gj * gj
        p.data[j] = (p.data[j] as number) - (lr * ((m[j] as number) / c1)) / (Math.sqrt((v[j] as number) / c2) + eps)
      }
      g.fill(0)
    })
  }
}
