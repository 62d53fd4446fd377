/**
 * A small reverse-mode automatic differentiation over Float64Array matrices: every operation computes its output,
 * records a closure that pushes the output's gradient back to its inputs, and {@link Tape.backward} runs the closures
 * in reverse creation order. Parameters are {@link Tensor}s whose gradient buffers persist across samples (gradients
 * accumulate until {@link zeroGrads}); intermediate tensors live only as long as one tape.
 *
 * Only what the Temporal Fusion Transformer needs is here: affine maps, element-wise arithmetic and activations,
 * row-wise layer norm and softmax (plain and causal), slicing and concatenation, Q·Kᵀ and P·V products, a weighted
 * sum of variables (variable selection) and the quantile loss. Every op's backward is checked against central finite
 * differences in test/forecast/tape.test.ts.
 */

/** A row-major rows × cols matrix with an optional gradient buffer of the same shape. */
export class Tensor {
  readonly rows: number
  readonly cols: number
  readonly data: Float64Array
  grad: Float64Array | null
  constructor(rows: number, cols: number, data?: Float64Array, withGrad = false) {
    this.rows = rows
    this.cols = cols
    this.data = data ?? new Float64Array(rows * cols)
    this.grad = withGrad ? new Float64Array(rows * cols) : null
  }
  get size(): number {
    return this.rows * this.cols
  }
}

/** A trainable parameter: a tensor whose gradient always exists. */
export function param(rows: number, cols: number, init: (i: number) => number): Tensor {
  const t = new Tensor(rows, cols, undefined, true)
  for (let i = 0; i < t.size; i++) t.data[i] = init(i)
  return t
}

export function zeroGrads(params: readonly Tensor[]): void {
  for (const p of params) p.grad?.fill(0)
}

function shapeError(op: string, a: Tensor, b: Tensor): Error {
  return new RangeError(`${op}: shapes ${a.rows}×${a.cols} and ${b.rows}×${b.cols} do not fit`)
}

function gradOf(t: Tensor): Float64Array {
  if (t.grad === null) t.grad = new Float64Array(t.size)
  return t.grad
}

/** Records operations; `backward(loss)` propagates d loss / d x into every tensor that needs it. */
export class Tape {
  private readonly steps: (() => void)[] = []
  /** When false, nothing is recorded (inference). */
  readonly record: boolean
  constructor(record = true) {
    this.record = record
  }

  private out(rows: number, cols: number): Tensor {
    return new Tensor(rows, cols, undefined, this.record)
  }

  private push(step: () => void): void {
    if (this.record) this.steps.push(step)
  }

  /** Seeds d loss / d loss = 1 (loss must be 1×1) and runs the recorded steps backwards. */
  backward(loss: Tensor): void {
    if (loss.size !== 1) throw new RangeError('backward: loss must be a 1×1 tensor')
    gradOf(loss)[0] = 1
    for (let i = this.steps.length - 1; i >= 0; i--) (this.steps[i] as () => void)()
    this.steps.length = 0
  }

  /** A constant (no gradient) from data. */
  constant(rows: number, cols: number, data: Float64Array): Tensor {
    if (data.length !== rows * cols) throw new RangeError('constant: data length does not match the shape')
    return new Tensor(rows, cols, data, false)
  }

  /** x·W + b with x n×a, W a×m, b 1×m (b optional). */
  linear(x: Tensor, W: Tensor, b?: Tensor): Tensor {
    if (x.cols !== W.rows) throw shapeError('linear', x, W)
    if (b !== undefined && (b.rows !== 1 || b.cols !== W.cols)) throw shapeError('linear bias', W, b)
    const n = x.rows
    const a = x.cols
    const m = W.cols
    const y = this.out(n, m)
    const xd = x.data
    const wd = W.data
    const yd = y.data
    for (let r = 0; r < n; r++) {
      const yo = r * m
      if (b !== undefined) yd.set(b.data, yo)
      const xo = r * a
      for (let k = 0; k < a; k++) {
        const v = xd[xo + k] as number
        if (v === 0) continue
        const wo = k * m
        for (let j = 0; j < m; j++) yd[yo + j] = (yd[yo + j] as number) + v * (wd[wo + j] as number)
      }
    }
    this.push(() => {
      const dy = y.grad as Float64Array
      const needX = x.grad !== null
      const dx = needX ? (x.grad as Float64Array) : null
      const dW = W.grad
      const db = b?.grad ?? null
      for (let r = 0; r < n; r++) {
        const yo = r * m
        const xo = r * a
        if (db !== null) for (let j = 0; j < m; j++) db[j] = (db[j] as number) + (dy[yo + j] as number)
        for (let k = 0; k < a; k++) {
          const v = xd[xo + k] as number
          const wo = k * m
          let s = 0
          for (let j = 0; j < m; j++) {
            const g = dy[yo + j] as number
            if (dW !== null) dW[wo + j] = (dW[wo + j] as number) + v * g
            s += g * (wd[wo + j] as number)
          }
          if (dx !== null) dx[xo + k] = (dx[xo + k] as number) + s
        }
      }
    })
    return y
  }

