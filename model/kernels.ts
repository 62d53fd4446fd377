/**
 * The int8 path on basedai/kernels: an `AsyncLinearFn` that runs every dense product of the model through an int8
 * matmul service (basedai/kernels' `KernelService`: WGSL on a WebGPU adapter, its TypeScript reference otherwise).
 *
 * Quantization is the same as `int8Linear` (weights symmetric per output channel, stored [out, in]; activations
 * per row), so the GPU path and the CPU int8 path compute the same integers; weights are uploaded once per tensor
 * and stay resident. The service is described structurally, so this file has no runtime dependency on kernels/.
 *
 * @example
 * ```ts
 * import { KernelService } from 'basedai/kernels'
 * const service = await KernelService.create()
 * const logits = await forwardAsync(model, tokens, { linear: kernelInt8Linear(service) })
 * ```
 */
import type { AsyncLinearFn } from './forward.ts'
import { quantizeRowsInt8, quantizeWeightInt8 } from './int8.ts'

export interface Int8WeightsInput {
  readonly w: Int8Array
  readonly wScale: Float32Array
  readonly n: number
  readonly k: number
  readonly bias?: Float32Array
}

export interface Int8ActivationsInput {
  readonly a: Int8Array
  readonly aScale: Float32Array
  readonly m: number
  readonly k: number
}

/** What the model needs from an int8 matmul service (basedai/kernels' KernelService has this shape). */
export interface Int8MatmulService<Handle> {
  uploadWeights(w: Int8WeightsInput): Promise<Handle>
  matmulInt8(x: Int8ActivationsInput, weights: Handle): Promise<{ readonly y: Float32Array }>
}

/** Per-row symmetric int8 quantization of activations (scale = max|x|/127, 1 for a zero row; f32 scales for the GPU). */
export function quantizeActivationsInt8(x: Float32Array, rows: number, cols: number): Int8ActivationsInput {
  const q = quantizeRowsInt8(x, rows, cols, 'absmax')
  return { a: q.q, aScale: Float32Array.from(q.step), m: rows, k: cols }
}

/** Route every dense product through `service.matmulInt8`, uploading each weight tensor once. */
export function kernelInt8Linear<Handle>(service: Int8MatmulService<Handle>): AsyncLinearFn {
  const uploaded = new WeakMap<Float32Array, Promise<Handle>>()
  return async (x, rows, inDim, outDim, w, b) => {
    let handle = uploaded.get(w)
    if (handle === undefined) {
      const q = quantizeWeightInt8(w, inDim, outDim)
      handle = service.uploadWeights({ w: q.q, wScale: q.scale, n: outDim, k: inDim, bias: b })
      uploaded.set(w, handle)
    }
    const { y } = await service.matmulInt8(quantizeActivationsInt8(x, rows, inDim), await handle)
    return y
  }
}
