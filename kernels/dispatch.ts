/**
 * Dispatch math: pure functions (no GPU) that size grids, split batches and plan NTT passes. Unit-tested on the CPU
 * (test/kernels/dispatch.test.ts).
 */
import { InvalidInput } from './errors.ts'

/** ⌈a / b⌉ for non-negative integers a and positive b. */
export function divCeil(a: number, b: number): number {
  if (!(b > 0)) throw new InvalidInput({ op: 'divCeil', reason: 'bad_argument', message: `divisor ${b} must be positive` })
  return Math.floor((a + b - 1) / b)
}

/** Rounds n up to a multiple of `align`. */
export function alignUp(n: number, align: number): number {
  return divCeil(n, align) * align
}

/** A 2-D grid covering `count` workgroups with at most `maxPerDim` along each axis. Kernels linearise it as
 *  id = wg.y · x + wg.x and return when id ≥ count (the last row of the grid may be partly idle). */
export interface Grid {
  readonly x: number
  readonly y: number
  /** Workgroups launched (x·y ≥ count); the surplus exits immediately. */
  readonly launched: number
}

export function grid2d(count: number, maxPerDim = 65535): Grid {
  if (!Number.isInteger(count) || count < 0) {
    throw new InvalidInput({ op: 'grid2d', reason: 'bad_argument', message: `workgroup count ${count} is not a non-negative integer` })
  }
  if (count === 0) return { x: 0, y: 0, launched: 0 }
  const x = Math.min(count, maxPerDim)
  const y = divCeil(count, x)
  if (y > maxPerDim) {
    throw new InvalidInput({ op: 'grid2d', reason: 'too_large', message: `${count} workgroups exceed a ${maxPerDim}² grid` })
  }
  return { x, y, launched: x * y }
}

/**
 * Splits `rows` rows of `rowWords` u32 words into chunks that fit `maxBindingBytes` per storage binding and keep
 * whole groups of `groupRows` rows together (e.g. L residues of one RNS polynomial). Returns [firstRow, rowCount][].
 */
export function chunkRows(rows: number, rowWords: number, maxBindingBytes: number, groupRows = 1): Array<[number, number]> {
  const perChunk = Math.floor(maxBindingBytes / (rowWords * 4) / groupRows) * groupRows
  if (perChunk < groupRows || perChunk === 0) {
    throw new InvalidInput({
      op: 'chunkRows',
      reason: 'too_large',
      message: `one group of ${groupRows} rows × ${rowWords} words exceeds the ${maxBindingBytes}-byte binding limit`,
    })
  }
  const out: Array<[number, number]> = []
  for (let r = 0; r < rows; r += perChunk) out.push([r, Math.min(perChunk, rows - r)])
  return out
}

/** One pass of a negacyclic NTT on the GPU. */
export type NttPass =
  /** One radix-2 butterfly stage over global memory: span t and twiddle base m = n / 2t (forward: CT group count;
   *  inverse: GS half-size h). Butterfly k of a row uses twiddle m + ⌊k / span⌋. */
  | { readonly kind: 'global'; readonly m: number; readonly span: number }
  /** Every stage whose butterflies stay inside one tile of `tile` words, in workgroup memory. */
  | { readonly kind: 'local'; readonly tile: number }
  /** `stages` consecutive stages (≤ 4) in registers: smallest span `span`; each invocation owns 2^stages elements. */
  | { readonly kind: 'regs'; readonly span: number; readonly stages: number }

/**
 * Plans a transform of size n with workgroup tiles of `tile` words (a power of two). Forward (Cooley–Tukey): global
 * stages while the span is ≥ tile, then one local pass for spans tile/2 … 1. Inverse (Gentleman–Sande): the local
 * pass first (spans 1 … tile/2), then global stages for spans tile … n/2. The n^(-1) scaling is folded into the
 * last inverse pass.
 */
export function planNtt(n: number, tile: number, direction: 'forward' | 'inverse'): NttPass[] {
  if (n < 2 || (n & (n - 1)) !== 0 || tile < 2 || (tile & (tile - 1)) !== 0) {
    throw new InvalidInput({ op: 'planNtt', reason: 'bad_argument', message: `n = ${n} and tile = ${tile} must be powers of two ≥ 2` })
  }
  const t = Math.min(tile, n)
  const global: NttPass[] = []
  for (let span = n / 2; span >= t; span /= 2) {
    global.push({ kind: 'global', m: n / (2 * span), span })
  }
  const local: NttPass = { kind: 'local', tile: t }
  return direction === 'forward' ? [...global, local] : [local, ...global.reverse()]
}

/**
 * Plans a transform as register passes of up to `radixLog` stages each (no barriers, no workgroup memory: the fast
 * shape on CPU adapters such as lavapipe). Forward: spans n/2 … 1, largest first; inverse: spans 1 … n/2. A pass
 * lists its smallest span; the forward's last pass and the inverse's last pass may hold fewer stages.
 */
export function planNttRegisters(n: number, radixLog: number, direction: 'forward' | 'inverse'): NttPass[] {
  if (n < 2 || (n & (n - 1)) !== 0 || !Number.isInteger(radixLog) || radixLog < 1 || radixLog > 4) {
    throw new InvalidInput({ op: 'planNttRegisters', reason: 'bad_argument', message: `n = ${n} must be a power of two ≥ 2, radixLog in 1 … 4` })
  }
  const logN = Math.round(Math.log2(n))
  const passes: NttPass[] = []
  if (direction === 'forward') {
    // Stages are indexed by log2(span) from logN − 1 down to 0; take radixLog at a time from the top.
    for (let top = logN - 1; top >= 0; top -= radixLog) {
      const stages = Math.min(radixLog, top + 1)
      passes.push({ kind: 'regs', span: 2 ** (top - stages + 1), stages })
    }
  } else {
    for (let low = 0; low < logN; low += radixLog) {
      const stages = Math.min(radixLog, logN - low)
      passes.push({ kind: 'regs', span: 2 ** low, stages })
    }
  }
  return passes
}

/** Butterflies executed by a plan on `rows` rows (each stage does n/2 per row): used to count work. */
export function nttButterflies(n: number, rows: number): number {
  return (n / 2) * Math.log2(n) * rows
}