  private binary(op: string, a: Tensor, b: Tensor, f: (x: number, y: number) => number,
    da: (x: number, y: number, g: number) => number, db: (x: number, y: number, g: number) => number): Tensor {
    // b may be a 1×cols row broadcast over a's rows
    const broadcast = b.rows === 1 && a.rows !== 1
    if (a.cols !== b.cols || (!broadcast && a.rows !== b.rows)) throw shapeError(op, a, b)
    const y = this.out(a.rows, a.cols)
    const m = a.cols
    for (let i = 0; i < y.size; i++) y.data[i] = f(a.data[i] as number, b.data[broadcast ? i % m : i] as number)
    this.push(() => {
      const g = y.grad as Float64Array
      const ga = a.grad
      const gb = b.grad
      for (let i = 0; i < y.size; i++) {
        const x = a.data[i] as number
        const j = broadcast ? i % m : i
        const z = b.data[j] as number
        const gi = g[i] as number
        if (ga !== null) ga[i] = (ga[i] as number) + da(x, z, gi)
        if (gb !== null) gb[j] = (gb[j] as number) + db(x, z, gi)
      }
    })
    return y
  }

  /** a + b (b may be one row, broadcast). */
  add(a: Tensor, b: Tensor): Tensor {
    if (a.size === b.size && a.cols === b.cols) {
      // same shape: a specialised loop (the hot path)
      const y = this.out(a.rows, a.cols)
      const ad = a.data
      const bd = b.data
      const yd = y.data
      for (let i = 0; i < yd.length; i++) yd[i] = (ad[i] as number) + (bd[i] as number)
      this.push(() => {
        const g = y.grad as Float64Array
        const ga = a.grad
        const gb = b.grad
        if (ga !== null) for (let i = 0; i < g.length; i++) ga[i] = (ga[i] as number) + (g[i] as number)
        if (gb !== null) for (let i = 0; i < g.length; i++) gb[i] = (gb[i] as number) + (g[i] as number)
      })
      return y
    }
    return this.binary('add', a, b, (x, y) => x + y, (_x, _y, g) => g, (_x, _y, g) => g)
  }

  /** a ⊙ b (b may be one row, broadcast). */
  mul(a: Tensor, b: Tensor): Tensor {
    if (a.size === b.size && a.cols === b.cols) {
      const y = this.out(a.rows, a.cols)
      const ad = a.data
      const bd = b.data
      const yd = y.data
      for (let i = 0; i < yd.length; i++) yd[i] = (ad[i] as number) * (bd[i] as number)
      this.push(() => {
        const g = y.grad as Float64Array
        const ga = a.grad
        const gb = b.grad
        if (ga !== null) for (let i = 0; i < g.length; i++) ga[i] = (ga[i] as number) + (g[i] as number) * (bd[i] as number)
        if (gb !== null) for (let i = 0; i < g.length; i++) gb[i] = (gb[i] as number) + (g[i] as number) * (ad[i] as number)
      })
      return y
    }
    return this.binary('mul', a, b, (x, y) => x * y, (_x, y, g) => g * y, (x, _y, g) => g * x)
  }

  private unary(x: Tensor, f: (v: number) => number, df: (v: number, y: number) => number): Tensor {
    const y = this.out(x.rows, x.cols)
    for (let i = 0; i < y.size; i++) y.data[i] = f(x.data[i] as number)
    this.push(() => {
      const gx = x.grad
      if (gx === null) return
      const g = y.grad as Float64Array
      for (let i = 0; i < y.size; i++) gx[i] = (gx[i] as number) + (g[i] as number) * df(x.data[i] as number, y.data[i] as number)
    })
    return y
  }

