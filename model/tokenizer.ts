/**
 * Tokenizers: the `Tokenizer` contract, GPT-2's BPE (r50k_base, through the gpt-tokenizer package, loaded lazily),
 * and a small byte-level BPE trained here for the shipped model.
 *
 * The byte-level BPE: text is split into chunks (an optional leading space plus a run of letters, of digits, or of
 * other symbols; or whitespace), each chunk is UTF-8 encoded to byte tokens 0–255, then merges are applied in rank
 * order (lowest rank first), like GPT-2's. Merge i creates token 256 + i. Its JSON form is
 * `{ "type": "basedai-byte-bpe", "version": 1, "merges": [[a, b], …] }`.
 */
import { InvalidToken, TokenizerFormatError } from './errors.ts'

export interface Tokenizer {
  readonly vocabSize: number
  encode(text: string): number[]
  decode(tokens: readonly number[]): string
}

const CHUNK = / ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+/gu

export function splitChunks(text: string): string[] {
  return text.match(CHUNK) ?? []
}

export interface ByteBpeJson {
  readonly type: 'basedai-byte-bpe'
  readonly version: 1
  readonly merges: readonly (readonly [number, number])[]
}

export class ByteBpeTokenizer implements Tokenizer {
  readonly merges: readonly (readonly [number, number])[]
  readonly vocabSize: number
  private readonly rank = new Map<number, number>()
  private readonly bytesOf: Uint8Array[] = []
  private readonly cache = new Map<string, number[]>()

  constructor(merges: readonly (readonly [number, number])[]) {
    this.merges = merges
    this.vocabSize = 256 + merges.length
    for (let i = 0; i < 256; i++) this.bytesOf.push(Uint8Array.of(i))
    merges.forEach(([a, b], i) => {
      const id = 256 + i
      if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0 || a >= id || b >= id) {
        throw new TokenizerFormatError({ reason: `merge ${i} = [${a}, ${b}] refers to a token not yet defined` })
      }
      const key = a * 65536 + b
      if (this.rank.has(key)) throw new TokenizerFormatError({ reason: `merge ${i} = [${a}, ${b}] is a duplicate` })
      this.rank.set(key, i)
      const ba = this.bytesOf[a]
      const bb = this.bytesOf[b]
      const m = new Uint8Array(ba.length + bb.length)
      m.set(ba)
      m.set(bb, ba.length)
      this.bytesOf.push(m)
    })
  }

  static fromJSON(json: unknown): ByteBpeTokenizer {
    if (typeof json !== 'object' || json === null) throw new TokenizerFormatError({ reason: 'not an object' })
    const j = json as Record<string, unknown>
    if (j['type'] !== 'basedai-byte-bpe' || j['version'] !== 1) throw new TokenizerFormatError({ reason: 'type must be "basedai-byte-bpe", version 1' })
    const merges = j['merges']
    if (!Array.isArray(merges) || !merges.every((m) => Array.isArray(m) && m.length === 2 && m.every((v) => typeof v === 'number'))) {
      throw new TokenizerFormatError({ reason: 'merges must be an array of [number, number]' })
    }
    return new ByteBpeTokenizer(merges as [number, number][])
  }

  toJSON(): ByteBpeJson {
    return { type: 'basedai-byte-bpe', version: 1, merges: this.merges }
  }

  /** The bytes token `id` stands for. */
  tokenBytes(id: number): Uint8Array {
    const b = this.bytesOf[id]
    if (b === undefined) throw new InvalidToken({ token: id, vocabSize: this.vocabSize })
    return b
  }

  private encodeChunk(chunk: string): number[] {
    const hit = this.cache.get(chunk)
    if (hit !== undefined) return hit
    let ids = Array.from(new TextEncoder().encode(chunk))
    while (ids.length > 1) {
      let best = -1
      let bestRank = Infinity
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.rank.get(ids[i] * 65536 + ids[i + 1])
        if (r !== undefined && r < bestRank) { bestRank = r; best = i }
      }
      if (best < 0) break
      const [a, b] = this.merges[bestRank]
      const next: number[] = []
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) { next.push(256 + bestRank); i++ } else next.push(ids[i])
      }
      ids = next
    }
    if (this.cache.size < 100_000) this.cache.set(chunk, ids)
    return ids
  }

  encode(text: string): number[] {
    const out: number[] = []
    for (const c of splitChunks(text)) for (const id of this.encodeChunk(c)) out.push(id)
    return out
  }

  decode(tokens: readonly number[]): string {
    const parts = tokens.map((t) => this.tokenBytes(t))
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
    let o = 0
    for (const p of parts) { all.set(p, o); o += p.length }
    return new TextDecoder().decode(all)
  }
}

/**
 * Learn `numMerges` byte-pair merges from `text` (most frequent adjacent pair first; ties broken by the smaller
 * pair id, so training is deterministic). Pairs never cross chunk boundaries.
 */
export function trainByteBpe(text: string, numMerges: number): ByteBpeTokenizer {
  const freq = new Map<string, number>()
  for (const c of splitChunks(text)) freq.set(c, (freq.get(c) ?? 0) + 1)
  const words: number[][] = []
  const counts: number[] = []
  const enc = new TextEncoder()
  for (const [w, n] of freq) { words.push(Array.from(enc.encode(w))); counts.push(n) }
  const merges: [number, number][] = []
  for (let m = 0; m < numMerges; m++) {
    const pairs = new Map<number, number>()
    for (let w = 0; w < words.length; w++) {
      const ids = words[w]
      for (let i = 0; i + 1 < ids.length; i++) {
        const k = ids[i] * 65536 + ids[i + 1]
        pairs.set(k, (pairs.get(k) ?? 0) + counts[w])
      }
    }
    let bestKey = -1
    let bestCount = 0
    for (const [k, n] of pairs) if (n > bestCount || (n === bestCount && k < bestKey)) { bestKey = k; bestCount = n }
    if (bestKey < 0 || bestCount < 2) break
    const a = Math.floor(bestKey / 65536)
    const b = bestKey % 65536
    const id = 256 + merges.length
    merges.push([a, b])
    for (let w = 0; w < words.length; w++) {
      const ids = words[w]
      let j = 0
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) { ids[j++] = id; i++ } else ids[j++] = ids[i]
      }
      ids.length = j
    }
  }
  return new ByteBpeTokenizer(merges)
}

/** GPT-2's own BPE (50257 tokens, r50k_base) from the gpt-tokenizer package. */
export async function loadGpt2Tokenizer(): Promise<Tokenizer> {
  const m = await import('gpt-tokenizer/encoding/r50k_base')
  return {
    vocabSize: 50257,
    encode: (text) => m.encode(text, { allowedSpecial: new Set() }),
    decode: (tokens) => m.decode(tokens),
  }
}
