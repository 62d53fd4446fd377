/**
 * GPT-2 architecture hyper-parameters as an effect Schema. `decodeConfig` validates an unknown value (e.g. parsed
 * JSON) once and returns a `GptConfig` or throws `InvalidConfig` naming the offending field.
 *
 * Fields follow HF GPT-2's config.json names in camelCase: nLayer, nHead, nEmbd, nCtx (n_positions), vocabSize.
 * Constraints: all positive integers; nEmbd divisible by nHead; layerNormEps positive (default 1e-5).
 */
import { ParseResult, Schema } from 'effect'
import { InvalidConfig } from './errors.ts'

const PositiveInt = Schema.Int.pipe(Schema.positive())

export const GptConfigSchema = Schema.Struct({
  nLayer: PositiveInt,
  nHead: PositiveInt,
  nEmbd: PositiveInt,
  nCtx: PositiveInt,
  vocabSize: PositiveInt,
  layerNormEps: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 1e-5 }),
})

export type GptConfig = typeof GptConfigSchema.Type
/** The input form: layerNormEps may be omitted. */
export type GptConfigInput = typeof GptConfigSchema.Encoded

/**
 * Validate a config. Throws `InvalidConfig` with the path of the first bad field.
 * @example decodeConfig({ nLayer: 2, nHead: 4, nEmbd: 64, nCtx: 64, vocabSize: 512 })
 */
export function decodeConfig(input: unknown): GptConfig {
  const result = Schema.decodeUnknownEither(GptConfigSchema)(input)
  if (result._tag === 'Left') {
    const issues = ParseResult.ArrayFormatter.formatErrorSync(result.left)
    const first = issues[0]
    throw new InvalidConfig({
      field: first !== undefined && first.path.length > 0 ? first.path.map(String).join('.') : '(root)',
      reason: first?.message ?? 'invalid config',
    })
  }
  const cfg = result.right
  if (cfg.nEmbd % cfg.nHead !== 0) {
    throw new InvalidConfig({ field: 'nEmbd', reason: `nEmbd ${cfg.nEmbd} is not divisible by nHead ${cfg.nHead}` })
  }
  return cfg
}

/** Convert HF GPT-2 config.json field names (n_layer, n_head, n_embd, n_positions|n_ctx, vocab_size). */
export function configFromHf(json: Readonly<Record<string, unknown>>): GptConfig {
  return decodeConfig({
    nLayer: json['n_layer'],
    nHead: json['n_head'],
    nEmbd: json['n_embd'],
    nCtx: json['n_positions'] ?? json['n_ctx'],
    vocabSize: json['vocab_size'],
    ...(json['layer_norm_epsilon'] !== undefined ? { layerNormEps: json['layer_norm_epsilon'] } : {}),
  })
}

/** Number of parameters of a model with this config (tied LM head counted once). */
export function parameterCount(c: GptConfig): number {
  const d = c.nEmbd
  const perLayer = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d)
  return c.vocabSize * d + c.nCtx * d + c.nLayer * perLayer + 2 * d
}