  sigmoid(x: Tensor): Tensor {
    const y = this.out(x.rows, x.cols)
    const xd = x.data
    const yd = y.data
    for (let i = 0; i < yd.length; i++) yd[i] = 1 / (1 + Math.exp(-(xd[i] as number)))
    this.push(() => {
      const gx = x.grad
      if (gx === null) return
      const g = y.grad as Float64Array
      for (let i = 0; i < yd.length; i++) {
        const v = yd[i] as number
        gx[i] = (gx[i] as number) + (g[i] as number) * v * (1 - v)
      }
    })
    return y
  }

  tanh(x: Tensor): Tensor {
    const y = this.out(x.rows, x.cols)
    const xd = x.data
    const yd = y.data
    for (let i = 0; i < yd.length; i++) yd[i] = Math.tanh(xd[i] as number)
    this.push(() => {
      const gx = x.grad
      if (gx === null) return
      const g = y.grad as Float64Array
      for (let i = 0; i < yd.length; i++) {
        const v = yd[i] as number
        gx[i] = (gx[i] as number) + (g[i] as number) * (1 - v * v)
      }
    })
    return y
  }

  /** ELU with α = 1. */
  elu(x: Tensor): Tensor {
    return this.unary(x, (v) => (v > 0 ? v : Math.expm1(v)), (v, y) => (v > 0 ? 1 : y + 1))
  }

  scale(x: Tensor, s: number): Tensor {
    return this.unary(x, (v) => v * s, () => s)
  }

  /** Row-wise layer normalisation with gain g and bias b (both 1×cols), ε = 1e-5. */
  layerNorm(x: Tensor, g: Tensor, b: Tensor): Tensor {
    const n = x.rows
    const d = x.cols
    if (g.cols !== d || b.cols !== d) throw shapeError('layerNorm', x, g)
    const y = this.out(n, d)
    const xhat = new Float64Array(n * d)
    const rstd = new Float64Array(n)
    for (let r = 0; r < n; r++) {
      const o = r * d
      let mean = 0
      for (let i = 0; i < d; i++) mean += x.data[o + i] as number
      mean /= d
      let v = 0
      for (let i = 0; i < d; i++) {
        const c = (x.data[o + i] as number) - mean
        v += c * c
      }
      const rs = 1 / Math.sqrt(v / d + 1e-5)
      rstd[r] = rs
      for (let i = 0; i < d; i++) {
        const xh = ((x.data[o + i] as number) - mean) * rs
        xhat[o + i] = xh
        y.data[o + i] = xh * (g.data[i] as number) + (b.data[i] as number)
      }
    }
    this.push(() => {
      const dy = y.grad as Float64Array
      const gx = x.grad
      for (let r = 0; r < n; r++) {
        const o = r * d
        let sumG = 0
        let sumGX = 0
        for (let i = 0; i < d; i++) {
          const gi = dy[o + i] as number
          const xh = xhat[o + i] as number
          if (g.grad !== null) g.grad[i] = (g.grad[i] as number) + gi * xh
          if (b.grad !== null) b.grad[i] = (b.grad[i] as number) + gi
          const gh = gi * (g.data[i] as number)
          sumG += gh
          sumGX += gh * xh
        }
        if (gx === null) continue
        const rs = rstd[r] as number
        for (let i = 0; i < d; i++) {
          const gh = (dy[o + i] as number) * (g.data[i] as number)
          gx[o + i] = (gx[o + i] as number) + rs * (gh - sumG / d - (xhat[o + i] as number) * (sumGX / d))
        }
      }
    })
    return y
  }

