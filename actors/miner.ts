/**
 * The miner actor: runs a Brain's model on users' encrypted activations. It holds the public model weights (the
 * shipped model, `factbook-gpt`, identified by its weights hash in the Brain's task) and no key of any user: it
 * evaluates EncryptedLinear requests — one dense product on BFV ciphertexts (basedai/fhe's `LinearPlanner`, miner
 * half) — and returns ciphertexts it cannot read. It also answers the basic requests (actors/basic.ts).
 *
 * Where the polynomial arithmetic runs (`MinerArgs.kernels`; the status's `backend` says which is in use):
 * - `'cpu'` (default): the FHE context's CPU backend (WebAssembly SIMD where the engine has it).
 * - an actor address (`/root/miners/kernel-1`, a kernel worker started in the tree or attached with
 *   `based worker attach --id kernel-1`): the NTTs of every product run on that worker's GPU through kernel messages
 *   (`kernelWorkerClient` + `kernelPolyBackend`). The worker is found with `ctx.lookup` (in either placement: a
 *   worker-thread miner reaches it through its WorkerCell); it is looked up again on each request until found, and a worker that has no adapter (its TypeScript
 *   reference fallback is slower than the CPU backend) is not used. If the worker fails mid-request the product is
 *   recomputed on the CPU (`kernelFallbacks` in status). Results are bit-identical to the CPU's either way.
 * - `'device'`: the miner acquires its own WebGPU device in its thread (works in a worker thread too); with no
 *   adapter it stays on the CPU and says so.
 *
 * With `args.wallet` (the node's own wallet: `cluster up --wallet`) or `args.dev` (its index in the dev network,
 * ledger/dev.ts) its status names its compute key on the ledger, so a client can pay its owner for the work
 * (gateway/settle.ts). Every EncryptedLinearReply carries a receipt signed with
 * that compute key (a fresh key when the miner has no registration): the number of ciphertext × plaintext products
 * it performed, for the SHA-256 of the request and the client's session id (protocol/fhe-messages.ts).
 *
 * Refusals are `MinerRejection` (UnknownModel, UnknownSite, PlanMismatch, UnknownPreset, WeightsHashMismatch, and
 * DeadlineExceeded for a request whose `deadline` passed before its work starts);
 * corrupt or wrong-parameter ciphertexts and bad shapes cross as `FheRejection` (CiphertextDecodeError,
 * ParamsMismatch, InvalidOperand). The miner keeps serving.
 */
import fs from 'node:fs'
import { Schema } from 'effect'
import { continueWith, defineRole, failWith, toProtocolError, type ActorContext, type Behaviour, type HandleResult } from '../supervisor/runtime.ts'
import { InvalidArgs } from '../supervisor/errors.ts'
import { encryptedLinearDigest, FHE_REASONS, MinerRejection, receiptSigningBytes, type EncryptedLinear, type Message, type Reply } from '../protocol/index.ts'
import { Bfv, defaultPolyBackend, kernelPolyBackend, minerEvaluateLinear, presets, type AsyncPolyBackend, type PreparedLinear, type PresetName } from '../fhe/index.ts'
import { KernelService, kernelWorkerClient } from '../kernels/index.ts'
import { linearWeights, loadShippedModel, openBrainTask, quantizeWeightInt8, sha256Hex, SHIPPED_WEIGHTS, type GptModel, type Int8Matrix } from '../model/index.ts'
import { answerBasic, basicState, BASIC_TAGS, type BasicState } from './basic.ts'
import { withEscrowGate } from './miner-escrow.ts'
import { devKeys, generateKeyPair, sign, toHex, unlockWallet, type KeyPair } from '../ledger/index.ts'

/** The environment variable that carries the wallet passphrase (as the CLI's wallet commands). */
const WALLET_PASSPHRASE_ENV = 'BASED_WALLET_PASSPHRASE'

export const SHIPPED_MODEL_ID = 'factbook-gpt'

