/**
 * Blocks: header (chain id, height, parent hash, state root, transactions root, time, proposer) and the signed
 * transactions' wire bytes. The block hash is sha256 of the canonical header encoding; the transactions root is a
 * binary Merkle tree (sha256(0x01 ‖ l ‖ r), an odd node is promoted) over the transaction hashes, zero when empty.
 *
 * Evidence of double signing (block agreement, bft/): a block may also carry evidence items — a validator's two
 * signed votes for one height, round and step with different values — after its transactions, committed to by an
 * `evidenceRoot` (Merkle root of the items' sha256) appended to the header. Both are encoded only when there is
 * evidence, so a block without any encodes (and hashes) exactly as before.
 */
import crypto from 'node:crypto'
import { DecodeError, Reader, Writer } from './codec.ts'
import { InvalidBlock } from './errors.ts'

export interface BlockHeader {
  readonly chainId: string
  readonly height: number
  readonly parentHash: Uint8Array
  readonly stateRoot: Uint8Array
  readonly txRoot: Uint8Array
  /** Milliseconds since the epoch. Strictly increasing. */
  readonly time: number
  readonly proposer: Uint8Array
  /** Merkle root of the evidence items' sha256, present exactly when the block carries evidence. */
  readonly evidenceRoot?: Uint8Array
}
export interface Block {
  readonly header: BlockHeader
  /** Wire bytes of each signed transaction, in execution order. */
  readonly txs: readonly Uint8Array[]
  /** Encoded evidence items ({@link encodeEvidence}); absent or empty: none. */
  readonly evidence?: readonly Uint8Array[]
}

/** One signed vote of an evidence item (nil: `value` null). */
export interface EvidenceVote {
  readonly value: Uint8Array | null
  readonly signature: Uint8Array
}
/** A validator's two signed votes for one height, round and type with different values. */
export interface DoubleSign {
  readonly validator: Uint8Array
  readonly height: number
  readonly round: number
  readonly type: 'prevote' | 'precommit'
  readonly first: EvidenceVote
  readonly second: EvidenceVote
}

export function encodeEvidence(e: DoubleSign): Uint8Array {
  const w = new Writer(256).fixed(e.validator, 32).uint(e.height).uint(e.round).uint(e.type === 'prevote' ? 0 : 1)
  for (const v of [e.first, e.second]) {
    w.bool(v.value !== null)
    if (v.value !== null) w.fixed(v.value, 32)
    w.fixed(v.signature, 64)
  }
  return w.finish()
}
export function decodeEvidence(bytes: Uint8Array): DoubleSign {
  try {
    const r = new Reader(bytes)
    const validator = r.fixed(32, 'validator')
    const height = r.uint('height')
    const round = r.uint('round')
    const t = r.uint('type')
    if (t > 1) throw new DecodeError('type', 'neither prevote nor precommit')
    const vote = (): EvidenceVote => {
      const value = r.bool('hasValue') ? r.fixed(32, 'value') : null
      return { value, signature: r.fixed(64, 'signature') }
    }
    const first = vote()
    const second = vote()
    r.end()
    return { validator, height, round, type: t === 0 ? 'prevote' : 'precommit', first, second }
  } catch (e) {
    if (e instanceof DecodeError) throw new InvalidBlock({ height: -1, reason: `evidence undecodable: ${e.field}: ${e.reason}` })
    throw e
  }
}
export function evidenceRoot(items: readonly Uint8Array[]): Uint8Array {
  return merkleRoot(items.map((i) => crypto.hash('sha256', i, 'buffer')))
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  const w = new Writer(240)
    .str(h.chainId).uint(h.height).fixed(h.parentHash, 32).fixed(h.stateRoot, 32).fixed(h.txRoot, 32)
    .uint(h.time).fixed(h.proposer, 32)
  if (h.evidenceRoot) w.fixed(h.evidenceRoot, 32)
  return w.finish()
}
function readHeader(r: Reader): BlockHeader {
  return {
    chainId: r.str('chainId', 64), height: r.uint('height'), parentHash: r.fixed(32, 'parentHash'),
    stateRoot: r.fixed(32, 'stateRoot'), txRoot: r.fixed(32, 'txRoot'), time: r.uint('time'), proposer: r.fixed(32, 'proposer'),
    ...(r.remaining > 0 ? { evidenceRoot: r.fixed(32, 'evidenceRoot') } : {}),
  }
}
export function blockHash(h: BlockHeader): Uint8Array {
  return crypto.hash('sha256', encodeHeader(h), 'buffer')
}

export function encodeBlock(b: Block): Uint8Array {
  const w = new Writer(256 + b.txs.reduce((n, t) => n + t.length + 3, 0))
  w.bytes(encodeHeader(b.header)).uint(b.txs.length)
  for (const t of b.txs) w.bytes(t)
  if (b.evidence && b.evidence.length > 0) {
    w.uint(b.evidence.length)
    for (const e of b.evidence) w.bytes(e)
  }
  return w.finish()
}
export function decodeBlock(bytes: Uint8Array): Block {
  try {
    const r = new Reader(bytes)
    const hr = new Reader(r.bytes('header', 1024))
    const header = readHeader(hr)
    hr.end('header')
    const n = r.uint('txCount')
    const txs: Uint8Array[] = []
    for (let i = 0; i < n; i++) txs.push(r.bytes('tx', 1 << 16))
    const evidence: Uint8Array[] = []
    if (r.remaining > 0) {
      const k = r.uint('evidenceCount')
      if (k === 0 || k > 1024) throw new DecodeError('evidenceCount', 'must be 1..1024 when present')
      for (let i = 0; i < k; i++) evidence.push(r.bytes('evidence', 1024))
    }
    r.end()
    if ((evidence.length > 0) !== (header.evidenceRoot !== undefined)) throw new DecodeError('evidenceRoot', 'present exactly when the block carries evidence')
    return evidence.length > 0 ? { header, txs, evidence } : { header, txs }
  } catch (e) {
    if (e instanceof DecodeError) throw new InvalidBlock({ height: -1, reason: `undecodable: ${e.field}: ${e.reason}` })
    throw e
  }
}

export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return new Uint8Array(32)
  let level = leaves
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) {
      const l = level[i] as Uint8Array
      const r = level[i + 1]
      if (!r) {
        next.push(l)
        continue
      }
      const buf = Buffer.allocUnsafe(65)
      buf[0] = 1
      buf.set(l, 1)
      buf.set(r, 33)
      next.push(crypto.hash('sha256', buf, 'buffer'))
    }
    level = next
  }
  return level[0] as Uint8Array
}
