/**
 * Block agreement on the wire: signed proposals and votes, commit certificates with their signatures, and the one
 * binary envelope the node gossips them in. Validator ids are ed25519 public keys (64 hex digits) and block ids are
 * block hashes (64 hex digits), so both travel as 32 raw bytes.
 *
 * What is signed (ed25519, ledger/keys.ts): a domain tag, the chain id, the message kind and its fields — so a vote
 * cannot be replayed on another chain or read as a proposal:
 *  - vote: `basedai-bft/1` ‖ chainId ‖ `vote` ‖ type ‖ height ‖ round ‖ (nil | block id)
 *  - proposal: `basedai-bft/1` ‖ chainId ‖ `proposal` ‖ height ‖ round ‖ validRound + 1 ‖ block id
 *  - peer binding: `basedai-bft/1` ‖ chainId ‖ `binding` ‖ peerId ‖ validator key ‖ issuedAt (bft/binding.ts)
 * The envelope also carries bindings and relays (another validator's proposal or vote, re-gossiped by a node that
 * did not sign it). A commit certificate is the precommits of one round for one block with their signatures; `verifyCertificate`
 * checks every signature, that each signer is in the height's set once, and that they hold more than 2/3 of its
 * power. Anything undecodable is {@link MalformedBftMessage}; a certificate that does not verify is
 * {@link InvalidCertificate}.
 */
import { Data } from 'effect'
import { DecodeError, Reader, Writer, fromHex, toHex } from '../ledger/codec.ts'
import { sign, verify } from '../ledger/keys.ts'
import type { CommitCertificate, Proposal, Value, Vote } from './types.ts'
import type { ValidatorSet } from './validators.ts'
import { readBinding, writeBinding, type SignedPeerBinding } from './binding.ts'

const DOMAIN = 'basedai-bft/1'
/** Largest block a proposal may carry (a 5,000-transaction block of 64 KiB transactions would not fit a frame). */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024

export class MalformedBftMessage extends Data.TaggedError('MalformedBftMessage')<{ readonly field: string; readonly reason: string }> {}
export class InvalidCertificate extends Data.TaggedError('InvalidCertificate')<{ readonly height: number; readonly reason: string }> {}

export interface SignedVote {
  readonly vote: Vote
  readonly signature: Uint8Array
}
export interface SignedProposal {
  readonly proposal: Proposal
  readonly signature: Uint8Array
}
/** A certificate whose precommits carry their signatures (signatures[i] signs certificate.precommits[i]). */
export interface SignedCertificate {
  readonly certificate: CommitCertificate
  readonly signatures: readonly Uint8Array[]
}

export type WireMessage =
  | { readonly type: 'proposal'; readonly signed: SignedProposal }
  | { readonly type: 'vote'; readonly signed: SignedVote }
  | { readonly type: 'commit'; readonly value: Value; readonly certificate: SignedCertificate }
  /** Evidence of double signing, encoded as the ledger records it (ledger/block.ts `encodeEvidence`). */
  | { readonly type: 'evidence'; readonly evidence: Uint8Array }
  /** A node's peer id bound to its validator key (bft/binding.ts); published by that peer itself. */
  | { readonly type: 'binding'; readonly signed: SignedPeerBinding }
  /**
   * Another validator's signed proposal or vote, re-gossiped by a node that is not its author: kept apart from
   * first-hand messages so that a first-hand one can be held to its originator's binding (docs/NETWORK.md).
   */
  | { readonly type: 'relay'; readonly message: FirstHand }

/** The messages a validator speaks first-hand: each must come from the peer bound to its signer. */
export type FirstHand = Extract<WireMessage, { readonly type: 'proposal' | 'vote' }>

const id32 = (hex: string, field: string): Uint8Array => {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new MalformedBftMessage({ field, reason: 'not 64 lowercase hex digits' })
  return fromHex(hex)
}

export function voteSignBytes(chainId: string, v: Vote): Uint8Array {
  const w = new Writer(128).str(DOMAIN).str(chainId).str('vote').uint(v.type === 'prevote' ? 0 : 1).uint(v.height).uint(v.round)
  w.bool(v.value !== null)
  if (v.value !== null) w.fixed(id32(v.value, 'value'), 32)
  return w.finish()
}

