/**
 * A bounded FIFO mailbox with backpressure.
 *
 * - `offer` enqueues when there is room and nobody is already waiting; otherwise it returns false (the caller then
 *   raises MailboxFull — a message is never dropped silently).
 * - `put` returns a promise that resolves once the item is enqueued; waiters are served strictly in arrival order,
 *   so a sender that issues several `put`s keeps its order even while the mailbox is full.
 * - `take` removes the oldest item and admits the first waiter, if any.
 *
 * The queue is a growable ring buffer: no per-message allocation beyond the item itself.
 */
import { Aborted } from './actor-errors.ts'

interface Waiter<T> {
  readonly item: T
  readonly resolve: () => void
  readonly reject: (e: unknown) => void
  readonly cleanup: () => void
}

export class Mailbox<T> {
  readonly capacity: number
  private buf: Array<T | undefined>
  private head = 0
  private count = 0
  private readonly waiters: Array<Waiter<T>> = []

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`mailbox capacity must be an integer ≥ 1, got ${capacity}`)
    this.capacity = capacity
    this.buf = new Array<T | undefined>(Math.min(capacity, 64))
  }

  get size(): number {
    return this.count
  }
  get waiting(): number {
    return this.waiters.length
  }

  private push(item: T): void {
    if (this.count === this.buf.length) {
      const next = new Array<T | undefined>(Math.min(this.capacity, this.buf.length * 2))
      for (let i = 0; i < this.count; i++) next[i] = this.buf[(this.head + i) % this.buf.length]
      this.buf = next
      this.head = 0
    }
    this.buf[(this.head + this.count) % this.buf.length] = item
    this.count++
  }

  /** Enqueue now if possible. */
  offer(item: T): boolean {
    if (this.count >= this.capacity || this.waiters.length > 0) return false
    this.push(item)
    return true
  }

  /** Enqueue, waiting for room if needed. */
  put(item: T, signal?: AbortSignal): Promise<void> {
    if (this.offer(item)) return Promise.resolve()
    if (signal?.aborted) return Promise.reject(new Aborted({ reason: String(signal.reason ?? 'aborted') }))
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(new Aborted({ reason: String(signal?.reason ?? 'aborted') }))
      }
      const waiter: Waiter<T> = {
        item,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  /** Remove the oldest item; admits waiting senders into the freed room. */
  take(): T | undefined {
    if (this.count === 0) return undefined
    const item = this.buf[this.head]
    this.buf[this.head] = undefined
    this.head = (this.head + 1) % this.buf.length
    this.count--
    while (this.count < this.capacity && this.waiters.length > 0) {
      const w = this.waiters.shift() as Waiter<T>
      w.cleanup()
      this.push(w.item)
      w.resolve()
    }
    return item
  }

  /** Remove everything (queued and waiting) and return it, oldest first; waiting senders are rejected with `reason`. */
  drainAll(reason: unknown): T[] {
    const out: T[] = []
    let item = this.take()
    while (item !== undefined) {
      out.push(item)
      item = this.take()
    }
    for (const w of this.waiters.splice(0)) {
      w.cleanup()
      w.reject(reason)
    }
    return out
  }
}
