import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Either } from 'effect'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { MAX_FRAME_BYTES, decodeFrame, encodeFrame, PROTOCOL_VERSION } from '../../protocol/index.ts'
import { ActorSystem } from '../../supervisor/index.ts'

const packr = new Packr({ useRecords: false })
const basic = new URL('../../actors/basic.ts', import.meta.url).href

/** 1,000 malformed frames: random bytes, wrong types, unknown messages, wrong versions, oversized. */
function malformed(): Uint8Array[] {
  const out: Uint8Array[] = []
  const rnd = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 128 }), { seed: 3, numRuns: 400 })
  out.push(...rnd)
  const wrong = fc.sample(
    fc.oneof(
      fc.record({ _tag: fc.constant('Ask'), v: fc.constant(1), to: fc.constant('/root/x'), id: fc.nat(), body: fc.anything({ maxDepth: 2 }) }),
      fc.record({ _tag: fc.constant('Ask'), v: fc.constant(1), to: fc.constant('/root/x'), id: fc.nat(), body: fc.record({ _tag: fc.constant('Echo'), payload: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null)) }) }),
      fc.record({ _tag: fc.constant('Ask'), v: fc.constant(1), to: fc.constant('/root/x'), id: fc.nat(), body: fc.record({ _tag: fc.constant('Probe'), sender: fc.string(), seq: fc.oneof(fc.double(), fc.constant(-1), fc.string()) }) }),
      fc.record({ _tag: fc.constant('Ask'), v: fc.integer({ min: 2, max: 1000 }), to: fc.constant('/root/x'), id: fc.nat(), body: fc.constant({ _tag: 'Ping' }) }),
      fc.record({ _tag: fc.constantFrom('Reply', 'Fail', 'Bogus'), v: fc.constant(1), id: fc.nat(), body: fc.anything({ maxDepth: 1 }) }),
    ),
    { seed: 5, numRuns: 590 },
  )
  for (const w of wrong) out.push(packr.pack(w))
  for (let i = 0; i < 10; i++) out.push(new Uint8Array(MAX_FRAME_BYTES + 1 + i))
  return out
}

for (const placement of ['main', 'worker'] as const) {
  describe(`malformed input to a live actor (${placement} thread)`, () => {
    test('1,000 malformed frames each get a typed error; the actor keeps serving', { timeout: 60_000 }, async (t) => {
      const sys = await ActorSystem.start({
        kind: 'supervisor',
        id: 'root',
        children: [{ kind: 'actor', id: 'x', behaviour: { module: basic }, placement }],
      })
      t.after(() => sys.shutdown())
      const x = sys.ref('/root/x')
      const frames = malformed()
      assert.equal(frames.length, 1000)
      const tags = new Map<string, number>()
      for (const f of frames) {
        const answer = decodeFrame(await x.askBytes(f))
        assert.ok(Either.isRight(answer), 'the answer itself is a valid frame')
        assert.equal(answer.right._tag, 'Fail', 'every malformed frame is refused')
        if (answer.right._tag === 'Fail') {
          const tag = answer.right.error._tag
          tags.set(tag, (tags.get(tag) ?? 0) + 1)
          assert.ok(['DecodeError', 'VersionMismatch', 'FrameTooLarge'].includes(tag), tag)
        }
      }
      assert.equal(tags.get('FrameTooLarge'), 10)
      assert.ok((tags.get('VersionMismatch') ?? 0) > 0)
      assert.ok((tags.get('DecodeError') ?? 0) > 500)
      // Still serving, through both the typed and the bytes path.
      assert.equal((await x.ask({ _tag: 'Ping' }))._tag, 'Pong')
      const ok = decodeFrame(await x.askBytes(encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/x', id: 5, body: { _tag: 'Echo', payload: 'hi' } })))
      assert.ok(Either.isRight(ok) && ok.right._tag === 'Reply' && ok.right.id === 5)
      assert.equal(sys.stats()[0]?.restarts, 0, 'no restart was needed')
    })

    test('a message the actor does not handle is answered with UnsupportedMessage', { timeout: 30_000 }, async (t) => {
      const sys = await ActorSystem.start({
        kind: 'supervisor',
        id: 'root',
        children: [{ kind: 'actor', id: 'x', behaviour: { module: basic }, placement }],
      })
      t.after(() => sys.shutdown())
      await assert.rejects(sys.ref('/root/x').ask({ _tag: 'Fault', mode: 'throw' }), { _tag: 'UnsupportedMessage' })
      assert.equal((await sys.ref('/root/x').ask({ _tag: 'Ping' }))._tag, 'Pong')
    })
  })
}