export function proposalSignBytes(chainId: string, p: Proposal): Uint8Array {
  return new Writer(128).str(DOMAIN).str(chainId).str('proposal').uint(p.height).uint(p.round).uint(p.validRound + 1)
    .fixed(id32(p.value.id, 'value'), 32).finish()
}

export function signVote(chainId: string, vote: Vote, secretKey: Uint8Array): SignedVote {
  return { vote, signature: sign(secretKey, voteSignBytes(chainId, vote)) }
}
export function signProposal(chainId: string, proposal: Proposal, secretKey: Uint8Array): SignedProposal {
  return { proposal, signature: sign(secretKey, proposalSignBytes(chainId, proposal)) }
}
export function verifyVote(chainId: string, s: SignedVote): boolean {
  return verify(fromHex(s.vote.from), voteSignBytes(chainId, s.vote), s.signature)
}
export function verifyProposal(chainId: string, s: SignedProposal): boolean {
  return verify(fromHex(s.proposal.from), proposalSignBytes(chainId, s.proposal), s.signature)
}

// ── certificates ──────────────────────────────────────────────────────────────────────────────────────────────

export function encodeCertificate(s: SignedCertificate): Uint8Array {
  const c = s.certificate
  const w = new Writer(64 + c.precommits.length * 100).uint(c.height).uint(c.round).fixed(id32(c.value, 'value'), 32).uint(c.precommits.length)
  c.precommits.forEach((v, i) => {
    w.fixed(id32(v.from, 'from'), 32).fixed(s.signatures[i] ?? new Uint8Array(64), 64)
  })
  return w.finish()
}

function readCertificate(r: Reader): SignedCertificate {
  const height = r.uint('height')
  const round = r.uint('round')
  const value = toHex(r.fixed(32, 'value'))
  const n = r.uint('precommits')
  if (n > 10_000) throw new DecodeError('precommits', 'more than 10,000')
  const precommits: Vote[] = []
  const signatures: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    precommits.push({ type: 'precommit', height, round, value, from: toHex(r.fixed(32, 'from')) })
    signatures.push(r.fixed(64, 'signature'))
  }
  return { certificate: { height, round, value, precommits }, signatures }
}

export function decodeCertificate(bytes: Uint8Array): SignedCertificate {
  return decoding(() => {
    const r = new Reader(bytes)
    const c = readCertificate(r)
    r.end()
    return c
  })
}

/** Checks a certificate against the height's validator set (see module doc). Throws {@link InvalidCertificate}. */
export function verifyCertificate(chainId: string, s: SignedCertificate, set: ValidatorSet): void {
  const c = s.certificate
  const bad = (reason: string): InvalidCertificate => new InvalidCertificate({ height: c.height, reason })
  if (s.signatures.length !== c.precommits.length) throw bad('one signature per precommit')
  const seen = new Set<string>()
  let power = 0n
  c.precommits.forEach((v, i) => {
    if (v.type !== 'precommit' || v.height !== c.height || v.round !== c.round || v.value !== c.value) throw bad('a precommit for another step or block')
    if (!set.has(v.from)) throw bad(`signer ${v.from.slice(0, 16)}… is not a validator of the height`)
    if (seen.has(v.from)) throw bad(`signer ${v.from.slice(0, 16)}… twice`)
    seen.add(v.from)
    if (!verify(fromHex(v.from), voteSignBytes(chainId, v), s.signatures[i] as Uint8Array)) throw bad(`bad signature by ${v.from.slice(0, 16)}…`)
    power += set.power(v.from)
  })
  if (!set.isQuorum(power)) throw bad(`signers hold ${power} of ${set.total}: not more than 2/3`)
}

// ── the gossip envelope ───────────────────────────────────────────────────────────────────────────────────────

const KIND = { proposal: 1, vote: 2, commit: 3, evidence: 4, binding: 5, relay: 6 } as const

