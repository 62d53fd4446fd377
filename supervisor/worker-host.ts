/**
 * Entry point of a worker thread that hosts one actor. It loads the behaviour from its module, runs `init`, then
 * handles frame batches in order, one frame at a time, through the same Runner as a main-thread cell. Replies go
 * back in batches. A crash posts the reason and ends the thread (exit code 1), so the supervisor restarts a fresh
 * thread with fresh state — as an Erlang process dies with its heap.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { Either } from 'effect'
import { AskTimeout, decodeBatch, decodeFrameValue, DEFAULT_ASK_TIMEOUT_MS, encodeBatch, PROTOCOL_VERSION, type Frame } from '../protocol/index.ts'
import { RemoteRef, type Transport } from './transport.ts'
import { loadBehaviour, Runner, type Outcome } from './runner.ts'
import { errorReason, type ActorContext } from './types.ts'
import { TRANSFER_MIN_BYTES } from './worker-protocol.ts'
import { DONE, ERRORS, STARTED, WAITING, type FromWorker, type ToWorker, type WorkerInit } from './worker-protocol.ts'

const port = parentPort
if (!port) throw new Error('worker-host.ts must run in a worker thread')
const init = workerData as WorkerInit
const counters = new Int32Array(init.counters)
const post = (m: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer ?? [])

/**
 * The other actors of the tree, seen from this thread: frames go to the WorkerCell (`request`), which finds the
 * addressee in its supervisor's registry and posts the answer frame back (`answer`). A ref from `ctx.lookup` is a
 * RemoteRef over this link, so it has remote semantics (tell is fire-and-forget; errors arrive typed). Lookup is
 * lazy: the ref is returned for any address and an unknown one answers UnknownActor when used.
 */
const answers = new Map<number, { resolve: (frame: Uint8Array) => void; timer: NodeJS.Timeout }>()
let nextRequest = 1
const parentLink: Transport = {
  peerId: init.address,
  request(_peer, frame, opts) {
    const id = nextRequest++
    const timeoutMs = opts?.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        answers.delete(id)
        reject(new AskTimeout({ actor: `${init.address} → tree`, messageTag: 'frame', timeoutMs }))
      }, timeoutMs + 1_000)
      answers.set(id, { resolve, timer })
      post({ t: 'request', id, frame, timeoutMs })
    })
  },
  handle() {},
  close: async () => {},
}

const startedAt = Date.now()
const ctx: ActorContext = {
  address: init.address,
  role: init.role,
  args: init.args,
  faults: init.faults,
  placement: 'worker',
  uptimeMs: () => Date.now() - startedAt,
  ...(init.lookup ? { lookup: (address: string) => new RemoteRef(parentLink, 'tree', address) } : {}),
}

let runner: Runner
try {
  runner = new Runner(await loadBehaviour(init.source), ctx)
  await runner.init()
} catch (e) {
  post({ t: 'initFailed', reason: errorReason(e) })
  process.exit(1)
}

const queue: ToWorker[] = []
let busy = false
let stopping = false

port.on('message', (m: ToWorker) => {
  // Answers to this actor's own requests bypass the queue: the handler awaiting one is what keeps the queue busy.
  if (m.t === 'answer') {
    const a = answers.get(m.id)
    if (a) {
      answers.delete(m.id)
      clearTimeout(a.timer)
      a.resolve(m.frame)
    }
    return
  }
  queue.push(m)
  if (!busy) void pump()
})
post({ t: 'ready' })

async function pump(): Promise<void> {
  busy = true
  while (queue.length > 0) {
    const m = queue.shift() as ToWorker
    if (m.t === 'stop') {
      stopping = true
      await runner.terminate(m.reason)
      post({ t: 'stopped' })
      process.exit(0)
    }
    if (!stopping && m.t === 'frames') await handleBatch(m.batch)
  }
  busy = false
}

function replyFrame(id: number, out: Outcome): Frame {
  if (out.kind === 'fail' || out.kind === 'crash') return { _tag: 'Fail', v: PROTOCOL_VERSION, id, error: out.error }
  return { _tag: 'Reply', v: PROTOCOL_VERSION, id, body: out.reply }
}

async function handleBatch(batch: Uint8Array): Promise<void> {
  const replies: Frame[] = []
  const flush = (): void => {
    if (replies.length > 0) {
      const encoded = encodeBatch(replies.splice(0))
      if (encoded.length >= TRANSFER_MIN_BYTES) {
        const b = new Uint8Array(encoded)
        post({ t: 'replies', batch: b }, [b.buffer as ArrayBuffer])
      } else post({ t: 'replies', batch: new Uint8Array(encoded) })
    }
    if (Atomics.exchange(counters, WAITING, 0) === 1) post({ t: 'drain' })
  }
  const values = decodeBatch(batch)
  // A batch comes from this process's own WorkerCell; one that does not unpack is a runtime bug, reported loudly.
  if (Either.isLeft(values)) throw new Error(`corrupt frame batch: ${values.left.error._tag}`)
  for (const value of values.right) {
    Atomics.add(counters, STARTED, 1)
    const decoded = decodeFrameValue(value, 'internal')
    if (Either.isLeft(decoded)) {
      Atomics.add(counters, ERRORS, 1)
      const id = decoded.left.partial.id
      if (decoded.left.partial.tag === 'Ask' && id !== undefined) {
        replies.push({ _tag: 'Fail', v: PROTOCOL_VERSION, id, error: decoded.left.error })
      }
      Atomics.add(counters, DONE, 1)
      continue
    }
    const frame: Frame = decoded.right
    if (frame._tag !== 'Tell' && frame._tag !== 'Ask') {
      Atomics.add(counters, ERRORS, 1)
      Atomics.add(counters, DONE, 1)
      continue
    }
    const step = runner.step(frame.body)
    const out = step instanceof Promise ? await step : step
    if (out.kind === 'fail') Atomics.add(counters, ERRORS, 1)
    if (frame._tag === 'Ask') replies.push(replyFrame(frame.id, out))
    if (out.kind === 'crash' || out.kind === 'stop') {
      // The frame in hand is answered; STARTED stays one ahead of DONE for a crash, marking it as the culprit.
      if (out.kind === 'stop') Atomics.add(counters, DONE, 1)
      flush()
      await runner.terminate(out.reason)
      post({ t: 'exit', reason: out.reason })
      process.exit(out.kind === 'crash' ? 1 : 0)
    }
    Atomics.add(counters, DONE, 1)
  }
  flush()
}
