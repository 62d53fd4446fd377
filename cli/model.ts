/**
 * `based generate` and `based squeeze`: the model from the command line.
 *
 *   based generate "prompt" [--tokens N] [--on-full slide|stop] [--temperature T] [--top-k K] [--seed S] [--weights file] [--int8 | --kernels]
 *   based generate "prompt" --encrypted [--miner /root/miners/miner-1] [--pay W [--max-units N]]   (on a running cluster)
 *   based generate "prompt" --encrypted --peer <multiaddr> [--timeout MS] [--brain …] [--miner …]  (over libp2p, with a deadline)
 *   based squeeze (--budget N | --fraction F | --theta T) --out file.safetensors
 *   based brain template --weights file.safetensors [--config config.json] [--fraction F] --out DIR   (cli/template.ts)
 *
 * `generate` prints each token as soon as it is sampled from the shipped model (or a squeezed/GPT-2 checkpoint given with
 * --weights, tokenized with the shipped tokenizer or GPT-2's for a GPT-2 vocabulary). It never fails for length:
 * a full context slides (or stops, --on-full stop) and a prompt longer than the context keeps its last tokens.
 */
import fs from 'node:fs'
import path from 'node:path'
import { EncryptedSession, authorizeSession, minerBrain, minerBrains, settleReceipts, type AskMiner, type LedgerAsk } from '../gateway/index.ts'
import { askByDeadline, Libp2pTransport } from '../net/index.ts'
import { RemoteRef } from '../actors/index.ts'
import { formatAmount, toAddress, unlockWallet, type KeyPair } from '../ledger/index.ts'
import { LEDGER_ADDRESS, passphrase, waitForFate } from './wallet.ts'
import { TxNotApplied } from './participant.ts'
import type { TxStatus } from '../protocol/index.ts'

/** A paying transaction (authorization, settlement) that did not apply: the ledger's typed reason. */
function notApplied(fate: typeof TxStatus.Type, hash: string): TxNotApplied {
  return new TxNotApplied({
    status: fate.status === 'failed' ? 'failed' : 'dropped', reason: fate.reason ?? fate.status, detail: fate.detail ?? '', hash,
    ...(fate.height !== undefined ? { height: fate.height } : {}),
  })
}
import { SHIPPED_MODEL_ID } from '../actors/miner.ts'
import { DEFAULT_CLUSTER } from './cluster.ts'
import { findControl } from '../actors/control/index.ts'
import { checkWeightsFile } from './weights-file.ts'
import { askControl } from '../actors/control/client.ts'
import { registerBrainTemplate } from './template.ts'
import { createProgress, type Progress } from './progress.ts'
import { InvalidArgumentError, type Command } from 'commander'
import {
  generate,
  generateAsync,
  int8Linear,
  kernelInt8Linear,
  SHIPPED_DIR,
  TextStreamDecoder,
  loadGpt2File,
  loadGpt2Tokenizer,
  loadShippedModel,
  loadShippedLarge,
  squeezeShipped,
  type ShippedSqueezeRule,
  type ActivationQuant,
  type Tokenizer,
  type GenerateOptions,
  type GptModel,
  type OnContextFull,
} from '../model/index.ts'

function num(name: string, min: number, max: number, integer = false) {
  return (v: string): number => {
    const n = Number(v)
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isSafeInteger(n))) {
      throw new InvalidArgumentError(`${name} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}`)
    }
    return n
  }
}

function modelOption(v: string): 'small' | 'large' {
  if (v !== 'small' && v !== 'large') throw new InvalidArgumentError('--model must be small or large')
  return v
}

interface GenerateCliOptions {
  tokens: number
  onFull: OnContextFull
  temperature: number
  topK: number
  seed: number
  weights?: string
  model?: 'small' | 'large'
  int8?: boolean
  kernels?: boolean
  squeezeActivations?: boolean
  encrypted?: boolean
  brain: string
  miner?: string
  pay?: string
  maxUnits?: number
  control?: string
  dataDir: string
  peer?: string
  timeout: number
}

