/**
 * Squeeze the shipped model (what `based squeeze --budget X --out file` will call):
 *
 *   node model/train/squeeze.ts (--budget <head-cost units> | --fraction <0..1> | --theta <nats>) --out squeezed.safetensors
 *
 * Calibration text: 24 windows from the training split, so the held-out perplexity printed afterwards stays
 * unbiased. Writes the squeezed checkpoint (mask folded into the weights, mask and report in its metadata) and
 * prints the report.
 */
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { defaultHeadCost, squeezeHeads, saveSqueezed } from '../squeeze.ts'
import { evaluate, windows } from '../eval.ts'
import { loadCorpus } from '../corpus.ts'
import { loadShippedModel } from '../shipped.ts'

const { values } = parseArgs({ options: { budget: { type: 'string' }, fraction: { type: 'string' }, theta: { type: 'string' }, out: { type: 'string' } } })
if (values.out === undefined || [values.budget, values.fraction, values.theta].filter((v) => v !== undefined).length !== 1) {
  console.error('usage: node model/train/squeeze.ts (--budget N | --fraction F | --theta T) --out file.safetensors')
  process.exit(2)
}
const { model, tokenizer } = loadShippedModel()
const c = model.config
const corpus = loadCorpus()
const calib = windows(tokenizer.encode(corpus.train.slice(0, 200_000)), c.nCtx).filter((_, i) => i % 8 === 0).slice(0, 24)
const allHeads = c.nLayer * c.nHead * defaultHeadCost({ layer: 0, head: 0 }, c)
const rule = values.theta !== undefined ? { theta: Number(values.theta) }
  : { budget: values.budget !== undefined ? Number(values.budget) : Math.round(allHeads * Number(values.fraction)) }
const result = squeezeHeads(model, calib, rule)
fs.writeFileSync(values.out, saveSqueezed(result))
const held = windows(tokenizer.encode(corpus.heldOut), c.nCtx).filter((_, i) => i % 8 === 0)
console.log(JSON.stringify({
  ...result.report,
  heldOutPerplexityBefore: evaluate(model, held).perplexity,
  heldOutPerplexityAfter: evaluate(result.model, held).perplexity,
  out: values.out,
}, null, 2))
