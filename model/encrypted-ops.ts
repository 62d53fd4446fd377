/**
 * Counting the encrypted operations one token costs, before and after squeezing and operation merging.
 *
 * Protocol counted (the hybrid split of issue 7 and Concrete-ML's hybrid mode): the client holds the key, does the
 * embeddings, LayerNorms, attention softmax, GELU and residual adds in the clear, and asks the miner for every dense
 * product on encrypted activations. Per layer:
 *
 *   QKV        d → 3·hd·k  (k = heads kept; fused: one request; unfused: three requests q, k, v)
 *   c_proj     hd·k → d    (skipped with QKV when a layer keeps no head: its attention output is the bias)
 *   c_fc       d → 4d
 *   c_proj     4d → d
 *
 * and the tied LM head d → vocabSize once per token. Every request is one client round trip. What a request costs
 * in ciphertext operations comes from a `LinearOpCounter`, to be supplied by basedai/fhe's planner
 * (`planLinear`: products, ciphertexts each way); the default `scalarOpCounter` is the unpacked worst case (one
 * ciphertext per value, one ct×pt product per multiply-accumulate), which ranks variants but is not a latency.
 */
import type { GptModel } from './forward.ts'
import { validateHeadMask } from './forward.ts'
import { InvalidOption } from './errors.ts'

export interface LinearShape {
  readonly dIn: number
  readonly dOut: number
  readonly tokens: number
}

export interface EncryptedOps {
  readonly ctPtProducts: number
  readonly rotations: number
  readonly ctCtMultiplies: number
  readonly ciphertextsUp: number
  readonly ciphertextsDown: number
  readonly roundTrips: number
}

export type LinearOpCounter = (shape: LinearShape) => Omit<EncryptedOps, 'roundTrips'>

/** One ciphertext per value, one ct×pt product per multiply-accumulate, no rotations. */
export const scalarOpCounter: LinearOpCounter = ({ dIn, dOut, tokens }) => ({
  ctPtProducts: dIn * dOut * tokens, rotations: 0, ctCtMultiplies: 0, ciphertextsUp: dIn * tokens, ciphertextsDown: dOut * tokens,
})

export interface OpCountOptions {
  /** Tokens processed per request (1 for incremental decoding). Default 1. */
  readonly tokens?: number
  /** Merge the Q, K and V projections into one packed request. Default true (GPT-2 stores them fused). */
  readonly fuseQkv?: boolean
  readonly counter?: LinearOpCounter
  /**
   * Count the tied LM head (d → vocabSize) as an encrypted request. Default true. The implemented protocol
   * (gateway/encrypted.ts) keeps the LM head with the client, in plaintext: pass false to count what it sends.
   */
  readonly lmHeadEncrypted?: boolean
}

export interface OpCountReport {
  readonly total: EncryptedOps
  readonly perLayer: readonly EncryptedOps[]
  readonly lmHead: EncryptedOps
}

const ZERO: EncryptedOps = { ctPtProducts: 0, rotations: 0, ctCtMultiplies: 0, ciphertextsUp: 0, ciphertextsDown: 0, roundTrips: 0 }

function add(a: EncryptedOps, b: EncryptedOps): EncryptedOps {
  return {
    ctPtProducts: a.ctPtProducts + b.ctPtProducts, rotations: a.rotations + b.rotations, ctCtMultiplies: a.ctCtMultiplies + b.ctCtMultiplies,
    ciphertextsUp: a.ciphertextsUp + b.ciphertextsUp, ciphertextsDown: a.ciphertextsDown + b.ciphertextsDown, roundTrips: a.roundTrips + b.roundTrips,
  }
}

/** Encrypted operations for one forward request of `tokens` tokens through `model` (its head mask applied). */
export function countEncryptedOps(model: GptModel, options: OpCountOptions = {}): OpCountReport {
  const c = model.config
  const tokens = options.tokens ?? 1
  if (!Number.isInteger(tokens) || tokens < 1) throw new InvalidOption({ option: 'tokens', reason: `must be an integer ≥ 1, got ${tokens}` })
  const counter = options.counter ?? scalarOpCounter
  const fuse = options.fuseQkv ?? true
  if (model.headMask !== undefined) validateHeadMask(c, model.headMask)
  const d = c.nEmbd
  const hd = d / c.nHead
  const request = (dIn: number, dOut: number): EncryptedOps => ({ ...counter({ dIn, dOut, tokens }), roundTrips: 1 })
  const perLayer: EncryptedOps[] = []
  for (let l = 0; l < c.nLayer; l++) {
    const kept = model.headMask === undefined ? c.nHead : model.headMask[l].filter((m) => m !== 0).length
    let ops = ZERO
    if (kept > 0) {
      if (fuse) ops = add(ops, request(d, 3 * hd * kept))
      else for (let i = 0; i < 3; i++) ops = add(ops, request(d, hd * kept))
      ops = add(ops, request(hd * kept, d))
    }
    ops = add(ops, request(d, 4 * d))
    ops = add(ops, request(4 * d, d))
    perLayer.push(ops)
  }
  const lmHead = options.lmHeadEncrypted === false ? ZERO : request(d, c.vocabSize)
  return { total: perLayer.reduce(add, lmHead), perLayer, lmHead }
}
