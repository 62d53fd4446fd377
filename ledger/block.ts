/**
 * Blocks: header (chain id, height, parent hash, state root, transactions root, time, proposer) and the signed
 * transactions' wire bytes. The block hash is sha256 of the canonical header encoding; the transactions root is a
 * binary Merkle tree (sha256(0x01 ‖ l ‖ r), an odd node is promoted) over the transaction hashes, zero when empty.
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
}
export interface Block {
  readonly header: BlockHeader
  /** Wire bytes of each signed transaction, in execution order. */
  readonly txs: readonly Uint8Array[]
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  return new Writer(200)
    .str(h.chainId).uint(h.height).fixed(h.parentHash, 32).fixed(h.stateRoot, 32).fixed(h.txRoot, 32)
    .uint(h.time).fixed(h.proposer, 32).finish()
}
function readHeader(r: Reader): BlockHeader {
  return {
    chainId: r.str('chainId', 64), height: r.uint('height'), parentHash: r.fixed(32, 'parentHash'),
    stateRoot: r.fixed(32, 'stateRoot'), txRoot: r.fixed(32, 'txRoot'), time: r.uint('time'), proposer: r.fixed(32, 'proposer'),
  }
}
export function blockHash(h: BlockHeader): Uint8Array {
  return crypto.hash('sha256', encodeHeader(h), 'buffer')
}

export function encodeBlock(b: Block): Uint8Array {
  const w = new Writer(256 + b.txs.reduce((n, t) => n + t.length + 3, 0))
  w.bytes(encodeHeader(b.header)).uint(b.txs.length)
  for (const t of b.txs) w.bytes(t)
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
    r.end()
    return { header, txs }
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
