/**
 * A kernel-worker actor (actors/kernel-worker.ts) seen as batched polynomial kernels: NTTs and pointwise products
 * sent as `KernelNtt` / `KernelPointwise` messages (protocol/kernel-messages.ts) through any `ask` — an ActorRef's,
 * a RemoteRef's. It has the NTT methods of `KernelService`, so `kernelPolyBackend(await kernelWorkerClient(ask))`
 * (basedai/fhe) runs BFV's NTTs on the worker's device exactly as on a `KernelService` in this thread.
 *
 * Large batches are split into requests of at most `maxRequestBytes` (whole rows, so each row keeps its prime:
 * rows of one request start at a multiple of the prime count), keeping every frame under the protocol's limit.
 *
 * It also serves the resident BFV multiply + relinearize (`uploadBfvKeys` / `bfvMulRelin` / `releaseBfvKeys`, as
 * `KernelService` has them): the keys go to the worker once, each batch of pairs is one `KernelBfvMulRelin` (split
 * into requests of whole pairs under the size limit), so `kernelPolyBackend(client)` runs
 * `multiplyRelinManyAsync` on the worker's device end to end, as on a `KernelService` in this thread.
 *
 * @example
 * ```ts
 * const gpu = await kernelWorkerClient((m) => system.ref('/root/miners/kernel-1').ask(m, { timeoutMs: 60_000 }))
 * gpu.backend                                   // 'webgpu' (or 'reference' when the worker fell back)
 * await gpu.nttForward(rows, 4096, primes)      // the words KernelService.nttForward gives
 * ```
 */
import { GpuError, InvalidInput } from './errors.ts'
import { bytesOf, u32Of, type KernelReply, type KernelRequest } from './messages.ts'
import type { PointwiseOp } from './ntt/gpu.ts'
import type { BfvMulSpec } from './rns/bfv.ts'
import type { BfvKeysHandle } from './service.ts'

/** Sends one kernel request and resolves with its reply (rejects with the worker's typed error). */
export type KernelAsk = (req: KernelRequest) => Promise<unknown>

