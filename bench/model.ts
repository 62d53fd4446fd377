/**
 * `npm run bench -- model`: the shipped Factbook model (model/weights) —
 * generation tokens/s with the f32 reference path and the int8 CPU path (the WGSL int8 path plugs into the same
 * LinearFn hook once basedai/kernels exports it), and the variant table of issue 7: f32, int8, and squeezed at
 * three budgets × held-out perplexity, top-1 agreement with f32, encrypted operations per token (countEncryptedOps
 * with basedai/fhe's planner) and encrypted latency per token (every dense product under BFV); then GPT-2 small's shape
 * (random weights) encrypted per token at budgets 100/75/50/25% beside plaintext int8 (`gpt2SmallEncrypted`). The WGSL int8
 * row runs on whatever adapter basedai/kernels finds (lavapipe here), or its TS reference without one.
 *
 * Peer: onnxruntime-node / @xenova/transformers are not installed in this project and would need the weights
 * exported to ONNX; that comparison is not made here (see docs/MODEL.md).
 */
import fs from 'node:fs'
import { cpuDescription, fmt, type BenchContext, type BenchSection } from './harness.ts'
import { KernelService } from 'basedai/kernels'
import { createFheContext, createKeyGenerator, encryptedInt8Linear, plannerOpCounter, presets } from 'basedai/fhe'
import {
  createKvCache, decodeConfig, forward, initWeights, parameterCount, loadShippedLarge, SHIPPED_WEIGHTS, SHIPPED_LARGE_WEIGHTS, type HeadMask, type ShippedModel,
  argmax, countEncryptedOps, forwardAsync, generateAsync, kernelInt8Linear, logProb, defaultHeadCost, evaluate, generate, headSignificance, int8Linear, loadCorpus, loadShippedModel, shippedHeldOutText,
  squeezeHeads, top1Predictions, windows, type ActivationQuant, type GptModel, type LinearFn,
} from 'basedai/model'

/**
 * GPT-2 small's shape (12 layers, d = 768, 12 heads, context 1024, vocabulary 50,257) with RANDOM weights — the
 * cost of an encrypted token depends on the shapes of the products, not on the values. One layer is built and
 * measured (a full 12-layer model's weights and prepared plaintexts would not fit this shared machine's memory next
 * to the other jobs), and its per-token cost is multiplied by 12; the client's tied LM head (768 × 50,257, in
 * plaintext) is measured once and added. Budgets keep the same number of heads in every layer (with the default
 * head cost every head costs the same, so a budget of f keeps f·144 heads; which ones does not change the cost).
 * Returns note lines for the model section.
 */
