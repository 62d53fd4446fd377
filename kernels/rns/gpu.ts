/**
 * WebGPU host for the fast RNS base conversion (baseconv.wgsl): B polynomials × k source rows in, B × m target rows
 * out, one submit, tables uploaded once per (from, to) pair.
 */
import { chunkRows } from '../dispatch.ts'
import { loadWgsl } from '../wgsl.ts'
import { STORAGE, type GpuRuntime } from '../runtime.ts'
import { checkConvInput, makeBaseConvTables, type BaseConvTables } from './reference.ts'

export class BaseConvKernels {
  readonly rt: GpuRuntime
  readonly wg = 256
  readonly #tables = new Map<string, { t: BaseConvTables; buf: GPUBuffer }>()
  readonly #code: string

  constructor(rt: GpuRuntime) {
    this.rt = rt
    this.#code = loadWgsl(import.meta.url, './baseconv.wgsl')
  }

  #plan(from: readonly number[], to: readonly number[]): { t: BaseConvTables; buf: GPUBuffer } {
    const key = `${from.join(',')}>${to.join(',')}`
    const hit = this.#tables.get(key)
    if (hit) return hit
    const t = makeBaseConvTables(from, to)
    const k = from.length
    const m = to.length
    const words = new Uint32Array(3 * k + m + 2 * k * m)
    words.set(from, 0)
    words.set(t.qHatInv, k)
    words.set(t.qHatInvShoup, 2 * k)
    words.set(to, 3 * k)
    words.set(t.qHatModP, 3 * k + m)
    words.set(t.qHatModPShoup, 3 * k + m + k * m)
    const buf = this.rt.device.createBuffer({ label: `baseconv_tables_${key}`, size: words.byteLength, usage: STORAGE })
    this.rt.device.queue.writeBuffer(buf, 0, words)
    const plan = { t, buf }
    this.#tables.set(key, plan)
    return plan
  }

  /** Fast base conversion, bit-identical to `fastBaseConvert`. */
  async convert(x: Uint32Array, n: number, from: readonly number[], to: readonly number[]): Promise<Uint32Array> {
    const { t, buf: tab } = this.#plan(from, to)
    const B = checkConvInput('baseConvert', x, n, t)
    const k = from.length
    const m = to.length
    const out = new Uint32Array(B * m * n)
    const maxBinding = Math.min(this.rt.limits.maxStorageBufferBindingSize, this.rt.limits.maxBufferSize)
    const pipe = this.rt.pipeline({ key: `baseconv_wg${this.wg}`, code: this.#code, entryPoint: 'base_convert', constants: { WG: this.wg } })
    await Promise.all(
      chunkRows(B, n * Math.max(k, m), maxBinding).map(async ([b0, cnt]) => {
        const src = x.subarray(b0 * k * n, (b0 + cnt) * k * n)
        const sbuf = this.rt.storage(src.byteLength, 'baseconv_src', src)
        const dbytes = cnt * m * n * 4
        const dbuf = this.rt.storage(dbytes, 'baseconv_dst')
        const total = cnt * n
        const g = this.rt.grid(Math.ceil(total / this.wg))
        const ubuf = this.rt.uniforms([[n, k, m, total, g.x, 0, 0, 0]], 'baseconv_params')
        try {
          const [res] = await this.rt.run('baseConvert', (enc) => {
            const bg = this.rt.device.createBindGroup({
              label: 'baseconv_bind',
              layout: pipe.getBindGroupLayout(0),
              entries: [
                { binding: 0, resource: { buffer: sbuf, size: src.byteLength } },
                { binding: 1, resource: { buffer: dbuf, size: dbytes } },
                { binding: 2, resource: { buffer: tab } },
                { binding: 3, resource: { buffer: ubuf, size: 32 } },
              ],
            })
            const pass = enc.beginComputePass({ label: 'baseConvert' })
            this.rt.dispatch(pass, pipe, bg, g)
            pass.end()
            return [{ buffer: dbuf, bytes: dbytes }]
          })
          out.set(new Uint32Array(res as ArrayBuffer), b0 * m * n)
        } finally {
          this.rt.release(sbuf, dbuf, ubuf)
        }
      }),
    )
    return out
  }
}
