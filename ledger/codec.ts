/**
 * Canonical binary codec used for everything that is signed or hashed (transactions, block headers, state records).
 *
 * Format: a fixed sequence of fields per record type, no field names, no optional fields.
 *  - `u8`: one byte.
 *  - `uint` / `big`: unsigned LEB128 (7 bits per byte, low groups first). Canonical: the shortest encoding only
 *    (a final byte of 0x00 after a continuation is rejected); `uint` ≤ 2^53−1, `big` ≤ 2^128−1.
 *  - `fixed(n)`: exactly n raw bytes.
 *  - `bytes` / `str`: a `uint` length then the bytes (`str` must be valid UTF-8, checked with a fatal decoder).
 *  - `bool`: one byte, 0 or 1 (any other value is rejected).
 * Because every value has exactly one encoding, encode(decode(b)) = b for every accepted b: the property that makes
 * signatures and hashes well defined. Decoding throws {@link DecodeError}; callers map it to their own typed error.
 */
const MAX_BIG = (1n << 128n) - 1n
const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder('utf-8', { fatal: true })

/** Thrown by {@link Reader}: `field` names what was being read. */
export class DecodeError extends Error {
  readonly field: string
  readonly reason: string
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`)
    this.field = field
    this.reason = reason
  }
}

export class Writer {
  private buf: Uint8Array
  private pos = 0
  constructor(capacity = 128) {
    this.buf = new Uint8Array(capacity)
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.pos + n) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }
  u8(v: number): this {
    this.ensure(1)
    this.buf[this.pos++] = v & 0xff
    return this
  }
  bool(v: boolean): this {
    return this.u8(v ? 1 : 0)
  }
  uint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`uint out of range: ${v}`)
    this.ensure(8)
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.pos++] = v
    return this
  }
  big(v: bigint): this {
    if (v < 0n || v > MAX_BIG) throw new RangeError(`big out of range: ${v}`)
    if (v <= 0x1fffffffffffffn) return this.uint(Number(v))
    this.ensure(19)
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.buf[this.pos++] = Number(v)
    return this
  }
  fixed(b: Uint8Array, len: number): this {
    if (b.length !== len) throw new RangeError(`fixed field needs ${len} bytes, got ${b.length}`)
    this.ensure(len)
    this.buf.set(b, this.pos)
    this.pos += len
    return this
  }
  bytes(b: Uint8Array): this {
    this.uint(b.length)
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
    return this
  }
  str(s: string): this {
    return this.bytes(utf8.encode(s))
  }
  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }
}

export class Reader {
  private pos = 0
  private readonly buf: Uint8Array
  constructor(buf: Uint8Array) {
    this.buf = buf
  }
  get offset(): number {
    return this.pos
  }
  /** Bytes not read yet (for records with optional trailing fields). */
  get remaining(): number {
    return this.buf.length - this.pos
  }
  private need(n: number, field: string): void {
    if (this.pos + n > this.buf.length) throw new DecodeError(field, 'truncated')
  }
  u8(field: string): number {
    this.need(1, field)
    return this.buf[this.pos++] as number
  }
  bool(field: string): boolean {
    const b = this.u8(field)
    if (b > 1) throw new DecodeError(field, `bool byte ${b}`)
    return b === 1
  }
  uint(field: string): number {
    let result = 0
    let mul = 1
    for (let i = 0; ; i++) {
      if (i >= 8) throw new DecodeError(field, 'uint too long')
      const b = this.u8(field)
      result += (b & 0x7f) * mul
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw new DecodeError(field, 'non-canonical varint')
        if (!Number.isSafeInteger(result)) throw new DecodeError(field, 'uint above 2^53-1')
        return result
      }
      mul *= 0x80
    }
  }
  big(field: string): bigint {
    let result = 0n
    let shift = 0n
    for (let i = 0; ; i++) {
      if (i >= 19) throw new DecodeError(field, 'varint too long')
      const b = this.u8(field)
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw new DecodeError(field, 'non-canonical varint')
        if (result > MAX_BIG) throw new DecodeError(field, 'above 2^128-1')
        return result
      }
      shift += 7n
    }
  }
  fixed(len: number, field: string): Uint8Array {
    this.need(len, field)
    const out = this.buf.slice(this.pos, this.pos + len)
    this.pos += len
    return out
  }
  bytes(field: string, max: number): Uint8Array {
    const len = this.uint(field)
    if (len > max) throw new DecodeError(field, `length ${len} above ${max}`)
    return this.fixed(len, field)
  }
  str(field: string, max: number): string {
    const b = this.bytes(field, max)
    try {
      return utf8Strict.decode(b)
    } catch {
      throw new DecodeError(field, 'invalid UTF-8')
    }
  }
  end(field = 'end'): void {
    if (this.pos !== this.buf.length) throw new DecodeError(field, `${this.buf.length - this.pos} trailing bytes`)
  }
}

/** Lower-case hex of bytes (Buffer-backed, fast). */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}
/** Bytes of a lower-case hex string (no validation beyond length parity; callers check lengths). */
export function fromHex(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, 'hex'))
}
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