export async function gpt2SmallEncrypted(ctx: BenchContext): Promise<string[]> {
  const layers = 12
  const d = 768
  const vocab = 50257
  // one layer of GPT-2 small's shape; a 2-token vocabulary so the forward call times the layer alone (the LM head,
  // tied to wte, is timed separately below at the full vocabulary)
  const cfg = decodeConfig({ nLayer: 1, nHead: 12, nEmbd: d, nCtx: 1024, vocabSize: 2 })
  ctx.progress('GPT-2 small shape: random weights for one layer')
  const one: GptModel = { config: cfg, weights: initWeights(cfg, 1, 0.02) }
  const fheCtx = createFheContext(presets.bfv4096Linear)
  const secretKey = createKeyGenerator(fheCtx).secretKey
  const lines: string[] = []
  const runs = ctx.quick ? 1 : 3
  // the client's LM head in plaintext: h[768] · wteᵀ over 50,257 tokens (best of runs)
  const wte = new Float32Array(vocab * d)
  for (let i = 0; i < wte.length; i++) wte[i] = ((i * 2654435761) % 1000) / 50000 - 0.01
  const x = new Float32Array(d).fill(0.1)
  let lmHeadMs = Infinity
  let sink = 0
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now()
    for (let v = 0; v < vocab; v++) { let s = 0; for (let i = 0; i < d; i++) s += x[i] * wte[v * d + i]; sink += s }
    lmHeadMs = Math.min(lmHeadMs, performance.now() - t0)
  }
  if (!Number.isFinite(sink)) throw new Error('LM head produced a non-finite value')
  // plaintext int8: one layer's four products at one new token (weights quantized once, best of runs)
  const int8 = int8Linear()
  const layerOnly = (linear: LinearFn): number => {
    let best = Infinity
    const cache = createKvCache(cfg)
    forward(one, [1, 0, 1], { cache, linear, lastOnly: true })
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now()
      forward(one, [r % 2], { cache, linear, lastOnly: true })
      best = Math.min(best, performance.now() - t0)
    }
    return best
  }
  const int8LayerMs = layerOnly(int8)
  const int8TokenMs = layers * int8LayerMs + lmHeadMs
  lines.push(`GPT-2 small shape (random weights; one layer measured, × 12, + the client's plaintext LM head ${fmt(lmHeadMs)} ms): plaintext int8 CPU ${fmt(int8TokenMs / 1000, 3)} s/token (${fmt(int8LayerMs)} ms per layer)`)
  for (const keep of [12, 9, 6, 3]) {
    ctx.progress(`GPT-2 small shape, encrypted, ${keep}/12 heads per layer`)
    const mask: HeadMask | undefined = keep === 12 ? undefined : [Array.from({ length: 12 }, (_, h) => (h < keep ? 1 : 0))]
    // best of `runs` decoding steps (the machine is shared: the fastest run is the least disturbed one)
    const zero = { client: 0, miner: 0, up: 0, down: 0, products: 0, wall: 0 }
    let cur = { ...zero }
    let best = { ...zero, wall: Infinity }
    let counting = false
    const linear = encryptedInt8Linear({
      ctx: fheCtx, secretKey,
      onProduct: (p) => {
        if (!counting) return
        cur.client += p.clientMs; cur.miner += p.minerMs; cur.up += p.bytesUp; cur.down += p.bytesDown; cur.products += p.plan.rowBlocks * p.plan.inChunks * p.plan.tokenBlocks
      },
    })
    const cache = createKvCache(cfg)
    const fo = { cache, linear, lastOnly: true, ...(mask ? { headMask: mask } : {}) }
    forward(one, [1], fo) // a 1-token prompt: prepares the weights for the 1-row plans a decoding step uses
    counting = true
    for (let r = 0; r < runs + 1; r++) {
      cur = { ...zero }
      const t = performance.now()
      forward(one, [r % 2], fo)
      cur.wall = performance.now() - t
      if (cur.wall < best.wall) best = cur
    }
    const st = best
    const per = (v: number): number => layers * v
    const wallToken = per(st.wall) + lmHeadMs
    const frac = keep / 12
    lines.push(
      `GPT-2 small shape, encrypted, budget ${Math.round(frac * 100)}% (${keep}/12 heads per layer): ${fmt(wallToken / 1000, 3)} s/token ` +
      `(client ${fmt((per(st.client) + lmHeadMs) / 1000, 3)} s incl. LM head, miner ${fmt(per(st.miner) / 1000, 3)} s), ` +
      `${fmt(per(st.up + st.down) / 1e6, 3)} MB/token (${fmt(per(st.up) / 1e6, 3)} up, ${fmt(per(st.down) / 1e6, 3)} down), ` +
      `${Math.round(per(st.products))} ct×pt products/token; ${fmt(wallToken / int8TokenMs, 3)}× the plaintext int8 time`,
    )
  }
  return lines
}

function agreement(a: readonly number[], b: readonly number[]): number {
  let same = 0
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++
  return same / a.length
}

