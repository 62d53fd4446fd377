/**
 * Kernel worker messages: the schemas live in the protocol (protocol/kernel-messages.ts, part of the one message
 * schema every side imports); this module re-exports them and adds the helpers that turn their byte fields into
 * typed arrays.
 */
import { InvalidInput } from './errors.ts'
export {
  KernelInfo,
  KernelNtt,
  KernelPointwise,
  KernelPolyMul,
  KernelBaseConvert,
  KernelMatmul,
  KernelKvCreate,
  KernelAttention,
  KernelKvRelease,
  KernelSqueeze,
  KernelBfvKeys,
  KernelBfvMulRelin,
  KernelBfvKeysRelease,
  KernelRequest,
  KernelInfoReply,
  KernelWords,
  KernelMatmulReply,
  KernelKvCreated,
  KernelAttentionReply,
  KernelSqueezeReply,
  KernelBfvKeysReply,
  KernelAck,
  KernelReply,
} from '../protocol/kernel-messages.ts'


/** The bytes of a typed array (a view, no copy). */
export function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
}

function aligned(field: string, b: Uint8Array, size: number): ArrayBuffer {
  if (b.byteLength % size !== 0) {
    throw new InvalidInput({ op: 'kernel message', reason: 'length_mismatch', message: `${field}: ${b.byteLength} bytes is not a multiple of ${size}` })
  }
  // Copy: the source may be unaligned or a view into a larger (shared, transferable) buffer.
  return b.slice().buffer
}

export function u32Of(field: string, b: Uint8Array): Uint32Array {
  return new Uint32Array(aligned(field, b, 4))
}
export function f32Of(field: string, b: Uint8Array): Float32Array {
  return new Float32Array(aligned(field, b, 4))
}
export function i8Of(b: Uint8Array): Int8Array {
  return new Int8Array(b.buffer, b.byteOffset, b.byteLength)
}
