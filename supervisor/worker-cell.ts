/**
 * WorkerCell: an actor whose behaviour runs in its own worker thread (node:worker_threads), behind the same
 * ActorRef API as a main-thread actor.
 *
 * - Messages are encoded as protocol frames (msgpack) on this side and decoded on the worker's side; envelopes and
 *   message tags are checked there, while bodies — typed here, or validated at the process's ingress (askBytes,
 *   transports) — are not re-validated field by field between the process's own threads.
 * - Frames go in batches: one msgpack array per postMessage (one transferred buffer). When the thread is idle the
 *   batch leaves at the end of the current microtask run (low latency for asks); when it is busy, frames gather
 *   until the next turn of the event loop (throughput).
 * - Mailbox depth = frames accepted − frames the worker has finished (shared counters; no ack messages). `tell`
 *   throws MailboxFull at capacity; `send`/`ask` wait for room, woken by the worker's `drain` notice.
 * - Crash detection: an uncaught error, process.exit, or running out of memory (resourceLimits) all end the thread;
 *   the 'exit' event reports it to the supervisor. The frame in hand is answered with ActorCrashed; frames behind it
 *   are kept and redelivered, in order, to the next incarnation.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads'
import { Either } from 'effect'
import {
  ActorCrashed,
  ActorStopped,
  DEFAULT_ASK_TIMEOUT_MS,
  MailboxFull,
  PROTOCOL_VERSION,
  decodeBatch,
  decodeFrameValue,
  encodeBatch,
  type Frame,
  type Message,
  type ReplyFor,
} from '../protocol/index.ts'
import { Cell, delay, noop, type CellOptions } from './cell.ts'
import type { ShutdownPolicy } from './child.ts'
import { BehaviourLoadFailed } from './actor-errors.ts'
import { PendingAsks, type ActorRef, type AskOptions, type SendOptions } from './ref.ts'
import { answerRequest } from './transport.ts'
import { formatReason, type BehaviourSource, type ExitReason } from './types.ts'
import { COUNTERS, DONE, ERRORS, STARTED, TRANSFER_MIN_BYTES, WAITING, type FromWorker, type ToWorker, type WorkerInit } from './worker-protocol.ts'

const HOST = new URL('./worker-host.ts', import.meta.url)


interface Outgoing {
  readonly frame: Frame
  readonly askId: number | undefined
}
interface Waiter {
  readonly item: Outgoing
  readonly tag: string
  readonly resolve: () => void
  readonly reject: (e: unknown) => void
}

export interface WorkerCellOptions extends CellOptions {
  readonly behaviour: BehaviourSource
  /** Heap limits for the thread; exceeding them kills the thread (reported as a crash). */
  readonly resourceLimits?: ResourceLimits
  /** The tree's registry: given, the actor in the thread can reach other actors through `ctx.lookup`. */
  readonly lookup?: (address: string) => ActorRef | undefined
}

export class WorkerCell extends Cell {
  readonly placement = 'worker' as const
  private readonly source: BehaviourSource
  private readonly resourceLimits: ResourceLimits | undefined
  private readonly lookup: ((address: string) => ActorRef | undefined) | undefined
  private worker: Worker | null = null
  private counters = new Int32Array(new SharedArrayBuffer(COUNTERS * 4))
  /** Frames not yet known finished; outbox[head] has sequence number `baseSeq` in this incarnation. */
  private outbox: Outgoing[] = []
  private head = 0
  private baseSeq = 0
  /** Outbox index up to which frames were posted to the current thread. */
  private postedTo = 0
  private flushScheduled = false
  private readonly waiters: Waiter[] = []
  private readonly pending = new PendingAsks()
  private exitReason: ExitReason | null = null
  private stopRequested = false
  private exitWaiters: Array<() => void> = []
  private processedBefore = 0
  private errorsBefore = 0

  constructor(opts: WorkerCellOptions) {
    super(opts)
    this.source = opts.behaviour
    this.resourceLimits = opts.resourceLimits
    this.lookup = opts.lookup
  }

  // ---- bookkeeping -------------------------------------------------------------------------------------------

  private trim(): void {
    const done = Atomics.load(this.counters, DONE)
    while (this.baseSeq < done && this.head < this.outbox.length) {
      this.outbox[this.head] = undefined as unknown as Outgoing
      this.head++
      this.baseSeq++
    }
    if (this.head > 1024 && this.head * 2 > this.outbox.length) {
      this.outbox = this.outbox.slice(this.head)
      this.postedTo -= this.head
      this.head = 0
    }
  }

  private inMailbox(): number {
    this.trim()
    return this.outbox.length - this.head
  }

  protected depth(): number {
    return this.inMailbox() + this.waiters.length
  }
  protected processed(): number {
    return this.processedBefore + Atomics.load(this.counters, DONE)
  }
  override stats(): ReturnType<Cell['stats']> {
    const [row] = super.stats()
    return row ? [{ ...row, errors: row.errors + this.errorsBefore + Atomics.load(this.counters, ERRORS) }] : []
  }

  private readonly flushFn = (): void => this.flush()

