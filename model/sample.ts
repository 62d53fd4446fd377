/**
 * Choosing the next token from logits, and streaming generation with a KV cache.
 *
 * - `argmax`: greedy choice (lowest index on ties).
 * - `sampleToken`: softmax(logits / temperature) restricted to the topK largest logits, drawn with a seeded PRNG.
 *   temperature 0 is greedy.
 * - `generate`: a generator yielding each new token as soon as it is chosen (prompt processed in one forward call,
 *   then one token per call through the cache).
 */
import { ContextOverflow, InvalidOption } from './errors.ts'
import { createKvCache, forward, forwardAsync, validateTokens, type AsyncLinearFn, type ForwardOptions, type GptModel, type HeadMask } from './forward.ts'
import { mulberry32 } from './weights.ts'

export interface SamplingOptions {
  /** 0 = greedy. Default 1. */
  readonly temperature?: number
  /** Keep only the k most likely tokens; 0 or absent = all. */
  readonly topK?: number
}

export interface GenerateOptions extends SamplingOptions {
  readonly maxNewTokens: number
  /** Seed of the sampling PRNG (mulberry32). Default 0. */
  readonly seed?: number
  /** Stop after yielding this token. */
  readonly stopToken?: number
  /** Passed to every forward call (head mask, linear hook). */
  readonly forward?: Pick<ForwardOptions, 'headMask' | 'linear'>
}

function validateGenerate(model: GptModel, prompt: readonly number[], options: GenerateOptions): void {
  validateSampling(options)
  const { maxNewTokens } = options
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new InvalidOption({ option: 'maxNewTokens', reason: `must be an integer ≥ 0, got ${maxNewTokens}` })
  }
  if (prompt.length === 0) throw new InvalidOption({ option: 'prompt', reason: 'empty prompt' })
  validateTokens(model.config, prompt)
  if (prompt.length + maxNewTokens > model.config.nCtx) {
    throw new ContextOverflow({ position: prompt.length + maxNewTokens - 1, nCtx: model.config.nCtx })
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
 * Yield up to maxNewTokens tokens continuing `prompt`. Throws `ContextOverflow` up front when
 * prompt.length + maxNewTokens exceeds nCtx; `InvalidToken`, `InvalidOption` on bad input.
 * @example for (const t of generate(model, tok.encode('The'), { maxNewTokens: 20, temperature: 0 })) write(tok.decode([t]))
 */
export function* generate(model: GptModel, prompt: readonly number[], options: GenerateOptions): Generator<number, void, undefined> {
  validateGenerate(model, prompt, options)
  const { maxNewTokens } = options
  const rand = mulberry32(options.seed ?? 0)
  const cache = createKvCache(model.config)
  let logits = forward(model, prompt, { ...options.forward, cache, lastOnly: true })
  for (let i = 0; i < maxNewTokens; i++) {
    const next = sampleToken(logits, options, rand)
    yield next
    if (next === options.stopToken || i === maxNewTokens - 1) return
    logits = forward(model, [next], { ...options.forward, cache, lastOnly: true })
  }
}

export interface GenerateAsyncOptions extends Omit<GenerateOptions, 'forward'> {
  /** The asynchronous dense product (e.g. `kernelInt8Linear(service)`). */
  readonly linear: AsyncLinearFn
  readonly headMask?: HeadMask
}

/** `generate` over an asynchronous linear (the GPU int8 path); same tokens for the same products and seed. */
export async function* generateAsync(model: GptModel, prompt: readonly number[], options: GenerateAsyncOptions): AsyncGenerator<number, void, undefined> {
  validateGenerate(model, prompt, options)
  const rand = mulberry32(options.seed ?? 0)
  const cache = createKvCache(model.config)
  const fo = { linear: options.linear, cache, lastOnly: true, ...(options.headMask !== undefined ? { headMask: options.headMask } : {}) }
  let logits = await forwardAsync(model, prompt, fo)
  for (let i = 0; i < options.maxNewTokens; i++) {
    const next = sampleToken(logits, options, rand)
    yield next
    if (next === options.stopToken || i === options.maxNewTokens - 1) return
    logits = await forwardAsync(model, [next], fo)
  }
}
