/**
 * The weights of a GPT-2 model as flat Float32Arrays, in HF GPT-2's Conv1D layout: every linear weight is
 * [in, out] row-major, so y = x·W + b. `attnW` is the fused QKV projection [d, 3d] whose output columns are
 * q (0..d), k (d..2d), v (2d..3d), and inside each of those head h owns columns h·hd .. (h+1)·hd.
 * The LM head is tied to `wte` (logits = h·wteᵀ).
 */
import { gaussian, mulberry32 } from '../numeric/prng.ts'
import type { GptConfig } from './config.ts'

export interface LayerWeights {
  readonly ln1G: Float32Array
  readonly ln1B: Float32Array
  /** [d, 3d] fused q|k|v. */
  readonly attnW: Float32Array
  readonly attnB: Float32Array
  /** [d, d] attention output projection. */
  readonly projW: Float32Array
  readonly projB: Float32Array
  readonly ln2G: Float32Array
  readonly ln2B: Float32Array
  /** [d, 4d]. */
  readonly fcW: Float32Array
  readonly fcB: Float32Array
  /** [4d, d]. */
  readonly fcProjW: Float32Array
  readonly fcProjB: Float32Array
}

export interface GptWeights {
  /** [vocabSize, d] token embeddings, also the LM head. */
  readonly wte: Float32Array
  /** [nCtx, d] position embeddings. */
  readonly wpe: Float32Array
  readonly layers: readonly LayerWeights[]
  readonly lnfG: Float32Array
  readonly lnfB: Float32Array
}

/** One named tensor of a model, with its HF GPT-2 name (without the `transformer.` prefix). */
export interface NamedTensor {
  readonly name: string
  readonly shape: readonly number[]
  readonly data: Float32Array
}

export type LayerKey = keyof LayerWeights

/** HF GPT-2 suffix and shape of each per-layer tensor. */
export const LAYER_TENSORS: readonly { readonly key: LayerKey; readonly suffix: string; readonly shape: (d: number) => number[] }[] = [
  { key: 'ln1G', suffix: 'ln_1.weight', shape: (d) => [d] },
  { key: 'ln1B', suffix: 'ln_1.bias', shape: (d) => [d] },
  { key: 'attnW', suffix: 'attn.c_attn.weight', shape: (d) => [d, 3 * d] },
  { key: 'attnB', suffix: 'attn.c_attn.bias', shape: (d) => [3 * d] },
  { key: 'projW', suffix: 'attn.c_proj.weight', shape: (d) => [d, d] },
  { key: 'projB', suffix: 'attn.c_proj.bias', shape: (d) => [d] },
  { key: 'ln2G', suffix: 'ln_2.weight', shape: (d) => [d] },
  { key: 'ln2B', suffix: 'ln_2.bias', shape: (d) => [d] },
  { key: 'fcW', suffix: 'mlp.c_fc.weight', shape: (d) => [d, 4 * d] },
  { key: 'fcB', suffix: 'mlp.c_fc.bias', shape: (d) => [4 * d] },
  { key: 'fcProjW', suffix: 'mlp.c_proj.weight', shape: (d) => [4 * d, d] },
  { key: 'fcProjB', suffix: 'mlp.c_proj.bias', shape: (d) => [d] },
]

/** Every tensor of the model in a fixed order, named as in HF GPT-2 (`wte.weight`, `h.0.attn.c_attn.weight`, …). */
export function namedTensors(config: GptConfig, w: GptWeights): NamedTensor[] {
  const d = config.nEmbd
  const out: NamedTensor[] = [
    { name: 'wte.weight', shape: [config.vocabSize, d], data: w.wte },
    { name: 'wpe.weight', shape: [config.nCtx, d], data: w.wpe },
  ]
  w.layers.forEach((layer, i) => {
    for (const t of LAYER_TENSORS) out.push({ name: `h.${i}.${t.suffix}`, shape: t.shape(d), data: layer[t.key] })
  })
  out.push({ name: 'ln_f.weight', shape: [d], data: w.lnfG }, { name: 'ln_f.bias', shape: [d], data: w.lnfB })
  return out
}

// The seeded PRNG moved to basedai/numeric (shared with bft/ and forecast/); re-exported here for compatibility.
export { gaussian, mulberry32 }

/**
 * GPT-2 initialisation: normal(0, 0.02) weights, residual projections scaled by 1/√(2·nLayer), zero biases,
 * unit LayerNorm gains. Deterministic in `seed`.
 */
export function initWeights(config: GptConfig, seed: number, std = 0.02): GptWeights {
  const rand = mulberry32(seed)
  const d = config.nEmbd
  const normal = (n: number, s: number): Float32Array => {
    const a = new Float32Array(n)
    for (let i = 0; i < n; i++) a[i] = gaussian(rand) * s
    return a
  }
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1)
  const resid = std / Math.sqrt(2 * config.nLayer)
  const layers: LayerWeights[] = []
  for (let l = 0; l < config.nLayer; l++) {
    layers.push({
      ln1G: ones(d), ln1B: new Float32Array(d),
      attnW: normal(d * 3 * d, std), attnB: new Float32Array(3 * d),
      projW: normal(d * d, resid), projB: new Float32Array(d),
      ln2G: ones(d), ln2B: new Float32Array(d),
      fcW: normal(d * 4 * d, std), fcB: new Float32Array(4 * d),
      fcProjW: normal(4 * d * d, resid), fcProjB: new Float32Array(d),
    })
  }
  return {
    wte: normal(config.vocabSize * d, std),
    wpe: normal(config.nCtx * d, std / 2),
    layers,
    lnfG: ones(d),
    lnfB: new Float32Array(d),
  }
}
