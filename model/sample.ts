/**
 * Choosing the next token from logits, and streaming generation with a KV cache.
 *
 * - `argmax`: greedy choice (lowest index on ties).
 * - `sampleToken`: softmax(logits / temperature) restricted to the topK largest logits, drawn with a seeded PRNG.
 *   temperature 0 is greedy.
 * - `generate`: a generator yielding each new token as soon as it is chosen (prompt processed in one forward call,
 *   then one token per call through the cache). When the context is full the window slides: the oldest tokens are
 *   dropped and the KV cache is rebuilt from the kept ones (or generation stops, by option); a prompt longer than
 *   the context is truncated to its last nCtx tokens. Both are reported through `onContext`.
 */
import { InvalidOption } from './errors.ts'
import { createKvCache, forward, forwardAsync, validateTokens, type AsyncLinearFn, type ForwardOptions, type GptModel, type HeadMask } from './forward.ts'
import { mulberry32 } from './weights.ts'

export interface SamplingOptions {
  /** 0 = greedy. Default 1. */
  readonly temperature?: number
  /** Keep only the k most likely tokens; 0 or absent = all. */
  readonly topK?: number
}

/** What generation does when the context is full: slide the window (default) or stop. */
export type OnContextFull = 'slide' | 'stop'

/** Something generation did to fit the model's context; reported through `onContext` as it happens. */
export type ContextEvent =
  | { readonly _tag: 'PromptTruncated'; readonly dropped: number; readonly kept: number; readonly nCtx: number }
  | { readonly _tag: 'WindowSlid'; readonly dropped: number; readonly kept: number; readonly nCtx: number }
  | { readonly _tag: 'ContextFull'; readonly generated: number; readonly nCtx: number }

export interface GenerateOptions extends SamplingOptions {
  /** Any number ≥ 0: when the context fills, `onFull` decides (the window slides by default). */
  readonly maxNewTokens: number
  /** Seed of the sampling PRNG (mulberry32). Default 0. */
  readonly seed?: number
  /** Stop after yielding this token. */
  readonly stopToken?: number
  /** Passed to every forward call (head mask, linear hook). */
  readonly forward?: Pick<ForwardOptions, 'headMask' | 'linear'>
  /**
   * When the next token would not fit in nCtx positions: 'slide' (default) keeps the most recent `slideKeep` tokens,
   * rebuilds the KV cache from them (they restart at position 0) and goes on; 'stop' ends the generation there
   * (a `ContextFull` event says so).
   */
  readonly onFull?: OnContextFull
  /** Tokens kept after a slide, 1 ≤ slideKeep < nCtx. Default ⌈nCtx / 2⌉ (one rebuild per nCtx / 2 new tokens). */
  readonly slideKeep?: number
  /** Called when the prompt is truncated to its last nCtx tokens, when the window slides, and when 'stop' stops. */
  readonly onContext?: (event: ContextEvent) => void
  /** Called with the logits each token is sampled from (last position, vocabSize floats), before it is yielded. */
  readonly onLogits?: (logits: Float32Array) => void
}

/** What to run next: `tokens` through the cache (`reset`: through a fresh cache, positions from 0), or stop. */
type WindowStep = { readonly tokens: readonly number[]; readonly reset: boolean } | undefined

/**
 * The context window's bookkeeping, shared by `generate` and `generateAsync`: which tokens occupy the model's
 * positions, and what must be run when a new token arrives.
 */
class ContextWindow {
  private readonly nCtx: number
  private readonly onFull: OnContextFull
  private readonly keep: number
  private readonly onContext: ((e: ContextEvent) => void) | undefined
  private window: number[] = []
  private generated = 0

  constructor(nCtx: number, options: GenerateOptions) {
    this.nCtx = nCtx
    this.onFull = options.onFull ?? 'slide'
    this.keep = options.slideKeep ?? Math.ceil(nCtx / 2)
    this.onContext = options.onContext
  }

  /** The prompt, truncated to its last nCtx tokens (with a `PromptTruncated` event) when longer. */
  start(prompt: readonly number[]): WindowStep {
    const dropped = Math.max(0, prompt.length - this.nCtx)
    this.window = prompt.slice(dropped)
    if (dropped > 0) this.onContext?.({ _tag: 'PromptTruncated', dropped, kept: this.window.length, nCtx: this.nCtx })
    return { tokens: [...this.window], reset: true }
  }

  /** The sampled token `next` must be fed back: through the cache, or through a rebuilt window, or not at all. */
  advance(next: number): WindowStep {
    this.generated++
    if (this.window.length < this.nCtx) {
      this.window.push(next)
      return { tokens: [next], reset: false }
    }
    if (this.onFull === 'stop') {
      this.onContext?.({ _tag: 'ContextFull', generated: this.generated, nCtx: this.nCtx })
      return undefined
    }
    const all = [...this.window, next]
    this.window = all.slice(all.length - this.keep)
    this.onContext?.({ _tag: 'WindowSlid', dropped: all.length - this.keep, kept: this.keep, nCtx: this.nCtx })
    return { tokens: [...this.window], reset: true }
  }
}

