/** WebGPU host for the Cerberus squeeze kernel (squeeze.wgsl): one workgroup per sample, one submission. */
import { loadWgsl } from '../wgsl.ts'
import type { GpuRuntime } from '../runtime.ts'
import { resolveSqueeze, STAT_WORDS, type SqueezeOptions, type SqueezeResult } from './reference.ts'

export class SqueezeKernels {
  readonly rt: GpuRuntime
  readonly #code: string

  constructor(rt: GpuRuntime) {
    this.rt = rt
    this.#code = loadWgsl(import.meta.url, './squeeze.wgsl')
  }

  async run(x: Float32Array, rows: number, cols: number, opts: SqueezeOptions = {}): Promise<SqueezeResult> {
    const { levels, threshold, alpha } = resolveSqueeze('squeeze', x, rows, cols, opts)
    const rt = this.rt
    const pipe = rt.pipeline({ key: 'squeeze_f32_wg256', code: this.#code, entryPoint: 'squeeze' })
    const g = rt.grid(rows)
    const params = new Uint32Array([rows, cols, levels, g.x, 0, 0, 0, 0])
    new Float32Array(params.buffer).set([threshold, alpha], 4)
    const ub = rt.uniforms([params], 'squeeze_params')
    const bytes = rows * cols * 4
    const bx = rt.storage(bytes, 'squeeze_x', x)
    const bc = rt.storage(bytes, 'squeeze_codes')
    const bv = rt.storage(bytes, 'squeeze_values')
    const bs = rt.storage(rows * STAT_WORDS * 4, 'squeeze_stats')
    try {
      const [c, v, s] = await rt.run('squeeze', (enc) => {
        const bg = rt.device.createBindGroup({
          label: 'squeeze_bind',
          layout: pipe.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: bx, size: bytes } },
            { binding: 1, resource: { buffer: bc, size: bytes } },
            { binding: 2, resource: { buffer: bv, size: bytes } },
            { binding: 3, resource: { buffer: bs, size: rows * STAT_WORDS * 4 } },
            { binding: 4, resource: { buffer: ub, size: 32 } },
          ],
        })
        const pass = enc.beginComputePass({ label: 'squeeze' })
        rt.dispatch(pass, pipe, bg, g)
        pass.end()
        return [
          { buffer: bc, bytes },
          { buffer: bv, bytes },
          { buffer: bs, bytes: rows * STAT_WORDS * 4 },
        ]
      })
      const wide = new Uint32Array(c as ArrayBuffer)
      const codes = levels <= 256 ? Uint8Array.from(wide) : Uint16Array.from(wide)
      return { rows, cols, levels, codes, values: new Float32Array(v as ArrayBuffer), stats: new Float32Array(s as ArrayBuffer) }
    } finally {
      rt.release(ub, bx, bc, bv, bs)
    }
  }
}
