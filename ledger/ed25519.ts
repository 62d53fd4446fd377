/**
 * ed25519 verification through node:crypto, with a cache of public KeyObjects. Kept free of other imports so the
 * verifier worker threads (verify-worker.ts) start fast.
 */
import crypto from 'node:crypto'

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex')
const PUB_CACHE_MAX = 65536
const pubCache = new Map<string, crypto.KeyObject>()
function publicKeyObject(pub: Uint8Array): crypto.KeyObject {
  const id = Buffer.from(pub.buffer, pub.byteOffset, pub.byteLength).toString('latin1')
  let k = pubCache.get(id)
  if (!k) {
    k = crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519, pub]), format: 'der', type: 'spki' })
    if (pubCache.size >= PUB_CACHE_MAX) pubCache.clear()
    pubCache.set(id, k)
  }
  return k
}

/** ed25519 verification; false (never a throw) on a malformed key or signature. */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  try {
    return crypto.verify(null, message, publicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}

/**
 * Same check on libuv's threadpool (node:crypto's callback form): no worker start-up, and the calling thread stays
 * free to apply the previous block meanwhile. Resolves to one boolean per item, in order.
 */
export function verifyAsync(items: ReadonlyArray<{ readonly publicKey: Uint8Array; readonly message: Uint8Array; readonly signature: Uint8Array }>): Promise<boolean[]> {
  return Promise.all(items.map((it) => new Promise<boolean>((resolve) => {
    if (it.publicKey.length !== 32 || it.signature.length !== 64) return resolve(false)
    let key: crypto.KeyObject
    try {
      key = publicKeyObject(it.publicKey)
    } catch {
      return resolve(false)
    }
    crypto.verify(null, it.message, key, it.signature, (err, ok) => resolve(!err && ok))
  })))
}
