/**
 * Peer bindings: which libp2p peer speaks for which validator key.
 *
 * A validator signs a {@link PeerBinding} — chain id, its libp2p peer id, its validator public key, the time it was
 * issued — with its ed25519 validator key. The signed bytes are domain-separated like bft/wire.ts:
 * `basedai-bft/1` ‖ chainId ‖ `binding` ‖ peerId ‖ validator key (32 bytes) ‖ issuedAt (ms).
 *
 * The record proves the validator's consent; the peer's consent is the gossipsub message that carries it, which the
 * peer itself must have signed (gossipsub's StrictSign: the message's `from` is its originator, checked against the
 * message signature). So {@link PeerBindings.accept} takes the record together with the originator of the message
 * that carried it and refuses a record carried by any other peer (`wrong_peer`): a validator cannot bind a peer that
 * did not publish the binding itself, and a peer cannot bind itself to a key it does not hold.
 *
 * One validator has one bound peer at a time: a later record (larger `issuedAt`) replaces the earlier one, an older one
 * is `stale`. A record issued more than `maxSkewMs` ahead of the receiver's clock is `from_future` (it would lock out
 * the validator's later records).
 *
 * `check(peer, signer)` is the rule the consensus node applies to a first-hand proposal or vote (see
 * docs/NETWORK.md): `ok` when the peer is bound to the signer, `unbound` when the peer has no binding,
 * `impersonation` when it is bound to another validator.
 */
import { Data } from 'effect'
import { DecodeError, Reader, Writer, fromHex, toHex } from '../ledger/codec.ts'
import { sign, verify } from '../ledger/keys.ts'
import { MalformedBftMessage } from './wire.ts'

const DOMAIN = 'basedai-bft/1'
/** libp2p peer ids as strings are base58btc multihashes (`12D3KooW…`, `Qm…`). */
const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{32,128}$/

export interface PeerBinding {
  readonly chainId: string
  readonly peerId: string
  /** The validator's ed25519 public key, 64 lowercase hex digits. */
  readonly validator: string
  /** Milliseconds since the epoch when the validator signed it. */
  readonly issuedAt: number
}

export interface SignedPeerBinding {
  readonly binding: PeerBinding
  readonly signature: Uint8Array
}

export type BindingRejection = 'bad_signature' | 'wrong_chain' | 'wrong_peer' | 'from_future' | 'stale' | 'not_validator'

/** A binding record that does not hold (see module doc for each reason). */
export class InvalidPeerBinding extends Data.TaggedError('InvalidPeerBinding')<{
  readonly reason: BindingRejection
  readonly peerId: string
  readonly validator: string
}> {}

function checkFields(b: PeerBinding): void {
  if (!PEER_ID.test(b.peerId)) throw new MalformedBftMessage({ field: 'peerId', reason: 'not a base58 libp2p peer id' })
  if (!/^[0-9a-f]{64}$/.test(b.validator)) throw new MalformedBftMessage({ field: 'validator', reason: 'not 64 lowercase hex digits' })
  if (!Number.isSafeInteger(b.issuedAt) || b.issuedAt < 0) throw new MalformedBftMessage({ field: 'issuedAt', reason: 'not a non-negative integer' })
}

export function bindingSignBytes(b: PeerBinding): Uint8Array {
  checkFields(b)
  return new Writer(160).str(DOMAIN).str(b.chainId).str('binding').str(b.peerId).fixed(fromHex(b.validator), 32).uint(b.issuedAt).finish()
}

/** Signs a binding of `peerId` to the validator whose key pair this is. */
export function signBinding(chainId: string, peerId: string, key: { readonly publicKey: Uint8Array; readonly secretKey: Uint8Array }, issuedAt: number): SignedPeerBinding {
  const binding: PeerBinding = { chainId, peerId, validator: toHex(key.publicKey), issuedAt }
  return { binding, signature: sign(key.secretKey, bindingSignBytes(binding)) }
}

/** Whether the record's signature is its validator's (chain and peer are checked by {@link PeerBindings.accept}). */
export function verifyBinding(s: SignedPeerBinding): boolean {
  try {
    return s.signature.length === 64 && verify(fromHex(s.binding.validator), bindingSignBytes(s.binding), s.signature)
  } catch {
    return false
  }
}

