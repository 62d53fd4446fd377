/**
 * Coefficient encoding of integers: value i goes to coefficient i of the plaintext polynomial, reduced mod t.
 * Decoding returns centred representatives in (−t/2, t/2], so signed results come back as signed numbers.
 */
import { InvalidOperand } from './errors.ts'
import type { FheContext } from './context.ts'
import type { Plaintext } from './types.ts'

/** Encodes up to N safe integers (any sign) as a plaintext; missing coefficients are 0. */
export function encodeIntegers(ctx: FheContext, values: ArrayLike<number>): Plaintext {
  if (values.length > ctx.n) {
    throw new InvalidOperand({ reason: 'shape', message: `${values.length} values do not fit N = ${ctx.n} coefficients` })
  }
  const t = ctx.t
  const coeffs = new Uint32Array(ctx.n)
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number
    if (!Number.isSafeInteger(v)) throw new InvalidOperand({ reason: 'value_out_of_range', message: `value ${i} is not a safe integer` })
    const r = v % t
    coeffs[i] = r < 0 ? r + t : r
  }
  return { paramsId: ctx.paramsId, coeffs }
}

/** Centred representative of x mod t, in (−t/2, t/2]. */
export function centre(x: number, t: number): number {
  return x > t / 2 ? x - t : x
}

/** Decodes a plaintext's first `count` coefficients as signed integers in (−t/2, t/2]. */
export function decodeSigned(ctx: FheContext, pt: Plaintext, count = ctx.n): Int32Array {
  const out = new Int32Array(count)
  for (let i = 0; i < count; i++) out[i] = centre(pt.coeffs[i] as number, ctx.t)
  return out
}
