/**
 * The client side of encrypted inference (ARCHITECTURE: "an encrypted query, end to end"). The user's process
 * keeps the secret key, the model's non-linear steps (LayerNorm, attention softmax, GELU, the LM head) and the
 * sampling; every dense product of every layer is sent to a miner as BFV ciphertexts and comes back as ciphertexts:
 *
 *   tokenize → embed → [per layer: quantize int8 → encrypt ──► miner: ct × W (public int8 weights) ──► decrypt]
 *   → LayerNorm / attention / GELU here → logits → sample → next token
 *
 * What the miner learns: shapes, sizes, timing, and which public model and layer is being run. Not the prompt, not
 * the activations, not the output. With the same quantization as `int8Linear`, the tokens are exactly those of the
 * plaintext int8 path (tests check the logits bit for bit).
 *
 * `ask` is any way to reach the miner: an ActorRef's `ask`, a RemoteRef over libp2p, or the control endpoint.
 */
import {
  clientDecryptLinear,
  clientEncryptLinear,
  createFheContext,
  createKeyGenerator,
  presets,
  type FheContext,
  type PresetName,
  type SecretKey,
} from '../fhe/index.ts'
import { generateAsync, quantizeWeightInt8, TextStreamDecoder, type ActivationQuant, type AsyncLinearFn, type GptModel, type Int8Matrix, type Tokenizer } from '../model/index.ts'
import type { EncryptedLinear, EncryptedLinearReply } from '../protocol/index.ts'

export type AskMiner = (msg: typeof EncryptedLinear.Type) => Promise<typeof EncryptedLinearReply.Type>

export interface EncryptedSessionInit {
  readonly model: GptModel
  /** The model id the miner serves (e.g. 'factbook-gpt'). */
  readonly modelId: string
  readonly ask: AskMiner
  /** BFV parameters (default bfv4096Linear: N = 4096, 3 × 31-bit primes, t = 2^28, 128-bit security). */
  readonly preset?: PresetName
  /**
   * Activation quantization before encryption: 'absmax' (default; the int8 path's) or the whitepaper's §5.1 dynamic
   * quantization (Cerberus Squeezing's σ-adaptive scale, L = 256 levels).
   */
  readonly activations?: ActivationQuant
}

export interface ProductStats {
  products: number
  /** Compute units: ciphertext × plaintext products the miner performed (what a session pays for). */
  computeUnits: number
  bytesUp: number
  bytesDown: number
  minerMs: number
}

/** A session: a fresh secret key held here, and an AsyncLinearFn that runs every dense product on the miner. */
export class EncryptedSession {
  readonly ctx: FheContext
  readonly preset: PresetName
  readonly stats: ProductStats = { products: 0, computeUnits: 0, bytesUp: 0, bytesDown: 0, minerMs: 0 }
  private readonly secretKey: SecretKey
  private readonly init: EncryptedSessionInit
  private readonly int8 = new WeakMap<Float32Array, Int8Matrix>()

  constructor(init: EncryptedSessionInit) {
    this.init = init
    this.preset = init.preset ?? 'bfv4096Linear'
    this.ctx = createFheContext(presets[this.preset])
    this.secretKey = createKeyGenerator(this.ctx).secretKey
  }

  /** The dense-product hook for `forwardAsync` / `generateAsync`. */
  readonly linear: AsyncLinearFn = async (x, rows, inDim, outDim, w, b, site) => {
    let m = this.int8.get(w)
    if (!m) {
      m = quantizeWeightInt8(w, inDim, outDim)
      this.int8.set(w, m)
    }
    const req = clientEncryptLinear(this.ctx, this.secretKey, x, rows, inDim, outDim, undefined, this.init.activations ?? 'absmax')
    const { ni, mt, no, dIn, dOut, tokens } = req.plan
    const reply = await this.init.ask({
      _tag: 'EncryptedLinear',
      model: this.init.modelId,
      layer: site.layer,
      site: site.name,
      preset: this.preset,
      plan: { ni, mt, no, dIn, dOut, tokens },
      inputs: req.inputs,
    })
    this.stats.products++
    this.stats.computeUnits += req.plan.rowBlocks * req.plan.inChunks * req.plan.tokenBlocks
    this.stats.bytesUp += req.inputs.reduce((s, u) => s + u.length, 0)
    this.stats.bytesDown += reply.outputs.reduce((s, u) => s + u.length, 0)
    this.stats.minerMs += reply.minerMs
    return clientDecryptLinear(this.ctx, this.secretKey, req, reply.outputs, m, b)
  }

  /** Streams generated text; every dense product of every step runs encrypted on the miner. */
  async *generateText(
    tokenizer: Tokenizer,
    prompt: string,
    opts: { maxNewTokens: number; temperature?: number; topK?: number; seed?: number },
  ): AsyncGenerator<string, void, undefined> {
    const d = new TextStreamDecoder(tokenizer)
    for await (const t of generateAsync(this.init.model, tokenizer.encode(prompt), { ...opts, linear: this.linear })) {
      const piece = d.push(t)
      if (piece !== '') yield piece
    }
    const rest = d.finish()
    if (rest !== '') yield rest
  }
}
