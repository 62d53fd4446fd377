/**
 * State root: a bucketed Merkle commitment over every (key, value) of the state, maintained incrementally.
 *
 * - leaf(key, value) = sha256(0x00 ‖ u32be(len key) ‖ key ‖ value)
 * - Each key falls in one of {@link BUCKETS} (4096) buckets by FNV-1a-32 of the key. bucket digest =
 *   sha256(0x02 ‖ leaf₁ ‖ leaf₂ ‖ …) over its leaves sorted by key; an empty bucket's digest is 32 zero bytes.
 * - root = binary Merkle tree over the 4096 bucket digests, node = sha256(0x01 ‖ left ‖ right).
 * A block rehashes only the leaves it wrote, the buckets they fall in and the 12-level paths above those buckets,
 * so the cost per block is O(changed keys + changed buckets × (bucket size + 12)), not O(state). Two nodes with the
 * same state get the same root; a bucket plus its 12 siblings is an inclusion proof for any key.
 * The bucket function is not cryptographic: someone who grinds many keys into one bucket makes that bucket slower
 * to rehash (a cost issue, never a correctness one).
 */
import crypto from 'node:crypto'

export const BUCKETS = 4096
const LEVELS = 12
const EMPTY = new Uint8Array(32)

function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
export function bucketOf(key: string): number {
  return fnv1a(key) & (BUCKETS - 1)
}

export function leafHash(key: string, value: Uint8Array): Uint8Array {
  const klen = Buffer.byteLength(key, 'utf8')
  const buf = Buffer.allocUnsafe(5 + klen + value.length)
  buf[0] = 0
  buf.writeUInt32BE(klen, 1)
  buf.write(key, 5, 'utf8')
  buf.set(value, 5 + klen)
  return crypto.hash('sha256', buf, 'buffer')
}

export class StateRoot {
  /** Per bucket: key → leaf hash. */
  private readonly buckets: Array<Map<string, Uint8Array>> = Array.from({ length: BUCKETS }, () => new Map())
  /** Heap-ordered tree: nodes[1] is the root, nodes[BUCKETS + i] is bucket i's digest. */
  private readonly nodes: Uint8Array[] = new Array<Uint8Array>(2 * BUCKETS).fill(EMPTY)
  constructor() {
    for (let i = BUCKETS - 1; i >= 1; i--) this.nodes[i] = this.hashNode(i)
  }
  private hashNode(i: number): Uint8Array {
    const buf = Buffer.allocUnsafe(65)
    buf[0] = 1
    buf.set(this.nodes[2 * i] as Uint8Array, 1)
    buf.set(this.nodes[2 * i + 1] as Uint8Array, 33)
    return crypto.hash('sha256', buf, 'buffer')
  }
  private bucketDigest(b: number): Uint8Array {
    const m = this.buckets[b] as Map<string, Uint8Array>
    if (m.size === 0) return EMPTY
    const keys = [...m.keys()].sort()
    const buf = Buffer.allocUnsafe(1 + 32 * keys.length)
    buf[0] = 2
    keys.forEach((k, i) => buf.set(m.get(k) as Uint8Array, 1 + 32 * i))
    return crypto.hash('sha256', buf, 'buffer')
  }
  /** Records a batch of writes (null = delete) and returns an undo function. */
  update(changes: Iterable<readonly [string, Uint8Array | null]>): () => void {
    const dirty = new Set<number>()
    const undo: Array<[number, string, Uint8Array | undefined]> = []
    for (const [key, value] of changes) {
      const b = bucketOf(key)
      const m = this.buckets[b] as Map<string, Uint8Array>
      undo.push([b, key, m.get(key)])
      if (value === null) m.delete(key)
      else m.set(key, leafHash(key, value))
      dirty.add(b)
    }
    const before = new Map<number, Uint8Array>()
    this.refresh(dirty, before)
    return () => {
      for (let i = undo.length - 1; i >= 0; i--) {
        const [b, key, old] = undo[i] as [number, string, Uint8Array | undefined]
        const m = this.buckets[b] as Map<string, Uint8Array>
        if (old === undefined) m.delete(key)
        else m.set(key, old)
      }
      for (const [i, h] of before) this.nodes[i] = h
    }
  }
  private refresh(dirty: Set<number>, before: Map<number, Uint8Array>): void {
    let level = new Set<number>()
    for (const b of dirty) {
      const i = BUCKETS + b
      if (!before.has(i)) before.set(i, this.nodes[i] as Uint8Array)
      this.nodes[i] = this.bucketDigest(b)
      level.add(i >> 1)
    }
    for (let l = 0; l < LEVELS; l++) {
      const next = new Set<number>()
      for (const i of level) {
        if (!before.has(i)) before.set(i, this.nodes[i] as Uint8Array)
        this.nodes[i] = this.hashNode(i)
        if (i > 1) next.add(i >> 1)
      }
      level = next
    }
  }
  root(): Uint8Array {
    return this.nodes[1] as Uint8Array
  }
  /** Inclusion proof for a key present in the committed state (undefined if absent). */
  prove(key: string): StateProof | undefined {
    const b = bucketOf(key)
    const m = this.buckets[b] as Map<string, Uint8Array>
    if (!m.has(key)) return undefined
    const keys = [...m.keys()].sort()
    const siblings: Uint8Array[] = []
    for (let i = BUCKETS + b; i > 1; i >>= 1) siblings.push(this.nodes[i ^ 1] as Uint8Array)
    return { bucket: b, index: keys.indexOf(key), leaves: keys.map((k) => m.get(k) as Uint8Array), siblings }
  }
  /** Number of keys committed. */
  get size(): number {
    let n = 0
    for (const m of this.buckets) n += m.size
    return n
  }
}

/**
 * Inclusion proof of one (key, value): every leaf hash of the key's bucket (sorted by key), the key's position
 * among them, and the 12 sibling hashes from the bucket up to the root.
 */
export interface StateProof {
  readonly bucket: number
  readonly index: number
  readonly leaves: readonly Uint8Array[]
  readonly siblings: readonly Uint8Array[]
}

/** Checks that `key` holds `value` under `root` (a light client needs only the root from a block header). */
export function verifyStateProof(root: Uint8Array, key: string, value: Uint8Array, proof: StateProof): boolean {
  if (proof.bucket !== bucketOf(key) || proof.siblings.length !== LEVELS) return false
  const leaf = proof.leaves[proof.index]
  if (!leaf || !Buffer.from(leaf).equals(Buffer.from(leafHash(key, value)))) return false
  const buf = Buffer.allocUnsafe(1 + 32 * proof.leaves.length)
  buf[0] = 2
  proof.leaves.forEach((l, i) => buf.set(l, 1 + 32 * i))
  let h: Uint8Array = crypto.hash('sha256', buf, 'buffer')
  let i = BUCKETS + proof.bucket
  for (const sib of proof.siblings) {
    const node = Buffer.allocUnsafe(65)
    node[0] = 1
    node.set(i % 2 === 0 ? h : sib, 1)
    node.set(i % 2 === 0 ? sib : h, 33)
    h = crypto.hash('sha256', node, 'buffer')
    i >>= 1
  }
  return Buffer.from(h).equals(Buffer.from(root))
}

/** Root of a full state given as entries (for audits and clean replays). */
export function computeStateRoot(entries: Iterable<readonly [string, Uint8Array]>): Uint8Array {
  const r = new StateRoot()
  r.update(entries)
  return r.root()
}