  /**
   * Row-wise softmax. With `causalOffset` = c, row i only attends to columns j ≤ i + c (others get probability 0).
   */
  softmax(x: Tensor, causalOffset?: number): Tensor {
    const n = x.rows
    const m = x.cols
    const y = this.out(n, m)
    for (let r = 0; r < n; r++) {
      const o = r * m
      const last = causalOffset === undefined ? m - 1 : Math.min(m - 1, r + causalOffset)
      let mx = -Infinity
      for (let j = 0; j <= last; j++) mx = Math.max(mx, x.data[o + j] as number)
      let s = 0
      for (let j = 0; j <= last; j++) {
        const e = Math.exp((x.data[o + j] as number) - mx)
        y.data[o + j] = e
        s += e
      }
      for (let j = 0; j <= last; j++) y.data[o + j] = (y.data[o + j] as number) / s
    }
    this.push(() => {
      const gx = x.grad
      if (gx === null) return
      const dy = y.grad as Float64Array
      for (let r = 0; r < n; r++) {
        const o = r * m
        let dot = 0
        for (let j = 0; j < m; j++) dot += (dy[o + j] as number) * (y.data[o + j] as number)
        for (let j = 0; j < m; j++) {
          const p = y.data[o + j] as number
          gx[o + j] = (gx[o + j] as number) + p * ((dy[o + j] as number) - dot)
        }
      }
    })
    return y
  }

  /** Columns [start, start + len) of x. */
  sliceCols(x: Tensor, start: number, len: number): Tensor {
    if (start < 0 || start + len > x.cols) throw new RangeError('sliceCols: out of range')
    const y = this.out(x.rows, len)
    for (let r = 0; r < x.rows; r++) {
      for (let j = 0; j < len; j++) y.data[r * len + j] = x.data[r * x.cols + start + j] as number
    }
    this.push(() => {
      const gx = x.grad
      if (gx === null) return
      const g = y.grad as Float64Array
      for (let r = 0; r < x.rows; r++) {
        for (let j = 0; j < len; j++) {
          const k = r * x.cols + start + j
          gx[k] = (gx[k] as number) + (g[r * len + j] as number)
        }
      }
    })
    return y
  }

  /** Rows [start, start + len) of x. */
  sliceRows(x: Tensor, start: number, len: number): Tensor {
    if (start < 0 || start + len > x.rows) throw new RangeError('sliceRows: out of range')
    const m = x.cols
    const y = this.out(len, m)
    y.data.set(x.data.subarray(start * m, (start + len) * m))
    this.push(() => {
      const gx = x.grad
      if (gx === null) return
      const g = y.grad as Float64Array
      for (let i = 0; i < len * m; i++) gx[start * m + i] = (gx[start * m + i] as number) + (g[i] as number)
    })
    return y
  }

  /** Concatenation along columns (equal row counts). */
  concatCols(parts: readonly Tensor[]): Tensor {
    const first = parts[0]
    if (first === undefined) throw new RangeError('concatCols: nothing to concatenate')
    const n = first.rows
    let m = 0
    for (const p of parts) {
      if (p.rows !== n) throw shapeError('concatCols', first, p)
      m += p.cols
    }
    const y = this.out(n, m)
    let off = 0
    for (const p of parts) {
      for (let r = 0; r < n; r++) for (let j = 0; j < p.cols; j++) y.data[r * m + off + j] = p.data[r * p.cols + j] as number
      off += p.cols
    }
    this.push(() => {
      const g = y.grad as Float64Array
      let o = 0
      for (const p of parts) {
        const gp = p.grad
        if (gp !== null) {
          for (let r = 0; r < n; r++) {
            for (let j = 0; j < p.cols; j++) gp[r * p.cols + j] = (gp[r * p.cols + j] as number) + (g[r * m + o + j] as number)
          }
        }
        o += p.cols
      }
    })
    return y
  }

  /** Concatenation along rows (equal column counts). */
  concatRows(parts: readonly Tensor[]): Tensor {
    const first = parts[0]
    if (first === undefined) throw new RangeError('concatRows: nothing to concatenate')
    const m = first.cols
    let n = 0
    for (const p of parts) {
      if (p.cols !== m) throw shapeError('concatRows', first, p)
      n += p.rows
    }
    const y = this.out(n, m)
    let off = 0
    for (const p of parts) {
      y.data.set(p.data, off)
      off += p.size
    }
    this.push(() => {
      const g = y.grad as Float64Array
      let o = 0
      for (const p of parts) {
        const gp = p.grad
        if (gp !== null) for (let i = 0; i < p.size; i++) gp[i] = (gp[i] as number) + (g[o + i] as number)
        o += p.size
      }
    })
    return y
  }

  /** Row `index` of x as a 1×cols tensor (an embedding lookup). */
  row(x: Tensor, index: number): Tensor {
    if (!Number.isInteger(index) || index < 0 || index >= x.rows) throw new RangeError('row: index out of range')
    return this.sliceRows(x, index, 1)
  }

