/**
 * `npm run mutate -- <module> [--files <glob,...>] [--tests <glob,...>] [--dry-run]`
 *
 * Mutation testing with Stryker's command runner over `node --test` (Node 22, this process's binary). Every mutant
 * runs the module's whole test command (no per-test coverage with the command runner), so a full module takes
 * hours on two shared cores: focus with `--files` (Stryker globs, `file.ts:10-40` for a line range) and a narrow
 * `--tests`. Base options: stryker.config.json. Report: reports/mutation/<module>.json. Not run in CI.
 *
 *   npm run mutate -- supervisor --files supervisor/intensity.ts --tests test/supervisor/intensity.test.ts
 */
import { Stryker } from '@stryker-mutator/core'
import type { MutantResult } from '@stryker-mutator/api/core'

interface ModuleSpec {
  readonly mutate: readonly string[]
  readonly tests: readonly string[]
}

// Whole-module defaults: sources minus facades, error classes and type-only files; the module's own tests.
const MODULES: Readonly<Record<string, ModuleSpec>> = {
  ledger: {
    mutate: ['ledger/**/*.ts', '!ledger/index.ts', '!ledger/errors.ts', '!ledger/verify-worker.ts'],
    tests: ['test/ledger/*.test.ts'],
  },
  consensus: {
    mutate: ['consensus/**/*.ts', '!consensus/index.ts', '!consensus/errors.ts', '!consensus/types.ts'],
    tests: ['test/consensus/*.test.ts'],
  },
  fhe: {
    mutate: ['fhe/**/*.ts', '!fhe/index.ts', '!fhe/errors.ts', '!fhe/types.ts'],
    tests: ['test/fhe/*.test.ts'],
  },
  supervisor: {
    mutate: ['supervisor/**/*.ts', '!supervisor/index.ts', '!supervisor/errors.ts'],
    tests: ['test/supervisor/*.test.ts'],
  },
}

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: npm run mutate -- <${Object.keys(MODULES).join('|')}> [--files <glob,...>] [--tests <glob,...>] [--dry-run]\n`)
  process.exit(2)
}

function parseArgs(argv: readonly string[]): { module: string; spec: ModuleSpec; dryRun: boolean } {
  const [module, ...rest] = argv
  if (module === undefined) usage('no module given')
  const base = MODULES[module]
  if (base === undefined) usage(`unknown module ${module}`)
  let mutate = base.mutate
  let tests = base.tests
  let dryRun = false
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]
    const list = (): string[] => {
      const v = rest[++i]
      if (v === undefined || v.startsWith('--')) usage(`${a} needs a value`)
      return v.split(',').filter((s) => s.length > 0)
    }
    if (a === '--files') mutate = list()
    else if (a === '--tests') tests = list()
    else if (a === '--dry-run') dryRun = true
    else usage(`unknown argument ${a}`)
  }
  return { module, spec: { mutate, tests }, dryRun }
}

/** Stryker's score: detected (killed + timed out) over valid mutants (compile/runtime errors and ignored excluded). */
export function mutationScore(results: readonly MutantResult[]): { detected: number; survived: number; noCoverage: number; valid: number; score: number } {
  let detected = 0
  let survived = 0
  let noCoverage = 0
  for (const r of results) {
    if (r.status === 'Killed' || r.status === 'Timeout') detected++
    else if (r.status === 'Survived') survived++
    else if (r.status === 'NoCoverage') noCoverage++
  }
  const valid = detected + survived + noCoverage
  return { detected, survived, noCoverage, valid, score: valid === 0 ? Number.NaN : (100 * detected) / valid }
}

const { module, spec, dryRun } = parseArgs(process.argv.slice(2))
const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`
const command = [quote(process.execPath), '--test', '--test-concurrency=1', '--test-timeout=120000', ...spec.tests.map(quote)].join(' ')
process.stdout.write(`mutate ${module}: ${spec.mutate.join(' ')}\ntests: ${command}\n`)
const stryker = new Stryker({
  configFile: 'stryker.config.json',
  mutate: [...spec.mutate],
  commandRunner: { command },
  jsonReporter: { fileName: `reports/mutation/${module}.json` },
  dryRunOnly: dryRun,
})
const started = Date.now()
const results = await stryker.runMutationTest()
const s = mutationScore(results)
process.stdout.write(
  `\n${module}: ${s.detected} detected / ${s.valid} valid mutants (${s.survived} survived, ${s.noCoverage} no coverage, ` +
    `${results.length - s.valid} invalid) → score ${s.score.toFixed(1)}% in ${((Date.now() - started) / 60000).toFixed(1)} min\n`,
)
