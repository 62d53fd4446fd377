/**
 * Device acquisition. `acquireGpu()` creates a Dawn instance through the `webgpu` package, requests the adapter and
 * a device with the adapter's storage and workgroup limits, and describes the adapter (vendor, architecture,
 * description) for logs and benchmark results.
 *
 * Failure: no adapter → `GpuUnavailable` with `fix` (install Mesa 25 lavapipe from bookworm-backports, as
 * .ci/install-system.sh does); callers such as `KernelService.create` then fall back to the TypeScript reference,
 * flagged slow. The object returned by `create()` is kept in a module-level set for the life of the process: Dawn
 * segfaults if it is garbage-collected while a device is alive.
 */
import { GpuUnavailable } from './errors.ts'

/** How to get an adapter on a CPU-only Debian 12 machine (measured: bookworm's Mesa 22 gives Dawn none). */
export const GPU_FIX =
  'install a Vulkan driver; on a CPU-only Debian 12 machine install Mesa 25 lavapipe from bookworm-backports ' +
  '(apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1 — see .ci/install-system.sh)'

export interface AdapterDescription {
  readonly vendor: string
  readonly architecture: string
  readonly device: string
  readonly description: string
  /** True for a software adapter (lavapipe / SwiftShader) or when Dawn marks it as a fallback adapter. */
  readonly software: boolean
}

/** "vendor architecture — description" in one line, e.g. "mesa llvm — llvmpipe (LLVM 19.1.7, 256 bits)". */
export function adapterLabel(a: AdapterDescription | null): string {
  if (a === null) return 'no WebGPU adapter (TypeScript reference path, slow)'
  const head = [a.vendor, a.architecture].filter((s) => s.length > 0).join(' ') || 'unknown adapter'
  const tail = a.description || a.device
  return `${head}${tail ? ` — ${tail}` : ''}${a.software ? ' [software]' : ''}`
}

export interface GpuHandle {
  readonly device: GPUDevice
  readonly adapter: AdapterDescription
  readonly features: ReadonlySet<string>
  /** Resolves when the device is lost (destroy() included). */
  readonly lost: Promise<GPUDeviceLostInfo>
}

export interface AcquireOptions {
  /** Dawn instance options passed to `create()` (e.g. 'enable-dawn-features=…'). Default []. */
  readonly dawnOptions?: readonly string[]
  readonly powerPreference?: GPUPowerPreference
}

/** Dawn instances kept alive for the process (see module doc). */
const keepAlive = new Set<unknown>()

interface WebGpuModule {
  create(options: string[]): GPU
  globals: object
}

let modulePromise: Promise<WebGpuModule> | undefined

async function loadModule(): Promise<WebGpuModule> {
  modulePromise ??= import('webgpu').then((m) => {
    const mod = m as unknown as WebGpuModule
    Object.assign(globalThis, mod.globals)
    return mod
  })
  return modulePromise
}

/** Acquires an adapter and device; throws `GpuUnavailable` (with the fix) when there is none. */
export async function acquireGpu(opts: AcquireOptions = {}): Promise<GpuHandle> {
  let mod: WebGpuModule
  try {
    mod = await loadModule()
  } catch (e) {
    throw new GpuUnavailable({ reason: 'module_load_failed', fix: GPU_FIX, message: `cannot load the webgpu package: ${String(e)}` })
  }
  const gpu = mod.create([...(opts.dawnOptions ?? [])])
  keepAlive.add(gpu)
  const adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined)
  if (!adapter) {
    throw new GpuUnavailable({ reason: 'no_adapter', fix: GPU_FIX, message: `no WebGPU adapter: ${GPU_FIX}` })
  }
  const info = adapter.info
  const description: AdapterDescription = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    software:
      /llvmpipe|lavapipe|swiftshader/i.test(`${info.description} ${info.device} ${info.architecture}`) ||
      (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
  }
  const l = adapter.limits
  const wanted: Array<GPUFeatureName> = []
  for (const f of ['shader-f16', 'timestamp-query'] as const) if (adapter.features.has(f)) wanted.push(f)
  let device: GPUDevice
  try {
    device = await adapter.requestDevice({
      label: 'basedai-kernels',
      requiredFeatures: wanted,
      requiredLimits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      },
    })
  } catch (e) {
    throw new GpuUnavailable({ reason: 'no_device', fix: GPU_FIX, message: `adapter ${description.description} gave no device: ${String(e)}` })
  }
  return { device, adapter: description, features: new Set(device.features), lost: device.lost }
}
