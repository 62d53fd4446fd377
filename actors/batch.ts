/**
 * Batches of frames for postMessage: one fresh ArrayBuffer per batch ([u32 length][frame bytes]…), transferred,
 * never copied, and never a view into a shared encoder buffer (structured clone would copy all of it).
 */
export function packBatch(frames: readonly Uint8Array[]): Uint8Array {
  let total = 0
  for (const f of frames) total += 4 + f.length
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  let o = 0
  for (const f of frames) {
    view.setUint32(o, f.length, true)
    out.set(f, o + 4)
    o += 4 + f.length
  }
  return out
}

export function unpackBatch(batch: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = []
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength)
  let o = 0
  while (o + 4 <= batch.length) {
    const len = view.getUint32(o, true)
    if (o + 4 + len > batch.length) throw new RangeError('truncated batch')
    frames.push(batch.subarray(o + 4, o + 4 + len))
    o += 4 + len
  }
  if (o !== batch.length) throw new RangeError('trailing bytes in batch')
  return frames
}
