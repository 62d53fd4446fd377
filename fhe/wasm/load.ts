/**
 * Loads the WebAssembly polynomial backends once per process and picks the default `PolyBackend` at run time.
 *
 * - The SIMD variant is used when the engine validates a tiny module with a v128 instruction (`WebAssembly.validate`);
 *   otherwise the scalar variant; otherwise (no WebAssembly, or no compiler and no cached build) the plain-TypeScript
 *   `cpuBackend`. `BASEDAI_FHE_BACKEND=ts|wasm-scalar|wasm-simd` forces one (for measurements and debugging).
 * - The binaries come from the ignored cache that `npm run build:wasm` (run by `prepare`) fills. When the cache is
 *   empty this module builds them itself with the AssemblyScript compiler (top-level await, a few seconds, once).
 */
import { cpuBackend, type PolyBackend } from '../poly.ts'
import { createWasmPolyBackend, type WasmPolyBackend } from './backend.ts'
import { wasmApi } from './api.ts'
import { buildWasm, cachedWasm, type WasmVariant } from './build.ts'

/** (module (func (result v128) (v128.const i32x4 0 0 0 0))) */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 11,
])

/** True when this engine runs WebAssembly SIMD (fixed-width v128). */
export function engineHasSimd(): boolean {
  try {
    return wasmApi !== undefined && wasmApi.validate(SIMD_PROBE)
  } catch {
    return false
  }
}

async function loadVariant(variant: WasmVariant): Promise<WasmPolyBackend | undefined> {
  if (!wasmApi) return undefined
  if (variant === 'simd' && !engineHasSimd()) return undefined
  let bytes = cachedWasm(variant)
  if (!bytes) {
    try {
      bytes = await buildWasm(variant)
    } catch (e) {
      process.emitWarning(`fhe: could not build the ${variant} WebAssembly backend (${String(e)}); using the TypeScript reference`)
      return undefined
    }
  }
  return createWasmPolyBackend(new wasmApi.Module(bytes), `wasm-${variant}`)
}

/** The SIMD WebAssembly backend, when the engine supports it. */
export const wasmSimdBackend: WasmPolyBackend | undefined = await loadVariant('simd')
/** The scalar (i64, no SIMD) WebAssembly backend. */
export const wasmScalarBackend: WasmPolyBackend | undefined = await loadVariant('scalar')

function pick(): PolyBackend {
  const forced = process.env['BASEDAI_FHE_BACKEND']
  if (forced === 'ts') return cpuBackend
  if (forced === 'wasm-scalar' && wasmScalarBackend) return wasmScalarBackend
  return wasmSimdBackend ?? wasmScalarBackend ?? cpuBackend
}

/** The fastest backend available here: what `createFheContext` uses unless told otherwise. */
export const defaultPolyBackend: PolyBackend = pick()

/** Every backend available in this process, the TypeScript reference first (for tests and benchmarks). */
export const availablePolyBackends: readonly PolyBackend[] = [cpuBackend, wasmScalarBackend, wasmSimdBackend].filter(
  (b): b is PolyBackend => b !== undefined,
)