/** Start arguments of a miner (defaults here and nowhere else). */
export const MinerArgs = Schema.Struct({
  /** A Brain task directory (model/template.ts) whose model this miner serves; otherwise the shipped model. */
  template: Schema.optional(Schema.String),
  /** The Brain's weights hash (hex SHA-256; a template's own wins): weights that differ are held but never served. */
  weightsHash: Schema.optional(Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))),
  /** Index in the dev network (ledger/dev.ts): the compute key that signs receipts and that the status names. */
  dev: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  /**
   * The node's own wallet (ledger/wallet.ts: `<dataDir>/wallets/<name>`): its compute key signs receipts and is the
   * key registered on the Brain (`cluster up --wallet`). Unlocked in `init` with $BASED_WALLET_PASSPHRASE. Wins over `dev`.
   */
  wallet: Schema.optional(Schema.Struct({ dataDir: Schema.String.pipe(Schema.minLength(1)), name: Schema.String.pipe(Schema.minLength(1)) })),
  /** The Brain this miner serves (shown in status). */
  brainId: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1 }),
  /** Where the NTTs run: 'cpu', 'device' (own WebGPU device), or the address of a kernel-worker actor. */
  kernels: Schema.optionalWith(Schema.Union(Schema.Literal('cpu', 'device'), Schema.String.pipe(Schema.pattern(/^\/[A-Za-z0-9_./-]+$/))), {
    default: () => 'cpu' as const,
  }),
  /** How long one kernel-worker request may take before the product falls back to the CPU (ms). */
  kernelTimeoutMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 120_000 }),
})
export type MinerArgs = typeof MinerArgs.Type

export const minerRole = defineRole('miner', import.meta.url, MinerArgs)

/** The accelerator in use, or why there is none. */
interface Kernels {
  /** Where the arithmetic should run: MinerArgs.kernels at start, then the last UseKernels. */
  readonly target: string
  abe: AsyncPolyBackend | undefined
  /** What the status says about it. */
  note: string
  readonly service?: KernelService
}

interface MinerState {
  readonly basic: BasicState
  readonly args: MinerArgs
  readonly model: GptModel
  readonly modelId: string
  readonly weightsHash: string
  /** Set when the weights held do not hash to the Brain's: every EncryptedLinear is refused (WeightsHashMismatch). */
  readonly refusal?: string
  readonly contexts: Map<string, Bfv>
  readonly int8: Map<string, Int8Matrix>
  readonly prepared: Map<string, Map<string, PreparedLinear>>
  /** Signs compute receipts: the dev network's registered compute key, or a fresh one. */
  readonly computeKey: KeyPair
  kernels: Kernels
  products: number
  /** Products whose NTTs ran on the kernels, and products recomputed on the CPU after a kernel failure. */
  kernelProducts: number
  kernelFallbacks: number
}

/** The compute key: the node's wallet's, else the dev network's, else a fresh one (receipts nobody can pay). */
function computeKeyOf(args: MinerArgs): KeyPair {
  if (args.wallet !== undefined) {
    const pass = process.env[WALLET_PASSPHRASE_ENV]
    if (pass === undefined) throw new InvalidArgs({ role: 'miner', field: 'wallet', reason: `$${WALLET_PASSPHRASE_ENV} is not set: the wallet cannot be unlocked` })
    try {
      return unlockWallet(args.wallet.dataDir, args.wallet.name, pass).compute
    } catch (e) {
      throw new InvalidArgs({ role: 'miner', field: 'wallet', reason: `cannot unlock wallet ${args.wallet.name}: ${String((e as { _tag?: string })._tag ?? e)}` })
    }
  }
  return args.dev !== undefined ? devKeys.minerCompute(args.dev) : generateKeyPair()
}

const isFheError = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (FHE_REASONS as readonly string[]).includes((e as { _tag?: string })._tag ?? '')

/** Connects to the kernel worker at `address` (found by ctx.lookup); leaves `k.abe` unset with a note otherwise. */
async function connectWorker(k: Kernels, address: string, ctx: ActorContext, timeoutMs: number): Promise<void> {
  if (!ctx.lookup) {
    throw new InvalidArgs({ role: 'miner', field: 'kernels', reason: 'a kernel-worker address needs an actor started by a supervisor (ctx.lookup)' })
  }
  const ref = ctx.lookup(address)
  if (!ref) {
    k.note = `kernel worker ${address} not found (yet); on the CPU`
    return
  }
  try {
    const client = await kernelWorkerClient((m) => ref.ask(m, { timeoutMs }))
    if (client.backend !== 'webgpu') {
      k.note = `kernel worker ${address} has no WebGPU adapter (reference path); on the CPU`
      return
    }
    k.abe = kernelPolyBackend(client)
    k.note = `kernel worker ${address}: ${client.adapter}`
  } catch (e) {
    k.note = `kernel worker ${address} did not answer (${String((e as { _tag?: string })._tag ?? e)}); on the CPU`
  }
}

