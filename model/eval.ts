/**
 * Loss and perplexity of a model on token sequences: mean next-token cross-entropy (nats) over every position that
 * has a successor, on windows of at most nCtx tokens.
 */
import { InvalidOption } from './errors.ts'
import { argmax } from './sample.ts'
import { forward, type ForwardOptions, type GptModel } from './forward.ts'

export interface EvalResult {
  /** Mean cross-entropy in nats per token. */
  readonly loss: number
  /** exp(loss). */
  readonly perplexity: number
  /** Number of predicted positions. */
  readonly count: number
}

/** Split a long token stream into non-overlapping windows of `size` tokens (the last one may be shorter, ≥ 2). */
export function windows(tokens: readonly number[], size: number): number[][] {
  const out: number[][] = []
  for (let i = 0; i + 1 < tokens.length; i += size) out.push(tokens.slice(i, i + size))
  return out.filter((w) => w.length >= 2)
}

/** Log-softmax probability of `target` in row `row` of logits [rows, V]. */
export function logProb(logits: Float32Array, row: number, V: number, target: number): number {
  const o = row * V
  let max = -Infinity
  for (let v = 0; v < V; v++) if (logits[o + v] > max) max = logits[o + v]
  let s = 0
  for (let v = 0; v < V; v++) s += Math.exp(logits[o + v] - max)
  return logits[o + target] - max - Math.log(s)
}

/** Mean next-token loss over the given sequences (each ≤ nCtx long). */
export function evaluate(model: GptModel, sequences: readonly (readonly number[])[], options: Pick<ForwardOptions, 'headMask' | 'linear'> = {}): EvalResult {
  let total = 0
  let count = 0
  const V = model.config.vocabSize
  for (const seq of sequences) {
    if (seq.length < 2) continue
    const logits = forward(model, seq.slice(0, -1), options)
    for (let t = 0; t + 1 < seq.length; t++) {
      total -= logProb(logits, t, V, seq[t + 1])
      count++
    }
  }
  if (count === 0) throw new InvalidOption({ option: 'sequences', reason: 'no sequence has two or more tokens' })
  const loss = total / count
  return { loss, perplexity: Math.exp(loss), count }
}

/** Greedy next-token predictions at every position of every sequence (for top-1 agreement between variants). */
export function top1Predictions(model: GptModel, sequences: readonly (readonly number[])[], options: Pick<ForwardOptions, 'headMask' | 'linear'> = {}): number[] {
  const out: number[] = []
  const V = model.config.vocabSize
  for (const seq of sequences) {
    const logits = forward(model, seq, options)
    for (let t = 0; t < seq.length; t++) out.push(argmax(logits.subarray(t * V, (t + 1) * V)))
  }
  return out
}
