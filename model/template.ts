/**
 * Brain templates (whitepaper §2.4.4): a local GPT-2-architecture checkpoint (Hugging Face tensor names, as
 * checkpoint.ts reads them) turned into a Brain task — squeezed under a head budget, served as int8 products, with
 * the SHA-256 of the exact weights file miners must serve. The paper's template imports a model "from a Hugging Face
 * URL"; here the checkpoint is a local file (nothing is downloaded).
 *
 * `templateModel` squeezes and writes the checkpoint bytes; `loadBrainTask(dir)` reads a task back and refuses
 * (`WeightsHashMismatch`) weights whose hash differs from the task's. The FHE plan counts of a task are added by
 * cli/template.ts, which may import basedai/fhe (model/ must not: fhe imports model).
 *
 * Head significance: 'ablation' is the paper's S(h) (loss increase with the head masked: nLayer·nHead + 1 passes
 * over the calibration tokens — about 145 passes for GPT-2 small); 'contribution' is a one-pass proxy, the mean
 * squared norm of each head's contribution to the residual stream (its attention output times its rows of the output
 * projection) — what a Brain owner can afford on a CPU for a large checkpoint.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { GptConfig } from './config.ts'
import { InvalidOption, WeightsHashMismatch } from './errors.ts'
import { forward, linearF32, type GptModel, type LinearFn } from './forward.ts'
import { int8Linear } from './int8.ts'
import { argmax } from './sample.ts'
import { defaultHeadCost, headSignificance, saveSqueezed, squeezeHeads, type SqueezeReport } from './squeeze.ts'
import { loadGpt2Checkpoint } from './checkpoint.ts'

export type SignificanceMethod = 'ablation' | 'contribution'

/** Per layer, per head: mean over calibration positions of ‖att_h · W_proj[h]‖² (one forward pass per sequence). */
export function headContribution(model: GptModel, calibration: readonly (readonly number[])[]): number[][] {
  const c = model.config
  const hd = c.nEmbd / c.nHead
  const d = c.nEmbd
  const sum = Array.from({ length: c.nLayer }, () => new Array<number>(c.nHead).fill(0))
  let positions = 0
  const probe: LinearFn = (x, rows, inDim, outDim, w, b, site) => {
    if (site.name === 'proj') {
      const mask = model.headMask?.[site.layer]
      const heads = [...Array(c.nHead).keys()].filter((h) => mask === undefined || mask[h] !== 0)
      heads.forEach((h, j) => {
        const y = new Float64Array(d)
        for (let r = 0; r < rows; r++) {
          y.fill(0)
          for (let i = 0; i < hd; i++) {
            const a = x[r * inDim + j * hd + i]
            const wo = (j * hd + i) * outDim
            for (let o = 0; o < d; o++) y[o] += a * w[wo + o]
          }
          let n = 0
          for (let o = 0; o < d; o++) n += y[o] * y[o]
          sum[site.layer][h] += n
        }
      })
    }
    return linearF32(x, rows, inDim, outDim, w, b, site)
  }
  for (const seq of calibration) {
    forward(model, seq, { linear: probe, lastOnly: true })
    positions += seq.length
  }
  if (positions === 0) throw new InvalidOption({ option: 'calibration', reason: 'no calibration tokens' })
  return sum.map((row) => row.map((s) => s / positions))
}

export interface TemplateOptions {
  /** Head budget as a fraction of the full model's head cost (defaultHeadCost), 0..1. Default 1 (keep all). */
  readonly fraction?: number
  /** Default 'contribution'. */
  readonly significance?: SignificanceMethod
}

/** The Brain task written next to the weights (brain.json). */
export interface BrainTask {
  readonly format: 'basedai.brain-task/1'
  readonly modelId: string
  readonly weightsFile: string
  /** SHA-256 (hex) of the weights file's bytes: what miners must serve and validators check against. */
  readonly weightsHash: string
  readonly config: GptConfig
  readonly tokenizer: 'gpt2' | 'shipped'
  readonly squeeze: {
    readonly budgetFraction: number
    readonly keptFraction: number
    readonly heads: string
    readonly headMask: readonly (readonly number[])[]
    readonly significance: SignificanceMethod
    readonly calibrationTokens: number
    readonly calibrationLossBefore: number
    readonly calibrationLossAfter: number
  }
  readonly int8: {
    /** Products run int8 (per-row activation scales, per-channel weight scales, exact integer accumulation). */
    readonly products: 'int8'
    /** Top-1 agreement of the int8 path with f32 on the calibration positions. */
    readonly top1AgreementWithF32: number
  }
  /** Filled by cli/template.ts: per-token encrypted cost under the FHE planner. */
  readonly fhe?: Readonly<Record<string, number | string>>
}