export async function bench(ctx: BenchContext): Promise<BenchSection> {
  const { model, tokenizer } = loadShippedModel()
  const c = model.config
  const held = windows(tokenizer.encode(shippedHeldOutText()), c.nCtx)
  const step = ctx.quick ? 40 : 8
  const evalSet = held.filter((_, i) => i % step === 0)
  const calib = windows(tokenizer.encode(loadCorpus().train.slice(0, 200_000)), c.nCtx).filter((_, i) => i % 8 === 0).slice(0, ctx.quick ? 8 : 24)
  ctx.progress(`held-out eval set: ${evalSet.length} windows of ${c.nCtx} tokens; calibration: ${calib.length} windows`)
  const int8 = int8Linear()
  const fheCtx = createFheContext(presets.bfv4096Linear)
  const counter = plannerOpCounter(fheCtx)
  const secretKey = createKeyGenerator(fheCtx).secretKey
  /** ms per generated token with every dense product under BFV (client and miner halves in this process). */
  const encryptedMsPerToken = (m: GptModel, activations: ActivationQuant = 'absmax'): number => {
    const linear = encryptedInt8Linear({ ctx: fheCtx, secretKey, activations })
    const n = ctx.quick ? 2 : 6
    for (const _t of generate(m, prompt, { maxNewTokens: 1, temperature: 0, forward: { linear } })) break // prepare weights
    const t0 = performance.now()
    let k = 0
    for (const _t of generate(m, prompt, { maxNewTokens: n, temperature: 0, forward: { linear } })) k++
    return (performance.now() - t0) / k
  }
  const prompt = tokenizer.encode('The economy of')
  const genTokens = c.nCtx - prompt.length
  const tokensPerSecond = (linear?: LinearFn): number => {
    const runs = ctx.quick ? 2 : 5
    let best = 0
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now()
      let n = 0
      for (const _t of generate(model, prompt, { maxNewTokens: genTokens, temperature: 0, ...(linear !== undefined ? { forward: { linear } } : {}) })) n++
      best = Math.max(best, n / ((performance.now() - t0) / 1000))
    }
    return best
  }
  // small and large side by side: size, held-out perplexity (each on every `step`th window of its own context) and
  // bits per byte, plaintext f32 generation speed, encrypted ms per token
  const sizeRow = (name: string, s: ShippedModel, file: string): Record<string, string | number> => {
    ctx.progress(`size vs perplexity: ${name}`)
    const m = s.model
    const w = windows(s.tokenizer.encode(shippedHeldOutText()), m.config.nCtx).filter((_, i) => i % step === 0)
    const e = evaluate(m, w)
    const bytes = new TextEncoder().encode(s.tokenizer.decode(w.flatMap((x) => x.slice(1)))).length
    const p = s.tokenizer.encode('The economy of')
    let tps = 0
    for (let r = 0; r < (ctx.quick ? 1 : 3); r++) {
      const t0 = performance.now()
      let n = 0
      for (const _t of generate(m, p, { maxNewTokens: m.config.nCtx - p.length, temperature: 0 })) n++
      tps = Math.max(tps, n / ((performance.now() - t0) / 1000))
    }
    const c2 = m.config
    return {
      variant: `${name}: ${c2.nLayer} layers, d = ${c2.nEmbd}, context ${c2.nCtx} (f32)`, parameters: parameterCount(c2), 'size on disk': `${fmt(fs.statSync(file).size / 1e6, 3)} MB`,
      'held-out ppl': fmt(e.perplexity, 4), 'bits / byte': fmt((e.loss * e.count) / Math.LN2 / bytes, 4), heads: `${c2.nLayer * c2.nHead}/${c2.nLayer * c2.nHead}`,
      'ct×pt products / token': countEncryptedOps(m, { counter, lmHeadEncrypted: false }).total.ctPtProducts,
      'generation tokens/s': fmt(tps), 'encrypted ms / token': fmt(encryptedMsPerToken(m)),
    }
  }
  const sizeRows = [sizeRow('small', { model, tokenizer }, SHIPPED_WEIGHTS)]
  if (fs.existsSync(SHIPPED_LARGE_WEIGHTS)) sizeRows.push(sizeRow('large', loadShippedLarge(), SHIPPED_LARGE_WEIGHTS))
  ctx.progress('generation speed')
  const f32Tps = tokensPerSecond()
  const int8Tps = tokensPerSecond(int8)
  ctx.progress('f32 / int8 evaluation')
  const ref = top1Predictions(model, evalSet)
  const rows: Record<string, string | number>[] = [...sizeRows]
  const allHeads = c.nLayer * c.nHead * defaultHeadCost({ layer: 0, head: 0 }, c)
  const addRow = (variant: string, m: GptModel, linear: LinearFn | undefined, tps: string, fuseQkv = true, activations: ActivationQuant = 'absmax'): void => {
    const opts = linear !== undefined ? { linear } : {}
    const e = evaluate(m, evalSet, opts)
    const mask = m.headMask
    const heads = mask === undefined ? c.nLayer * c.nHead : mask.flat().filter((v) => v !== 0).length
    const ops = countEncryptedOps(m, { fuseQkv, counter, lmHeadEncrypted: false }).total
    ctx.progress(`encrypted latency: ${variant}`)
    rows.push({
      variant, 'held-out ppl': fmt(e.perplexity, 4), 'top-1 agreement with f32': `${(100 * agreement(top1Predictions(m, evalSet, opts), ref)).toFixed(1)}%`,
      heads: `${heads}/${c.nLayer * c.nHead}`, 'ct×pt products / token': ops.ctPtProducts, 'round trips / token': ops.roundTrips,
      'ciphertexts up + down / token': ops.ciphertextsUp + ops.ciphertextsDown, 'generation tokens/s': tps,
      'encrypted ms / token': fuseQkv ? fmt(encryptedMsPerToken(m, activations)) : '—',
    })
  }
  addRow('f32, Q/K/V as three requests (before merging)', model, undefined, fmt(f32Tps), false)
  addRow('f32 reference (QKV fused)', model, undefined, fmt(f32Tps))
  addRow('int8 (CPU reference)', model, int8, fmt(int8Tps))
  const squeezeActs: ActivationQuant = { levels: 256, threshold: 0.1, alpha: 0.5 }
  addRow('int8, activations by §5.1 dynamic quantization (L = 256, T = 0.1, α = 0.5)', model, int8Linear(squeezeActs), '', true, squeezeActs)
  ctx.progress('int8 on basedai/kernels')
  const service = await KernelService.create({ log: () => undefined })
  try {
    const gpuLinear = kernelInt8Linear(service)
    let gpuTps = 0
    for (let r = 0; r < (ctx.quick ? 1 : 3); r++) {
      const t0 = performance.now()
      let n = 0
      for await (const _t of generateAsync(model, prompt, { maxNewTokens: genTokens, temperature: 0, linear: gpuLinear })) n++
      gpuTps = Math.max(gpuTps, n / ((performance.now() - t0) / 1000))
    }
    const e = { loss: 0, count: 0 }
    const preds: number[] = []
    const V = c.vocabSize
    for (const w of evalSet) {
      const logits = await forwardAsync(model, w.slice(0, -1), { linear: gpuLinear })
      for (let t = 0; t + 1 < w.length; t++) { e.loss -= logProb(logits, t, V, w[t + 1]); e.count++ }
      const full = await forwardAsync(model, w, { linear: gpuLinear })
      for (let t = 0; t < w.length; t++) preds.push(argmax(full.subarray(t * V, (t + 1) * V)))
    }
    const ops = countEncryptedOps(model, { counter, lmHeadEncrypted: false }).total
    rows.push({
      variant: `int8 (basedai/kernels ${service.backend === 'webgpu' ? 'WGSL' : 'TS reference'}: ${service.label})`,
      'held-out ppl': fmt(Math.exp(e.loss / e.count), 4), 'top-1 agreement with f32': `${(100 * agreement(preds, ref)).toFixed(1)}%`,
      heads: `${c.nLayer * c.nHead}/${c.nLayer * c.nHead}`, 'ct×pt products / token': ops.ctPtProducts, 'round trips / token': ops.roundTrips,
      'ciphertexts up + down / token': ops.ciphertextsUp + ops.ciphertextsDown, 'generation tokens/s': fmt(gpuTps),
      'encrypted ms / token': '(as int8 CPU)',
    })
  } finally {
    service.destroy()
  }
  ctx.progress('head significance')
  const S = headSignificance(model, calib)
  for (const frac of [0.75, 0.5, 0.25]) {
    const budget = Math.round(allHeads * frac)
    const { model: sq } = squeezeHeads(model, calib, { budget }, { significance: S })
    addRow(`squeezed, budget ${Math.round(frac * 100)}% (${budget})`, sq, undefined, '')
  }
  const gpt2 = await gpt2SmallEncrypted(ctx)
  return {
    title: 'Model: shipped Factbook GPT (f32, int8, squeezed); GPT-2 small shape encrypted',
    device: cpuDescription(),
    columns: ['variant', 'parameters', 'size on disk', 'held-out ppl', 'bits / byte', 'top-1 agreement with f32', 'heads', 'ct×pt products / token', 'round trips / token', 'ciphertexts up + down / token', 'generation tokens/s', 'encrypted ms / token'],
    rows,
    notes: [
      'first rows: the small shipped model (model/weights) and the large one (model/weights/large, `npm run train`) side by side, each evaluated on every ' + step + 'th non-overlapping window of its own context over the same held-out text with the same 512-token tokenizer (so perplexities per token compare directly); bits / byte = total nats / ln 2 / UTF-8 bytes of the predicted tokens; generation: greedy from "The economy of" to a full context, f32 reference path; encrypted ms / token as below',
      `other rows: the small model ${JSON.stringify({ nLayer: c.nLayer, nHead: c.nHead, nEmbd: c.nEmbd, nCtx: c.nCtx, vocabSize: c.vocabSize })}; held-out set: ${evalSet.length} windows (every ${step}th of ${held.length}); calibration: ${calib.length} windows of the training split`,
      `generation: greedy, prompt "The economy of", ${genTokens} new tokens with KV cache, best of runs; CPU int8/f32 speed ratio ${(int8Tps / f32Tps).toFixed(2)}; the kernels path pays one GPU submission and read-back per dense product (9 per token), which dominates at this model size`,
      'budgets are fractions of the all-heads defaultHeadCost (QKV and output-projection MACs of a head + 2·nCtx·hd attention products)',
      'encrypted operations per generated token: countEncryptedOps with basedai/fhe\'s planner (plannerOpCounter: Cheetah coefficient packing, BFV N = 4096, 3 × 31-bit primes, t = 2^28), hybrid protocol as implemented in gateway/encrypted.ts (the miner does every dense product of every layer on ciphertexts; the client keeps the key, LayerNorm, softmax, GELU and the tied LM head in plaintext); one round trip per dense product; no rotations and no ct×ct multiplies',
      'encrypted ms / token: greedy generation with every dense product encrypted, evaluated and decrypted (client and miner halves in one process, serialized bytes each way, no network); pruned heads are sliced out of the fused QKV and output projections, so squeezed rows run fewer and smaller products (at d = 64 the MLP and LM head dominate, so the saving is small)',
      ...gpt2,
      'GPT-2 small shape: random weights (cost depends on shapes, not values); one layer built and measured at one decoding step (best of 3), × 12 layers, plus the client\'s plaintext LM head (768 × 50,257) once; budgets keep 9/6/3 of 12 heads in every layer (each head costs the same under defaultHeadCost). Squeezing only shrinks attention (QKV + output projection = 1/3 of a layer\'s weights; the MLP is 2/3), so even 25% of the heads keeps 75% of the products. Times are noisy on this shared 2-core machine (load ≈ 16 during the run); the product and byte counts are exact',
      'peer (onnxruntime-node / transformers.js on the same weights as ONNX): not run — neither package is installed and no ONNX exporter is available offline here',
    ],
  }
}
