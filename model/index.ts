/**
 * `basedai/model`: a GPT-2-architecture language model in plain TypeScript — the model Brains host and miners run.
 *
 * - `decodeConfig` validates hyper-parameters (nLayer, nHead, nEmbd, nCtx, vocabSize).
 * - `forward` is the f32 reference pass (pre-LN blocks, causal multi-head attention with a head mask, GELU MLP,
 *   final LN, tied LM head) with a `KvCache` for incremental decoding and a `linear` hook for other kernels.
 * - `generate` streams tokens (greedy, or temperature/top-k with a seeded PRNG).
 * - Errors are tagged (see errors.ts): InvalidConfig, InvalidToken, ContextOverflow, InvalidOption, …
 *
 * @example
 * ```ts
 * import { decodeConfig, initWeights, generate } from 'basedai/model'
 * const config = decodeConfig({ nLayer: 2, nHead: 4, nEmbd: 64, nCtx: 64, vocabSize: 256 })
 * const model = { config, weights: initWeights(config, 1) }
 * for (const token of generate(model, [1, 2, 3], { maxNewTokens: 10, temperature: 0 })) console.log(token)
 * ```
 */
export { decodeConfig, configFromHf, parameterCount, GptConfigSchema } from './config.ts'
export type { GptConfig, GptConfigInput } from './config.ts'
export * from './errors.ts'
export { initWeights, mulberry32, namedTensors, LAYER_TENSORS } from './weights.ts'
export type { GptWeights, LayerWeights, NamedTensor } from './weights.ts'
export { forward, forwardAsync, createKvCache, linearF32, layerNorm, gelu, validateHeadMask, validateTokens } from './forward.ts'
export type { GptModel, HeadMask, KvCache, ForwardOptions, LinearFn, LinearSite, AsyncLinearFn, AsyncForwardOptions, LinearRequest } from './forward.ts'
export { argmax, sampleToken, generate, generateAsync, validateSampling } from './sample.ts'
export type { SamplingOptions, GenerateOptions, GenerateAsyncOptions } from './sample.ts'
export { evaluate, top1Predictions, windows, logProb } from './eval.ts'
export type { EvalResult } from './eval.ts'
export { parseSafetensors, writeSafetensors, halfToFloat, floatToHalf, MAX_HEADER_BYTES } from './safetensors.ts'
export type { Dtype, TensorInfo, SafetensorsFile, TensorToWrite } from './safetensors.ts'
export { loadGpt2Checkpoint, loadGpt2File, saveGpt2Checkpoint, CONFIG_METADATA_KEY, HEAD_MASK_METADATA_KEY } from './checkpoint.ts'
export type { LoadOptions } from './checkpoint.ts'
export { ByteBpeTokenizer, trainByteBpe, loadGpt2Tokenizer, splitChunks } from './tokenizer.ts'
export type { Tokenizer, ByteBpeJson } from './tokenizer.ts'
export { headSignificance, squeezeHeads, foldHeadMask, foldLayerNormAffine, saveSqueezed, defaultHeadCost, dynamicQuantize, dequantize, keptFraction } from './squeeze.ts'
export type { HeadId, HeadCostFn, SqueezeRule, SqueezeOptions, SqueezeReport, SqueezeResult, QuantizeOptions, Quantized } from './squeeze.ts'
export { int8Linear, quantizeWeightInt8 } from './int8.ts'
export type { Int8Matrix } from './int8.ts'
export { loadShippedModel, shippedHeldOutText, SHIPPED_DIR, SHIPPED_WEIGHTS } from './shipped.ts'
export type { ShippedModel } from './shipped.ts'
export { loadCorpus, splitCorpus, corpusPath } from './corpus.ts'
export { generateText } from './text.ts'
export { countEncryptedOps, scalarOpCounter } from './encrypted-ops.ts'
export type { EncryptedOps, LinearOpCounter, LinearShape, OpCountOptions, OpCountReport } from './encrypted-ops.ts'
export { kernelInt8Linear, quantizeActivationsInt8 } from './kernels.ts'
export type { Int8MatmulService, Int8WeightsInput, Int8ActivationsInput } from './kernels.ts'
