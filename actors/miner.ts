/**
 * The miner actor: runs a Brain's model on users' encrypted activations. It holds the public model weights (the
 * shipped model, `factbook-gpt`, identified by its weights hash in the Brain's task) and no key of any user: it
 * evaluates EncryptedLinear requests — one dense product on BFV ciphertexts (fhe/inference.ts, miner half) — and
 * returns ciphertexts it cannot read. It also answers the basic requests (actors/basic.ts).
 *
 * With `args.dev` (its index in the dev network, ledger/dev.ts) its status names its compute key on the ledger, so a
 * client can pay its owner for the work (gateway/settle.ts). Every EncryptedLinearReply carries a receipt signed with
 * that compute key (a fresh key when the miner has no registration): the number of ciphertext × plaintext products
 * it performed, for the SHA-256 of the request and the client's session id (protocol/fhe-messages.ts).
 *
 * Bad requests (unknown model, layer or site, a plan that does not match the weight's shape, corrupt or
 * wrong-parameter ciphertexts) are answered with a typed error; the miner keeps serving.
 */
import fs from 'node:fs'
import { continueWith, failWith, toProtocolError, type Behaviour, type HandleResult } from './index.ts'
import { encryptedLinearDigest, HandlerError, receiptSigningBytes, type Message } from '../protocol/index.ts'
import { createFheContext, minerEvaluateLinear, planLinear, presets, type FheContext, type PreparedLinear } from '../fhe/index.ts'
import { linearWeights, loadShippedModel, openBrainTask, quantizeWeightInt8, sha256Hex, SHIPPED_WEIGHTS, type GptModel, type Int8Matrix } from '../model/index.ts'
import { basicBehaviour, BASIC_TAGS, type BasicState } from './basic.ts'
import { withEscrowGate } from './miner-escrow.ts'
import { devKeys, generateKeyPair, sign, toHex, type KeyPair } from '../ledger/index.ts'

export const SHIPPED_MODEL_ID = 'factbook-gpt'

interface MinerState {
  readonly basic: BasicState
  readonly model: GptModel
  readonly modelId: string
  readonly weightsHash: string
  /** Set when the weights held do not hash to the Brain's: every EncryptedLinear is refused (WeightsHashMismatch). */
  readonly refusal?: string
  readonly contexts: Map<string, FheContext>
  readonly int8: Map<string, Int8Matrix>
  readonly prepared: Map<string, Map<string, PreparedLinear>>
  /** Signs compute receipts: the dev network's registered compute key, or a fresh one. */
  readonly computeKey: KeyPair
  products: number
}

// Spending accounts (§3.5.1): a paying session's EncryptedLinear is checked on the ledger before any work
// (actors/miner-escrow.ts); everything else goes to the miner below unchanged.
export default function minerBehaviour(): Behaviour<MinerState> {
  return withEscrowGate(minerCore(), (s) => s.computeKey.publicKey)
}

