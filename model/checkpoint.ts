/**
 * GPT-2 checkpoints in safetensors format, with HF GPT-2 tensor names:
 *
 *   wte.weight [V, d]   wpe.weight [nCtx, d]   ln_f.{weight,bias} [d]
 *   h.{i}.ln_1.{weight,bias}  h.{i}.attn.c_attn.{weight [d, 3d], bias}  h.{i}.attn.c_proj.{weight [d, d], bias}
 *   h.{i}.ln_2.{weight,bias}  h.{i}.mlp.c_fc.{weight [d, 4d], bias}     h.{i}.mlp.c_proj.{weight [4d, d], bias}
 *
 * optionally all prefixed with `transformer.` (GPT2LMHeadModel exports). Weights are Conv1D layout [in, out], which
 * is the layout `forward` uses, so no transposition happens. Extra tensors (the `attn.bias` causal-mask buffers of
 * old exports, `lm_head.weight` which is tied to wte) are ignored.
 *
 * The config comes from (in order) the `config` option, the `basedai.config` metadata entry this module writes, or
 * an HF config.json next to the file (`loadGpt2File`). A missing, truncated or mis-shaped tensor throws
 * `MissingTensor`, `TruncatedTensor` or `TensorShapeMismatch` naming the tensor.
 */
import fs from 'node:fs'
import path from 'node:path'
import { configFromHf, decodeConfig, type GptConfig } from './config.ts'
import { InvalidConfig, InvalidOption, MissingTensor, TensorShapeMismatch } from './errors.ts'
import { validateHeadMask, type GptModel } from './forward.ts'
import { parseSafetensors, writeSafetensors, type SafetensorsFile } from './safetensors.ts'
import { LAYER_TENSORS, namedTensors, type GptWeights, type LayerWeights } from './weights.ts'

export const CONFIG_METADATA_KEY = 'basedai.config'
/** Metadata entry holding a squeezed model's head mask (JSON [nLayer][nHead]); loaded into `GptModel.headMask`. */
export const HEAD_MASK_METADATA_KEY = 'basedai.headMask'

export interface LoadOptions {
  /** Hyper-parameters; overrides any config stored in the file. */
  readonly config?: unknown
}

function configOf(file: SafetensorsFile, options: LoadOptions): GptConfig {
  if (options.config !== undefined) return decodeConfig(options.config)
  const stored = file.metadata[CONFIG_METADATA_KEY]
  if (stored === undefined) {
    throw new InvalidConfig({ field: '(root)', reason: `no config given and no "${CONFIG_METADATA_KEY}" metadata in the file (nHead cannot be inferred from shapes)` })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(stored)
  } catch {
    throw new InvalidConfig({ field: '(root)', reason: `"${CONFIG_METADATA_KEY}" metadata is not JSON` })
  }
  return decodeConfig(parsed)
}

/** Build a model from safetensors bytes. */
export function loadGpt2Checkpoint(bytes: Uint8Array, options: LoadOptions = {}): GptModel {
  const file = parseSafetensors(bytes)
  const config = configOf(file, options)
  const prefix = file.tensors.has('transformer.wte.weight') && !file.tensors.has('wte.weight') ? 'transformer.' : ''
  const get = (name: string, shape: readonly number[]): Float32Array => {
    const info = file.tensors.get(prefix + name)
    if (info === undefined) throw new MissingTensor({ tensor: prefix + name })
    if (info.shape.length !== shape.length || info.shape.some((s, i) => s !== shape[i])) {
      throw new TensorShapeMismatch({ tensor: prefix + name, expected: shape, actual: info.shape })
    }
    return file.getF32(info)
  }
  const d = config.nEmbd
  const layers: LayerWeights[] = []
  for (let i = 0; i < config.nLayer; i++) {
    const entries = LAYER_TENSORS.map((t) => [t.key, get(`h.${i}.${t.suffix}`, t.shape(d))] as const)
    layers.push(Object.fromEntries(entries) as unknown as LayerWeights)
  }
  const weights: GptWeights = {
    wte: get('wte.weight', [config.vocabSize, d]),
    wpe: get('wpe.weight', [config.nCtx, d]),
    layers,
    lnfG: get('ln_f.weight', [d]),
    lnfB: get('ln_f.bias', [d]),
  }
  const maskJson = file.metadata[HEAD_MASK_METADATA_KEY]
  if (maskJson === undefined) return { config, weights }
  let headMask: unknown
  try {
    headMask = JSON.parse(maskJson)
  } catch {
    throw new InvalidOption({ option: 'headMask', reason: `"${HEAD_MASK_METADATA_KEY}" metadata is not JSON` })
  }
  if (!Array.isArray(headMask) || !headMask.every((r) => Array.isArray(r) && r.every((v) => typeof v === 'number'))) {
    throw new InvalidOption({ option: 'headMask', reason: `"${HEAD_MASK_METADATA_KEY}" metadata is not a number[][]` })
  }
  validateHeadMask(config, headMask as number[][])
  return { config, weights, headMask: headMask as number[][] }
}

/**
 * Load `<file>.safetensors`; if no config is given and the file carries none, read `config.json` (HF format) from
 * the same directory.
 */
export function loadGpt2File(file: string, options: LoadOptions = {}): GptModel {
  const bytes = fs.readFileSync(file)
  let opts = options
  if (opts.config === undefined) {
    const cfgPath = path.join(path.dirname(file), 'config.json')
    const meta = parseSafetensors(bytes).metadata[CONFIG_METADATA_KEY]
    if (meta === undefined && fs.existsSync(cfgPath)) {
      opts = { config: configFromHf(JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as Record<string, unknown>) }
    }
  }
  return loadGpt2Checkpoint(bytes, opts)
}

/**
 * Serialise a model with HF GPT-2 names and its config in the metadata. A head mask, if any, is stored in the
 * metadata too; callers that want the file to mean the same to other GPT-2 runners fold it first (foldHeadMask).
 */
export function saveGpt2Checkpoint(model: GptModel, options: { readonly dtype?: 'F32' | 'F16'; readonly metadata?: Readonly<Record<string, string>> } = {}): Uint8Array {
  const metadata: Record<string, string> = { ...options.metadata, [CONFIG_METADATA_KEY]: JSON.stringify(model.config) }
  if (model.headMask !== undefined) metadata[HEAD_MASK_METADATA_KEY] = JSON.stringify(model.headMask)
  return writeSafetensors(namedTensors(model.config, model.weights), { dtype: options.dtype ?? 'F32', metadata })
}