async function initKernels(args: MinerArgs, ctx: ActorContext): Promise<Kernels> {
  if (args.kernels === 'cpu') return { target: 'cpu', abe: undefined, note: 'cpu' }
  if (args.kernels === 'device') {
    const service = await KernelService.create({ log: () => undefined })
    if (service.backend !== 'webgpu') {
      service.destroy()
      return { target: 'device', abe: undefined, note: 'no WebGPU adapter; on the CPU' }
    }
    return { target: 'device', abe: kernelPolyBackend(service), note: `own device: ${service.label}`, service }
  }
  const k: Kernels = { target: args.kernels, abe: undefined, note: '' }
  await connectWorker(k, args.kernels, ctx, args.kernelTimeoutMs)
  return k
}

/** The CPU context for `preset` (made once), and the same with the accelerator when there is one. */
function contextFor(state: MinerState, preset: PresetName): Bfv {
  let bfv = state.contexts.get(preset)
  if (!bfv) {
    bfv = Bfv.create(preset)
    state.contexts.set(preset, bfv)
  }
  return bfv
}

function cached<K, V>(m: Map<K, V>, key: K, make: () => V): V {
  let v = m.get(key)
  if (v === undefined) {
    v = make()
    m.set(key, v)
  }
  return v
}

function minerCore(): Behaviour<MinerState> {
  /** Evaluates on the kernels when there are some, else (or after a kernel failure) on the CPU. */
  async function evaluate(
    state: MinerState, bfv: Bfv, plan: ReturnType<ReturnType<Bfv['linearPlanner']>['plan']>, q: Int8Matrix, inputs: readonly Uint8Array[],
    cache: Map<string, PreparedLinear>, ctx: ActorContext,
  ): Promise<{ outputs: Uint8Array[]; prepareMs: number }> {
    const k = state.kernels
    const address = k.target
    if (!k.abe && address.startsWith('/')) await connectWorker(k, address, ctx, state.args.kernelTimeoutMs)
    if (k.abe) {
      try {
        const r = await bfv.withAccelerator(k.abe).linearPlanner().evaluateSerialized(plan, q.q, inputs, cache)
        state.kernelProducts++
        return r
      } catch (e) {
        if (isFheError(e)) throw e
        // The worker failed (crashed, restarting, timed out): this product on the CPU; reconnect on the next.
        state.kernelFallbacks++
        if (address.startsWith('/')) {
          k.abe = undefined
          k.note = `kernel worker ${address} failed (${String((e as { _tag?: string })._tag ?? e)}); on the CPU until it answers again`
        }
      }
    }
    return minerEvaluateLinear(bfv.ctx, plan, q, inputs, cache)
  }

  return {
    accepts: [...BASIC_TAGS, 'EncryptedLinear', 'UseKernels'],
    async init(ctx) {
      const args = minerRole.args(ctx.args)
      // The Brain's weights hash (the template's own, else args.weightsHash): weights that differ are held, never served.
      const template = args.template !== undefined ? openBrainTask(args.template) : undefined
      const model = template?.model ?? loadShippedModel().model
      const weightsHash = template?.weightsHash ?? sha256Hex(fs.readFileSync(SHIPPED_WEIGHTS))
      const expected = template?.task.weightsHash ?? args.weightsHash
      const refusal = expected !== undefined && expected !== weightsHash ? `weights ${weightsHash} differ from the Brain's ${expected}` : undefined
      return {
        basic: basicState(),
        args,
        model,
        modelId: template?.task.modelId ?? SHIPPED_MODEL_ID,
        weightsHash,
        ...(refusal !== undefined ? { refusal } : {}),
        contexts: new Map(),
        int8: new Map(),
        prepared: new Map(),
        computeKey: computeKeyOf(args),
        kernels: await initKernels(args, ctx),
        products: 0,
        kernelProducts: 0,
        kernelFallbacks: 0,
      }
    },
    status: (state) => ({
      brainId: state.args.brainId,
      model: state.modelId,
      weightsHash: state.weightsHash,
      encryptedProducts: state.products,
      backend: state.kernels.abe?.name ?? defaultPolyBackend.name,
      kernels: state.kernels.note,
      kernelsTarget: state.kernels.target,
      kernelProducts: state.kernelProducts,
      kernelFallbacks: state.kernelFallbacks,
      ...(state.args.dev !== undefined || state.args.wallet !== undefined ? { computeKey: toHex(state.computeKey.publicKey) } : {}),
    }),
    async handle(state, msg: Message, ctx): Promise<HandleResult<MinerState>> {
      if (msg._tag === 'UseKernels') {
        state.kernels.service?.destroy()
        state.kernels = await initKernels({ ...state.args, kernels: msg.kernels }, ctx)
        return continueWith(state)
      }
      if (msg._tag !== 'EncryptedLinear') return continueWith(state, answerBasic(state.basic, msg, ctx))
      const reject = (reason: MinerRejection['reason'], message: string, detail: MinerRejection['detail'] = {}): HandleResult<MinerState> =>
        failWith(state, new MinerRejection({ actor: ctx.address, reason, message, detail }))
      // The client stops waiting at its deadline: work that would start after it is refused, not done for nobody.
      const now = Date.now()
      if (msg.deadline !== undefined && now >= msg.deadline) {
        return reject('DeadlineExceeded', `the request's deadline passed ${now - msg.deadline} ms before its work could start`, { deadline: msg.deadline, now })
      }
      if (state.refusal !== undefined) return reject('WeightsHashMismatch', state.refusal, { held: state.weightsHash })
      if (msg.model !== state.modelId) return reject('UnknownModel', `this miner serves model '${state.modelId}', not '${msg.model}'`, { model: msg.model })
      const shape = linearWeights(state.model, { layer: msg.layer, name: msg.site })
      if (!shape) {
        return reject('UnknownSite', `no ${msg.site} product in layer ${msg.layer} (the model has ${state.model.config.nLayer} layers; a squeezed layer without heads has no attention products)`, {
          layer: msg.layer, site: msg.site,
        })
      }
      if (msg.plan.dIn !== shape.inDim || msg.plan.dOut !== shape.outDim) {
        return reject('PlanMismatch', `plan ${msg.plan.dIn}→${msg.plan.dOut} does not match ${msg.site} of layer ${msg.layer} (${shape.inDim}→${shape.outDim})`, {
          dIn: msg.plan.dIn, dOut: msg.plan.dOut,
        })
      }
      if (!Object.hasOwn(presets, msg.preset)) return reject('UnknownPreset', `unknown parameter preset '${msg.preset}'`, { preset: msg.preset })
      try {
        return continueWith(state, await answer(state, msg, shape, ctx))
      } catch (e) {
        return failWith(state, toProtocolError(ctx.address, e))
      }
    },
    terminate(state) {
      state.kernels.service?.destroy()
    },
  }

  async function answer(
    state: MinerState, msg: typeof EncryptedLinear.Type, shape: NonNullable<ReturnType<typeof linearWeights>>, ctx: ActorContext,
  ): Promise<Reply> {
    const bfv = contextFor(state, msg.preset as PresetName)
    const { ni, mt, no, dIn, dOut, tokens } = msg.plan
    const plan = bfv.linearPlanner().plan({ dIn, dOut, tokens }, { ni, mt, no })
    const key = `${msg.layer}/${msg.site}`
    const q = cached(state.int8, key, () => quantizeWeightInt8(shape.w, shape.inDim, shape.outDim))
    const cache = cached(state.prepared, `${msg.preset}/${key}`, () => new Map<string, PreparedLinear>())
    const t0 = performance.now()
    const { outputs, prepareMs } = await evaluate(state, bfv, plan, q, msg.inputs, cache, ctx)
    const minerMs = performance.now() - t0 - prepareMs
    state.products++
    const unsigned = {
      session: msg.session ?? '',
      units: plan.products,
      request: toHex(encryptedLinearDigest(msg)),
      computeKey: toHex(state.computeKey.publicKey),
    }
    const receipt = { ...unsigned, signature: toHex(sign(state.computeKey.secretKey, receiptSigningBytes(unsigned))) }
    return { _tag: 'EncryptedLinearReply', outputs, minerMs, receipt }
  }
}

// Spending accounts (§3.5.1): a paying session's EncryptedLinear is checked on the ledger before any work
// (actors/miner-escrow.ts); everything else goes to the miner below unchanged.
export default function minerBehaviour(): Behaviour<MinerState> {
  return withEscrowGate(minerCore(), (s) => s.computeKey.publicKey)
}
