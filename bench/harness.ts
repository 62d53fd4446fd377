/**
 * Benchmark harness shared by every suite in bench/.
 *
 * A suite is a module `bench/<name>.ts` exporting `bench(ctx): Promise<BenchSection>`. `npm run bench -- <name>`
 * runs one suite (no name: all of them), prints each section as a table and rewrites that suite's section of
 * bench/RESULTS.md, leaving the other suites' sections as they were. Benchmarks are not tests: they measure, they do
 * not assert. Every figure is measured in the same run as the peer it is compared with.
 */
import os from 'node:os'
import { performance } from 'node:perf_hooks'

export type Cell = string | number
export interface BenchSection {
  /** Section title, e.g. "Actors: message throughput". */
  readonly title: string
  /** Where it ran: the WebGPU adapter for kernel suites; the CPU otherwise (filled in when absent). */
  readonly device?: string
  /** Column order of the table. */
  readonly columns: readonly string[]
  readonly rows: ReadonlyArray<Readonly<Record<string, Cell>>>
  /** Free-form lines printed under the table: targets, ratios, caveats. */
  readonly notes?: readonly string[]
}
export interface BenchContext {
  /** Quick mode (`--quick`): fewer iterations, for smoke runs. */
  readonly quick: boolean
  /** Progress line for long work. */
  readonly progress: (line: string) => void
}
export type Suite = (ctx: BenchContext) => Promise<BenchSection>

/** Runs `fn` repeatedly for at least `minMs` (after one warm-up call) and returns the median ms per call. */
export async function timeIt(fn: () => unknown, opts: { minMs?: number; minRuns?: number } = {}): Promise<number> {
  const minMs = opts.minMs ?? 300
  const minRuns = opts.minRuns ?? 5
  await fn()
  const samples: number[] = []
  const start = performance.now()
  while (samples.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now()
    await fn()
    samples.push(performance.now() - t0)
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)] ?? 0
}

export function cpuDescription(): string {
  const cpus = os.cpus()
  return `${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length}, Node ${process.version}`
}

export function fmt(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n)
  const abs = Math.abs(n)
  if (abs >= 1e6) return n.toExponential(digits - 1)
  if (abs >= 100) return n.toFixed(0)
  return n.toPrecision(digits)
}

export function renderSection(s: BenchSection): string {
  const header = `| ${s.columns.join(' | ')} |`
  const rule = `| ${s.columns.map(() => '---').join(' | ')} |`
  const body = s.rows.map((r) => `| ${s.columns.map((c) => String(r[c] ?? '')).join(' | ')} |`)
  const notes = (s.notes ?? []).map((n) => `- ${n}`)
  return [`### ${s.title}`, '', `Device: ${s.device ?? cpuDescription()}`, '', header, rule, ...body, '', ...notes].join('\n')
}