function validateGenerate(model: GptModel, prompt: readonly number[], options: GenerateOptions): void {
  validateSampling(options)
  const { maxNewTokens } = options
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new InvalidOption({ option: 'maxNewTokens', reason: `must be an integer ≥ 0, got ${maxNewTokens}` })
  }
  if (prompt.length === 0) throw new InvalidOption({ option: 'prompt', reason: 'empty prompt' })
  validateTokens(model.config, prompt)
  const onFull = options.onFull ?? 'slide'
  if (onFull !== 'slide' && onFull !== 'stop') throw new InvalidOption({ option: 'onFull', reason: `must be 'slide' or 'stop', got ${String(onFull)}` })
  const keep = options.slideKeep
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 1 || keep >= model.config.nCtx)) {
    throw new InvalidOption({ option: 'slideKeep', reason: `must be an integer in 1..${model.config.nCtx - 1}, got ${keep}` })
  }
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i
  return best
}

export function validateSampling(o: SamplingOptions): void {
  const t = o.temperature ?? 1
  if (!Number.isFinite(t) || t < 0) throw new InvalidOption({ option: 'temperature', reason: `must be a finite number ≥ 0, got ${t}` })
  const k = o.topK ?? 0
  if (!Number.isInteger(k) || k < 0) throw new InvalidOption({ option: 'topK', reason: `must be an integer ≥ 0, got ${k}` })
}

/** Draw one token. `rand` returns uniform floats in [0, 1). */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, rand: () => number): number {
  validateSampling(options)
  const temperature = options.temperature ?? 1
  if (temperature === 0) return argmax(logits)
  const n = logits.length
  let idx = Array.from({ length: n }, (_, i) => i)
  const k = options.topK ?? 0
  if (k > 0 && k < n) idx = idx.sort((a, b) => logits[b] - logits[a] || a - b).slice(0, k)
  let max = -Infinity
  for (const i of idx) if (logits[i] > max) max = logits[i]
  const p = idx.map((i) => Math.exp((logits[i] - max) / temperature))
  const total = p.reduce((a, b) => a + b, 0)
  let u = rand() * total
  for (let j = 0; j < idx.length; j++) {
    u -= p[j]
    if (u < 0) return idx[j]
  }
  return idx[idx.length - 1]
}

/**
 * Yield up to maxNewTokens tokens continuing `prompt`, each as soon as it is sampled (the next forward pass runs only
 * when the caller asks for the next token). Never fails for length: a prompt longer than nCtx is truncated to its
 * last nCtx tokens, and a full context slides (or stops, with `onFull: 'stop'`), reported through `onContext`.
 * Throws `InvalidToken`, `InvalidOption` on bad input.
 * @example for (const t of generate(model, tok.encode('The'), { maxNewTokens: 20, temperature: 0 })) write(tok.decode([t]))
 */
export function* generate(model: GptModel, prompt: readonly number[], options: GenerateOptions): Generator<number, void, undefined> {
  validateGenerate(model, prompt, options)
  const { maxNewTokens } = options
  if (maxNewTokens === 0) return
  const rand = mulberry32(options.seed ?? 0)
  const win = new ContextWindow(model.config.nCtx, options)
  let step = win.start(prompt)
  let cache = createKvCache(model.config)
  for (let i = 0; step !== undefined; i++) {
    if (step.reset) cache = createKvCache(model.config)
    const logits = forward(model, step.tokens, { ...options.forward, cache, lastOnly: true })
    options.onLogits?.(logits)
    const next = sampleToken(logits, options, rand)
    yield next
    if (next === options.stopToken || i === maxNewTokens - 1) return
    step = win.advance(next)
  }
}

export interface GenerateAsyncOptions extends Omit<GenerateOptions, 'forward'> {
  /** The asynchronous dense product (e.g. `kernelInt8Linear(service)`). */
  readonly linear: AsyncLinearFn
  readonly headMask?: HeadMask
}

/** `generate` over an asynchronous linear (the GPU int8 and encrypted paths); same tokens for the same products and seed. */
export async function* generateAsync(model: GptModel, prompt: readonly number[], options: GenerateAsyncOptions): AsyncGenerator<number, void, undefined> {
  validateGenerate(model, prompt, options)
  if (options.maxNewTokens === 0) return
  const rand = mulberry32(options.seed ?? 0)
  const win = new ContextWindow(model.config.nCtx, options)
  let step = win.start(prompt)
  let cache = createKvCache(model.config)
  for (let i = 0; step !== undefined; i++) {
    if (step.reset) cache = createKvCache(model.config)
    const fo = { linear: options.linear, cache, lastOnly: true, ...(options.headMask !== undefined ? { headMask: options.headMask } : {}) }
    const logits = await forwardAsync(model, step.tokens, fo)
    options.onLogits?.(logits)
    const next = sampleToken(logits, options, rand)
    yield next
    if (next === options.stopToken || i === options.maxNewTokens - 1) return
    step = win.advance(next)
  }
}
