/**
 * Cheap metadata checks (SEAL's `is_metadata_valid_for`): paramsId, level, size and shape, run on every operation.
 * The full data scan (every coefficient below its q_i) happens when bytes are decoded (serialize.ts).
 */
import { InvalidOperand, ParamsMismatch } from './errors.ts'
import type { FheContext } from './context.ts'
import type { Ciphertext, Plaintext } from './types.ts'

export function checkParamsId(ctx: FheContext, id: string): void {
  if (id !== ctx.paramsId) throw new ParamsMismatch({ expected: ctx.paramsId, actual: id })
}

export function checkCiphertext(ctx: FheContext, ct: Ciphertext): void {
  checkParamsId(ctx, ct.paramsId)
  if (!Number.isInteger(ct.level) || ct.level < 1 || ct.level > ctx.levels) {
    throw new InvalidOperand({ reason: 'level_mismatch', message: `level ${ct.level} outside 1…${ctx.levels}` })
  }
  if (ct.polys.length < 2) throw new InvalidOperand({ reason: 'size_unsupported', message: `ciphertext of size ${ct.polys.length}` })
  for (const p of ct.polys) {
    if (p.n !== ctx.n || p.k !== ct.level || p.data.length !== ctx.n * ct.level) {
      throw new InvalidOperand({ reason: 'shape', message: 'ciphertext polynomial shape does not match its level' })
    }
  }
}

export function checkPlaintext(ctx: FheContext, pt: Plaintext): void {
  checkParamsId(ctx, pt.paramsId)
  if (pt.coeffs.length !== ctx.n) {
    throw new InvalidOperand({ reason: 'shape', message: `plaintext has ${pt.coeffs.length} coefficients, N = ${ctx.n}` })
  }
  for (let i = 0; i < pt.coeffs.length; i++) {
    if ((pt.coeffs[i] as number) >= ctx.t) {
      throw new InvalidOperand({ reason: 'value_out_of_range', message: `plaintext coefficient ${i} is not below t` })
    }
  }
}

export function checkSameLevel(a: Ciphertext, b: Ciphertext): void {
  if (a.level !== b.level) {
    throw new InvalidOperand({ reason: 'level_mismatch', message: `levels ${a.level} and ${b.level} differ; mod-switch first` })
  }
}
