/**
 * Miners that answer EncryptedLinear wrongly, for the gateway's tests. Each wraps the honest miner behaviour
 * (actors/miner.ts) and rewrites its reply; load one with `behaviour: { module, export: 'echoMiner' }` etc.
 *
 * - otherLayerMiner: evaluates with layer 1's weights when asked for layer 0 and the reverse (same shapes), and signs
 *   a receipt for the request it was sent (lazy-miner.ts does the same work but its receipt names the request it
 *   evaluated, which a session refuses).
 * - echoMiner: returns the request's own input ciphertexts (cycled to the number of outputs the plan expects).
 * - zeroMiner: returns well-formed partial ciphertexts whose every coefficient is 0 (they decrypt to zeros).
 * - shiftMiner: adds SHIFT·Δ to every returned c0 coefficient, a homomorphic "+ SHIFT" on every accumulator: what a
 *   client decrypts from its reply is the honest result plus SHIFT, nothing else changes.
 * - truncatingMiner: returns one result ciphertext fewer than the plan has.
 * - inflatingMiner: honest outputs, but signs (with its own key) one more compute unit than it performed.
 * - replayingMiner: honest outputs, but every receipt is its first one (a valid signature for another request).
 */
import minerBehaviour from '../../actors/miner.ts'
import type { Behaviour, HandleResult } from '../../actors/index.ts'
import { createFheContext, deserializePartial, presets, serializePartial, type FheContext, type PresetName } from '../../fhe/index.ts'
import { sign, toHex, type KeyPair } from '../../ledger/index.ts'
import { encryptedLinearDigest, receiptSigningBytes, type ComputeReceipt, type EncryptedLinear, type EncryptedLinearReply, type Message } from '../../protocol/index.ts'

/** What shiftMiner adds to every accumulator. */
export const SHIFT = 5

type Reply = typeof EncryptedLinearReply.Type
type Rewrite = (reply: Reply, msg: typeof EncryptedLinear.Type, state: unknown) => Reply

function rewriting(rewrite: Rewrite, request: (msg: typeof EncryptedLinear.Type) => typeof EncryptedLinear.Type = (m) => m): Behaviour<unknown> {
  const honest = minerBehaviour() as unknown as Behaviour<unknown>
  return {
    ...honest,
    async handle(state, msg: Message, ctx): Promise<HandleResult<unknown>> {
      const r = await honest.handle(state, msg._tag === 'EncryptedLinear' ? request(msg) : msg, ctx)
      if (msg._tag !== 'EncryptedLinear' || r._tag !== 'Continue' || r.reply?._tag !== 'EncryptedLinearReply') return r
      return { ...r, reply: rewrite(r.reply, msg, r.state) }
    },
  }
}

const contexts = new Map<string, FheContext>()
function fheFor(preset: string): FheContext {
  let c = contexts.get(preset)
  if (!c) {
    c = createFheContext(presets[preset as PresetName])
    contexts.set(preset, c)
  }
  return c
}

function resign(state: unknown, r: Omit<ComputeReceipt, 'signature'>): ComputeReceipt {
  const key = (state as { computeKey: KeyPair }).computeKey
  return { ...r, signature: toHex(sign(key.secretKey, receiptSigningBytes(r))) }
}

export const otherLayerMiner = (): Behaviour<unknown> =>
  rewriting(
    (reply, msg, state) => {
      const { signature: _s, ...r } = reply.receipt
      return { ...reply, receipt: resign(state, { ...r, request: toHex(encryptedLinearDigest(msg)) }) }
    },
    (msg) => ({ ...msg, layer: msg.layer === 0 ? 1 : 0 }),
  )

export const echoMiner = (): Behaviour<unknown> =>
  rewriting((reply, msg) => ({ ...reply, outputs: reply.outputs.map((_, i) => msg.inputs[i % msg.inputs.length] as Uint8Array) }))

export const zeroMiner = (): Behaviour<unknown> =>
  rewriting((reply, msg) => {
    const fhe = fheFor(msg.preset)
    return {
      ...reply,
      outputs: reply.outputs.map((o) => {
        const p = deserializePartial(fhe, o)
        p.c0.fill(0)
        p.c1.data.fill(0)
        return serializePartial(fhe, p)
      }),
    }
  })

export const shiftMiner = (): Behaviour<unknown> =>
  rewriting((reply, msg) => {
    const fhe = fheFor(msg.preset)
    return {
      ...reply,
      outputs: reply.outputs.map((o) => {
        const p = deserializePartial(fhe, o)
        const level = fhe.levelData[p.level - 1]
        if (!level) throw new RangeError(`no level ${p.level}`)
        const m = p.indices.length
        for (let i = 0; i < p.level; i++) {
          const q = BigInt(level.base.moduli[i] as number)
          const add = (BigInt(level.delta[i] as number) * BigInt(SHIFT)) % q
          for (let j = i * m; j < (i + 1) * m; j++) p.c0[j] = Number((BigInt(p.c0[j] as number) + add) % q)
        }
        return serializePartial(fhe, p)
      }),
    }
  })

export const truncatingMiner = (): Behaviour<unknown> => rewriting((reply) => ({ ...reply, outputs: reply.outputs.slice(0, -1) }))

export const inflatingMiner = (): Behaviour<unknown> =>
  rewriting((reply, _msg, state) => {
    const { signature: _s, ...r } = reply.receipt
    return { ...reply, receipt: resign(state, { ...r, units: r.units + 1 }) }
  })

let first: ComputeReceipt | undefined
export const replayingMiner = (): Behaviour<unknown> =>
  rewriting((reply) => {
    first ??= reply.receipt
    return { ...reply, receipt: first }
  })
