/**
 * The `tfhe` backend: Zama's TFHE-rs compiled to wasm (npm `tfhe`), as a client-side peer.
 *
 * Measured limit (REFERENCES.md, and re-checked by test/fhe/backend.test.ts): the JS API has key generation,
 * encryption, decryption and serialization, and no homomorphic operation; the server key cannot be serialized from
 * JS, so a miner could not even receive one. Every evaluation method therefore throws `BackendUnsupported` — nothing
 * here pretends to evaluate under TFHE.
 *
 * Loading: the web build expects a browser-like `self` (with `crypto`, and `addEventListener` for its rayon worker
 * helper) and a wasm module passed explicitly. `loadTfhe` installs that shim only when `globalThis.self` is absent.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { webcrypto } from 'node:crypto'
import type { FheBackend, FheKeys } from './backend.ts'
import { BackendUnsupported, InvalidParams } from './errors.ts'

import type { TfheClientKey } from 'tfhe'

type TfheModule = typeof import('tfhe')
type ClientKey = TfheClientKey

let loaded: Promise<TfheModule> | undefined

/** Loads and initializes the tfhe wasm module once per process. */
export function loadTfhe(): Promise<TfheModule> {
  loaded ??= (async () => {
    const g = globalThis as { self?: unknown }
    if (g.self === undefined) g.self = { crypto: webcrypto, addEventListener() {}, removeEventListener() {} }
    const mod: TfheModule = await import('tfhe')
    const require = createRequire(import.meta.url)
    const wasmPath = require.resolve('tfhe/tfhe_bg.wasm')
    await mod.default({ module_or_path: fs.readFileSync(wasmPath) })
    return mod
  })()
  return loaded
}

const secrets = new WeakMap<FheKeys, ClientKey>()

function unsupported(operation: string): never {
  throw new BackendUnsupported({
    backend: 'tfhe',
    operation,
    message: `tfhe (TFHE-rs wasm) has no homomorphic ${operation} in its JS API and its server key cannot be serialized from JS`,
  })
}

/** Frames a list of byte strings: u32 count, then (u32 length, bytes)*. */
function frame(parts: readonly Uint8Array[]): Uint8Array {
  const total = 4 + parts.reduce((s, p) => s + 4 + p.length, 0)
  const out = Buffer.alloc(total)
  out.writeUInt32LE(parts.length, 0)
  let o = 4
  for (const p of parts) {
    out.writeUInt32LE(p.length, o)
    Buffer.from(p.buffer, p.byteOffset, p.byteLength).copy(out, o + 4)
    o += 4 + p.length
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length)
}

function unframe(bytes: Uint8Array): Uint8Array[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (b.length < 4) throw new InvalidParams({ reason: 'schema', message: 'tfhe ciphertext frame truncated' })
  const count = b.readUInt32LE(0)
  const parts: Uint8Array[] = []
  let o = 4
  for (let i = 0; i < count; i++) {
    if (o + 4 > b.length) throw new InvalidParams({ reason: 'schema', message: 'tfhe ciphertext frame truncated' })
    const len = b.readUInt32LE(o)
    if (o + 4 + len > b.length) throw new InvalidParams({ reason: 'schema', message: 'tfhe ciphertext frame truncated' })
    parts.push(new Uint8Array(b.subarray(o + 4, o + 4 + len)))
    o += 4 + len
  }
  return parts
}

/** TFHE-rs client-side backend (default parameters of `TfheConfigBuilder.default()`), one FheInt32 per value. */
export async function createTfheBackend(): Promise<FheBackend> {
  const tfhe = await loadTfhe()
  const config = tfhe.TfheConfigBuilder.default().build()
  const paramsId = 'tfhe-default-int32'
  const open = (keys: FheKeys): ClientKey => {
    const ck = secrets.get(keys)
    if (!ck) throw new InvalidParams({ reason: 'schema', message: 'these keys were not made by the tfhe backend' })
    return ck
  }
  return {
    name: 'tfhe',
    paramsId,
    canEvaluate: false,
    keygen() {
      const ck = tfhe.TfheClientKey.generate(config)
      const keys: FheKeys = { backend: 'tfhe', paramsId, evaluationKeys: new Uint8Array(0) }
      secrets.set(keys, ck)
      return keys
    },
    encrypt(keys, values) {
      const ck = open(keys)
      return frame([...values].map((v) => tfhe.FheInt32.encrypt_with_client_key(v, ck).serialize()))
    },
    decrypt(keys, bytes, count) {
      const ck = open(keys)
      const parts = unframe(bytes)
      const out = new Int32Array(count)
      for (let i = 0; i < Math.min(count, parts.length); i++) out[i] = tfhe.FheInt32.deserialize(parts[i] as Uint8Array).decrypt(ck)
      return out
    },
    add: () => unsupported('add'),
    sub: () => unsupported('sub'),
    negate: () => unsupported('negate'),
    multiplyPlain: () => unsupported('multiplyPlain'),
    multiply: () => unsupported('multiply'),
    planLinear: () => unsupported('linear layer'),
    encryptLinearInput: () => unsupported('linear layer'),
    prepareLinear: () => unsupported('linear layer'),
    evaluateLinear: () => unsupported('linear layer'),
    decryptLinearOutput: () => unsupported('linear layer'),
  }
}
