/**
 * Builds the training kernels (model/train/wasm/assembly/train.ts) to WebAssembly with SIMD, using AssemblyScript's
 * compiler API, into the ignored cache node_modules/.cache/basedai-model/ under a name that carries a hash of the
 * source, the compiler's version and the flags — so a changed source is rebuilt and nothing stale is loaded. Nothing
 * prebuilt is fetched or committed (the same scheme as fhe/wasm/build.ts).
 *
 * Run as a script (`node model/train/wasm/build.ts`) or let kernels.ts call `buildTrainWasm` on first load.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')
export const TRAIN_WASM_SOURCE = join(here, 'assembly', 'train.as')
const ENTRY = 'train-kernels.ts'
const CACHE_DIR = join(root, 'node_modules', '.cache', 'basedai-model')
const FLAGS: readonly string[] = ['-O3', '--runtime', 'stub', '--noAssert', '--enable', 'simd', '--initialMemory', '16']

function compilerVersion(): string {
  try {
    const req = createRequire(import.meta.url)
    const pkg = JSON.parse(readFileSync(req.resolve('assemblyscript/package.json'), 'utf8')) as { version?: string }
    return pkg.version ?? 'unknown'
  } catch {
    return 'absent'
  }
}

/** The cache file: its name carries a hash of source, compiler version and flags. */
export function trainWasmCachePath(): string {
  const h = createHash('sha256')
  h.update(readFileSync(TRAIN_WASM_SOURCE))
  h.update(compilerVersion())
  h.update(FLAGS.join(' '))
  return join(CACHE_DIR, `train-simd-${h.digest('hex').slice(0, 16)}.wasm`)
}

interface AscApi {
  main(
    argv: string[],
    options: {
      readFile: (name: string, baseDir: string) => string | null
      writeFile: (name: string, contents: Uint8Array | string) => void
      stderr: { write: (chunk: string | Uint8Array) => void }
    },
  ): Promise<{ error: Error | null }>
}

/** Compiles the module and writes it to the cache atomically (concurrent builders never see half a file). */
export async function buildTrainWasm(): Promise<Uint8Array> {
  // A computed specifier keeps tsc from loading AssemblyScript's global declarations (see fhe/wasm/build.ts).
  const ascModule: string = 'assemblyscript/asc'
  const asc = ((await import(ascModule)) as { default: AscApi }).default
  let binary: Uint8Array | undefined
  const errors: string[] = []
  // The source is kept as `.as` so that tsc (whose config covers model/) does not type-check AssemblyScript; the
  // compiler is handed it under a virtual `.ts` entry name.
  const source = readFileSync(TRAIN_WASM_SOURCE, 'utf8')
  const result = await asc.main([ENTRY, ...FLAGS, '--outFile', 'train.wasm'], {
    readFile: (name, baseDir) => {
      if (name === ENTRY) return source
      const p = join(baseDir, name)
      return existsSync(p) ? readFileSync(p, 'utf8') : null
    },
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents
    },
    stderr: { write: (chunk: string | Uint8Array) => errors.push(String(chunk)) },
  })
  if (result.error || !binary) throw new Error(`AssemblyScript build of ${TRAIN_WASM_SOURCE} failed: ${result.error?.message ?? ''}\n${errors.join('')}`)
  const out = trainWasmCachePath()
  mkdirSync(CACHE_DIR, { recursive: true })
  const tmp = `${out}.${process.pid}.tmp`
  writeFileSync(tmp, binary)
  renameSync(tmp, out)
  return binary
}

/** The cached module bytes, or undefined. */
export function cachedTrainWasm(): Uint8Array | undefined {
  const p = trainWasmCachePath()
  return existsSync(p) ? new Uint8Array(readFileSync(p)) : undefined
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now()
  const b = await buildTrainWasm()
  process.stdout.write(`model/train/wasm: built (${b.length} bytes, ${(performance.now() - t0).toFixed(0)} ms) → ${trainWasmCachePath()}\n`)
}