  /** a·bᵀ with a n×k, b m×k → n×m. */
  matmulNT(a: Tensor, b: Tensor): Tensor {
    if (a.cols !== b.cols) throw shapeError('matmulNT', a, b)
    const n = a.rows
    const m = b.rows
    const k = a.cols
    const y = this.out(n, m)
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0
        for (let t = 0; t < k; t++) s += (a.data[i * k + t] as number) * (b.data[j * k + t] as number)
        y.data[i * m + j] = s
      }
    }
    this.push(() => {
      const g = y.grad as Float64Array
      const ga = a.grad
      const gb = b.grad
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) {
          const gij = g[i * m + j] as number
          if (gij === 0) continue
          for (let t = 0; t < k; t++) {
            if (ga !== null) ga[i * k + t] = (ga[i * k + t] as number) + gij * (b.data[j * k + t] as number)
            if (gb !== null) gb[j * k + t] = (gb[j * k + t] as number) + gij * (a.data[i * k + t] as number)
          }
        }
      }
    })
    return y
  }

  /** a·b with a n×k, b k×m (neither a parameter matrix with bias: use {@link linear} for those). */
  matmul(a: Tensor, b: Tensor): Tensor {
    return this.linear(a, b)
  }

  /**
   * Σ_j w[:, j] ⊙ xs[j]: the variable-selection sum, with w n×J (one weight per row and variable) and each xs[j] n×d.
   */
  weightedSum(w: Tensor, xs: readonly Tensor[]): Tensor {
    const J = xs.length
    const first = xs[0]
    if (first === undefined || w.cols !== J) throw new RangeError('weightedSum: one weight column per variable')
    const n = first.rows
    const d = first.cols
    for (const x of xs) if (x.rows !== n || x.cols !== d || w.rows !== n) throw shapeError('weightedSum', w, x)
    const y = this.out(n, d)
    for (let j = 0; j < J; j++) {
      const x = xs[j] as Tensor
      for (let r = 0; r < n; r++) {
        const c = w.data[r * J + j] as number
        for (let i = 0; i < d; i++) y.data[r * d + i] = (y.data[r * d + i] as number) + c * (x.data[r * d + i] as number)
      }
    }
    this.push(() => {
      const g = y.grad as Float64Array
      for (let j = 0; j < J; j++) {
        const x = xs[j] as Tensor
        for (let r = 0; r < n; r++) {
          const c = w.data[r * J + j] as number
          let s = 0
          for (let i = 0; i < d; i++) {
            const gi = g[r * d + i] as number
            s += gi * (x.data[r * d + i] as number)
            if (x.grad !== null) x.grad[r * d + i] = (x.grad[r * d + i] as number) + c * gi
          }
          if (w.grad !== null) w.grad[r * J + j] = (w.grad[r * J + j] as number) + s
        }
      }
    })
    return y
  }

  /**
   * Quantile (pinball) loss Σ_t Σ_q max(q·(y_t − ŷ_tq), (q − 1)·(y_t − ŷ_tq)) · scale, with ŷ n×Q and y of length n.
   */
  quantileLoss(pred: Tensor, y: Float64Array, quantiles: readonly number[], scale = 1): Tensor {
    const n = pred.rows
    const Q = pred.cols
    if (Q !== quantiles.length || y.length !== n) throw new RangeError('quantileLoss: shapes do not fit')
    const out = this.out(1, 1)
    let s = 0
    for (let t = 0; t < n; t++) {
      for (let k = 0; k < Q; k++) {
        const q = quantiles[k] as number
        const e = (y[t] as number) - (pred.data[t * Q + k] as number)
        s += e >= 0 ? q * e : (q - 1) * e
      }
    }
    out.data[0] = s * scale
    this.push(() => {
      const gp = pred.grad
      if (gp === null) return
      const g = (out.grad as Float64Array)[0] as number
      for (let t = 0; t < n; t++) {
        for (let k = 0; k < Q; k++) {
          const q = quantiles[k] as number
          const e = (y[t] as number) - (pred.data[t * Q + k] as number)
          gp[t * Q + k] = (gp[t * Q + k] as number) + g * scale * (e >= 0 ? -q : 1 - q)
        }
      }
    })
    return out
  }
}
