/**
 * Trains a GPT-2-architecture LM on the public-domain CIA World Factbook prose committed in
 * model/train/corpus/factbook.txt, with a byte-level BPE tokenizer learned from the training split (or a given one).
 *
 *   npm run train          (= --preset large: 4 layers, d = 128, context 256, the small model's tokenizer → model/weights/large)
 *   nice -n 19 node model/train/train.ts --preset small      (the small model: 2 layers, d = 64, context 64 → model/weights)
 *        [--steps N] [--batch 8] [--lr 3e-3] [--warmup W] [--min-lr L] [--merges 256 | --tokenizer tokenizer.json]
 *        [--layers 2] [--heads 4] [--embd 64] [--ctx 64] [--seed 1] [--kernels wasm|js] [--max-minutes M]
 *        [--eval-every 250] [--probe-windows 24] [--eval-step K] [--extra-corpus file.txt ...] [--out DIR]
 *
 * The dense work runs on the WebAssembly SIMD kernels (wasm/kernels.ts) where the engine has them, else on the
 * TypeScript loops (kernels.ts); `--kernels` forces one.
 *
 * A progress bar (cli-progress) shows step, loss and ETA on a terminal; without one a line is printed every 50
 * steps. `--max-minutes` stops early (the learning-rate schedule is planned for --steps; the report says where it
 * stopped). `--extra-corpus` adds public-domain training text (training split only; the held-out split stays the
 * Factbook's, so perplexities stay comparable — compare bits per byte when the tokenizer changes). `--eval-step K`
 * measures the final held-out perplexity on every K-th window (default 1: all). The report (train-report.json) holds
 * the loss curve (train EMA every 50 steps, held-out probe every --eval-every) and loss-curve.svg draws it.
 *
 * Split: the corpus has one country per block (separated by blank lines); every 10th block (index % 10 = 9) is
 * held out and never seen by the tokenizer or the optimiser. Training samples random windows of ctx+1 tokens from
 * the training split (seeded), AdamW with linear warm-up and cosine decay to --min-lr (default 10%). At the end the held-out
 * perplexity is measured with the reference forward pass (model/forward.ts, not the training code) on every
 * non-overlapping ctx-token window of the held-out split, and written with the weights:
 *
 *   <out>/factbook-gpt.safetensors  (F32, HF GPT-2 names, config in metadata)
 *   <out>/tokenizer.json  <out>/config.json  <out>/train-report.json
 *
 * The weights are written before the final evaluation (a long evaluation never loses a finished run).
 *
 * Deterministic for given arguments and kernels (seeded init and sampling, single-threaded float32 arithmetic).
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import cliProgress from 'cli-progress'
import { decodeConfig, parameterCount } from '../config.ts'
import { loadCorpus } from '../corpus.ts'
import { saveGpt2Checkpoint } from '../checkpoint.ts'
import { evaluate, windows } from '../eval.ts'
import type { GptModel } from '../forward.ts'
import { ByteBpeTokenizer, trainByteBpe } from '../tokenizer.ts'
import { initWeights, mulberry32 } from '../weights.ts'
import { AdamW, lossAndGrad } from './backprop.ts'
import { jsKernels } from './kernels.ts'
import { defaultTrainKernels, wasmTrainKernels } from './wasm/kernels.ts'

const here = path.dirname(fileURLToPath(import.meta.url))

const PRESETS: Record<string, Record<string, string>> = {
  small: { steps: '1800', batch: '8', lr: '3e-3', merges: '256', layers: '2', heads: '4', embd: '64', ctx: '64', 'eval-every': '250', out: path.join(here, '..', 'weights') },
  large: {
    steps: '3000', batch: '8', lr: '2.5e-3', warmup: '200', merges: '256', layers: '4', heads: '4', embd: '128', ctx: '256', 'eval-every': '500', 'max-minutes': '100', 'probe-windows': '12',
    tokenizer: path.join(here, '..', 'weights', 'tokenizer.json'), out: path.join(here, '..', 'weights', 'large'),
  },
}

/** An SVG line chart of the loss curve (train EMA and held-out probe, nats/token against step). */
export function lossCurveSvg(log: readonly { step: number; trainLoss: number; heldOutProbeLoss?: number }[]): string {
  const W = 640, H = 360, m = 40
  const maxStep = Math.max(1, ...log.map((e) => e.step))
  const ys = log.flatMap((e) => (e.heldOutProbeLoss !== undefined ? [e.trainLoss, e.heldOutProbeLoss] : [e.trainLoss]))
  const lo = Math.floor(Math.min(...ys, 10)), hi = Math.ceil(Math.max(...ys, 0))
  const px = (step: number): number => m + ((W - 2 * m) * step) / maxStep
  const py = (v: number): number => H - m - ((H - 2 * m) * (v - lo)) / Math.max(1e-9, hi - lo)
  const line = (pts: [number, number][], color: string): string => `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`
  const train = log.map((e): [number, number] => [e.step, e.trainLoss])
  const held = log.flatMap((e): [number, number][] => (e.heldOutProbeLoss !== undefined ? [[e.step, e.heldOutProbeLoss]] : []))
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${m}" y1="${H - m}" x2="${W - m}" y2="${H - m}" stroke="black"/><line x1="${m}" y1="${m}" x2="${m}" y2="${H - m}" stroke="black"/>`,
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle">step (0 … ${maxStep})</text>`,
    `<text x="8" y="${m - 12}">loss, nats/token (${lo} … ${hi})</text>`,
    line(train, '#1f77b4'), line(held, '#d62728'),
    `<text x="${W - m - 170}" y="${m}" fill="#1f77b4">train (EMA)</text><text x="${W - m - 170}" y="${m + 16}" fill="#d62728">held-out probe</text>`,
    '</svg>', '',
  ].join('\n')
}

