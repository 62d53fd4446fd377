/**
 * Decode once: a frame entering the process through the control endpoint (POST /ask) or the peer guard is decoded and
 * validated exactly once, where it enters; the typed value travels on (askFrame → the cell → a worker thread, where
 * only the tag is checked). Malformed frames still get a typed Fail at the entry.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Either } from 'effect'
import { Packr } from 'msgpackr'
import { ActorSystem } from '../../supervisor/index.ts'
import { LoopbackNetwork, serveActors } from '../../actors/index.ts'
import { controlRole, readControlCookie } from '../../actors/control/index.ts'
import { PeerGuard, serveGuarded } from '../../net/index.ts'
import { codecCounters, decodeFrame, encodeFrame, PROTOCOL_VERSION, type Frame, type Message } from '../../protocol/index.ts'

const counter = new URL('./decode-counter.ts', import.meta.url).href
const packr = new Packr({ useRecords: false })
const T = { timeout: 60_000 }

const ask = (to: string, body: Message, id = 7): Uint8Array => encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to, id, body })
function answer(bytes: Uint8Array): Frame {
  const d = decodeFrame(bytes)
  assert.ok(Either.isRight(d), 'the answer is a frame')
  return d.right
}
function failTag(bytes: Uint8Array): string {
  const f = answer(bytes)
  assert.equal(f._tag, 'Fail')
  return f._tag === 'Fail' ? f.error._tag : ''
}

async function tree(extra: Parameters<typeof ActorSystem.start>[0]['children'] = []): Promise<ActorSystem> {
  return ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      {
        kind: 'supervisor',
        id: 'brains',
        children: [
          { kind: 'actor', id: 'main', behaviour: { module: counter } },
          { kind: 'actor', id: 'worker', behaviour: { module: counter }, placement: 'worker' },
        ],
      },
      ...extra,
    ],
  })
}

/** Bodies validated in the worker thread so far (its own counter, read through its status). */
async function workerValidated(sys: ActorSystem): Promise<number> {
  return Number((await sys.ref('/root/brains/worker').ask({ _tag: 'GetStatus' })).detail.validated)
}

test('POST /ask: one full decode in the process, none in the worker thread; malformed frames get a typed Fail', T, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-decode-once-'))
  // the control actor reads the system per request (after this assignment)
  const sys: ActorSystem = await tree([controlRole.create('control', { dataDir }, { system: () => sys })])
  t.after(async () => {
    await sys.shutdown()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })
  const url = (JSON.parse(fs.readFileSync(path.join(dataDir, 'control.json'), 'utf8')) as { url: string }).url
  const token = readControlCookie(dataDir)
  const post = async (to: string, body: Uint8Array): Promise<Uint8Array> => {
    const res = await fetch(`${url}/ask?to=${encodeURIComponent(to)}`, { method: 'POST', body, headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.status, 200)
    return new Uint8Array(await res.arrayBuffer())
  }
  for (const to of ['/root/brains/main', '/root/brains/worker']) {
    const inWorker = await workerValidated(sys)
    const before = codecCounters.messageBodiesValidated
    const reply = answer(await post(to, ask(to, { _tag: 'Echo', payload: 'once' })))
    assert.equal(codecCounters.messageBodiesValidated - before, 1, `${to}: validated once, at the endpoint`)
    assert.deepEqual(reply, { _tag: 'Reply', v: PROTOCOL_VERSION, id: 7, body: { _tag: 'EchoReply', payload: 'once' } })
    assert.equal(await workerValidated(sys), inWorker, `${to}: the worker thread validated nothing`)
  }
  // malformed: bytes that are no msgpack, a body of the wrong shape, an answer frame sent as a request, an unknown
  // actor — each a typed Fail (with the Ask's id where it could be read), and the actors keep serving
  assert.equal(failTag(await post('/root/brains/worker', new Uint8Array([0xc1, 0xc1, 0xc1]))), 'DecodeError')
  const wrong = answer(await post('/root/brains/worker', packr.pack({ _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/brains/worker', id: 9, body: { _tag: 'Echo', payload: 5 } })))
  assert.ok(wrong._tag === 'Fail' && wrong.id === 9 && wrong.error._tag === 'DecodeError' && wrong.error.field === 'body.payload')
  assert.equal(failTag(await post('/root/brains/worker', encodeFrame({ _tag: 'Reply', v: PROTOCOL_VERSION, id: 1, body: { _tag: 'Ack' } }))), 'DecodeError')
  assert.equal(failTag(await post('/root/nobody', ask('/root/nobody', { _tag: 'Ping' }))), 'UnknownActor')
  const pong = answer(await post('/root/brains/worker', ask('/root/brains/worker', { _tag: 'Ping' })))
  assert.ok(pong._tag === 'Reply' && pong.id === 7 && pong.body._tag === 'Pong', 'still serving')
  assert.ok(sys.stats().every((r) => r.restarts === 0))
})

test('peer guard and serveActors: one full decode per frame; malformed frames get a typed Fail', T, async (t) => {
  const sys = await tree()
  t.after(() => sys.shutdown())
  const net = new LoopbackNetwork()
  serveGuarded(net.transport('guarded'), (a) => sys.lookup(a), new PeerGuard())
  serveActors(net.transport('open'), (a) => sys.lookup(a))
  const client = net.transport('client')
  for (const server of ['guarded', 'open']) {
    for (const to of ['/root/brains/main', '/root/brains/worker']) {
      const inWorker = await workerValidated(sys)
      const before = codecCounters.messageBodiesValidated
      const reply = answer(await client.request(server, ask(to, { _tag: 'Echo', payload: 'once' })))
      assert.equal(codecCounters.messageBodiesValidated - before, 1, `${server} → ${to}: validated once, at the entry`)
      assert.ok(reply._tag === 'Reply' && reply.body._tag === 'EchoReply' && reply.body.payload === 'once')
      assert.equal(await workerValidated(sys), inWorker, `${server} → ${to}: the worker thread validated nothing`)
    }
    assert.equal(failTag(await client.request(server, new Uint8Array([0xc1, 0xc1, 0xc1]))), 'DecodeError')
    const wrong = answer(await client.request(server, packr.pack({ _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/brains/worker', id: 3, body: { _tag: 'Probe', sender: 's', seq: -1 } })))
    assert.ok(wrong._tag === 'Fail' && wrong.id === 3 && wrong.error._tag === 'DecodeError')
  }
  // the guard still refuses what a peer may not send, before delivering anything
  assert.equal(failTag(await client.request('guarded', ask('/root/brains/worker', { _tag: 'Fault', mode: 'throw' }))), 'Forbidden')
  assert.ok(sys.stats().every((r) => r.restarts === 0))
})
