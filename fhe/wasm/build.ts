/**
 * Builds the WebAssembly polynomial backend from its AssemblyScript source (fhe/wasm/assembly/poly.ts) with the
 * compiler's JS API, in two variants: `simd` (`--enable simd`) and `scalar` (`--disable simd`). Outputs go to an
 * ignored cache, node_modules/.cache/basedai-fhe/, under a name that carries a hash of the source, the compiler's
 * version and the flags, so a changed source is rebuilt and nothing stale is ever loaded. Nothing prebuilt is
 * fetched or committed.
 *
 * Run as a script (`node fhe/wasm/build.ts`, the `build:wasm` npm script, also run by `prepare` after `npm ci`), or
 * let fhe/wasm/load.ts call `buildWasm` on first load when the cache is empty.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type WasmVariant = 'simd' | 'scalar'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
export const SOURCE = join(here, 'assembly', 'poly.ts')
const CACHE_DIR = join(root, 'node_modules', '.cache', 'basedai-fhe')

const FLAGS: Record<WasmVariant, readonly string[]> = {
  simd: ['-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd'],
  scalar: ['-O3', '--runtime', 'stub', '--noAssert', '--disable', 'simd'],
}

function compilerVersion(): string {
  try {
    const req = createRequire(import.meta.url)
    const pkg = JSON.parse(readFileSync(req.resolve('assemblyscript/package.json'), 'utf8')) as { version?: string }
    return pkg.version ?? 'unknown'
  } catch {
    return 'absent'
  }
}

/** The cache file for a variant: its name carries a hash of source, compiler version and flags. */
export function wasmCachePath(variant: WasmVariant): string {
  const h = createHash('sha256')
  h.update(readFileSync(SOURCE))
  h.update(compilerVersion())
  h.update(FLAGS[variant].join(' '))
  return join(CACHE_DIR, `poly-${variant}-${h.digest('hex').slice(0, 16)}.wasm`)
}

/** The part of AssemblyScript's compiler API used here. */
interface AscApi {
  main(
    argv: string[],
    options: { writeFile: (name: string, contents: Uint8Array | string) => void; stderr: { write: (chunk: string | Uint8Array) => void } },
  ): Promise<{ error: Error | null }>
}

/** Compiles one variant and writes it to the cache (atomically: concurrent builders never see half a file). */
export async function buildWasm(variant: WasmVariant): Promise<Uint8Array> {
  // A computed specifier: a literal one makes tsc load AssemblyScript's own global declarations (its `console` has
  // no `error`), which would break type-checking of the rest of the project.
  const ascModule: string = 'assemblyscript/asc'
  const asc = ((await import(ascModule)) as { default: AscApi }).default
  let binary: Uint8Array | undefined
  const errors: string[] = []
  const result = await asc.main([SOURCE, ...FLAGS[variant], '--outFile', 'poly.wasm'], {
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents
    },
    stderr: { write: (chunk: string | Uint8Array) => errors.push(String(chunk)) },
  })
  if (result.error || !binary) {
    throw new Error(`AssemblyScript build of ${SOURCE} (${variant}) failed: ${result.error?.message ?? ''}\n${errors.join('')}`)
  }
  const out = wasmCachePath(variant)
  mkdirSync(CACHE_DIR, { recursive: true })
  const tmp = `${out}.${process.pid}.tmp`
  writeFileSync(tmp, binary)
  renameSync(tmp, out)
  return binary
}

/** The cached bytes of a variant, or undefined. */
export function cachedWasm(variant: WasmVariant): Uint8Array | undefined {
  const p = wasmCachePath(variant)
  return existsSync(p) ? new Uint8Array(readFileSync(p)) : undefined
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (compilerVersion() === 'absent') {
    // `npm ci --omit=dev`: no compiler; the package still works on the TypeScript reference backend.
    process.stderr.write('fhe/wasm: assemblyscript is not installed; skipping the build (the TypeScript backend will be used)\n')
  } else {
    for (const v of ['simd', 'scalar'] as const) {
      const t0 = performance.now()
      const b = await buildWasm(v)
      process.stdout.write(`fhe/wasm: built ${v} (${b.length} bytes, ${(performance.now() - t0).toFixed(0)} ms) → ${wasmCachePath(v)}\n`)
    }
  }
}