function main(): void {
  const { values: given } = parseArgs({
    options: {
      preset: { type: 'string', default: 'small' },
      steps: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
      merges: { type: 'string' }, layers: { type: 'string' }, heads: { type: 'string' },
      embd: { type: 'string' }, ctx: { type: 'string' }, seed: { type: 'string', default: '1' },
      out: { type: 'string' }, 'eval-every': { type: 'string' }, 'eval-step': { type: 'string', default: '1' },
      'max-minutes': { type: 'string' }, 'extra-corpus': { type: 'string', multiple: true },
      tokenizer: { type: 'string' }, 'probe-windows': { type: 'string' }, kernels: { type: 'string' }, warmup: { type: 'string' }, 'min-lr': { type: 'string' },
    },
  })
  const preset = PRESETS[given.preset]
  if (preset === undefined) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`)
  const values = { ...preset, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) } as Record<string, string> & { 'extra-corpus'?: string[] }
  const steps = Number(values.steps), batchSize = Number(values.batch), lrMax = Number(values.lr), seed = Number(values.seed)
  const maxMs = values['max-minutes'] !== undefined ? Number(values['max-minutes']) * 60_000 : Infinity
  const evalStep = Number(values['eval-step'])
  for (const [k, v] of [['steps', steps], ['batch', batchSize], ['lr', lrMax], ['eval-step', evalStep]] as const) {
    if (!(v > 0) || !Number.isFinite(v)) throw new Error(`--${k} must be a positive number`)
  }
  const t0 = performance.now()
  const corpus = loadCorpus()
  const extra = (values['extra-corpus'] ?? []).map((f) => fs.readFileSync(f, 'utf8'))
  const train = [corpus.train, ...extra].join('\n\n')
  const heldOut = corpus.heldOut
  const tokenizer = values.tokenizer !== undefined
    ? ByteBpeTokenizer.fromJSON(JSON.parse(fs.readFileSync(values.tokenizer, 'utf8')))
    : trainByteBpe(train, Number(values.merges))
  const kernels = values.kernels === 'js' ? jsKernels : values.kernels === 'wasm' ? wasmTrainKernels : defaultTrainKernels
  if (kernels === undefined) throw new Error('--kernels wasm: the WebAssembly SIMD training kernels are not available here')
  const trainTokens = tokenizer.encode(train)
  const heldTokens = tokenizer.encode(heldOut)
  console.log(`tokenizer: ${tokenizer.vocabSize} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s; train ${trainTokens.length} tokens (${train.length} chars${extra.length > 0 ? `, ${extra.length} extra corpus file(s)` : ''}), held-out ${heldTokens.length} tokens (${heldOut.length} chars)`)
  const config = decodeConfig({ nLayer: Number(values.layers), nHead: Number(values.heads), nEmbd: Number(values.embd), nCtx: Number(values.ctx), vocabSize: tokenizer.vocabSize })
  const model: GptModel = { config, weights: initWeights(config, seed) }
  console.log(`model: ${JSON.stringify(config)}, ${parameterCount(config)} parameters`)
  const opt = new AdamW(model)
  const rand = mulberry32(seed + 1000)
  const T = config.nCtx
  const heldWindows = windows(heldTokens, T)
  const probeCount = Number(values['probe-windows'] ?? 24)
  const probe = heldWindows.filter((_, i) => i % Math.max(1, Math.floor(heldWindows.length / probeCount)) === 0).slice(0, probeCount)
  const warmup = values.warmup !== undefined ? Number(values.warmup) : Math.min(100, Math.floor(steps / 10))
  const minLr = values['min-lr'] !== undefined ? Number(values['min-lr']) : 0.1 * lrMax
  console.log(`kernels: ${kernels.name}; ${steps} steps × ${batchSize} × ${T} tokens, lr ${lrMax} (warm-up ${warmup}, cosine to ${minLr})`)
  const log: { step: number; trainLoss: number; heldOutProbeLoss?: number; seconds: number }[] = []
  let ema = NaN
  const tTrain = performance.now()
  const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'train |{bar}| {value}/{total} steps | loss {loss} | {tps} tok/s | ETA {eta_formatted}', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined
  bar?.start(steps, 0, { loss: '—', tps: '—' })
  let stepsDone = 0
  for (let step = 1; step <= steps; step++) {
    if (performance.now() - tTrain > maxMs) break
    const batch: number[][] = []
    for (let b = 0; b < batchSize; b++) {
      const start = Math.floor(rand() * (trainTokens.length - T - 1))
      batch.push(trainTokens.slice(start, start + T + 1))
    }
    const lr = step <= warmup ? (lrMax * step) / warmup : minLr + (lrMax - minLr) * 0.5 * (1 + Math.cos((Math.PI * (step - warmup)) / (steps - warmup)))
    const { loss, grad } = lossAndGrad(model, batch, undefined, kernels)
    opt.update(grad, { lr, weightDecay: 0.1, clip: 1 })
    ema = Number.isNaN(ema) ? loss : 0.95 * ema + 0.05 * loss
    const seconds = (performance.now() - tTrain) / 1000
    stepsDone = step
    bar?.update(step, { loss: ema.toFixed(3), tps: Math.round((step * batchSize * T) / seconds) })
    const last = step === steps || performance.now() - tTrain > maxMs
    if (step % 50 === 0 || step === 1 || last) {
      const entry: (typeof log)[number] = { step, trainLoss: ema, seconds }
      if (step % Number(values['eval-every']) === 0 || step === 1 || last) entry.heldOutProbeLoss = evaluate(model, probe).loss
      log.push(entry)
      if (!bar) console.log(`step ${step}/${steps} lr ${lr.toExponential(2)} train(ema) ${ema.toFixed(3)}${entry.heldOutProbeLoss !== undefined ? ` held-out probe ${entry.heldOutProbeLoss.toFixed(3)}` : ''} ${seconds.toFixed(0)} s, ${Math.round((step * batchSize * T) / seconds)} tok/s`)
    }
  }
  bar?.stop()
  const trainSeconds = (performance.now() - tTrain) / 1000
  if (stepsDone < steps) console.log(`stopped at step ${stepsDone} of ${steps}: --max-minutes ${values['max-minutes']} reached`)
  const out = values.out
  fs.mkdirSync(out, { recursive: true })
  fs.writeFileSync(path.join(out, 'factbook-gpt.safetensors'), saveGpt2Checkpoint(model, { metadata: { corpus: 'CIA World Factbook prose (public domain), model/train/corpus/factbook.txt' } }))
  fs.writeFileSync(path.join(out, 'tokenizer.json'), JSON.stringify(tokenizer.toJSON()))
  fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify({ ...config, n_layer: config.nLayer, n_head: config.nHead, n_embd: config.nEmbd, n_positions: config.nCtx, vocab_size: config.vocabSize, layer_norm_epsilon: config.layerNormEps }, null, 2) + '\n')
  fs.writeFileSync(path.join(out, 'loss-curve.svg'), lossCurveSvg(log))
  console.log(`wrote the weights to ${out}; evaluating the held-out split with the reference forward`)
  const evalWindows = heldWindows.filter((_, i) => i % evalStep === 0)
  const tEval = performance.now()
  const held = evaluate(model, evalWindows)
  const evalSeconds = (performance.now() - tEval) / 1000
  const heldBytes = new TextEncoder().encode(tokenizer.decode(evalWindows.flatMap((w) => w.slice(1)))).length
  const bitsPerByte = (held.loss * held.count) / Math.LN2 / heldBytes
  console.log(`held-out: loss ${held.loss.toFixed(4)} nats/token, perplexity ${held.perplexity.toFixed(2)} over ${held.count} tokens, ${bitsPerByte.toFixed(3)} bits/byte`)
  const report = {
    args: { ...values, out: path.relative(process.cwd(), values.out), ...(values.tokenizer !== undefined ? { tokenizer: path.relative(process.cwd(), values.tokenizer) } : {}) }, config, parameters: parameterCount(config), trainTokens: trainTokens.length, heldOutTokens: heldTokens.length,
    steps, stepsDone, tokensSeen: stepsDone * batchSize * T, trainSeconds: Math.round(trainSeconds), evalSeconds: Math.round(evalSeconds), kernels: kernels.name,
    trainTokensPerSecond: Math.round((stepsDone * batchSize * T) / trainSeconds), extraCorpus: values['extra-corpus'] ?? [],
    heldOut: { loss: held.loss, perplexity: held.perplexity, tokens: held.count, bitsPerByte, windows: evalWindows.length, everyKthWindow: evalStep, of: heldWindows.length },
    log,
  }
  fs.writeFileSync(path.join(out, 'train-report.json'), JSON.stringify(report, null, 2) + '\n')
  console.log(`wrote ${out}`)
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
