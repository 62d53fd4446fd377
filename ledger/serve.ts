/**
 * Where a miner serves (subtensor's `serve_axon`, for BasedAI): the `serveMiner` transaction announces, for a
 * registered miner (its compute key on a Brain), the libp2p peer that serves it — the peer id, the multiaddrs it
 * listens on and the actor address of the miner on that peer — so every node of the chain can route encrypted
 * queries and validators' challenges to it.
 *
 * The record is a **peer binding** like bft/binding.ts's validator record (chain, peer id, key, issuedAt, signature),
 * signed twice over the same domain-separated bytes
 *
 *   `basedai-serve/1` ‖ chainId ‖ brain ‖ compute key (32 bytes) ‖ peerId ‖ #addrs ‖ addrs… ‖ actor ‖ issuedAt (ms)
 *
 * - by the miner's **compute key** (the key registered on the Brain, which signs its compute receipts): the miner
 *   says which peer speaks for it;
 * - by the **peer's own libp2p key** (an ed25519 peer id embeds its public key): the peer consents, so nobody can
 *   bind a peer id it does not hold (a peer cannot speak for another, and a miner cannot claim another's peer);
 * - and the transaction itself is signed by the personal key that registered the miner (only its owner announces it).
 *
 * Verified on apply (ledger/apply.ts): refusals are `InvalidServeRecord { reason }` — `bad_peer_id` (not an ed25519
 * peer id), `bad_address` (an address that is not a multiaddr of this peer), `bad_actor`, `bad_compute_signature`,
 * `bad_peer_signature`, `stale` (not newer than the stored record), `from_future` (issued more than a minute after
 * the block's time) — and `UnknownParticipant` for a compute key that is not a miner of the Brain.
 */
import { Writer, fromHex, toHex } from './codec.ts'
import { sign, verify } from './keys.ts'

const DOMAIN = 'basedai-serve/1'
/** Most multiaddrs one record lists. */
export const MAX_SERVE_ADDRS = 8
/** Longest multiaddr, peer id and actor address (characters). */
export const MAX_SERVE_TEXT = 256
/** How far after the block's time a record may be issued. */
export const SERVE_MAX_SKEW_MS = 60_000
const ACTOR = /^\/[A-Za-z0-9_./-]{1,200}$/
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** The part of a serve record both keys sign. */
export interface ServeBinding {
  readonly chainId: string
  readonly brain: number
  /** The miner's compute key (32 bytes). */
  readonly computeKey: Uint8Array
  /** The libp2p peer id that serves it (base58, `12D3KooW…`: an ed25519 key). */
  readonly peerId: string
  /** Multiaddrs of that peer (each ending in /p2p/<peerId>, or without a /p2p part). */
  readonly addrs: readonly string[]
  /** The miner's actor address on that peer (`/root/miners/miner-1`). */
  readonly actor: string
  /** Milliseconds since the epoch when the record was signed. */
  readonly issuedAt: number
}

export type ServeRejection = 'bad_peer_id' | 'bad_address' | 'bad_actor' | 'bad_compute_signature' | 'bad_peer_signature' | 'stale' | 'from_future'

function decodeBase58(s: string): Uint8Array | undefined {
  let n = 0n
  for (const ch of s) {
    const d = BASE58.indexOf(ch)
    if (d < 0) return undefined
    n = n * 58n + BigInt(d)
  }
  const bytes: number[] = []
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn))
    n >>= 8n
  }
  for (const ch of s) {
    if (ch !== '1') break
    bytes.unshift(0)
  }
  return Uint8Array.from(bytes)
}

/**
 * The ed25519 public key inside a libp2p peer id, or undefined when `peerId` is not one: an ed25519 peer id is the
 * identity multihash (0x00, length 36) of the protobuf PublicKey { Type = Ed25519 (0x08 0x01), Data = 32 bytes
 * (0x12 0x20 …) }, base58btc-encoded.
 */
export function ed25519KeyOfPeerId(peerId: string): Uint8Array | undefined {
  if (peerId.length < 40 || peerId.length > 60) return undefined
  const b = decodeBase58(peerId)
  if (!b || b.length !== 38) return undefined
  const head = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20]
  if (head.some((v, i) => b[i] !== v)) return undefined
  return b.slice(6)
}

/** The bytes both keys sign (see module doc). */
export function serveSignBytes(s: ServeBinding): Uint8Array {
  const w = new Writer(256).str(DOMAIN).str(s.chainId).uint(s.brain).fixed(s.computeKey, 32).str(s.peerId).uint(s.addrs.length)
  for (const a of s.addrs) w.str(a)
  return w.str(s.actor).uint(s.issuedAt).finish()
}

/** Signs a serve record with the miner's compute key and the peer's ed25519 key (its 32-byte seed). */
export function signServe(s: ServeBinding, computeSecret: Uint8Array, peerSecret: Uint8Array): { computeSig: Uint8Array; peerSig: Uint8Array } {
  const bytes = serveSignBytes(s)
  return { computeSig: sign(computeSecret, bytes), peerSig: sign(peerSecret, bytes) }
}

/** Why the record's own fields do not hold (signatures included), or undefined; `stale`/`from_future` are the caller's. */
export function checkServe(s: ServeBinding, computeSig: Uint8Array, peerSig: Uint8Array): ServeRejection | undefined {
  const peerKey = ed25519KeyOfPeerId(s.peerId)
  if (!peerKey) return 'bad_peer_id'
  for (const a of s.addrs) {
    if (!a.startsWith('/') || a.length > MAX_SERVE_TEXT || /\s/.test(a)) return 'bad_address'
    const p2p = a.indexOf('/p2p/')
    if (p2p >= 0 && a.slice(p2p + 5) !== s.peerId) return 'bad_address'
  }
  if (!ACTOR.test(s.actor) || s.actor.includes('//')) return 'bad_actor'
  const bytes = serveSignBytes(s)
  if (computeSig.length !== 64 || !verify(s.computeKey, bytes, computeSig)) return 'bad_compute_signature'
  if (peerSig.length !== 64 || !verify(peerKey, bytes, peerSig)) return 'bad_peer_signature'
  return undefined
}

/** A served miner as stored (key `m:<brain>:<computehex>`). */
export interface ServeRecord {
  readonly peerId: string
  readonly addrs: readonly string[]
  readonly actor: string
  readonly issuedAt: number
  /** Height of the block that stored it. */
  readonly servedAt: number
  readonly computeSig: Uint8Array
  readonly peerSig: Uint8Array
}

/** JSON-safe form (the metagraph row's `serving`). */
export function serveRecordData(r: ServeRecord): { peerId: string; addrs: string[]; actor: string; issuedAt: number; servedAt: number; computeSig: string; peerSig: string } {
  return { peerId: r.peerId, addrs: [...r.addrs], actor: r.actor, issuedAt: r.issuedAt, servedAt: r.servedAt, computeSig: toHex(r.computeSig), peerSig: toHex(r.peerSig) }
}

/** Re-verifies a stored record (a reader that does not trust its node can check the signatures itself). */
export function verifyServeRecord(chainId: string, brain: number, computeKeyHex: string, r: ServeRecord): boolean {
  const binding: ServeBinding = { chainId, brain, computeKey: fromHex(computeKeyHex), peerId: r.peerId, addrs: r.addrs, actor: r.actor, issuedAt: r.issuedAt }
  return checkServe(binding, r.computeSig, r.peerSig) === undefined
}
