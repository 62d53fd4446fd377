/**
 * Worker side of {@link SignatureVerifier} (a piscina task): verifies a packed batch of ed25519 signatures with
 * node:crypto. Batch layout, per item: publicKey (32) ‖ signature (64) ‖ u32le payload length ‖ payload.
 * Returns one byte per item: 1 = valid.
 */
import { verify } from './ed25519.ts'

export default function verifyBatch(job: { readonly buf: Uint8Array; readonly count: number }): Uint8Array {
  const out = new Uint8Array(job.count)
  const b = job.buf
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  let off = 0
  for (let i = 0; i < job.count; i++) {
    if (off + 100 > b.length) throw new RangeError('truncated signature batch')
    const pub = b.subarray(off, off + 32)
    const sig = b.subarray(off + 32, off + 96)
    const len = dv.getUint32(off + 96, true)
    if (off + 100 + len > b.length) throw new RangeError('truncated signature batch')
    const payload = b.subarray(off + 100, off + 100 + len)
    out[i] = verify(pub, payload, sig) ? 1 : 0
    off += 100 + len
  }
  return out
}
