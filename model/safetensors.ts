/**
 * A reader and writer for the safetensors format, written from its specification:
 *
 *   [8 bytes: N, little-endian u64] [N bytes: UTF-8 JSON header, may be padded with spaces] [data]
 *
 * The header maps each tensor name to { dtype, shape, data_offsets: [begin, end] } with offsets relative to the
 * start of the data section, plus an optional "__metadata__" map of string → string. Tensors are little-endian,
 * row-major. This reader decodes F32, F16 and BF16 to Float32Array; the writer emits F32 or F16.
 *
 * Every structural fault is rejected at parse time: `SafetensorsFormatError` (bad header length, JSON, offsets, or
 * a byte range that does not match shape × dtype), `TruncatedTensor` (data past the end of the file, naming the
 * tensor), `UnsupportedDtype` (on decode).
 */
import { SafetensorsFormatError, TruncatedTensor, UnsupportedDtype } from './errors.ts'

export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL'

const DTYPE_BYTES: Readonly<Record<Dtype, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }

export interface TensorInfo {
  readonly name: string
  readonly dtype: Dtype
  readonly shape: readonly number[]
  /** Absolute byte range in the file. */
  readonly begin: number
  readonly end: number
}

export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, TensorInfo>
  readonly metadata: Readonly<Record<string, string>>
  /** Decode a tensor to f32. Throws `UnsupportedDtype` for integer dtypes; the caller checks presence first. */
  readonly getF32: (info: TensorInfo) => Float32Array
}

/** Largest header accepted (the reference implementation uses 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/** Parse a safetensors buffer. Tensor data is not copied until `getF32`. */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw new SafetensorsFormatError({ reason: `file is ${bytes.length} bytes, shorter than the 8-byte header length` })
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n = view.getBigUint64(0, true)
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsFormatError({ reason: `header length ${n} exceeds ${MAX_HEADER_BYTES}` })
  const headerLen = Number(n)
  if (8 + headerLen > bytes.length) {
    throw new SafetensorsFormatError({ reason: `header length ${headerLen} runs past the end of the ${bytes.length}-byte file` })
  }
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)))
  } catch (e) {
    throw new SafetensorsFormatError({ reason: `header is not valid UTF-8 JSON: ${(e as Error).message}` })
  }
  if (!isRecord(header)) throw new SafetensorsFormatError({ reason: 'header is not a JSON object' })
  const dataStart = 8 + headerLen
  const dataLen = bytes.length - dataStart
  const tensors = new Map<string, TensorInfo>()
  let metadata: Record<string, string> = {}
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isRecord(entry) || !Object.values(entry).every((v) => typeof v === 'string')) {
        throw new SafetensorsFormatError({ reason: '__metadata__ must map strings to strings' })
      }
      metadata = entry as Record<string, string>
      continue
    }
    if (!isRecord(entry)) throw new SafetensorsFormatError({ reason: 'entry is not an object', tensor: name })
    const { dtype, shape, data_offsets: offsets } = entry
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw new SafetensorsFormatError({ reason: `unknown dtype ${JSON.stringify(dtype)}`, tensor: name })
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) throw new SafetensorsFormatError({ reason: 'shape must be an array of non-negative integers', tensor: name })
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt) || offsets[0] > offsets[1]) {
      throw new SafetensorsFormatError({ reason: 'data_offsets must be [begin, end] with 0 ≤ begin ≤ end', tensor: name })
    }
    const [b, e] = offsets as [number, number]
    const expected = (shape as number[]).reduce((a, s) => a * s, 1) * DTYPE_BYTES[dtype as Dtype]
    if (e - b !== expected) {
      throw new SafetensorsFormatError({ reason: `byte range ${e - b} does not match shape [${shape.join(', ')}] × ${dtype} = ${expected}`, tensor: name })
    }
    if (e > dataLen) throw new TruncatedTensor({ tensor: name, expectedBytes: e, availableBytes: dataLen })
    tensors.set(name, { name, dtype: dtype as Dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e })
  }
  const getF32 = (info: TensorInfo): Float32Array => decodeF32(view, info)
  return { tensors, metadata, getF32 }
}

