/**
 * basedai/kernels — WGSL compute kernels (through the `webgpu` package, Dawn) and their plain TypeScript references:
 * negacyclic NTT / RNS polynomial arithmetic for the FHE layer, int8 matrix products, attention and the Cerberus
 * squeeze step for the model layer.
 *
 * @example
 * ```ts
 * import { makeNttTables, forwardNtt, inverseNtt, polyMulNegacyclic } from 'basedai/kernels'
 * const t = makeNttTables(4096, 2147352577) // throws InvalidNttParams for a bad (n, q)
 * const c = polyMulNegacyclic(a, b, t)      // a·b mod (X^4096 + 1, q), CPU reference path
 * ```
 */
export * from './errors.ts'
export * from './ntt/reference.ts'
export { nttByDefinitionBigInt, polyMulSchoolbookBigInt } from './ntt/slow.ts'
