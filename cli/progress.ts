/**
 * One progress reporter for every long task of the command line and the benchmarks (key generation, weight
 * preparation, benchmark suites).
 *
 * - On a terminal (the stream's `isTTY`): a cli-progress bar that redraws in place and is cleared of its timer on
 *   `stop()`.
 * - Otherwise (a log file, a pipe, a test capturing stderr): plain lines `label … done/total (pct%) detail`, one at
 *   the start, then at most one every `throttleMs` (default 2 s), and always one at the end, so logs stay readable.
 * - `mode: 'none'`: nothing at all (tests, `--quiet`).
 *
 * @example
 * ```ts
 * const p = createProgress({ label: 'prepare weights', total: sites.length })
 * for (const [i, s] of sites.entries()) { prepare(s); p.update(i + 1, `layer ${s.layer}`) }
 * p.stop()
 * ```
 * `p.callback` is an `onProgress(done, total)` for functions that take one.
 */
import cliProgress from 'cli-progress'

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none'

/** What a progress reporter writes to: process.stderr, or any stream with `write` (and `isTTY`/`columns` if a terminal). */
export interface ProgressStream {
  write(chunk: string): boolean
  readonly isTTY?: boolean
  readonly columns?: number
}

export interface ProgressOptions {
  readonly label: string
  /** Work units in all (may be changed later by `update(done, total)`). */
  readonly total: number
  /** A short note shown from the start (later ones come with `update`). */
  readonly detail?: string
  /** 'auto' (default): a bar when the stream is a terminal, lines otherwise. */
  readonly mode?: ProgressMode
  /** Default process.stderr. */
  readonly stream?: ProgressStream
  /** Lines mode: the least time between two lines (ms; default 2000). The first and the last line always print. */
  readonly throttleMs?: number
  /** Clock (ms) for the throttle; default performance.now. */
  readonly now?: () => number
}

export interface Progress {
  /** `done` units of `total` are finished (`total` changes the goal); `detail` is a short note shown with it. */
  update(done: number, detail?: string, total?: number): void
  /** One more unit done. */
  increment(detail?: string): void
  /** Ends the report: the bar is finished, or the last line printed if it was not yet. Idempotent. */
  stop(): void
  /** An `onProgress(done, total)` callback feeding this reporter. */
  readonly callback: (done: number, total: number) => void
  /** The mode chosen ('auto' resolved). */
  readonly mode: Exclude<ProgressMode, 'auto'>
}

/** The mode 'auto' resolves to for a stream: a bar on a terminal (not TERM=dumb), lines otherwise. */
export function resolveMode(mode: ProgressMode, stream: ProgressStream): Exclude<ProgressMode, 'auto'> {
  if (mode !== 'auto') return mode
  return stream.isTTY === true && process.env.TERM !== 'dumb' ? 'bar' : 'lines'
}

function clampCount(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr
  const mode = resolveMode(opts.mode ?? 'auto', stream)
  let total = clampCount(opts.total)
  let done = 0
  let detail = opts.detail ?? ''
  let stopped = false

  if (mode === 'none') {
    const p: Progress = {
      mode,
      update: () => {},
      increment: () => {},
      stop: () => {},
      callback: () => {},
    }
    return p
  }

  if (mode === 'bar') {
    const bar = new cliProgress.SingleBar(
      {
        format: `${opts.label} |{bar}| {value}/{total} {percentage}% | ETA {eta_formatted} {detail}`,
        stream: stream as unknown as NodeJS.WritableStream,
        hideCursor: false,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    )
    bar.start(total, 0, { detail })
    const update = (n: number, d?: string, t?: number): void => {
      if (stopped) return
      if (t !== undefined && clampCount(t) !== total) {
        total = clampCount(t)
        bar.setTotal(total)
      }
      done = Math.min(clampCount(n), total)
      if (d !== undefined) detail = d
      bar.update(done, { detail })
    }
    return {
      mode,
      update,
      increment: (d) => update(done + 1, d),
      stop: () => {
        if (stopped) return
        stopped = true
        bar.stop()
      },
      callback: (n, t) => update(n, undefined, t),
    }
  }

  // lines
  const throttleMs = opts.throttleMs ?? 2000
  const now = opts.now ?? (() => performance.now())
  let last = -Infinity
  let printedDone = -1
  const line = (): void => {
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100
    stream.write(`${opts.label} … ${done}/${total} (${pct}%)${detail !== '' ? ` ${detail}` : ''}\n`)
    last = now()
    printedDone = done
  }
  line()
  const update = (n: number, d?: string, t?: number): void => {
    if (stopped) return
    if (t !== undefined) total = clampCount(t)
    done = Math.min(clampCount(n), total)
    if (d !== undefined) detail = d
    if ((done === total && printedDone !== done) || now() - last >= throttleMs) line()
  }
  return {
    mode,
    update,
    increment: (d) => update(done + 1, d),
    stop: () => {
      if (stopped) return
      stopped = true
      if (printedDone !== done) line()
    },
    callback: (n, t) => update(n, undefined, t),
  }
}