function onFullOption(v: string): OnContextFull {
  if (v !== 'slide' && v !== 'stop') throw new InvalidArgumentError('--on-full must be slide or stop')
  return v
}

/** The shipped model's context length, for the help text (read from its config.json; '?' if unreadable). */
function shippedContext(): string {
  try {
    const c = JSON.parse(fs.readFileSync(path.join(SHIPPED_DIR, 'config.json'), 'utf8')) as { nCtx?: unknown }
    return typeof c.nCtx === 'number' ? String(c.nCtx) : '?'
  } catch {
    return '?'
  }
}

/**
 * Print the prompt, then every token's text as soon as the token is sampled (sync or async generation), then a
 * newline. Notices (a truncated prompt, window slides, a stop at a full context) go to stderr on their own lines;
 * an error ends the stdout line first so the message never lands glued to the text. With `beforeOutput`, the prompt is
 * written only when the first text is (or at the end or on an error), after `beforeOutput()` has run: a progress bar
 * on stderr is finished first and never redraws over the prompt's line.
 */
async function streamTokens(
  model: GptModel,
  tokenizer: Tokenizer,
  prompt: string,
  o: GenerateCliOptions,
  run: (tokens: readonly number[], opts: GenerateOptions) => Iterable<number> | AsyncIterable<number>,
  beforeOutput?: () => void,
): Promise<void> {
  let tokens = tokenizer.encode(prompt)
  if (tokens.length === 0) {
    // the model needs a context to continue: an empty prompt starts from a line break
    process.stderr.write('notice: empty prompt; starting from a line break\n')
    tokens = tokenizer.encode('\n')
  }
  const nCtx = model.config.nCtx
  if (tokens.length > nCtx) {
    process.stderr.write(`notice: the prompt is ${tokens.length} tokens and the model's context ${nCtx}; only its last ${nCtx} tokens are read\n`)
  }
  let slides = 0
  let kept = 0
  let full: number | undefined
  const opts: GenerateOptions = {
    maxNewTokens: o.tokens, temperature: o.temperature, topK: o.topK, seed: o.seed, onFull: o.onFull,
    onContext: (e) => {
      if (e._tag === 'WindowSlid') { slides++; kept = e.kept }
      if (e._tag === 'ContextFull') full = e.generated
    },
  }
  const decoder = new TextStreamDecoder(tokenizer)
  let promptWritten = false
  const writePrompt = (): void => {
    if (promptWritten) return
    promptWritten = true
    beforeOutput?.()
    process.stdout.write(prompt)
  }
  if (!beforeOutput) writePrompt()
  try {
    for await (const t of run(tokens, opts)) {
      const piece = decoder.push(t)
      if (piece !== '') {
        writePrompt()
        process.stdout.write(piece)
      }
    }
    writePrompt()
    process.stdout.write(`${decoder.finish()}\n`)
  } catch (e) {
    writePrompt()
    process.stdout.write('\n')
    throw e
  }
  if (slides > 0) process.stderr.write(`notice: the context of ${nCtx} tokens filled; the window slid ${slides} time${slides === 1 ? '' : 's'} (keeping the last ${kept} tokens each time)\n`)
  if (full !== undefined) process.stderr.write(`notice: stopped after ${full} new tokens: the context of ${nCtx} tokens is full (--on-full slide goes on)\n`)
}

/** How `generate --encrypted` reaches the Brain and the miner: the cluster's control endpoint, or a libp2p peer. */
interface EncryptedVia {
  /** A miner from the Brain, none of `exclude` (miners this session found gone). */
  route(brain: string, exclude?: readonly string[]): Promise<string>
  /** Tells the Brain that `miner` is gone (MinerGone): it routes nothing to it until it registers again. */
  gone(brain: string, miner: string): Promise<void>
  miner(address: string): AskMiner
  /** The deadline of each product (ms from sending), carried in the request (peer mode). */
  readonly timeoutMs?: number
  /** The control endpoint (control mode; the ledger traffic of --pay goes there). */
  readonly control?: string
}

