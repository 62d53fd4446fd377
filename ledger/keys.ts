/**
 * Keys, signatures, hashes and addresses.
 *
 * - ed25519 through node:crypto (OpenSSL): ≈ 15× faster verification than @noble/curves on this machine
 *   (REFERENCES.md). Secret keys are the 32-byte RFC 8032 seeds; public keys are the raw 32 bytes.
 * - sha256 and blake2b-512 through node:crypto.
 * - Addresses are SS58 (Substrate's format, as in the subtensor chain BasedAI forked):
 *   `base58(prefix ‖ publicKey ‖ checksum)` where `prefix` is one byte ({@link SS58_PREFIX}, < 64) and `checksum`
 *   is the first 2 bytes of `blake2b-512("SS58PRE" ‖ prefix ‖ publicKey)`. base58 is @scure/base's Bitcoin alphabet.
 *   Inside the ledger accounts are keyed by the lower-case hex of the public key; SS58 is for people.
 */
import crypto from 'node:crypto'
import { base58 } from '@scure/base'
import { InvalidAddress } from './errors.ts'
import { bytesEqual } from './codec.ts'

/** SS58 network prefix of BasedAI addresses in this implementation (a single byte; documented in docs/LEDGER.md). */
export const SS58_PREFIX = 32

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')
const SS58PRE = Buffer.from('SS58PRE', 'utf8')

export interface KeyPair {
  /** Raw 32-byte ed25519 public key. */
  readonly publicKey: Uint8Array
  /** 32-byte ed25519 seed (the secret). */
  readonly secretKey: Uint8Array
}

export function sha256(data: Uint8Array): Uint8Array {
  return crypto.hash('sha256', data, 'buffer')
}
export function blake2b512(data: Uint8Array): Uint8Array {
  return new Uint8Array(crypto.createHash('blake2b512').update(data).digest())
}

function privateKeyObject(seed: Uint8Array): crypto.KeyObject {
  if (seed.length !== 32) throw new RangeError('ed25519 seed must be 32 bytes')
  return crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' })
}

/** Key pair from a 32-byte seed (deterministic). */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  const priv = privateKeyObject(seed)
  const der = crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' })
  return { publicKey: new Uint8Array(der.subarray(der.length - 32)), secretKey: new Uint8Array(seed) }
}

/** Fresh random key pair. */
export function generateKeyPair(): KeyPair {
  return keyPairFromSeed(new Uint8Array(crypto.randomBytes(32)))
}

/** Deterministic key pair for tests and fixtures: the seed is sha256(label). */
export function testKeyPair(label: string): KeyPair {
  return keyPairFromSeed(sha256(new TextEncoder().encode(`basedai-test-key:${label}`)))
}

const privCache = new WeakMap<Uint8Array, crypto.KeyObject>()
export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  let k = privCache.get(secretKey)
  if (!k) {
    k = privateKeyObject(secretKey)
    privCache.set(secretKey, k)
  }
  return new Uint8Array(crypto.sign(null, message, k))
}

export { verify } from './ed25519.ts'

function ss58Checksum(prefix: number, pub: Uint8Array): Uint8Array {
  return blake2b512(Buffer.concat([SS58PRE, Buffer.from([prefix]), pub])).subarray(0, 2)
}

/** SS58 address of a 32-byte public key. */
export function toAddress(publicKey: Uint8Array, prefix = SS58_PREFIX): string {
  if (publicKey.length !== 32) throw new RangeError('public key must be 32 bytes')
  if (prefix < 0 || prefix > 63) throw new RangeError('single-byte SS58 prefix must be 0..63')
  const body = new Uint8Array(35)
  body[0] = prefix
  body.set(publicKey, 1)
  body.set(ss58Checksum(prefix, publicKey), 33)
  return base58.encode(body)
}

/** Public key of an SS58 address; {@link InvalidAddress} on bad base58, length, prefix or checksum. */
export function fromAddress(address: string, prefix = SS58_PREFIX): Uint8Array {
  let raw: Uint8Array
  try {
    raw = base58.decode(address)
  } catch {
    throw new InvalidAddress({ address, reason: 'not base58' })
  }
  if (raw.length !== 35) throw new InvalidAddress({ address, reason: `decoded length ${raw.length}, expected 35` })
  if (raw[0] !== prefix) throw new InvalidAddress({ address, reason: `prefix ${raw[0]}, expected ${prefix}` })
  const pub = raw.slice(1, 33)
  if (!bytesEqual(raw.subarray(33), ss58Checksum(prefix, pub))) throw new InvalidAddress({ address, reason: 'checksum' })
  return pub
}
