/**
 * Pipeline cache: shader modules keyed by their source, compute pipelines keyed by a descriptive key such as
 * `ntt_local_fwd_wg256_tile2048`; the key is also the GPU object's label so Dawn's validation messages name the
 * kernel. Nothing is compiled inside a dispatch loop: the first use compiles, every later use is a map lookup.
 */
export interface PipelineDesc {
  /** Descriptive, unique key; used as label. */
  readonly key: string
  readonly code: string
  readonly entryPoint: string
  readonly constants?: Readonly<Record<string, number>>
  /** An explicit layout shared by several pipelines (so one bind group serves them all); default 'auto'. */
  readonly layout?: GPUPipelineLayout
}

export class PipelineCache {
  readonly #device: GPUDevice
  readonly #modules = new Map<string, GPUShaderModule>()
  readonly #pipelines = new Map<string, GPUComputePipeline>()
  compiled = 0

  constructor(device: GPUDevice) {
    this.#device = device
  }

  get(desc: PipelineDesc): GPUComputePipeline {
    const hit = this.#pipelines.get(desc.key)
    if (hit) return hit
    let module = this.#modules.get(desc.code)
    if (!module) {
      module = this.#device.createShaderModule({ label: `${desc.key}_module`, code: desc.code })
      this.#modules.set(desc.code, module)
    }
    const pipeline = this.#device.createComputePipeline({
      label: desc.key,
      layout: desc.layout ?? 'auto',
      compute: { module, entryPoint: desc.entryPoint, constants: { ...(desc.constants ?? {}) } },
    })
    this.compiled += 1
    this.#pipelines.set(desc.key, pipeline)
    return pipeline
  }

  get size(): number {
    return this.#pipelines.size
  }
}