/** How long the Brain has to assign a miner over a peer link. */
const ROUTE_TIMEOUT_MS = 30_000

function routeMsg(exclude: readonly string[] | undefined): { readonly _tag: 'Route'; readonly exclude?: readonly string[] } {
  return exclude !== undefined && exclude.length > 0 ? { _tag: 'Route', exclude } : { _tag: 'Route' }
}

function viaOf(o: GenerateCliOptions, client: Libp2pTransport | undefined): EncryptedVia {
  if (client !== undefined && o.peer !== undefined) {
    // Data plane: the Brain and the miner as actors of a libp2p peer; each product carries its deadline, the client
    // stops waiting then (AskTimeout) and the miner refuses work past it (DeadlineExceeded).
    const peer = o.peer
    return {
      route: async (brain, exclude) => (await askByDeadline(new RemoteRef(client, peer, brain), routeMsg(exclude), Date.now() + ROUTE_TIMEOUT_MS)).miner,
      // MinerGone is local-only on the peer surface (net/guard.ts: an unverifiable claim from any peer would let it
      // mark every miner down); a remote client only excludes the gone miner from its own queries (Route.exclude).
      gone: () => Promise.resolve(),
      miner: (address) => {
        const ref = new RemoteRef(client, peer, address)
        return (m) => askByDeadline(ref, m)
      },
      timeoutMs: o.timeout,
    }
  }
  const base = findControl(path.resolve(o.dataDir), o.control)
  return {
    route: async (brain, exclude) => (await askControl(base, brain, routeMsg(exclude))).miner,
    gone: async (brain, miner) => {
      await askControl(base, brain, { _tag: 'MinerGone', miner })
    },
    miner: (address) => (m) => askControl(base, address, m, 120_000),
    control: base,
  }
}