export function encodeWire(m: WireMessage): Uint8Array {
  switch (m.type) {
    case 'proposal': {
      const p = m.signed.proposal
      return new Writer(256 + p.value.data.length).uint(KIND.proposal).uint(p.height).uint(p.round).uint(p.validRound + 1)
        .fixed(id32(p.from, 'from'), 32).fixed(id32(p.value.id, 'value'), 32).bytes(p.value.data).fixed(m.signed.signature, 64).finish()
    }
    case 'vote': {
      const v = m.signed.vote
      const w = new Writer(192).uint(KIND.vote).uint(v.type === 'prevote' ? 0 : 1).uint(v.height).uint(v.round).bool(v.value !== null)
      if (v.value !== null) w.fixed(id32(v.value, 'value'), 32)
      return w.fixed(id32(v.from, 'from'), 32).fixed(m.signed.signature, 64).finish()
    }
    case 'evidence':
      return new Writer(16 + m.evidence.length).uint(KIND.evidence).bytes(m.evidence).finish()
    case 'binding':
      return writeBinding(new Writer(256).uint(KIND.binding), m.signed).finish()
    case 'relay': {
      const inner = encodeWire(m.message)
      return new Writer(16 + inner.length).uint(KIND.relay).bytes(inner).finish()
    }
    case 'commit':
      return new Writer(256 + m.value.data.length).uint(KIND.commit).fixed(id32(m.value.id, 'value'), 32).bytes(m.value.data)
        .bytes(encodeCertificate(m.certificate)).finish()
  }
}

export function decodeWire(bytes: Uint8Array): WireMessage {
  return decoding(() => {
    const r = new Reader(bytes)
    const kind = r.uint('kind')
    let m: WireMessage
    if (kind === KIND.proposal) {
      const height = r.uint('height')
      const round = r.uint('round')
      const validRound = r.uint('validRound') - 1
      const from = toHex(r.fixed(32, 'from'))
      const id = toHex(r.fixed(32, 'value'))
      const data = r.bytes('block', MAX_BLOCK_BYTES)
      const signature = r.fixed(64, 'signature')
      if (validRound >= round) throw new DecodeError('validRound', 'not below the round')
      m = { type: 'proposal', signed: { proposal: { height, round, validRound, from, value: { id, data } }, signature } }
    } else if (kind === KIND.vote) {
      const t = r.uint('type')
      if (t > 1) throw new DecodeError('type', 'neither prevote nor precommit')
      const height = r.uint('height')
      const round = r.uint('round')
      const value = r.bool('hasValue') ? toHex(r.fixed(32, 'value')) : null
      const from = toHex(r.fixed(32, 'from'))
      const signature = r.fixed(64, 'signature')
      m = { type: 'vote', signed: { vote: { type: t === 0 ? 'prevote' : 'precommit', height, round, value, from }, signature } }
    } else if (kind === KIND.commit) {
      const id = toHex(r.fixed(32, 'value'))
      const data = r.bytes('block', MAX_BLOCK_BYTES)
      const cr = new Reader(r.bytes('certificate', 1 << 20))
      const certificate = readCertificate(cr)
      cr.end('certificate')
      m = { type: 'commit', value: { id, data }, certificate }
    } else if (kind === KIND.evidence) {
      m = { type: 'evidence', evidence: r.bytes('evidence', 1024) }
    } else if (kind === KIND.binding) {
      m = { type: 'binding', signed: readBinding(r) }
    } else if (kind === KIND.relay) {
      const inner = decodeWire(r.bytes('relayed', MAX_BLOCK_BYTES + 1024))
      if (inner.type !== 'proposal' && inner.type !== 'vote') throw new DecodeError('relayed', `a relay carries a proposal or a vote, not ${inner.type}`)
      m = { type: 'relay', message: inner }
    } else throw new DecodeError('kind', `unknown message kind ${kind}`)
    r.end()
    return m
  })
}

function decoding<T>(f: () => T): T {
  try {
    return f()
  } catch (e) {
    if (e instanceof DecodeError) throw new MalformedBftMessage({ field: e.field, reason: e.reason })
    throw e
  }
}