export interface TemplateResult {
  readonly model: GptModel
  readonly bytes: Uint8Array
  readonly task: BrainTask
  readonly report: SqueezeReport
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Squeeze `model` under `fraction` of its head cost (calibrated on `calibration`), check the int8 path against
 * f32, and produce the checkpoint bytes (pruned heads folded out, mask in the metadata) and the task describing them.
 */
export function templateModel(
  model: GptModel, calibration: readonly (readonly number[])[], modelId: string, tokenizer: BrainTask['tokenizer'], options: TemplateOptions = {},
): TemplateResult {
  const fraction = options.fraction ?? 1
  if (!(fraction >= 0 && fraction <= 1)) throw new InvalidOption({ option: 'fraction', reason: `must be in [0, 1], got ${fraction}` })
  if (!/^[a-zA-Z0-9._-]{1,64}$/.test(modelId)) throw new InvalidOption({ option: 'modelId', reason: `must be 1–64 of [a-zA-Z0-9._-], got '${modelId}'` })
  const calib = calibration.filter((s) => s.length >= 2)
  if (calib.length === 0) throw new InvalidOption({ option: 'calibration', reason: 'needs a sequence of ≥ 2 tokens' })
  const c = model.config
  const method = options.significance ?? 'contribution'
  const total = c.nLayer * c.nHead * defaultHeadCost({ layer: 0, head: 0 }, c)
  const significance = method === 'ablation' ? headSignificance(model, calib) : headContribution(model, calib)
  const { model: squeezed, report } = squeezeHeads(model, calib, { budget: total * fraction }, { significance })
  let same = 0, n = 0
  const V = c.vocabSize
  for (const seq of calib) {
    const a = forward(squeezed, seq)
    const b = forward(squeezed, seq, { linear: int8Linear() })
    for (let t = 0; t < seq.length; t++) {
      if (argmax(a.subarray(t * V, (t + 1) * V)) === argmax(b.subarray(t * V, (t + 1) * V))) same++
      n++
    }
  }
  const bytes = saveSqueezed({ model: squeezed, report })
  const mask = squeezed.headMask ?? []
  const task: BrainTask = {
    format: 'basedai.brain-task/1',
    modelId,
    weightsFile: 'model.safetensors',
    weightsHash: sha256Hex(bytes),
    config: c,
    tokenizer,
    squeeze: {
      budgetFraction: fraction,
      keptFraction: report.headCostAfter / total,
      heads: `${report.kept.length}/${c.nLayer * c.nHead}`,
      headMask: mask,
      significance: method,
      calibrationTokens: calib.reduce((s, q) => s + q.length, 0),
      calibrationLossBefore: report.calibrationLossBefore,
      calibrationLossAfter: report.calibrationLossAfter,
    },
    int8: { products: 'int8', top1AgreementWithF32: same / n },
  }
  return { model: squeezed, bytes, task, report }
}

/** Write `model.safetensors` and `brain.json` into `dir` (created if needed). */
export function writeBrainTask(dir: string, result: Pick<TemplateResult, 'bytes' | 'task'>): void {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, result.task.weightsFile), result.bytes)
  fs.writeFileSync(path.join(dir, 'brain.json'), `${JSON.stringify(result.task, null, 2)}\n`)
}

/** Throw `WeightsHashMismatch` unless the SHA-256 of `bytes` is `expected`. Returns the hash. */
export function checkWeightsHash(bytes: Uint8Array, expected: string, file: string): string {
  const actual = sha256Hex(bytes)
  if (actual !== expected) throw new WeightsHashMismatch({ file, expected, actual })
  return actual
}

/** A task directory as found: the task, the model its weights file holds, that file's actual hash, and whether it matches. */
export interface OpenedBrainTask {
  readonly task: BrainTask
  readonly model: GptModel
  readonly file: string
  /** SHA-256 of the weights file as read. */
  readonly weightsHash: string
  /** Set when `weightsHash` differs from the task's: the weights must not be served or checked. */
  readonly mismatch?: WeightsHashMismatch
}

/** Read a task directory written by `writeBrainTask` without refusing a hash mismatch (a miner reports it instead). */
export function openBrainTask(dir: string): OpenedBrainTask {
  const taskPath = path.join(dir, 'brain.json')
  let task: BrainTask
  try {
    task = JSON.parse(fs.readFileSync(taskPath, 'utf8')) as BrainTask
  } catch (e) {
    throw new InvalidOption({ option: 'template', reason: `${taskPath}: ${e instanceof Error ? e.message : String(e)}` })
  }
  if (task.format !== 'basedai.brain-task/1' || typeof task.weightsHash !== 'string' || typeof task.modelId !== 'string' ||
    typeof task.weightsFile !== 'string' || path.basename(task.weightsFile) !== task.weightsFile) {
    throw new InvalidOption({ option: 'template', reason: `${taskPath} is not a basedai.brain-task/1` })
  }
  const file = path.join(dir, task.weightsFile)
  const bytes = fs.readFileSync(file)
  const weightsHash = sha256Hex(bytes)
  const model = loadGpt2Checkpoint(bytes)
  if (weightsHash === task.weightsHash) return { task, model, file, weightsHash }
  return { task, model, file, weightsHash, mismatch: new WeightsHashMismatch({ file, expected: task.weightsHash, actual: weightsHash }) }
}

/** Read a task directory; throws `WeightsHashMismatch` when its weights do not hash to the task's `weightsHash`. */
export function loadBrainTask(dir: string): { readonly task: BrainTask; readonly model: GptModel } {
  const opened = openBrainTask(dir)
  if (opened.mismatch) throw opened.mismatch
  return { task: opened.task, model: opened.model }
}
