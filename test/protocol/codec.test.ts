import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Either } from 'effect'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import {
  ActorCrashed,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  decodeFrame,
  encodeFrame,
  type Frame,
} from '../../protocol/index.ts'

const packr = new Packr({ useRecords: false })
/** Comparable form: byte arrays (Buffer or Uint8Array) as plain number arrays. */
const plain = (x: unknown): unknown =>
  JSON.parse(JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : (v as { type?: string; data?: number[] })?.type === 'Buffer' ? (v as { data: number[] }).data : v)))

describe('frame codec', () => {
  test('every frame kind round-trips', () => {
    const frames: Frame[] = [
      { _tag: 'Tell', v: PROTOCOL_VERSION, to: '/root/a', body: { _tag: 'Probe', sender: 'x', seq: 3 } },
      { _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/a', id: 9, body: { _tag: 'Echo', payload: new Uint8Array([1, 2, 255]) } },
      { _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/a', id: 10, body: { _tag: 'Fault', mode: 'oom' } },
      { _tag: 'Reply', v: PROTOCOL_VERSION, id: 9, body: { _tag: 'Pong', from: '/root/a', at: 1.5 } },
      {
        _tag: 'Reply',
        v: PROTOCOL_VERSION,
        id: 2,
        body: { _tag: 'StatusReply', actor: '/a', role: 'miner', uptimeMs: 3, detail: { gpu: true, name: 'x', n: 2 } },
      },
      { _tag: 'Fail', v: PROTOCOL_VERSION, id: 4, error: new ActorCrashed({ actor: '/a', reason: 'boom' }) },
    ]
    for (const f of frames) {
      const d = decodeFrame(encodeFrame(f))
      assert.ok(Either.isRight(d), `decodes ${f._tag}`)
      if (f._tag === 'Fail' && d.right._tag === 'Fail') {
        assert.ok(d.right.error instanceof ActorCrashed, 'errors decode to their class')
        assert.equal(d.right.error.reason, 'boom')
      } else {
        assert.deepEqual(plain(d.right), plain(f))
      }
    }
  })

  test('a wrongly shaped message names the field', () => {
    const cases: Array<[unknown, string]> = [
      [{ _tag: 'Ask', v: 1, to: '/a', id: 1, body: { _tag: 'Echo', payload: 5 } }, 'body.payload'],
      [{ _tag: 'Ask', v: 1, to: '/a', id: 1, body: { _tag: 'Probe', sender: 's', seq: -1 } }, 'body.seq'],
      [{ _tag: 'Ask', v: 1, to: '/a', id: 1, body: { _tag: 'Probe', sender: 's', seq: 1.5 } }, 'body.seq'],
      [{ _tag: 'Ask', v: 1, to: '/a', id: 1, body: { _tag: 'Fault', mode: 'segfault' } }, 'body.mode'],
      [{ _tag: 'Ask', v: 1, to: '/a', id: 1, body: { _tag: 'NoSuchMessage' } }, 'body._tag'],
      [{ _tag: 'Tell', v: 1, to: 42, body: { _tag: 'Ping' } }, 'to'],
    ]
    for (const [raw, field] of cases) {
      const d = decodeFrame(packr.pack(raw))
      assert.ok(Either.isLeft(d))
      assert.equal(d.left.error._tag, 'DecodeError')
      if (d.left.error._tag === 'DecodeError') assert.equal(d.left.error.field, field, JSON.stringify(raw))
    }
  })

  test('another protocol version is refused with VersionMismatch; the ask id is kept for the answer', () => {
    const d = decodeFrame(packr.pack({ _tag: 'Ask', v: 99, to: '/a', id: 7, body: { _tag: 'Ping' } }))
    assert.ok(Either.isLeft(d))
    assert.equal(d.left.error._tag, 'VersionMismatch')
    assert.equal(d.left.partial.id, 7)
  })

  test('oversized frames are refused before decoding', () => {
    const d = decodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1))
    assert.ok(Either.isLeft(d))
    assert.equal(d.left.error._tag, 'FrameTooLarge')
  })

  test('property: decoding arbitrary bytes never throws and never yields an invalid frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const d = decodeFrame(bytes)
        if (Either.isRight(d)) assert.equal(d.right.v, PROTOCOL_VERSION)
        else assert.ok(['DecodeError', 'VersionMismatch', 'FrameTooLarge'].includes(d.left.error._tag))
      }),
      { seed: 7, numRuns: 2000 },
    )
  })

  test('property: arbitrary msgpack values never decode to a frame unless they are one', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3 }), (value) => {
        let bytes: Uint8Array
        try {
          bytes = packr.pack(value)
        } catch {
          return
        }
        const d = decodeFrame(bytes)
        assert.ok(Either.isLeft(d))
      }),
      { seed: 11, numRuns: 1000 },
    )
  })
})

test('every message, reply and error has a distinct _tag the codec can dispatch on', async () => {
  const { Message, Reply, ProtocolError, tagOf } = await import('../../protocol/index.ts')
  for (const u of [Message, Reply, ProtocolError]) {
    const tags = u.members.map((m) => tagOf(m))
    assert.equal(new Set(tags).size, tags.length)
  }
  assert.ok(Message.members.map((m) => tagOf(m)).includes('EncryptedLinear'))
  assert.ok(ProtocolError.members.map((m) => tagOf(m)).includes('MailboxFull'))
})
