/**
 * `npm run bench -- [suite ...] [--quick]`: runs benchmark suites (bench/<suite>.ts) and rewrites their sections of
 * bench/RESULTS.md. With no suite named, runs every suite listed in SUITES.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderSection, type Suite } from './harness.ts'
import { createProgress } from '../cli/progress.ts'

const SUITES = ['actors', 'ledger', 'consensus', 'kernels', 'fhe', 'model', 'forecast', 'bft', 'net'] as const
const here = path.dirname(fileURLToPath(import.meta.url))
const resultsPath = path.join(here, 'RESULTS.md')

function replaceSection(doc: string, name: string, body: string): string {
  const begin = `<!-- bench:${name}:begin -->`
  const end = `<!-- bench:${name}:end -->`
  const block = `${begin}\n${body}\n_Measured ${new Date().toISOString()}_\n${end}`
  const i = doc.indexOf(begin)
  const j = doc.indexOf(end)
  if (i >= 0 && j > i) return doc.slice(0, i) + block + doc.slice(j + end.length)
  return `${doc.trimEnd()}\n\n${block}\n`
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const quick = args.includes('--quick')
  const names = args.filter((a) => !a.startsWith('--'))
  const unknown = names.filter((n) => !(SUITES as readonly string[]).includes(n))
  if (unknown.length > 0) {
    console.error(`unknown bench suite(s): ${unknown.join(', ')}; known: ${SUITES.join(', ')}`)
    process.exit(2)
  }
  const chosen = names.length > 0 ? names : SUITES.filter((s) => fs.existsSync(path.join(here, `${s}.ts`)))
  // RESULTS.md is re-read right before each section is written, so suites run at the same time (two terminals)
  // do not overwrite each other's sections.
  const readDoc = (): string =>
    fs.existsSync(resultsPath)
      ? fs.readFileSync(resultsPath, 'utf8')
      : '# Benchmark results\n\nWritten by `npm run bench`. Each section is rewritten when its suite runs.\n'
  // Suite i of n: one plain line (stderr) as each suite starts and one at the end. The suites print their tables to
  // stdout and their own progress lines to stderr between these, so a redrawn bar would be torn up by them.
  const n = chosen.length
  const suites = createProgress({ label: 'bench', total: n, mode: 'lines', throttleMs: 0, detail: `suite 1 of ${n}: ${chosen[0] ?? ''}` })
  for (const [i, name] of chosen.entries()) {
    if (i > 0) suites.update(i, `suite ${i + 1} of ${n}: ${name}`)
    const file = path.join(here, `${name}.ts`)
    if (!fs.existsSync(file)) {
      console.error(`bench suite ${name}: ${file} does not exist yet`)
      process.exitCode = 1
      continue
    }
    console.log(`\n== bench ${name} ==`)
    const mod = (await import(file)) as { bench?: Suite }
    if (typeof mod.bench !== 'function') throw new Error(`bench/${name}.ts does not export bench()`)
    const t0 = performance.now()
    const tag = `[${i + 1}/${chosen.length} ${name}]`
    const section = await mod.bench({ quick, progress: (line) => process.stderr.write(`  … ${tag} ${line}\n`) })
    const text = renderSection(section)
    console.log(text)
    fs.writeFileSync(resultsPath, replaceSection(readDoc(), name, text))
    process.stderr.write(`  … ${tag} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  }
  suites.update(n, 'all suites done')
  suites.stop()
  console.log(`\nwrote ${path.relative(process.cwd(), resultsPath)}`)
}

await main()
