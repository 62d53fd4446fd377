/**
 * `based brain template`: a local GPT-2-architecture checkpoint → a Brain task (whitepaper §2.4.4).
 *
 *   based brain template --weights model.safetensors [--config config.json] [--fraction F] [--significance contribution|ablation]
 *                        [--model-id ID] --out DIR
 *
 * Loads the checkpoint (Hugging Face GPT-2 tensor names), calibrates head significance on public-domain Factbook text
 * (tokenized with GPT-2's tokenizer for a 50,257-token vocabulary, the shipped tokenizer for the shipped one),
 * squeezes under the budget, checks the int8 path, counts the encrypted cost per token with basedai/fhe's planner,
 * and writes DIR/model.safetensors and DIR/brain.json (with the weights' SHA-256, which miners and validators check).
 */
import fs from 'node:fs'
import path from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import { createFheContext, plannerOpCounter, presets } from '../fhe/index.ts'
import {
  configFromHf, countEncryptedOps, InvalidOption, loadCorpus, loadGpt2File, loadGpt2Tokenizer, loadShippedModel, templateModel, writeBrainTask,
  type BrainTask, type GptModel, type SignificanceMethod, type Tokenizer,
} from '../model/index.ts'

export interface BrainTemplateOptions {
  readonly weights: string
  readonly config?: string
  readonly fraction?: number
  readonly significance?: SignificanceMethod
  readonly modelId?: string
  /** Calibration tokens (split into windows of at most min(nCtx, 64)). Default 128. */
  readonly calibrationTokens?: number
  readonly out: string
}

/** Calibration windows from the Factbook training split, in the checkpoint's vocabulary. */
async function calibration(model: GptModel, tokens: number): Promise<{ windows: number[][]; tokenizer: BrainTask['tokenizer'] }> {
  const V = model.config.vocabSize
  const shipped = loadShippedModel()
  let tok: Tokenizer
  let name: BrainTask['tokenizer']
  if (V === 50257) { tok = await loadGpt2Tokenizer(); name = 'gpt2' } else if (V === shipped.model.config.vocabSize) { tok = shipped.tokenizer; name = 'shipped' } else {
    throw new InvalidOption({ option: 'weights', reason: `no tokenizer here for a ${V}-token vocabulary (GPT-2's 50,257 or the shipped ${shipped.model.config.vocabSize})` })
  }
  const ids = tok.encode(loadCorpus().train.slice(0, Math.max(2000, tokens * 8))).slice(0, tokens)
  const w = Math.min(model.config.nCtx, 64)
  const windows: number[][] = []
  for (let i = 0; i + 1 < ids.length; i += w) windows.push(ids.slice(i, i + w))
  return { windows: windows.filter((s) => s.length >= 2), tokenizer: name }
}

/** Build the Brain task and write it to `out`. */
export async function buildBrainTemplate(o: BrainTemplateOptions): Promise<BrainTask> {
  const model = loadGpt2File(o.weights, o.config !== undefined ? { config: configFromHf(JSON.parse(fs.readFileSync(o.config, 'utf8')) as Record<string, unknown>) } : {})
  const calib = await calibration(model, o.calibrationTokens ?? 128)
  const modelId = o.modelId ?? path.basename(o.weights).replace(/\.safetensors$/, '').replace(/[^a-zA-Z0-9._-]/g, '-').slice(0, 64)
  const result = templateModel(model, calib.windows, modelId, calib.tokenizer, {
    ...(o.fraction !== undefined ? { fraction: o.fraction } : {}),
    ...(o.significance !== undefined ? { significance: o.significance } : {}),
  })
  const fhe = createFheContext(presets.bfv4096Linear)
  const counter = plannerOpCounter(fhe)
  const after = countEncryptedOps(result.model, { counter, lmHeadEncrypted: false }).total
  const before = countEncryptedOps({ config: model.config, weights: model.weights }, { counter, lmHeadEncrypted: false }).total
  const task: BrainTask = {
    ...result.task,
    fhe: {
      preset: 'bfv4096Linear',
      lmHead: 'client (plaintext)',
      ctPtProductsPerToken: after.ctPtProducts,
      ctPtProductsPerTokenAllHeads: before.ctPtProducts,
      roundTripsPerToken: after.roundTrips,
      ciphertextsUpPerToken: after.ciphertextsUp,
      ciphertextsDownPerToken: after.ciphertextsDown,
    },
  }
  writeBrainTask(o.out, { bytes: result.bytes, task })
  return task
}

function fractionArg(v: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('--fraction must be a number in 0..1')
  return n
}

function significanceArg(v: string): SignificanceMethod {
  if (v !== 'ablation' && v !== 'contribution') throw new InvalidArgumentError('--significance must be ablation or contribution')
  return v
}

export function registerBrainTemplate(program: Command): void {
  const brain = program.commands.find((c) => c.name() === 'brain') ?? program.command('brain').description('Brain tasks')
  brain
    .command('template')
    .description('turn a local GPT-2-architecture checkpoint (Hugging Face tensor names) into a Brain task: squeezed under a head budget, int8, FHE plan counts, weights hash')
    .requiredOption('--weights <file>', 'the checkpoint (.safetensors)')
    .option('--config <file>', 'HF config.json (default: the checkpoint\'s metadata, or config.json beside it)')
    .option('--fraction <f>', 'head budget as a fraction of the full model\'s head cost', fractionArg, 1)
    .option('--significance <method>', 'contribution (one pass: each head\'s output norm) or ablation (the paper\'s S(h): nLayer·nHead + 1 passes)', significanceArg, 'contribution' as SignificanceMethod)
    .option('--model-id <id>', 'the model id miners serve it under (default: the file name)')
    .requiredOption('--out <dir>', 'output directory (model.safetensors, brain.json)')
    .action(async (o: { weights: string; config?: string; fraction: number; significance: SignificanceMethod; modelId?: string; out: string }) => {
      const task = await buildBrainTemplate(o)
      const { headMask: _m, ...squeeze } = task.squeeze
      process.stdout.write(`${JSON.stringify({ modelId: task.modelId, weightsHash: task.weightsHash, out: o.out, squeeze, int8: task.int8, fhe: task.fhe }, null, 2)}\n`)
    })
}