function minerCore(): Behaviour<MinerState> {
  const basic = basicBehaviour('miner', () => ({}))
  return {
    accepts: [...BASIC_TAGS, 'EncryptedLinear'],
    init(ctx) {
      // args.template: a Brain task directory (model/template.ts); otherwise the shipped model. args.weightsHash (or
      // the task's own) is the Brain's hash: weights that differ are held but never served.
      const template = typeof ctx.args.template === 'string' ? openBrainTask(ctx.args.template) : undefined
      const model = template?.model ?? loadShippedModel().model
      const weightsHash = template?.weightsHash ?? sha256Hex(fs.readFileSync(SHIPPED_WEIGHTS))
      const expected = template?.task.weightsHash ?? (typeof ctx.args.weightsHash === 'string' ? ctx.args.weightsHash : undefined)
      const refusal = expected !== undefined && expected !== weightsHash ? `weights ${weightsHash} differ from the Brain's ${expected}` : undefined
      return {
        basic: basic.init(ctx) as BasicState,
        model,
        modelId: template?.task.modelId ?? SHIPPED_MODEL_ID,
        weightsHash,
        ...(refusal !== undefined ? { refusal } : {}),
        contexts: new Map(),
        int8: new Map(),
        prepared: new Map(),
        computeKey: typeof ctx.args.dev === 'number' ? devKeys.minerCompute(ctx.args.dev) : generateKeyPair(),
        products: 0,
      }
    },
    handle(state, msg: Message, ctx): HandleResult<MinerState> {
      if (msg._tag !== 'EncryptedLinear') {
        const r = basic.handle(state.basic, msg, ctx) as HandleResult<BasicState>
        if (r._tag === 'Continue' && r.reply?._tag === 'StatusReply') {
          const dev = ctx.args.dev
          const detail = {
            ...r.reply.detail,
            model: state.modelId,
            weightsHash: state.weightsHash,
            encryptedProducts: state.products,
            ...(typeof dev === 'number' ? { computeKey: toHex(devKeys.minerCompute(dev).publicKey) } : {}),
          }
          return continueWith(state, { ...r.reply, detail })
        }
        return r._tag === 'Continue' ? continueWith(state, r.reply) : failWith(state, toProtocolError(ctx.address, new Error('unexpected')))
      }
      const bad = (message: string): HandleResult<MinerState> =>
        failWith(state, new HandlerError({ actor: ctx.address, tag: 'InvalidRequest', message }))
      if (state.refusal !== undefined) return failWith(state, new HandlerError({ actor: ctx.address, tag: 'WeightsHashMismatch', message: state.refusal }))
      if (msg.model !== state.modelId) return bad(`this miner serves model '${state.modelId}', not '${msg.model}'`)
      const shape = linearWeights(state.model, { layer: msg.layer, name: msg.site })
      if (!shape) return bad(`no ${msg.site} product in layer ${msg.layer} (the model has ${state.model.config.nLayer} layers; a squeezed layer without heads has no attention products)`)
      if (msg.plan.dIn !== shape.inDim || msg.plan.dOut !== shape.outDim) {
        return bad(`plan ${msg.plan.dIn}→${msg.plan.dOut} does not match ${msg.site} of layer ${msg.layer} (${shape.inDim}→${shape.outDim})`)
      }
      if (!(msg.preset in presets)) return bad(`unknown parameter preset '${msg.preset}'`)
      try {
        let fhe = state.contexts.get(msg.preset)
        if (!fhe) {
          fhe = createFheContext(presets[msg.preset as keyof typeof presets])
          state.contexts.set(msg.preset, fhe)
        }
        const { ni, mt, no, dIn, dOut, tokens } = msg.plan
        const plan = planLinear(fhe, { dIn, dOut, tokens }, { force: { ni, mt, no } })
        const key = `${msg.layer}/${msg.site}`
        let q = state.int8.get(key)
        if (!q) {
          q = quantizeWeightInt8(shape.w, shape.inDim, shape.outDim)
          state.int8.set(key, q)
        }
        let cache = state.prepared.get(`${msg.preset}/${key}`)
        if (!cache) {
          cache = new Map()
          state.prepared.set(`${msg.preset}/${key}`, cache)
        }
        const t0 = performance.now()
        const { outputs, prepareMs } = minerEvaluateLinear(fhe, plan, q, msg.inputs, cache)
        const minerMs = performance.now() - t0 - prepareMs
        state.products++
        const unsigned = {
          session: msg.session ?? '',
          units: plan.products,
          request: toHex(encryptedLinearDigest(msg)),
          computeKey: toHex(state.computeKey.publicKey),
        }
        const receipt = { ...unsigned, signature: toHex(sign(state.computeKey.secretKey, receiptSigningBytes(unsigned))) }
        return continueWith(state, { _tag: 'EncryptedLinearReply', outputs, minerMs, receipt })
      } catch (e) {
        return failWith(state, toProtocolError(ctx.address, e))
      }
    },
  }
}
