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
 * `ask` is any way to reach the miner: an ActorRef's `ask`, a RemoteRef over libp2p, or the control endpoint. With
 * `timeoutMs`, each request carries its deadline (Unix ms) and the miner refuses work that would start past it.
 *
 * Billing: every reply carries the miner's signed compute receipt (protocol/fhe-messages.ts). The session accepts it
 * only if the signature verifies, it names this request (SHA-256) and this session, its unit count equals the
 * ciphertext × plaintext products of the plan that was sent, and every receipt of the session is signed by the same
 * compute key (`minerKey` pins it in advance); otherwise `ReceiptRejected`. `stats.computeUnits` is the sum of the
 * miner's signed counts and `receipts` what `settleReceipts` pays on.
 *
 * Rerouting (`route`, issue 11): when a product's ask fails because the miner is gone — a transport or actor-gone
 * error (ActorStopped, UnknownActor, AskTimeout, PeerUnreachable, PeerLost — a remote miner's node lost; see `isMinerGone`), never a MinerRejection or
 * FheRejection, which are answers, nor an AskTimeout of a request whose own deadline (`timeoutMs`) passed — the session tells the Brain (MinerGone), takes the miner the Brain routes to
 * next (excluding every miner that failed this session) and resends the same ciphertexts there, with a fresh
 * deadline. The product is deterministic, so the tokens are unchanged. Resending reveals nothing new: the miner
 * holds no key of this session (BFV needs no evaluation key for ct × plaintext), and the second miner sees the same
 * ciphertexts, shapes and public model as the first — what any miner may see. At most `route.maxReroutes` (default
 * 3) reroutes per session, then RerouteExhausted; a Brain with no miner left answers BrainRejection NoMiner, passed
 * on. The new miner signs with its own compute key: the key pin (`minerKey`, or the first receipt's key) is per
 * miner and starts afresh on a reroute.
 */
import { createFheContext, presets, type FheContext, type PresetName } from '../fhe/index.ts'
import { inThreadCrypto, workerCrypto, type ClientCrypto } from './client-crypto.ts'
import { generateAsync, linearWeights, quantizeWeightInt8, rescaleInt8, TextStreamDecoder, type ActivationQuant, type AsyncLinearFn, type GptModel, type Int8Matrix, type LinearSite, type Tokenizer } from '../model/index.ts'
import { randomBytes } from 'node:crypto'
import { fromHex, toHex, verify } from '../ledger/index.ts'
import { encryptedLinearDigest, receiptSigningBytes, type ComputeReceipt, type EncryptedLinear, type EncryptedLinearReply } from '../protocol/index.ts'
import { ReceiptRejected, RerouteExhausted, ReplyMismatch } from './errors.ts'

export type AskMiner = (msg: typeof EncryptedLinear.Type) => Promise<typeof EncryptedLinearReply.Type>

const GONE_TAGS: ReadonlySet<string> = new Set(['ActorStopped', 'UnknownActor', 'AskTimeout', 'PeerUnreachable', 'PeerLost'])

/**
 * Whether an ask's failure means the miner is gone (transport or actor-gone: ActorStopped, UnknownActor,
 * AskTimeout, PeerUnreachable), as opposed to an answer (MinerRejection, FheRejection, …) that another miner would
 * give too.
 */
export function isMinerGone(e: unknown): boolean {
  return typeof e === 'object' && e !== null && '_tag' in e && typeof e._tag === 'string' && GONE_TAGS.has(e._tag)
}

/** How a session finds another miner when its miner is gone (the Brain that assigned it). */
export interface MinerRoute {
  /** The address of the miner `EncryptedSessionInit.ask` reaches. */
  readonly miner: string
  /**
   * Reports `gone` to the Brain (MinerGone) and returns the address of another miner, none of `exclude` (Route with
   * `exclude`). Rejects with BrainRejection NoMiner when the Brain has none left.
   */
  next(gone: string, exclude: readonly string[]): Promise<string>
  /** An ask to the miner at `address`. */
  askOf(address: string): AskMiner
  /** Reroutes allowed in the session (default 3). */
  readonly maxReroutes?: number
  /** Told of each reroute (for progress output). */
  readonly onReroute?: (from: string, to: string, cause: unknown) => void
}

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
  /**
   * How long the client waits for each product (ms). When set, every request carries `deadline` = send time + this
   * (protocol/fhe-messages.ts): the miner refuses work past it (MinerRejection 'DeadlineExceeded') and an `ask` that
   * honours it (net/deadline.ts `askByDeadline`) stops waiting then (AskTimeout). Unset: no deadline is sent.
   */
  readonly timeoutMs?: number
  /** The miner's compute key (hex), when known in advance: receipts signed by any other key are refused. */
  readonly minerKey?: string
  /**
   * Progress of key generation, in the constructor: part 1 of 2 the BFV context (NTT tables), part 2 the secret key.
   * Optional; changes nothing else. Not called with `offThread` (the key is made in the worker).
   */
  readonly onKeyProgress?: (done: number, total: number) => void
  /**
   * Encrypt and decrypt in a worker thread (comlink RPC; gateway/client-crypto.ts): the secret key lives there and
   * this thread's event loop stays free while a product is prepared. Same words as in this thread. Call `close()`
   * when done. Default false.
   */
  readonly offThread?: boolean
  /** Deterministic keys and encryption randomness from this seed (tests only: a seeded key is not secret). */
  readonly seed?: string
  /**
   * Progress of weight preparation: called once per dense weight matrix (a layer's attn, proj, fc or fcProj), when
   * its first product has come back — the first use is when this process quantizes the matrix to int8 and the miner
   * encodes it into plaintext polynomials, so the first forward pass is slower than the rest. `total` is the number
   * of dense products of one forward pass. Optional; changes nothing else.
   */
  readonly onWeightProgress?: (done: number, total: number, site: LinearSite) => void
  /** Where to go when the miner is gone (see the module comment); without it a gone miner's error is passed on. */
  readonly route?: MinerRoute
}

export interface ProductStats {
  products: number
  /**
   * Compute units: ciphertext × plaintext products the miner performed, as the miner's signed receipts state them
   * (each checked against the plan sent). What a session pays for.
   */
  computeUnits: number
  bytesUp: number
  bytesDown: number
  minerMs: number
}

/** A session: a fresh secret key held here, and an AsyncLinearFn that runs every dense product on the miner. */
export class EncryptedSession {
  readonly preset: PresetName
  readonly stats: ProductStats = { products: 0, computeUnits: 0, bytesUp: 0, bytesDown: 0, minerMs: 0 }
  /** This session's id (random, 32 hex digits), sent with every request and named in every receipt. */
  readonly sessionId: string = toHex(randomBytes(16))
  /** The miner's verified receipts, one per product, in order. */
  readonly receipts: ComputeReceipt[] = []
  private readonly crypto: ClientCrypto
  private context: FheContext | undefined
  private readonly init: EncryptedSessionInit
  private readonly int8 = new WeakMap<Float32Array, Int8Matrix>()
  private readonly sitesSeen = new Set<string>()
  private readonly siteCount: number
  private ask: AskMiner
  /** The current miner's address (when `route` is given). */
  private minerAddress: string | undefined
  private readonly gone: string[] = []
  /** The compute key receipts must be signed by (per miner; set by the first receipt when not given). */
  private keyPin: string | undefined

  constructor(init: EncryptedSessionInit) {
    this.init = init
    this.ask = init.ask
    this.minerAddress = init.route?.miner
    this.keyPin = init.minerKey
    this.preset = init.preset ?? 'bfv4096Linear'
    this.crypto = init.offThread === true ? workerCrypto(this.preset, init.seed) : inThreadCrypto(this.preset, init.seed, init.onKeyProgress)
    let sites = 0
    for (let layer = 0; layer < init.model.config.nLayer; layer++) {
      for (const name of ['attn', 'proj', 'fc', 'fcProj'] as const) if (linearWeights(init.model, { layer, name }) !== undefined) sites++
    }
    this.siteCount = sites
  }

  /** The BFV context of this session's parameters (public: N, t, primes). */
  get ctx(): FheContext {
    this.context ??= createFheContext(presets[this.preset])
    return this.context
  }

  /** The miner this session now sends to (when it was given a `route`), and the miners it left as gone. */
  get miner(): { readonly current: string | undefined; readonly gone: readonly string[] } {
    return { current: this.minerAddress, gone: [...this.gone] }
  }

  /** Where encryption and decryption run: 'main' (this thread) or 'worker'. */
  get cryptoPlacement(): 'main' | 'worker' {
    return this.crypto.placement
  }

  /** Ends the encryption worker (offThread); nothing to do otherwise. */
  close(): Promise<void> {
    return this.crypto.close()
  }

  /** The dense-product hook for `forwardAsync` / `generateAsync`. */
  readonly linear: AsyncLinearFn = async (x, rows, inDim, outDim, w, b, site) => {
    let m = this.int8.get(w)
    if (!m) {
      m = quantizeWeightInt8(w, inDim, outDim)
      this.int8.set(w, m)
    }
    const req = await this.crypto.encrypt(x, rows, inDim, outDim, this.init.activations ?? 'absmax')
    const { ni, mt, no, dIn, dOut, tokens } = req.plan
    const build = (): typeof EncryptedLinear.Type => ({
      _tag: 'EncryptedLinear',
      session: this.sessionId,
      model: this.init.modelId,
      layer: site.layer,
      site: site.name,
      preset: this.preset,
      plan: { ni, mt, no, dIn, dOut, tokens },
      inputs: req.inputs,
      ...(this.init.timeoutMs !== undefined ? { deadline: Date.now() + this.init.timeoutMs } : {}),
    })
    const { msg, reply } = await this.send(build)
    if (reply.outputs.length !== req.plan.outputCiphertexts) throw new ReplyMismatch({ expected: req.plan.outputCiphertexts, got: reply.outputs.length })
    this.checkReceipt(reply.receipt, msg, req.plan.products)
    this.receipts.push(reply.receipt)
    this.stats.products++
    this.stats.computeUnits += reply.receipt.units
    this.stats.bytesUp += req.inputs.reduce((s, u) => s + u.length, 0)
    this.stats.bytesDown += reply.outputs.reduce((s, u) => s + u.length, 0)
    this.stats.minerMs += reply.minerMs
    const out = rescaleInt8(await this.crypto.decrypt(req.plan, reply.outputs), req.quant, m, b)
    const siteKey = `${site.layer}/${site.name}`
    if (this.init.onWeightProgress && !this.sitesSeen.has(siteKey)) {
      this.sitesSeen.add(siteKey)
      this.init.onWeightProgress(Math.min(this.sitesSeen.size, this.siteCount), this.siteCount, site)
    }
    return out
  }

  /** Sends a product to the current miner; when it is gone and a route is given, to the next one (same ciphertexts). */
  private async send(build: () => typeof EncryptedLinear.Type): Promise<{ msg: typeof EncryptedLinear.Type; reply: typeof EncryptedLinearReply.Type }> {
    for (;;) {
      const msg = build()
      try {
        return { msg, reply: await this.ask(msg) }
      } catch (e) {
        const route = this.init.route
        const from = this.minerAddress
        if (route === undefined || from === undefined || !isMinerGone(e)) throw e
        // A request with a deadline whose ask timed out has spent the user's time for this product: the AskTimeout is
        // the answer (rerouting would only start the same work after its deadline), not a sign the miner is gone.
        if (msg.deadline !== undefined && (e as { _tag: string })._tag === 'AskTimeout') throw e
        if (!this.gone.includes(from)) this.gone.push(from)
        const max = route.maxReroutes ?? 3
        if (this.gone.length > max) throw new RerouteExhausted({ reroutes: max, lastMiner: from, lastError: (e as { _tag: string })._tag })
        const to = await route.next(from, this.gone) // BrainRejection NoMiner when none is left
        this.minerAddress = to
        this.ask = route.askOf(to)
        this.keyPin = undefined // the next miner signs with its own compute key
        route.onReroute?.(from, to, e)
      }
    }
  }

  private checkReceipt(r: ComputeReceipt, sent: typeof EncryptedLinear.Type, planned: number): void {
    const { signature, ...unsigned } = r
    if (!verify(fromHex(r.computeKey), receiptSigningBytes(unsigned), fromHex(signature))) {
      throw new ReceiptRejected({ reason: 'signature', detail: 'the receipt\'s signature does not verify under its compute key' })
    }
    const pinned = this.keyPin
    if (pinned !== undefined && r.computeKey !== pinned) throw new ReceiptRejected({ reason: 'key', detail: `signed by ${r.computeKey.slice(0, 16)}…, not the session's miner` })
    if (r.request !== toHex(encryptedLinearDigest(sent))) throw new ReceiptRejected({ reason: 'request', detail: 'the receipt names another request' })
    if (r.session !== this.sessionId) throw new ReceiptRejected({ reason: 'session', detail: 'the receipt names another session' })
    if (r.units !== planned) throw new ReceiptRejected({ reason: 'units', detail: `${r.units} units signed, the plan needs ${planned} products` })
    this.keyPin ??= r.computeKey
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