export interface KernelWorkerClient {
  /** `webgpu` or `reference`: what the worker runs its kernels on (from its KernelInfo). */
  readonly backend: 'webgpu' | 'reference'
  /** The worker's adapter line. */
  readonly adapter: string
  readonly slow: boolean
  nttForward(data: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array>
  nttInverse(data: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array>
  pointwise(op: PointwiseOp, a: Uint32Array, b: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array>
  /** Sends one level's relinearization keys ([b_0 … b_{k−1}, a_0 … a_{k−1}] × k limbs, NTT form) to the worker once. */
  uploadBfvKeys(n: number, q: readonly number[], keys: Uint32Array): Promise<BfvKeysHandle>
  /** B multiply + relinearize products on the worker: B × [a0 a1 b0 b1] × k limbs in, B × [c0 c1] × k limbs out. */
  bfvMulRelin(spec: BfvMulSpec, ops: Uint32Array, keys: BfvKeysHandle): Promise<Uint32Array>
  releaseBfvKeys(keys: BfvKeysHandle): Promise<void>
  /** Whether one level's keys and one pair of this shape each fit in a request (larger levels: the six-batch path). */
  bfvFits(spec: BfvMulSpec): boolean
}

/** 4 MiB of words per request: well under the protocol's 8 MiB frame limit, with room for two operands. */
const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024

function words(reply: unknown, op: string): Uint32Array {
  const r = reply as KernelReply
  if (r?._tag !== 'KernelWords') throw new GpuError({ op, kind: 'internal', message: `kernel worker answered ${String((r as { _tag?: unknown })?._tag)} to ${op}` })
  return u32Of('data', r.data)
}

/** Row ranges [from, to) of at most `maxWords` words each, each starting at a multiple of L rows. */
function chunks(totalWords: number, n: number, L: number, maxWords: number): Array<[number, number]> {
  if (n < 1 || L < 1 || totalWords % n !== 0) {
    throw new InvalidInput({ op: 'kernelWorkerClient', reason: 'length_mismatch', message: `${totalWords} words is not whole rows of ${n}` })
  }
  const rows = totalWords / n
  const step = Math.max(L, Math.floor(maxWords / n / L) * L)
  const out: Array<[number, number]> = []
  for (let r = 0; r < rows; r += step) out.push([r * n, Math.min(rows, r + step) * n])
  return out
}

/**
 * A client for the kernel worker behind `ask`: asks its KernelInfo once (so `backend` says what it runs on), then
 * serves the NTT and pointwise methods by message.
 */
export async function kernelWorkerClient(ask: KernelAsk, opts: { readonly maxRequestBytes?: number } = {}): Promise<KernelWorkerClient> {
  const info = (await ask({ _tag: 'KernelInfo' })) as KernelReply
  if (info?._tag !== 'KernelInfoReply') throw new GpuError({ op: 'KernelInfo', kind: 'internal', message: 'not a kernel worker' })
  const maxWords = Math.max(1, Math.floor((opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES) / 4))
  const batched = async (
    total: number, n: number, primes: readonly number[], one: (from: number, to: number) => Promise<Uint32Array>,
  ): Promise<Uint32Array> => {
    const out = new Uint32Array(total)
    const parts = chunks(total, n, primes.length, maxWords)
    const results = await Promise.all(parts.map(([from, to]) => one(from, to)))
    parts.forEach(([from], i) => out.set(results[i] as Uint32Array, from))
    return out
  }
  const ntt = (direction: 'forward' | 'inverse') => (data: Uint32Array, n: number, primes: readonly number[]) =>
    batched(data.length, n, primes, async (from, to) =>
      words(await ask({ _tag: 'KernelNtt', direction, n, primes: [...primes], data: bytesOf(data.subarray(from, to)) }), `ntt ${direction}`))
  return {
    backend: info.backend,
    adapter: info.adapter,
    slow: info.slow,
    nttForward: ntt('forward'),
    nttInverse: ntt('inverse'),
    async uploadBfvKeys(n, q, keys) {
      const r = (await ask({ _tag: 'KernelBfvKeys', n, q: [...q], keys: bytesOf(keys) })) as KernelReply
      if (r?._tag !== 'KernelBfvKeysReply') throw new GpuError({ op: 'bfv keys', kind: 'internal', message: `kernel worker answered ${String((r as { _tag?: unknown })?._tag)} to KernelBfvKeys` })
      return { kind: 'bfv-keys', id: r.keys, n, q: [...q] }
    },
    async bfvMulRelin(spec, ops, keys) {
      const k = spec.q.length
      const pairWords = 4 * k * spec.n
      if (k < 1 || spec.n < 1 || ops.length % pairWords !== 0) {
        throw new InvalidInput({ op: 'bfvMulRelin', reason: 'length_mismatch', message: `${ops.length} words is not whole pairs of 4 × ${k} × ${spec.n}` })
      }
      const pairs = ops.length / pairWords
      const step = Math.max(1, Math.floor(maxWords / pairWords))
      const parts: Array<[number, number]> = []
      for (let p = 0; p < pairs; p += step) parts.push([p, Math.min(pairs, p + step)])
      const results = await Promise.all(parts.map(async ([from, to]) =>
        words(await ask({
          _tag: 'KernelBfvMulRelin', n: spec.n, q: [...spec.q], p: [...spec.p], t: spec.t, keys: keys.id,
          ops: bytesOf(ops.subarray(from * pairWords, to * pairWords)),
        }), 'bfv multiply + relinearize')))
      const outPair = 2 * k * spec.n
      const out = new Uint32Array(pairs * outPair)
      parts.forEach(([from, to], i) => {
        const r = results[i] as Uint32Array
        if (r.length !== (to - from) * outPair) throw new GpuError({ op: 'bfv multiply + relinearize', kind: 'internal', message: `kernel worker answered ${r.length} words for ${to - from} pairs` })
        out.set(r, from * outPair)
      })
      return out
    },
    bfvFits(spec) {
      const k = spec.q.length
      return 2 * k * k * spec.n <= maxWords && 4 * k * spec.n <= maxWords
    },
    async releaseBfvKeys(keys) {
      await ask({ _tag: 'KernelBfvKeysRelease', keys: keys.id })
    },
    pointwise(op, a, b, n, primes) {
      if (a.length !== b.length) throw new InvalidInput({ op: 'pointwise', reason: 'length_mismatch', message: `operands of ${a.length} and ${b.length} words` })
      return batched(a.length, n, primes, async (from, to) =>
        words(await ask({ _tag: 'KernelPointwise', op, n, primes: [...primes], a: bytesOf(a.subarray(from, to)), b: bytesOf(b.subarray(from, to)) }), `pointwise ${op}`))
    },
  }
}
