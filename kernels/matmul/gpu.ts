/**
 * WebGPU host for the int8 matrix products (matmul.wgsl). Weights are uploaded once (`upload`) and stay resident;
 * each product uploads the packed activations, runs GEMV (M ≤ 4: one invocation per output, looping over K) or
 * GEMM (32×32 output tiles) and reads back the exact int32
 * accumulators and the dequantized f32 outputs in one submission. `gemm` is register-blocked (4×4 per invocation,
 * no barriers: best on CPU adapters such as lavapipe); `gemm_tiled` stages tiles through workgroup memory.
 */
import { loadWgsl } from '../wgsl.ts'
import { STORAGE, type GpuRuntime } from '../runtime.ts'
import { checkMatmul, checkWeights, packInt8Rows, type Int8Weights, type MatmulInput, type MatmulResult } from './reference.ts'
import { InvalidInput } from '../errors.ts'

export interface GpuWeights {
  readonly n: number
  readonly k: number
  readonly k4: number
  readonly w: GPUBuffer
  readonly scale: GPUBuffer
  readonly bias: GPUBuffer
  readonly hasBias: boolean
  destroyed: boolean
}

export type MatmulKernel = 'auto' | 'gemv' | 'gemm' | 'gemm_tiled'

export class MatmulKernels {
  readonly rt: GpuRuntime
  readonly #code: string
  /** Output elements computed per kernel, for tests and benchmarks. */
  readonly counts = { gemv: 0, gemm: 0, gemm_tiled: 0 }

  constructor(rt: GpuRuntime) {
    this.rt = rt
    this.#code = loadWgsl(import.meta.url, './matmul.wgsl')
  }

  /** Uploads weights (N×K int8, per-channel scales, optional bias) once. */
  upload(wt: Int8Weights): GpuWeights {
    checkWeights('matmul.upload', wt)
    const d = this.rt.device
    const packed = packInt8Rows(wt.w, wt.n, wt.k)
    const mk = (label: string, data: ArrayBufferView): GPUBuffer => {
      const b = d.createBuffer({ label, size: Math.max(16, Math.ceil(data.byteLength / 4) * 4), usage: STORAGE })
      d.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength)
      return b
    }
    return {
      n: wt.n,
      k: wt.k,
      k4: Math.ceil(wt.k / 4),
      w: mk(`int8_weights_${wt.n}x${wt.k}`, packed),
      scale: mk('int8_wscale', wt.wScale),
      bias: mk('int8_bias', wt.bias ?? new Float32Array(1)),
      hasBias: wt.bias !== undefined,
      destroyed: false,
    }
  }

  release(gw: GpuWeights): void {
    if (gw.destroyed) return
    gw.destroyed = true
    gw.w.destroy()
    gw.scale.destroy()
    gw.bias.destroy()
  }

  async run(x: MatmulInput, gw: GpuWeights, kernel: MatmulKernel = 'auto'): Promise<MatmulResult> {
    if (gw.destroyed) throw new InvalidInput({ op: 'matmulInt8', reason: 'bad_argument', message: 'weights were released' })
    checkMatmul('matmulInt8', x, { w: new Int8Array(gw.n * gw.k), wScale: new Float32Array(gw.n), n: gw.n, k: gw.k })
    const { m } = x
    const n = gw.n
    const which = kernel === 'auto' ? (m <= 4 ? 'gemv' : 'gemm') : kernel
    const count = which === 'gemv' ? Math.ceil((m * n) / 64) : Math.ceil(m / 32) * Math.ceil(n / 32)
    const g = this.rt.grid(count)
    const pipe = this.rt.pipeline({ key: `matmul_${which}_i8`, code: this.#code, entryPoint: which })
    const pa = packInt8Rows(x.a, m, x.k)
    const ba = this.rt.storage(pa.byteLength, 'mm_a', pa)
    const bs = this.rt.storage(x.aScale.byteLength, 'mm_sa', x.aScale)
    const outBytes = m * n * 4
    const bacc = this.rt.storage(outBytes, 'mm_acc')
    const by = this.rt.storage(outBytes, 'mm_y')
    const ub = this.rt.uniforms([[m, n, gw.k4, g.x, gw.hasBias ? 1 : 0, 0, 0, 0]], 'mm_params')
    try {
      const [acc, y] = await this.rt.run('matmulInt8', (enc) => {
        const bg = this.rt.device.createBindGroup({
          label: 'matmul_bind',
          layout: pipe.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: ba, size: pa.byteLength } },
            { binding: 1, resource: { buffer: gw.w } },
            { binding: 2, resource: { buffer: bs, size: x.aScale.byteLength } },
            { binding: 3, resource: { buffer: gw.scale } },
            { binding: 4, resource: { buffer: gw.bias } },
            { binding: 5, resource: { buffer: bacc, size: outBytes } },
            { binding: 6, resource: { buffer: by, size: outBytes } },
            { binding: 7, resource: { buffer: ub, size: 32 } },
          ],
        })
        const pass = enc.beginComputePass({ label: `matmul_${which}` })
        this.rt.dispatch(pass, pipe, bg, g)
        pass.end()
        return [
          { buffer: bacc, bytes: outBytes },
          { buffer: by, bytes: outBytes },
        ]
      })
      this.counts[which] += m * n
      return { acc: new Int32Array(acc as ArrayBuffer), y: new Float32Array(y as ArrayBuffer) }
    } finally {
      this.rt.release(ba, bs, bacc, by, ub)
    }
  }
}