  private enqueue(item: Outgoing, tag: string): void {
    this.outbox.push(item)
    this.noteReceived(tag)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      const idle = this.postedTo - this.head <= 0 || Atomics.load(this.counters, DONE) >= this.baseSeq + (this.postedTo - this.head)
      if (idle) queueMicrotask(this.flushFn)
      else setImmediate(this.flushFn)
    }
  }

  private flush(): void {
    this.flushScheduled = false
    const w = this.worker
    if (!w || this.lifecycle !== 'running') return
    if (this.postedTo < this.head) this.postedTo = this.head
    if (this.postedTo >= this.outbox.length) return
    const frames = this.outbox.slice(this.postedTo).map((o) => o.frame)
    this.postedTo = this.outbox.length
    const encoded = encodeBatch(frames)
    if (encoded.length >= TRANSFER_MIN_BYTES) {
      const batch = new Uint8Array(encoded)
      const m: ToWorker = { t: 'frames', batch }
      w.postMessage(m, [batch.buffer as ArrayBuffer])
    } else {
      // Small batches: a structured-clone copy of the view costs less than transferring a buffer (measured: a
      // transfer costs tens of µs, which dominated the ask round trip).
      // (copied out first: `encoded` is a view into the encoder's buffer, and cloning a view clones its whole buffer)
      const m: ToWorker = { t: 'frames', batch: new Uint8Array(encoded) }
      w.postMessage(m)
    }
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.inMailbox() < this.capacity) {
      const w = this.waiters.shift() as Waiter
      this.enqueue(w.item, w.tag)
      w.resolve()
    }
    if (this.waiters.length > 0) this.armDrainNotice()
  }

  private armDrainNotice(): void {
    Atomics.store(this.counters, WAITING, 1)
    // Re-check after arming: the worker may have finished frames between our check and the store.
    if (this.inMailbox() < this.capacity) queueMicrotask(() => this.admitWaiters())
  }

  // ---- ActorRef ----------------------------------------------------------------------------------------------

  tell(msg: Message): void {
    this.checkOpen()
    if (this.waiters.length > 0 || this.inMailbox() >= this.capacity) {
      throw new MailboxFull({ actor: this.address, capacity: this.capacity })
    }
    this.enqueue({ frame: { _tag: 'Tell', v: PROTOCOL_VERSION, to: this.address, body: msg }, askId: undefined }, msg._tag)
  }

  private admit(item: Outgoing, tag: string, signal?: AbortSignal): Promise<void> {
    if (this.waiters.length === 0 && this.inMailbox() < this.capacity) {
      this.enqueue(item, tag)
      return Promise.resolve()
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { item, tag, resolve, reject }
      if (signal) {
        signal.addEventListener(
          'abort',
          () => {
            const i = this.waiters.indexOf(waiter)
            if (i >= 0) {
              this.waiters.splice(i, 1)
              reject(signal.reason)
            }
          },
          { once: true },
        )
      }
      this.waiters.push(waiter)
      this.armDrainNotice()
    })
  }

  send(msg: Message, opts?: SendOptions): Promise<void> {
    if (this.closed) return Promise.reject(this.stoppedError())
    const frame: Frame = { _tag: 'Tell', v: PROTOCOL_VERSION, to: this.address, body: msg }
    return this.admit({ frame, askId: undefined }, msg._tag, opts?.signal)
  }

  ask<Q extends Message>(msg: Q, opts?: AskOptions): Promise<ReplyFor<Q>> {
    if (this.closed) return Promise.reject(this.stoppedError())
    const { id, promise } = this.pending.open(this.address, msg._tag, opts?.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS)
    promise.catch(noop)
    const frame: Frame = { _tag: 'Ask', v: PROTOCOL_VERSION, to: this.address, id, body: msg }
    if (this.waiters.length === 0 && this.inMailbox() < this.capacity) {
      // Room now: no extra promise hop on the round trip.
      this.enqueue({ frame, askId: id }, msg._tag)
      return promise as Promise<ReplyFor<Q>>
    }
    return this.admit({ frame, askId: id }, msg._tag, opts?.signal).then(
      () => promise as Promise<ReplyFor<Q>>,
      (e: unknown) => {
        this.pending.reject(id, e)
        return promise as Promise<ReplyFor<Q>>
      },
    )
  }

  // ---- lifecycle ---------------------------------------------------------------------------------------------

  start(): Promise<void> {
    try {
      this.beginStart()
    } catch (e) {
      return Promise.reject(e)
    }
    this.trim()
    // New incarnation: frames still in the outbox were never started; renumber them from 0 and post them again.
    this.processedBefore += Atomics.load(this.counters, DONE)
    this.errorsBefore += Atomics.load(this.counters, ERRORS)
    this.outbox = this.outbox.slice(this.head)
    this.head = 0
    this.baseSeq = 0
    this.postedTo = 0
    const sab = new SharedArrayBuffer(COUNTERS * 4)
    this.counters = new Int32Array(sab)
    this.exitReason = null
    this.stopRequested = false
    const init: WorkerInit = {
      source: this.source,
      address: this.address,
      role: this.role,
      args: this.args,
      faults: this.faults,
      counters: sab,
      lookup: this.lookup !== undefined,
    }
    return new Promise<void>((resolve, reject) => {
      let settled = false
      const worker = new Worker(HOST, {
        workerData: init,
        ...(this.resourceLimits ? { resourceLimits: this.resourceLimits } : {}),
        stdout: false,
        stderr: false,
      })
      this.worker = worker
      worker.on('message', (m: FromWorker) => {
        switch (m.t) {
          case 'ready':
            settled = true
            this.lifecycle = 'running'
            resolve()
            this.flush()
            this.admitWaiters()
            return
          case 'initFailed':
            this.exitReason = m.reason
            return
          case 'replies':
            this.onReplies(m.batch)
            return
          case 'drain':
            this.admitWaiters()
            return
          case 'exit':
            this.exitReason = m.reason
            return
          case 'stopped':
            return
          case 'request':
            void this.onRequest(worker, m.id, m.frame, m.timeoutMs)
            return
        }
      })
      worker.on('error', (e: Error) => {
        this.exitReason ??= { _tag: 'error', message: e.message, errorTag: (e as { code?: string }).code ?? e.name }
      })
      worker.on('exit', (code: number) => {
        // A thread of an earlier incarnation (cannot normally happen: stop waits for the exit) is not this one.
        if (this.worker !== worker) return
        this.worker = null
        const reason: ExitReason =
          this.exitReason ?? (code === 0 ? { _tag: 'normal' } : { _tag: 'killed', detail: `worker thread exited with code ${code}` })
        if (!settled) {
          settled = true
          this.lifecycle = 'stopped'
          this.lastExitReason = reason
          reject(new BehaviourLoadFailed({ module: this.source.module, reason: formatReason(reason) }))
          return
        }
        this.onThreadExit(reason)
      })
    })
  }

  /** A frame from the thread's actor to another actor of the tree: answered here, the answer posted back. */
  private async onRequest(worker: Worker, id: number, frame: Uint8Array, timeoutMs: number): Promise<void> {
    const lookup = this.lookup ?? ((): undefined => undefined)
    const answer = await answerRequest(frame, lookup, { timeoutMs })
    // The thread may have ended meanwhile (crash, stop): its requests died with it.
    if (this.worker === worker) worker.postMessage({ t: 'answer', id, frame: answer } satisfies ToWorker)
  }

  private onReplies(batch: Uint8Array): void {
    const values = decodeBatch(batch)
    for (const value of Either.isRight(values) ? values.right : []) {
      const d = decodeFrameValue(value, 'internal')
      if (Either.isLeft(d)) continue
      const f = d.right
      if (f._tag === 'Reply') this.pending.resolve(f.id, f.body)
      else if (f._tag === 'Fail') this.pending.reject(f.id, f.error)
    }
    if (this.waiters.length > 0) this.admitWaiters()
  }

  private onThreadExit(reason: ExitReason): void {
    this.trim()
    const started = Atomics.load(this.counters, STARTED)
    const done = Atomics.load(this.counters, DONE)
    if (started > done && this.head < this.outbox.length) {
      // The frame in hand when the thread died: answered with ActorCrashed, not retried.
      const culprit = this.outbox[this.head] as Outgoing
      if (culprit.askId !== undefined) {
        this.pending.reject(culprit.askId, new ActorCrashed({ actor: this.address, reason: formatReason(reason) }))
      }
      this.outbox[this.head] = undefined as unknown as Outgoing
      this.head++
      this.processedBefore += 1
    }
    this.lifecycle = 'stopped'
    const waiters = this.exitWaiters.splice(0)
    for (const w of waiters) w()
    if (this.stopRequested) {
      this.lastExitReason = reason
      return
    }
    this.exited(reason)
  }

  async stop(reason: ExitReason, shutdown: ShutdownPolicy): Promise<void> {
    const w = this.worker
    if (!w || this.lifecycle === 'stopped') {
      this.lifecycle = 'stopped'
      return
    }
    this.stopRequested = true
    this.lifecycle = 'stopping'
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve))
    if (shutdown === 'brutal_kill') {
      await w.terminate()
    } else {
      const m: ToWorker = { t: 'stop', reason }
      w.postMessage(m)
      if (shutdown === 'infinity') await exited
      else {
        await Promise.race([exited, delay(shutdown)])
        if (this.worker) await w.terminate()
      }
    }
    await exited
    this.lastExitReason = reason
  }

  protected rejectQueued(err: ActorStopped): void {
    this.trim()
    for (let i = this.head; i < this.outbox.length; i++) if ((this.outbox[i] as Outgoing).askId === undefined) this.droppedCount++
    for (const w of this.waiters.splice(0)) w.reject(err)
    this.pending.rejectAll(err)
    // Only a stopped cell is closed, so no thread is reading these frames; the next start renumbers from an empty outbox.
    this.outbox = this.outbox.slice(0, this.head)
    this.postedTo = Math.min(this.postedTo, this.outbox.length)
  }

  protected release(): void {
    if (this.worker) void this.worker.terminate()
    this.lifecycle = 'stopped'
  }
}
