/**
 * The validator actor: checks its Brain's miners with encrypted challenges whose answers it knows (whitepaper
 * §2.3.3: "ensure that miners are correctly running the model").
 *
 * A challenge is one dense product of the Brain's public model on a random int8 activation vector, encrypted under
 * the validator's own BFV key and sent as an ordinary EncryptedLinear request. Its ciphertexts are indistinguishable
 * from a user's; its request pattern is not yet (one product at a random layer, where a user's token is a burst of
 * every layer's products), so a miner that profiles request patterns could answer challenges honestly and skimp on
 * real queries. Challenges that replay whole forward passes would close that. The validator decrypts the answer and compares it,
 * exactly, with the plaintext int8 product (evaluation is deterministic: the result is exact integers). Scores are
 * an exponential moving average (α = 0.2) of correct answers; a typed error from the miner counts as a failure.
 *
 * Miners come from `args.miners`; `args.challengeMs` (default 30 s; 0 = only on request) paces the timer, which
 * challenges the miners in turn and, after each full round, submits the scores as a signed `setWeights`
 * transaction (SubmitWeights) from the validator's key registered on the ledger (the dev network's keys,
 * ledger/dev.ts), which the Yuma epoch turns into the miners' share of emission.
 */
import { randomInt } from 'node:crypto'
import { continueWith, failWith, toProtocolError, type ActorContext, type Behaviour, type HandleResult } from '../index.ts'
import { devKeys, signTx, toAddress, toHex, withMinFee } from '../../ledger/index.ts'
import { HandlerError, type Message, type WeightsSubmitted } from '../../protocol/index.ts'
import { clientDecryptLinear, clientEncryptLinear, createFheContext, createKeyGenerator, presets, type FheContext } from '../../fhe/index.ts'
import fs from 'node:fs'
import { int8Linear, linearWeights, loadBrainTask, loadShippedModel, quantizeWeightInt8, sha256Hex, SHIPPED_WEIGHTS, type GptModel, type LinearSite } from '../../model/index.ts'
import { basicBehaviour, BASIC_TAGS, type BasicState } from './basic.ts'
import { SHIPPED_MODEL_ID } from './miner.ts'

interface MinerScore {
  challenges: number
  correct: number
  score: number
}

export interface ValidatorState {
  readonly basic: BasicState
  readonly model: GptModel
  /** The Brain's model id and weights hash (args.template's task, or the shipped model's file). */
  readonly modelId: string
  readonly weightsHash: string
  readonly fhe: FheContext
  readonly miners: string[]
  readonly scores: Map<string, MinerScore>
  next: number
  timer: NodeJS.Timeout | null
}

const SITES: ReadonlyArray<LinearSite['name']> = ['attn', 'proj', 'fc', 'fcProj']

/**
 * Scores → a signed setWeights on the ledger (dev network keys: `args.dev` = this validator's index, `args.brain`
 * the cluster index of its Brain, `args.minerDev` the dev index of each miner in `args.miners`; `args.ledger` the
 * ledger actor). Weight = round(score · 65535), by the miners' uids on the Brain.
 */
async function submitWeights(state: ValidatorState, ctx: ActorContext): Promise<typeof WeightsSubmitted.Type> {
  const a = ctx.args
  const fail = (message: string): never => {
    throw new HandlerError({ actor: ctx.address, tag: 'NotConfigured', message })
  }
  const dev = typeof a.dev === 'number' ? a.dev : fail('no dev validator index (args.dev): this validator has no ledger key')
  const brainIndex = typeof a.brain === 'number' ? a.brain : fail('no Brain index (args.brain)')
  const minerDev = Array.isArray(a.minerDev) ? (a.minerDev as unknown[]) : fail('no miner dev indices (args.minerDev)')
  const ledger = ctx.lookup?.(typeof a.ledger === 'string' ? a.ledger : '/root/ledger/writer') ?? fail('no ledger actor')
  const brain = (await ledger.ask({ _tag: 'GetBrains' })).ids[brainIndex - 1] ?? fail(`no Brain #${brainIndex} on the ledger`)
  const entries: Array<{ uid: number; weight: number }> = []
  for (let i = 0; i < state.miners.length; i++) {
    const idx = minerDev[i]
    if (typeof idx !== 'number') continue
    const p = await ledger.ask({ _tag: 'GetParticipant', brain, computeKey: toHex(devKeys.minerCompute(idx).publicKey) })
    const score = state.scores.get(state.miners[i] as string)?.score ?? 0
    entries.push({ uid: p.uid, weight: Math.round(Math.min(1, Math.max(0, score)) * 65535) })
  }
  entries.sort((x, y) => x.uid - y.uid)
  const me = devKeys.validator(dev)
  const head = await ledger.ask({ _tag: 'GetHead' })
  const acct = await ledger.ask({ _tag: 'GetAccount', address: toAddress(me.publicKey) })
  const uids = entries.map((e) => e.uid)
  const weights = entries.map((e) => e.weight)
  const tx = signTx(
    withMinFee(
      { chainId: head.chainId, from: me.publicKey, nonce: BigInt(acct.nextNonce), body: { kind: 'setWeights', brain, computeKey: devKeys.validatorCompute(dev).publicKey, uids, weights } },
      BigInt(head.baseFee),
      BigInt(head.byteFee),
    ),
    me.secretKey,
  )
  const accepted = await ledger.ask({ _tag: 'SubmitTx', tx: tx.bytes })
  return { _tag: 'WeightsSubmitted', brain, uids, weights, tx: accepted.hash }
}

