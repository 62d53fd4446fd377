/**
 * `npm run mutate -- <module> [--files <glob,...>] [--tests <glob,...>] [--minutes <n>] [--dry-run]`
 *
 * Mutation testing with Stryker's command runner over `node --test` (Node 22, this process's binary). Every mutant
 * runs the module's whole test command (no per-test coverage with the command runner), so a full module takes
 * hours on two shared cores: focus with `--files` (Stryker globs, `file.ts:10-40` for a line range) and a narrow
 * `--tests`. `--minutes n` stops after n minutes and reports the mutants tested so far (Stryker's event recorder
 * writes each result as it comes). Base options: stryker.config.json. Report: reports/mutation/<module>.json (or
 * <module>.partial.json when stopped early), survivors listed on stdout. Not run in CI.
 *
 *   npm run mutate -- supervisor --files supervisor/intensity.ts --tests test/supervisor/intensity.test.ts
 */
import fs from 'node:fs'
import path from 'node:path'
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
  process.stderr.write(`${msg}\nusage: npm run mutate -- <${Object.keys(MODULES).join('|')}> [--files <glob,...>] [--tests <glob,...>] [--minutes <n>] [--dry-run]\n`)
  process.exit(2)
}

function parseArgs(argv: readonly string[]): { module: string; spec: ModuleSpec; dryRun: boolean; minutes: number } {
  const [module, ...rest] = argv
  if (module === undefined) usage('no module given')
  const base = MODULES[module]
  if (base === undefined) usage(`unknown module ${module}`)
  let mutate = base.mutate
  let tests = base.tests
  let dryRun = false
  let minutes = Number.POSITIVE_INFINITY
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
    else if (a === '--minutes') {
      minutes = Number(list()[0])
      if (!(minutes > 0)) usage('--minutes needs a positive number')
    }
    else usage(`unknown argument ${a}`)
  }
  return { module, spec: { mutate, tests }, dryRun, minutes }
}

/** Stryker's score: detected (killed + timed out) over valid mutants (compile/runtime errors and ignored excluded). */
export function mutationScore(results: ReadonlyArray<Pick<MutantResult, 'status'>>): { detected: number; survived: number; noCoverage: number; valid: number; score: number } {
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

type Tested = Pick<MutantResult, 'status' | 'fileName' | 'mutatorName' | 'replacement' | 'location'>

function summary(module: string, results: readonly Tested[], started: number, note: string): string {
  const s = mutationScore(results)
  const lines = results
    .filter((r) => r.status === 'Survived' || r.status === 'NoCoverage')
    .map((r) => `  ${r.status} ${r.fileName}:${r.location.start.line}:${r.location.start.column + 1} ${r.mutatorName} → ${JSON.stringify(r.replacement ?? '')}`)
  return (
    `${lines.length > 0 ? `surviving mutants:\n${lines.join('\n')}\n` : ''}` +
    `${module}${note}: ${s.detected} detected / ${s.valid} valid mutants (${s.survived} survived, ${s.noCoverage} no coverage, ` +
    `${results.length - s.valid} invalid) → score ${s.score.toFixed(1)}% in ${((Date.now() - started) / 60000).toFixed(1)} min\n`
  )
}

const { module, spec, dryRun, minutes } = parseArgs(process.argv.slice(2))
const eventsDir = path.join('reports', 'mutation', `events-${module}`)
const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`
const command = [quote(process.execPath), '--test', '--test-concurrency=1', '--test-timeout=120000', ...spec.tests.map(quote)].join(' ')
process.stdout.write(`mutate ${module}: ${spec.mutate.join(' ')}\ntests: ${command}\n`)
const stryker = new Stryker({
  configFile: 'stryker.config.json',
  mutate: [...spec.mutate],
  commandRunner: { command },
  jsonReporter: { fileName: `reports/mutation/${module}.json` },
  reporters: ['clear-text', 'progress', 'json', 'event-recorder'],
  eventReporter: { baseDir: eventsDir },
  dryRunOnly: dryRun,
})
const started = Date.now()
const sandboxes = (): string[] => (fs.existsSync('.stryker-tmp') ? fs.readdirSync('.stryker-tmp') : [])
const before = new Set(sandboxes())
if (Number.isFinite(minutes)) {
  // Time box: read the per-mutant events written so far, report them, and stop (Stryker's workers exit with us).
  setTimeout(() => {
    const tested: Tested[] = fs
      .readdirSync(eventsDir)
      .filter((f) => f.endsWith('-onMutantTested.json'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(eventsDir, f), 'utf8')) as Tested)
    fs.writeFileSync(path.join('reports', 'mutation', `${module}.partial.json`), JSON.stringify(tested, null, 1))
    process.stdout.write(`\n${summary(module, tested, started, ` (stopped after ${minutes} min: the mutants tested so far)`)}`)
    // Remove the sandbox this run created (Stryker cleans it only when it finishes).
    for (const d of sandboxes()) if (!before.has(d)) fs.rmSync(path.join('.stryker-tmp', d), { recursive: true, force: true })
    process.exit(4)
  }, minutes * 60_000).unref()
}
const results = await stryker.runMutationTest()
process.stdout.write(`\n${summary(module, results, started, '')}`)
process.exit(0)
