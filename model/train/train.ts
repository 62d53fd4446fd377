/**
 * Trains the shipped model: a 2-layer GPT-2-architecture LM on the public-domain CIA World Factbook prose committed
 * in model/train/corpus/factbook.txt, with a byte-level BPE tokenizer learned from the training split.
 *
 *   nice -n 19 node model/train/train.ts [--steps 1500] [--batch 8] [--lr 3e-3] [--merges 256]
 *        [--layers 2] [--heads 4] [--embd 64] [--ctx 64] [--seed 1] [--out model/weights]
 *
 * Split: the corpus has one country per block (separated by blank lines); every 10th block (index % 10 = 9) is
 * held out and never seen by the tokenizer or the optimiser. Training samples random windows of ctx+1 tokens from
 * the training split (seeded), AdamW with linear warm-up and cosine decay to 10%. At the end the held-out
 * perplexity is measured with the reference forward pass (model/forward.ts, not the training code) on every
 * non-overlapping ctx-token window of the held-out split, and written with the weights:
 *
 *   <out>/factbook-gpt.safetensors  (F32, HF GPT-2 names, config in metadata)
 *   <out>/tokenizer.json  <out>/config.json  <out>/train-report.json
 *
 * Deterministic for given arguments (seeded init and sampling, single-threaded float32 arithmetic).
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { decodeConfig, parameterCount } from '../config.ts'
import { loadCorpus } from '../corpus.ts'
import { saveGpt2Checkpoint } from '../checkpoint.ts'
import { evaluate, windows } from '../eval.ts'
import type { GptModel } from '../forward.ts'
import { trainByteBpe } from '../tokenizer.ts'
import { initWeights, mulberry32 } from '../weights.ts'
import { AdamW, lossAndGrad } from './backprop.ts'

const here = path.dirname(fileURLToPath(import.meta.url))

function main(): void {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '1500' }, batch: { type: 'string', default: '8' }, lr: { type: 'string', default: '3e-3' },
      merges: { type: 'string', default: '256' }, layers: { type: 'string', default: '2' }, heads: { type: 'string', default: '4' },
      embd: { type: 'string', default: '64' }, ctx: { type: 'string', default: '64' }, seed: { type: 'string', default: '1' },
      out: { type: 'string', default: path.join(here, '..', 'weights') }, 'eval-every': { type: 'string', default: '250' },
    },
  })
  const steps = Number(values.steps), batchSize = Number(values.batch), lrMax = Number(values.lr), seed = Number(values.seed)
  const t0 = performance.now()
  const { train, heldOut } = loadCorpus()
  const tokenizer = trainByteBpe(train, Number(values.merges))
  const trainTokens = tokenizer.encode(train)
  const heldTokens = tokenizer.encode(heldOut)
  console.log(`tokenizer: ${tokenizer.vocabSize} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s; train ${trainTokens.length} tokens (${train.length} chars), held-out ${heldTokens.length} tokens (${heldOut.length} chars)`)
  const config = decodeConfig({ nLayer: Number(values.layers), nHead: Number(values.heads), nEmbd: Number(values.embd), nCtx: Number(values.ctx), vocabSize: tokenizer.vocabSize })
  const model: GptModel = { config, weights: initWeights(config, seed) }
  console.log(`model: ${JSON.stringify(config)}, ${parameterCount(config)} parameters`)
  const opt = new AdamW(model)
  const rand = mulberry32(seed + 1000)
  const T = config.nCtx
  const heldWindows = windows(heldTokens, T)
  const probe = heldWindows.filter((_, i) => i % Math.max(1, Math.floor(heldWindows.length / 24)) === 0).slice(0, 24)
  const warmup = Math.min(100, Math.floor(steps / 10))
  const log: { step: number; trainLoss: number; heldOutProbeLoss?: number; seconds: number }[] = []
  let ema = NaN
  const tTrain = performance.now()
  for (let step = 1; step <= steps; step++) {
    const batch: number[][] = []
    for (let b = 0; b < batchSize; b++) {
      const start = Math.floor(rand() * (trainTokens.length - T - 1))
      batch.push(trainTokens.slice(start, start + T + 1))
    }
    const lr = step <= warmup ? (lrMax * step) / warmup : lrMax * (0.1 + 0.45 * (1 + Math.cos((Math.PI * (step - warmup)) / (steps - warmup))))
    const { loss, grad } = lossAndGrad(model, batch)
    opt.update(grad, { lr, weightDecay: 0.1, clip: 1 })
    ema = Number.isNaN(ema) ? loss : 0.95 * ema + 0.05 * loss
    const seconds = (performance.now() - tTrain) / 1000
    if (step % 50 === 0 || step === steps) {
      const entry: (typeof log)[number] = { step, trainLoss: ema, seconds }
      if (step % Number(values['eval-every']) === 0 || step === steps) entry.heldOutProbeLoss = evaluate(model, probe).loss
      log.push(entry)
      console.log(`step ${step}/${steps} lr ${lr.toExponential(2)} train(ema) ${ema.toFixed(3)}${entry.heldOutProbeLoss !== undefined ? ` held-out probe ${entry.heldOutProbeLoss.toFixed(3)}` : ''} ${seconds.toFixed(0)} s`)
    }
  }
  const trainSeconds = (performance.now() - tTrain) / 1000
  const held = evaluate(model, heldWindows)
  const heldBytes = new TextEncoder().encode(tokenizer.decode(heldWindows.flatMap((w) => w.slice(1)))).length
  const bitsPerByte = (held.loss * held.count) / Math.LN2 / heldBytes
  console.log(`held-out: loss ${held.loss.toFixed(4)} nats/token, perplexity ${held.perplexity.toFixed(2)} over ${held.count} tokens, ${bitsPerByte.toFixed(3)} bits/byte`)
  const out = values.out
  fs.mkdirSync(out, { recursive: true })
  fs.writeFileSync(path.join(out, 'factbook-gpt.safetensors'), saveGpt2Checkpoint(model, { metadata: { corpus: 'CIA World Factbook prose (public domain), model/train/corpus/factbook.txt' } }))
  fs.writeFileSync(path.join(out, 'tokenizer.json'), JSON.stringify(tokenizer.toJSON()))
  fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify({ ...config, n_layer: config.nLayer, n_head: config.nHead, n_embd: config.nEmbd, n_positions: config.nCtx, vocab_size: config.vocabSize, layer_norm_epsilon: config.layerNormEps }, null, 2) + '\n')
  const report = {
    args: { ...values, out: path.relative(process.cwd(), values.out) }, config, parameters: parameterCount(config), trainTokens: trainTokens.length, heldOutTokens: heldTokens.length,
    steps, tokensSeen: steps * batchSize * T, trainSeconds: Math.round(trainSeconds),
    heldOut: { loss: held.loss, perplexity: held.perplexity, tokens: held.count, bitsPerByte, windows: heldWindows.length },
    log,
  }
  fs.writeFileSync(path.join(out, 'train-report.json'), JSON.stringify(report, null, 2) + '\n')
  console.log(`wrote ${out}`)
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
