/**
 * `basedai/model`: a GPT-2-architecture language model in plain TypeScript — the model Brains host and miners run —
 * and Cerberus Squeezing as passes over it. Design, measurements and limits: docs/MODEL.md.
 *
 * - Config: `decodeConfig` validates nLayer, nHead, nEmbd, nCtx, vocabSize (`InvalidConfig` names the field).
 * - Inference: `forward` is the f32 reference pass (pre-LN blocks, causal multi-head attention with a head mask,
 *   GELU MLP, final LN, tied LM head) with a `KvCache` and a `linear` hook; `int8Linear()` is the int8 CPU path,
 *   `forwardAsync` + `kernelInt8Linear(service)` the int8 path on basedai/kernels. `generate` / `generateAsync` /
 *   `generateText` stream tokens (greedy, or temperature/top-k with a seeded PRNG) and never fail for length: a full
 *   context slides (KV cache rebuilt from the most recent tokens) or stops (`onFull`). A head mask's pruned heads are
 *   sliced out of the fused QKV and output projections (`attentionSlice`).
 * - Weights: `parseSafetensors` / `writeSafetensors`; `loadGpt2Checkpoint` / `loadGpt2File` read HF GPT-2
 *   checkpoints (`MissingTensor`, `TruncatedTensor`, `TensorShapeMismatch` name the tensor); `saveGpt2Checkpoint`.
 * - Tokenizers: `loadGpt2Tokenizer()` (GPT-2 BPE via gpt-tokenizer), `ByteBpeTokenizer` / `trainByteBpe`.
 * - The shipped model: `loadShippedModel()` — 2 layers, trained here on public-domain CIA World Factbook prose;
 *   `loadShippedLarge()` — 4 layers, d = 128, same corpus and tokenizer (model/weights/large/, `npm run train`).
 * - Brain templates (§2.4.4): `templateModel` squeezes a GPT-2 checkpoint under a budget into a Brain task with its
 *   weights hash; `loadBrainTask` refuses weights whose hash differs (`WeightsHashMismatch`).
 * - Cerberus Squeezing: `headSignificance`, `squeezeHeads` (θ or budget), `foldHeadMask`, `saveSqueezed`,
 *   `foldLayerNormAffine`, `dynamicQuantize` (§5.1), `countEncryptedOps` (per-token encrypted operations).
 *
 * @example
 * ```ts
 * import { loadShippedModel, generateText, squeezeHeads, evaluate } from 'basedai/model'
 * const { model, tokenizer } = loadShippedModel()
 * for (const piece of generateText(model, tokenizer, 'The economy of', { maxNewTokens: 40, temperature: 0.8, topK: 40, seed: 1 })) {
 *   process.stdout.write(piece)
 * }
 * const calibration = [tokenizer.encode('The country is a parliamentary democracy with a population of')]
 * const { model: squeezed, report } = squeezeHeads(model, calibration, { budget: 24576 })
 * ```
 */
export { decodeConfig, configFromHf, parameterCount, GptConfigSchema } from './config.ts'
export type { GptConfig, GptConfigInput } from './config.ts'
export * from './errors.ts'
export { initWeights, mulberry32, namedTensors, LAYER_TENSORS } from './weights.ts'
export type { GptWeights, LayerWeights, NamedTensor } from './weights.ts'
export { forward, forwardAsync, linearWeights, attentionSlice, createKvCache, linearF32, layerNorm, gelu, validateHeadMask, validateTokens } from './forward.ts'
export type { AttentionSlice, GptModel, HeadMask, KvCache, ForwardOptions, LinearFn, LinearSite, AsyncLinearFn, AsyncForwardOptions, LinearRequest } from './forward.ts'
export { argmax, sampleToken, generate, generateAsync, validateSampling } from './sample.ts'
export type { SamplingOptions, GenerateOptions, GenerateAsyncOptions, OnContextFull, ContextEvent } from './sample.ts'
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
export { int8Linear, quantizeWeightInt8, quantizeRowsInt8, rescaleInt8, weightRowSums } from './int8.ts'
export type { Int8Matrix, ActivationQuant, QuantizedRows } from './int8.ts'
export { squeezeShipped, type ShippedSqueezeRule, type ShippedSqueezeResult } from './squeeze-shipped.ts'
export { loadShippedModel, loadShippedLarge, shippedHeldOutText, SHIPPED_DIR, SHIPPED_WEIGHTS, SHIPPED_LARGE_DIR, SHIPPED_LARGE_WEIGHTS } from './shipped.ts'
export type { ShippedModel } from './shipped.ts'
export { loadCorpus, splitCorpus, corpusPath } from './corpus.ts'
export { generateText, TextStreamDecoder } from './text.ts'
export { templateModel, writeBrainTask, loadBrainTask, openBrainTask, checkWeightsHash, headContribution, sha256Hex } from './template.ts'
export type { BrainTask, OpenedBrainTask, TemplateOptions, TemplateResult, SignificanceMethod } from './template.ts'
export { countEncryptedOps, scalarOpCounter } from './encrypted-ops.ts'
export type { EncryptedOps, LinearOpCounter, LinearShape, OpCountOptions, OpCountReport } from './encrypted-ops.ts'
export { kernelInt8Linear, quantizeActivationsInt8 } from './kernels.ts'
export type { Int8MatmulService, Int8WeightsInput, Int8ActivationsInput } from './kernels.ts'
