/**
 * Squeeze the shipped model under a rule (what `based squeeze` and model/train/squeeze.ts run): calibration on 24
 * windows of the training split (so the held-out perplexity reported after stays unbiased), the squeezed checkpoint
 * as bytes (mask folded into the weights, mask and report in its metadata) and the report with held-out perplexity
 * before and after.
 */
import { evaluate, windows } from './eval.ts'
import { loadCorpus } from './corpus.ts'
import { InvalidOption } from './errors.ts'
import { loadShippedModel } from './shipped.ts'
import { defaultHeadCost, saveSqueezed, squeezeHeads, type SqueezeReport } from './squeeze.ts'

export type ShippedSqueezeRule = { readonly budget: number } | { readonly fraction: number } | { readonly theta: number }

export interface ShippedSqueezeResult {
  readonly bytes: Uint8Array
  readonly report: SqueezeReport & {
    readonly heldOutPerplexityBefore: number
    readonly heldOutPerplexityAfter: number
    readonly totalHeadCost: number
    /** The budget as a fraction of the full model's head cost (as given with `fraction`; absent for θ). */
    readonly budgetFraction?: number
    /** Head cost kept, as a fraction of the full model's (≤ budgetFraction). */
    readonly keptFraction: number
    /** Heads kept, e.g. "4/8". */
    readonly heads: string
  }
}

export function squeezeShipped(rule: ShippedSqueezeRule): ShippedSqueezeResult {
  const { model, tokenizer } = loadShippedModel()
  const c = model.config
  const corpus = loadCorpus()
  const calib = windows(tokenizer.encode(corpus.train.slice(0, 200_000)), c.nCtx)
    .filter((_, i) => i % 8 === 0)
    .slice(0, 24)
  const totalHeadCost = c.nLayer * c.nHead * defaultHeadCost({ layer: 0, head: 0 }, c)
  if ('fraction' in rule && !(rule.fraction >= 0 && rule.fraction <= 1)) {
    throw new InvalidOption({ option: 'fraction', reason: `must be in [0, 1], got ${rule.fraction}` })
  }
  const r = 'theta' in rule ? { theta: rule.theta } : { budget: 'budget' in rule ? rule.budget : Math.round(totalHeadCost * rule.fraction) }
  const result = squeezeHeads(model, calib, r)
  const held = windows(tokenizer.encode(corpus.heldOut), c.nCtx).filter((_, i) => i % 8 === 0)
  return {
    bytes: saveSqueezed(result),
    report: {
      ...result.report,
      totalHeadCost,
      ...('theta' in rule ? {} : { budgetFraction: 'fraction' in rule ? rule.fraction : rule.budget / totalHeadCost }),
      keptFraction: result.report.headCostAfter / totalHeadCost,
      heads: `${result.report.kept.length}/${c.nLayer * c.nHead}`,
      heldOutPerplexityBefore: evaluate(model, held).perplexity,
      heldOutPerplexityAfter: evaluate(result.model, held).perplexity,
    },
  }
}