async function generateEncrypted(prompt: string, o: GenerateCliOptions, activations: ActivationQuant, client: Libp2pTransport | undefined): Promise<void> {
  const via = viaOf(o, client)
  const { model, tokenizer } = loadShippedModel()
  const miner = o.miner ?? (await via.route(o.brain))
  // Progress on stderr (a bar on a terminal, plain lines otherwise): key generation, then weight preparation —
  // the first forward pass, where each dense matrix is quantized here and encoded by the miner on first use.
  const keyBar = createProgress({ label: 'BFV key generation', total: 2 })
  let weightBar: Progress | undefined
  let session: EncryptedSession
  try {
    session = new EncryptedSession({
      model, modelId: SHIPPED_MODEL_ID, activations, ask: via.miner(miner), ...(via.timeoutMs !== undefined ? { timeoutMs: via.timeoutMs } : {}),
      // A miner the Brain assigned is replaced by the Brain when it is gone (same ciphertexts resent; tokens
      // unchanged). Not with --miner (the user chose it) nor --pay (the session is authorized on that miner's Brain
      // and its receipts are settled under that miner's compute key).
      ...(o.miner === undefined && o.pay === undefined
        ? {
            route: {
              miner,
              next: async (gone: string, exclude: readonly string[]) => {
                await via.gone(o.brain, gone)
                return via.route(o.brain, exclude)
              },
              askOf: (address: string) => via.miner(address),
              onReroute: (from: string, to: string, cause: unknown) => {
                const why = typeof cause === 'object' && cause !== null && '_tag' in cause ? String(cause._tag) : 'error'
                process.stderr.write(`\nminer ${from} is gone (${why}); ${o.brain} rerouted the session to ${to}, resending the same ciphertexts\n`)
              },
            },
          }
        : {}),
      onKeyProgress: (done, total) => keyBar.update(done, done === 1 ? 'context (NTT tables)' : 'secret key', total),
      onWeightProgress: (done, total, site) => {
        weightBar ??= createProgress({ label: 'weight preparation (int8 here, plaintext encoding on the miner)', total })
        weightBar.update(done, `layer ${site.layer} ${site.name}`, total)
        if (done >= total) weightBar.stop()
      },
    })
  } finally {
    keyBar.stop()
  }
  process.stderr.write(`encrypted session: BFV ${session.preset} (N = ${session.ctx.n}, 128-bit), key held by this process; miner ${miner}${o.miner ? '' : ` (assigned by ${o.brain})`}${o.peer ? ` on the peer ${o.peer}` : ''}\n`)
  // Paying (§3.5.1): the session is authorized on the ledger before any work, so the miner can check that the
  // payer's spending account covers each request; after the generation its signed receipts are settled.
  let payer: { keys: KeyPair; brain: number; ledgerAsk: LedgerAsk; base: string } | undefined
  const base = via.control
  if (o.pay && base !== undefined) {
    const ledgerAsk: LedgerAsk = (m) => askControl(base, LEDGER_ADDRESS, m)
    const computeKey = (await askControl(base, miner, { _tag: 'GetStatus' })).detail.computeKey
    if (typeof computeKey !== 'string') throw new InvalidArgumentError(`${miner} reports no ledger registration to pay`)
    const keys = unlockWallet(path.resolve(o.dataDir), o.pay, await passphrase('passphrase: ')).personal
    // The Brain to pay on: one the miner is registered on where the payer has a spending account (else its first).
    const brains = await minerBrains(ledgerAsk, computeKey)
    const accounts = (await ledgerAsk({ _tag: 'GetEscrows', address: toAddress(keys.publicKey) })).escrows
    const account = accounts.find((e) => brains.includes(e.brain) && e.unlockAt === 0)
    const brain = account?.brain ?? (await minerBrain(ledgerAsk, computeKey)) // UnknownParticipant when on none
    const price = BigInt((await ledgerAsk({ _tag: 'GetMetagraph', brain })).brain.queryPrice)
    if (price === 0n && !account) {
      // A free Brain: nothing to authorize or settle (with an account the session is still recorded on it).
      process.stderr.write(`Brain #${brain} charges nothing for queries (its queryPrice is 0): nothing to pay\n`)
    } else {
      const covered = account && price > 0n ? (BigInt(account.balance) * 1000n) / price : 1_000_000_000n
      const maxUnits = o.maxUnits !== undefined ? BigInt(o.maxUnits) : covered > 0n ? covered : 1n
      const hash = await authorizeSession(ledgerAsk, keys, { brain, session: session.sessionId, maxUnits, maxPrice: price })
      const head = await ledgerAsk({ _tag: 'GetHead' })
      const fate = await waitForFate(base, hash, head.blockTimeMs)
      if (fate.status !== 'included') throw notApplied(fate, hash)
      process.stderr.write(`session authorized on Brain #${brain}: up to ${maxUnits} compute units at ${formatAmount(price)} $BASED per 1,000, from ${o.pay}'s spending account (block ${String(fate.height)})\n`)
      payer = { keys, brain, ledgerAsk, base }
    }
  }
  // A generation that stops on an error (e.g. the miner refusing a later request) still pays for the work the
  // miner did and signed: its receipts are settled, then the error is reported.
  let failed: { readonly error: unknown } | undefined
  try {
    await streamTokens(model, tokenizer, prompt, o, (tokens, opts) => generateAsync(model, tokens, { ...opts, linear: session.linear }), () => weightBar?.stop())
  } catch (error) {
    if (!payer) throw error
    failed = { error }
  } finally {
    weightBar?.stop()
  }
  const s = session.stats
  process.stderr.write(`${s.products} encrypted products (${s.computeUnits} compute units), ${(s.bytesUp / 1e6).toFixed(1)} MB up, ${(s.bytesDown / 1e6).toFixed(1)} MB down, miner ${s.minerMs.toFixed(0)} ms\n`)
  if (payer && session.receipts.length > 0) {
    const paid = await settleReceipts(payer.ledgerAsk, payer.keys, session.receipts)
    const head = await payer.ledgerAsk({ _tag: 'GetHead' })
    for (const tx of paid.txs) {
      const fate = await waitForFate(payer.base, tx, head.blockTimeMs)
      if (fate.status !== 'included') throw notApplied(fate, tx)
    }
    process.stderr.write(`paid ${formatAmount(paid.amount)} $BASED for ${paid.units} compute units (signed by the miner) from ${o.pay}'s spending account on Brain #${paid.brain} (tx ${paid.txs.map((t) => `${t.slice(0, 16)}…`).join(', ')})\n`)
  }
  if (failed) throw failed.error
}