function decodeF32(view: DataView, info: TensorInfo): Float32Array {
  const count = (info.end - info.begin) / DTYPE_BYTES[info.dtype]
  const out = new Float32Array(count)
  switch (info.dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(info.begin + 4 * i, true)
      return out
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(info.begin + 2 * i, true))
      return out
    case 'BF16': {
      const tmp = new DataView(new ArrayBuffer(4))
      for (let i = 0; i < count; i++) {
        tmp.setUint32(0, view.getUint16(info.begin + 2 * i, true) << 16)
        out[i] = tmp.getFloat32(0)
      }
      return out
    }
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(info.begin + 8 * i, true)
      return out
    default:
      throw new UnsupportedDtype({ tensor: info.name, dtype: info.dtype })
  }
}

/** IEEE 754 binary16 → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >> 10) & 0x1f
  const frac = h & 0x3ff
  if (exp === 0) return sign * frac * 2 ** -24
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN
  return sign * (1 + frac / 1024) * 2 ** (exp - 15)
}

/** number → IEEE 754 binary16, round to nearest even; overflow gives ±Infinity. */
export function floatToHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0
  const a = Math.abs(x)
  if (a === Infinity) return sign | 0x7c00
  if (a < 2 ** -24 * 0.5) return sign
  let e = Math.floor(Math.log2(a))
  if (2 ** e > a) e -= 1 // guard log2 rounding
  if (2 ** (e + 1) <= a) e += 1
  if (e < -14) {
    // subnormal: units of 2^-24
    const m = roundHalfEven(a / 2 ** -24)
    return sign | m // m may reach 1024, which is the smallest normal's encoding
  }
  let m = roundHalfEven((a / 2 ** e - 1) * 1024)
  if (m === 1024) { m = 0; e += 1 }
  if (e > 15) return sign | 0x7c00
  return sign | ((e + 15) << 10) | m
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v)
  const r = v - f
  if (r > 0.5) return f + 1
  if (r < 0.5) return f
  return f % 2 === 0 ? f : f + 1
}

export interface TensorToWrite {
  readonly name: string
  readonly shape: readonly number[]
  readonly data: Float32Array
}

/** Serialise tensors (in the given order) as F32 or F16, header padded to 8 bytes. */
export function writeSafetensors(tensors: readonly TensorToWrite[], options: { readonly dtype?: 'F32' | 'F16'; readonly metadata?: Readonly<Record<string, string>> } = {}): Uint8Array {
  const dtype = options.dtype ?? 'F32'
  const size = DTYPE_BYTES[dtype]
  const header: Record<string, unknown> = {}
  if (options.metadata !== undefined) header['__metadata__'] = options.metadata
  let offset = 0
  for (const t of tensors) {
    const n = t.shape.reduce((a, s) => a * s, 1)
    if (n !== t.data.length) {
      throw new SafetensorsFormatError({ reason: `shape [${t.shape.join(', ')}] holds ${n} values, data has ${t.data.length}`, tensor: t.name })
    }
    if (t.name === '__metadata__' || t.name in header) throw new SafetensorsFormatError({ reason: 'duplicate or reserved tensor name', tensor: t.name })
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + n * size] }
    offset += n * size
  }
  let json = JSON.stringify(header)
  const enc = new TextEncoder()
  let hb = enc.encode(json)
  const pad = (8 - (hb.length % 8)) % 8
  if (pad > 0) { json += ' '.repeat(pad); hb = enc.encode(json) }
  const out = new Uint8Array(8 + hb.length + offset)
  const view = new DataView(out.buffer)
  view.setBigUint64(0, BigInt(hb.length), true)
  out.set(hb, 8)
  let p = 8 + hb.length
  for (const t of tensors) {
    if (dtype === 'F32') {
      for (let i = 0; i < t.data.length; i++, p += 4) view.setFloat32(p, t.data[i], true)
    } else {
      for (let i = 0; i < t.data.length; i++, p += 2) view.setUint16(p, floatToHalf(t.data[i]), true)
    }
  }
  return out
}