export function writeBinding(w: Writer, s: SignedPeerBinding): Writer {
  checkFields(s.binding)
  return w.str(s.binding.chainId).str(s.binding.peerId).fixed(fromHex(s.binding.validator), 32).uint(s.binding.issuedAt).fixed(s.signature, 64)
}

export function readBinding(r: Reader): SignedPeerBinding {
  const chainId = r.str('chainId', 256)
  const peerId = r.str('peerId', 128)
  const validator = toHex(r.fixed(32, 'validator'))
  const issuedAt = r.uint('issuedAt')
  const signature = r.fixed(64, 'signature')
  const binding = { chainId, peerId, validator, issuedAt }
  checkFields(binding)
  return { binding, signature }
}

export function encodeBinding(s: SignedPeerBinding): Uint8Array {
  return writeBinding(new Writer(256), s).finish()
}

/** Decodes a binding record; anything undecodable is {@link MalformedBftMessage}. */
export function decodeBinding(bytes: Uint8Array): SignedPeerBinding {
  try {
    const r = new Reader(bytes)
    const s = readBinding(r)
    r.end()
    return s
  } catch (e) {
    if (e instanceof DecodeError) throw new MalformedBftMessage({ field: e.field, reason: e.reason })
    throw e
  }
}

export type BindingCheck = 'ok' | 'unbound' | 'impersonation'

export interface PeerBindingsInit {
  readonly chainId: string
  /** Only keys for which this holds may be bound (the node: members of the validator set). Default: any key. */
  readonly eligible?: (validator: string) => boolean
  /** How far ahead of the receiver's clock a record may be issued. Default 60 s. */
  readonly maxSkewMs?: number
  readonly now?: () => number
}

/** The verified bindings a node knows: peer → validator and validator → its current record. */
export class PeerBindings {
  private readonly byPeer = new Map<string, string>()
  private readonly byValidator = new Map<string, SignedPeerBinding>()
  private readonly init: PeerBindingsInit

  constructor(init: PeerBindingsInit) {
    this.init = init
  }

  /**
   * Accepts a record carried by a gossip message whose originator is `from`. Returns true if it changed what the
   * node knows, false for a record it already holds. Throws {@link InvalidPeerBinding}.
   */
  accept(s: SignedPeerBinding, from: string): boolean {
    const b = s.binding
    const bad = (reason: BindingRejection): InvalidPeerBinding => new InvalidPeerBinding({ reason, peerId: b.peerId, validator: b.validator })
    if (b.chainId !== this.init.chainId) throw bad('wrong_chain')
    if (from !== b.peerId) throw bad('wrong_peer')
    if (!(this.init.eligible?.(b.validator) ?? true)) throw bad('not_validator')
    if (b.issuedAt > (this.init.now ?? Date.now)() + (this.init.maxSkewMs ?? 60_000)) throw bad('from_future')
    const current = this.byValidator.get(b.validator)
    if (current && current.binding.issuedAt > b.issuedAt) throw bad('stale')
    if (!verifyBinding(s)) throw bad('bad_signature')
    if (current && current.binding.issuedAt === b.issuedAt) {
      if (current.binding.peerId === b.peerId) return false
      // two records signed at one instant for two peers: keep the first one seen
      throw bad('stale')
    }
    if (current) this.byPeer.delete(current.binding.peerId)
    // the peer was bound to another validator (it holds both keys): the later record wins
    const previous = this.byPeer.get(b.peerId)
    if (previous !== undefined) this.byValidator.delete(previous)
    this.byPeer.set(b.peerId, b.validator)
    this.byValidator.set(b.validator, s)
    return true
  }

  validatorOf(peer: string): string | undefined {
    return this.byPeer.get(peer)
  }

  peerOf(validator: string): string | undefined {
    return this.byValidator.get(validator)?.binding.peerId
  }

  /** The rule for a first-hand proposal or vote signed by `signer`, from the gossip originator `peer`. */
  check(peer: string, signer: string): BindingCheck {
    const bound = this.byPeer.get(peer)
    if (bound === undefined) return 'unbound'
    return bound === signer ? 'ok' : 'impersonation'
  }

  get size(): number {
    return this.byPeer.size
  }
}