export function registerModelCommands(program: Command): void {
  registerBrainTemplate(program)
  program
    .command('generate <prompt>')
    .description('generate text from a prompt, printing each token as soon as it is sampled (the shipped model unless --weights)')
    .option('--tokens <n>', `new tokens, any number: when the model's context is full (${shippedContext()} tokens for the shipped model) the window slides — the oldest tokens are dropped and the rest re-read — or generation stops (--on-full); a prompt longer than the context keeps its last tokens`, num('--tokens', 1, 1_000_000, true), 60)
    .option('--on-full <mode>', 'when the context is full: slide (drop the oldest half of the window and go on) or stop', onFullOption, 'slide' as OnContextFull)
    .option('--temperature <t>', '0 = greedy', num('--temperature', 0, 10), 0.8)
    .option('--top-k <k>', '0 = all tokens', num('--top-k', 0, 1 << 20, true), 40)
    .option('--seed <s>', 'sampling seed', num('--seed', 0, 2 ** 32 - 1, true), 1)
    .option('--weights <file>', 'a safetensors checkpoint (GPT-2 layout)')
    .option('--model <size>', 'which shipped model: small (2 layers, d = 64, context 64; the default) or large (4 layers, d = 128, model/weights/large)', modelOption)
    .option('--int8', 'int8 weights and activations (CPU int8 path)')
    .option('--kernels', 'int8 on basedai/kernels (WGSL on a WebGPU adapter, or the kernels\' TypeScript reference without one)')
    .option('--squeeze-activations', 'quantize activations by the whitepaper\'s §5.1 dynamic quantization (σ-adaptive scale, 256 levels) instead of absmax (with --int8 or --encrypted)')
    .option('--encrypted', 'encrypted inference on a miner of the running cluster: every dense product is sent as BFV ciphertexts; the key stays here')
    .option('--brain <address>', 'with --encrypted: the Brain that assigns a miner (least-loaded: no prompt embedding is sent)', '/root/brains/brain-1')
    .option('--miner <address>', 'with --encrypted: use this miner instead of asking the Brain')
    .option('--pay <wallet>', 'with --encrypted: pay for the compute units the miner signs from this wallet\'s spending account on the miner\'s Brain (based escrow open): the session is authorized on the ledger first, its receipts settled after')
    .option('--max-units <n>', 'with --pay: the session\'s allowance in compute units (default: what the spending account covers at the Brain\'s price)', num('--max-units', 1, Number.MAX_SAFE_INTEGER, true))
    .option('--peer <multiaddr>', 'with --encrypted: reach the Brain and the miner as a libp2p peer at this address (…/p2p/<peer id>, printed by cluster up on its "libp2p:" line), on this machine or another, instead of the control endpoint; each product carries its deadline (--timeout)')
    .option('--timeout <ms>', 'with --peer: how long to wait for each encrypted product — the deadline every request carries: the miner refuses work past it and this client stops waiting then', num('--timeout', 1, 600_000, true), 120_000)
    .option('--control <url>', 'with --encrypted: control URL of the cluster')
    .option('--data-dir <dir>', 'with --encrypted: data directory of the cluster', DEFAULT_CLUSTER.dataDir)
    .action(async (prompt: string, o: GenerateCliOptions) => {
      const activations: ActivationQuant = o.squeezeActivations ? { levels: 256, threshold: 0.1, alpha: 0.5 } : 'absmax'
      if (o.encrypted) {
        if (o.weights) throw new InvalidArgumentError('--encrypted runs the Brain model the miner serves (the shipped model); --weights does not apply')
        if (o.model === 'large') throw new InvalidArgumentError('--encrypted runs the Brain model the miner serves (the small shipped model); --model large does not apply')
        if (o.peer !== undefined && o.pay !== undefined) throw new InvalidArgumentError('--pay is not available with --peer yet: pay on a node whose control endpoint this machine reaches (without --peer)')
        const client = o.peer !== undefined ? await Libp2pTransport.create({ listen: [] }) : undefined
        try {
          await generateEncrypted(prompt, o, activations, client)
        } finally {
          await client?.close()
        }
        return
      }
      if (o.weights && o.model) throw new InvalidArgumentError('give --weights or --model, not both')
      const shipped = o.model === 'large' ? loadShippedLarge() : loadShippedModel()
      let model = shipped.model
      let tokenizer: Tokenizer = shipped.tokenizer
      if (o.weights) {
        model = loadGpt2File(checkWeightsFile(o.weights))
        if (model.config.vocabSize !== shipped.model.config.vocabSize) tokenizer = await loadGpt2Tokenizer()
      }
      if (o.kernels) {
        const { KernelService } = await import('../kernels/index.ts')
        const service = await KernelService.create()
        try {
          const linear = kernelInt8Linear(service)
          await streamTokens(model, tokenizer, prompt, o, (tokens, opts) => generateAsync(model, tokens, { ...opts, linear }))
        } finally {
          service.destroy()
        }
        return
      }
      const forwardOpts = o.int8 || o.squeezeActivations ? { forward: { linear: int8Linear(activations) } } : {}
      await streamTokens(model, tokenizer, prompt, o, (tokens, opts) => generate(model, tokens, { ...opts, ...forwardOpts }))
    })

  program
    .command('squeeze')
    .description('Cerberus Squeezing of the shipped model: prune attention heads by significance under a budget; writes the model and prints its report')
    .option('--budget <units>', 'keep the most significant heads whose summed cost fits (head-cost units)', num('--budget', 0, Number.MAX_SAFE_INTEGER))
    .option('--fraction <f>', 'budget as a fraction of the full model’s head cost', num('--fraction', 0, 1))
    .option('--theta <nats>', 'prune heads whose significance (loss increase when masked) is ≤ θ', num('--theta', 0, 1e9))
    .requiredOption('--out <file>', 'output safetensors file')
    .action((o: { budget?: number; fraction?: number; theta?: number; out: string }) => {
      const given = [o.budget, o.fraction, o.theta].filter((v) => v !== undefined).length
      if (given !== 1) throw new InvalidArgumentError('give exactly one of --budget, --fraction, --theta')
      const rule: ShippedSqueezeRule =
        o.theta !== undefined ? { theta: o.theta } : o.budget !== undefined ? { budget: o.budget } : { fraction: o.fraction as number }
      process.stderr.write('measuring head significance on calibration text…\n')
      const { bytes, report } = squeezeShipped(rule)
      fs.writeFileSync(o.out, bytes)
      const { significance: _s, budgetFraction, keptFraction, heads, ...summary } = report
      const pct = (f: number): string => `${(100 * f).toFixed(1)}%`
      process.stderr.write(`${budgetFraction !== undefined ? `budget ${pct(budgetFraction)} of the full model's head cost; ` : ''}kept ${heads} heads, ${pct(keptFraction)} of the head cost; held-out perplexity ${report.heldOutPerplexityBefore.toFixed(2)} → ${report.heldOutPerplexityAfter.toFixed(2)}\n`)
      process.stdout.write(`${JSON.stringify({ ...(budgetFraction !== undefined ? { budgetFraction } : {}), keptFraction, heads, ...summary, out: o.out }, null, 2)}\n`)
    })
}
