/**
 * The client's half of each encrypted product — quantize + encrypt before, decrypt after — behind one small
 * interface, in this thread or in a worker thread (`offThread`), where a plain RPC fits: comlink (`expose` in the
 * worker, `wrap` here, over comlink's Node adapter, as actors/forecast-worker.ts does). Off the thread, the secret
 * key lives in the worker (same process) and the event loop here stays free while a product is encrypted or
 * decrypted — streaming output, progress and network keep moving. The words are the same either way: with the same
 * `seed`, both give identical ciphertexts and results (tested).
 *
 * Rescaling to floats (`rescaleInt8`) stays with the caller, which holds the weight scales and biases, so neither the
 * weights nor the bias travel to the worker.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { expose, wrap, type Remote } from 'comlink'
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs'
import { clientEncryptLinear, createFheContext, createKeyGenerator, cryptoRandom, decryptLinear, deserializePartial, presets, seededRandom, type FheContext, type LinearPlan, type PresetName, type RandomSource, type SecretKey } from '../fhe/index.ts'
import type { ActivationQuant, QuantizedRows } from '../model/index.ts'

/** One product's client side, before it goes to the miner. */
export interface EncryptedProduct {
  readonly plan: LinearPlan
  readonly quant: QuantizedRows
  /** Serialized input ciphertexts. */
  readonly inputs: Uint8Array[]
}

export interface ClientCryptoApi {
  /** Quantizes the activations to int8, plans the packing, encrypts. */
  encrypt(x: Float32Array, rows: number, inDim: number, outDim: number, mode: ActivationQuant): Promise<EncryptedProduct>
  /** The exact int32 accumulators W·x from the miner's serialized partial results. */
  decrypt(plan: LinearPlan, outputs: readonly Uint8Array[]): Promise<Int32Array>
}

export interface ClientCrypto extends ClientCryptoApi {
  /** Where it runs: 'main' or 'worker'. */
  readonly placement: 'main' | 'worker'
  /** Ends the worker (nothing to do in this thread). */
  close(): Promise<void>
}

/** The secret key and its context, made from the preset (seeded for tests: keys, then encryptions, one stream). */
class KeyHolder implements ClientCryptoApi {
  readonly ctx: FheContext
  readonly sk: SecretKey
  private readonly rng: RandomSource

  constructor(preset: PresetName, seed: string | undefined, onKeyProgress?: (done: number, total: number) => void) {
    this.rng = seed === undefined ? cryptoRandom : seededRandom(seed)
    this.ctx = createFheContext(presets[preset])
    onKeyProgress?.(1, 2)
    this.sk = createKeyGenerator(this.ctx, this.rng).secretKey
    onKeyProgress?.(2, 2)
  }

  async encrypt(x: Float32Array, rows: number, inDim: number, outDim: number, mode: ActivationQuant): Promise<EncryptedProduct> {
    return clientEncryptLinear(this.ctx, this.sk, x, rows, inDim, outDim, this.rng, mode)
  }

  async decrypt(plan: LinearPlan, outputs: readonly Uint8Array[]): Promise<Int32Array> {
    return decryptLinear(this.ctx, this.sk, plan, outputs.map((d) => deserializePartial(this.ctx, d)))
  }
}

/** In this thread (`secretKey` is there for the confidentiality tests, which inspect the key a session made). */
export function inThreadCrypto(
  preset: PresetName, seed?: string, onKeyProgress?: (done: number, total: number) => void,
): ClientCrypto & { readonly secretKey: SecretKey } {
  const h = new KeyHolder(preset, seed, onKeyProgress)
  return {
    placement: 'main',
    secretKey: h.sk,
    encrypt: (...a) => h.encrypt(...a),
    decrypt: (plan, outputs) => h.decrypt(plan, outputs),
    close: async () => undefined,
  }
}

interface WorkerInit {
  readonly basedClientCrypto: true
  readonly preset: PresetName
  readonly seed?: string
}

/** In a worker thread (comlink RPC). The key is generated there; `close()` ends the thread. */
export function workerCrypto(preset: PresetName, seed?: string): ClientCrypto {
  const init: WorkerInit = { basedClientCrypto: true, preset, ...(seed !== undefined ? { seed } : {}) }
  const w = new Worker(new URL(import.meta.url), { workerData: init })
  const api: Remote<ClientCryptoApi> = wrap<ClientCryptoApi>(nodeEndpoint(w))
  return {
    placement: 'worker',
    encrypt: (x, rows, inDim, outDim, mode) => api.encrypt(x, rows, inDim, outDim, mode),
    decrypt: (plan, outputs) => api.decrypt(plan, outputs),
    close: async () => {
      await w.terminate()
    },
  }
}

const marker: unknown = workerData
if (!isMainThread && parentPort && typeof marker === 'object' && marker !== null && 'basedClientCrypto' in marker) {
  const init = marker as WorkerInit
  expose(new KeyHolder(init.preset, init.seed), nodeEndpoint(parentPort))
}