export default function validatorBehaviour(): Behaviour<ValidatorState> {
  const basic = basicBehaviour('validator', () => ({}))
  return {
    accepts: [...BASIC_TAGS, 'ChallengeMiner', 'GetScores', 'SubmitWeights'],
    init(ctx) {
      const fhe = createFheContext(presets.bfv4096Linear)
      const miners = (Array.isArray(ctx.args.miners) ? ctx.args.miners : []).filter((m): m is string => typeof m === 'string')
      // args.template: a Brain task directory; its weights must hash to the task's (WeightsHashMismatch otherwise)
      const template = typeof ctx.args.template === 'string' ? loadBrainTask(ctx.args.template) : undefined
      const state: ValidatorState = {
        basic: basic.init(ctx) as BasicState,
        model: template?.model ?? loadShippedModel().model,
        modelId: template?.task.modelId ?? SHIPPED_MODEL_ID,
        weightsHash: template?.task.weightsHash ?? sha256Hex(fs.readFileSync(SHIPPED_WEIGHTS)),
        fhe,
        miners,
        scores: new Map(),
        next: 0,
        timer: null,
      }
      const every = typeof ctx.args.challengeMs === 'number' ? ctx.args.challengeMs : 30_000
      const self = ctx.self
      if (every > 0 && self && miners.length > 0) {
        state.timer = setInterval(() => {
          const miner = state.miners[state.next++ % state.miners.length] as string
          try {
            self.tell({ _tag: 'ChallengeMiner', miner })
            // After each full round, weights go on chain (when this validator has a dev ledger key).
            if (state.next % state.miners.length === 0 && typeof ctx.args.dev === 'number') self.tell({ _tag: 'SubmitWeights' })
          } catch {
            // mailbox full: skip this round
          }
        }, every)
        state.timer.unref()
      }
      return state
    },
    async handle(state, msg: Message, ctx): Promise<HandleResult<ValidatorState>> {
      switch (msg._tag) {
        case 'GetScores':
          return continueWith(state, {
            _tag: 'Scores',
            miners: [...state.scores.entries()].map(([miner, s]) => ({ miner, challenges: s.challenges, correct: s.correct, score: s.score })),
          })
        case 'SubmitWeights': {
          try {
            return continueWith(state, await submitWeights(state, ctx))
          } catch (e) {
            return failWith(state, toProtocolError(ctx.address, e))
          }
        }
        case 'ChallengeMiner': {
          const ref = ctx.lookup?.(msg.miner)
          if (!ref) return failWith(state, new HandlerError({ actor: ctx.address, tag: 'UnknownActor', message: `no miner at ${msg.miner}` }))
          // a layer of a squeezed model may have no attention products: draw among the products that exist
          const sites = Array.from({ length: state.model.config.nLayer }, (_, layer) => SITES.map((name): LinearSite => ({ layer, name })))
            .flat().filter((s) => linearWeights(state.model, s) !== undefined)
          const site = sites[randomInt(sites.length)] as LinearSite
          const { w, b, inDim, outDim } = linearWeights(state.model, site) as NonNullable<ReturnType<typeof linearWeights>>
          const x = Float32Array.from({ length: inDim }, () => randomInt(-1000, 1001) / 250)
          const t0 = performance.now()
          // A fresh key per challenge: scores are public (setWeights), so a miner could otherwise use them as a
          // decryption oracle on one long-lived key (RLWE keys leak to such oracles; see docs/FHE.md).
          const secretKey = createKeyGenerator(state.fhe).secretKey
          const req = clientEncryptLinear(state.fhe, secretKey, x, 1, inDim, outDim)
          let reason = 'ok'
          try {
            // a miner announcing other weights than the Brain's is not checked: it fails the challenge, named
            const announced = (await ref.ask({ _tag: 'GetStatus' }, { timeoutMs: 60_000 })).detail.weightsHash
            if (typeof announced === 'string' && announced !== state.weightsHash) throw new HandlerError({ actor: msg.miner, tag: 'WeightsHashMismatch', message: `announces ${announced}, the Brain's is ${state.weightsHash}` })
            const { ni, mt, no, dIn, dOut, tokens } = req.plan
            const reply = await ref.ask(
              { _tag: 'EncryptedLinear', model: state.modelId, layer: site.layer, site: site.name, preset: 'bfv4096Linear', plan: { ni, mt, no, dIn, dOut, tokens }, inputs: req.inputs },
              { timeoutMs: 60_000 },
            )
            const got = clientDecryptLinear(state.fhe, secretKey, req, reply.outputs, quantizeWeightInt8(w, inDim, outDim), b)
            const want = int8Linear()(x, 1, inDim, outDim, w, b, site)
            if (got.length !== want.length || got.some((v, i) => v !== want[i])) reason = 'wrong result'
          } catch (e) {
            reason = typeof e === 'object' && e !== null && '_tag' in e ? String((e as { _tag: unknown; tag?: unknown }).tag ?? (e as { _tag: unknown })._tag) : 'error'
          }
          const correct = reason === 'ok'
          const s = state.scores.get(msg.miner) ?? { challenges: 0, correct: 0, score: 0 }
          s.challenges++
          if (correct) s.correct++
          s.score = 0.8 * s.score + 0.2 * (correct ? 1 : 0)
          state.scores.set(msg.miner, s)
          return continueWith(state, { _tag: 'ChallengeResult', miner: msg.miner, correct, reason, ms: performance.now() - t0 })
        }
        default: {
          const r = basic.handle(state.basic, msg, ctx) as HandleResult<BasicState>
          if (r._tag === 'Continue' && r.reply?._tag === 'StatusReply') {
            return continueWith(state, { ...r.reply, detail: { ...r.reply.detail, miners: state.miners.length, challenged: state.scores.size } })
          }
          return r._tag === 'Continue' ? continueWith(state, r.reply) : continueWith(state)
        }
      }
    },
    terminate(state) {
      if (state.timer) clearInterval(state.timer)
    },
  }
}
