/**
 * The GPU kernel worker: an actor behaviour that owns one `KernelService` (one Dawn device) in its thread. Run it
 * with `placement: 'worker'` under a supervisor; a device loss or a crash makes its handler throw, the actor
 * crashes, and the supervisor restarts it with a fresh device (init acquires a new one).
 *
 * It answers the basic requests (Ping, Echo, GetStatus with backend/adapter detail, Probe, GetProbeReport) and the
 * kernel requests of the protocol (protocol/kernel-messages.ts: KernelNtt, KernelMatmul, KernelAttention, …), which
 * `handleKernelRequest` serves. Bad input to a kernel (wrong sizes, bad NTT parameters) is answered with a typed
 * HandlerError and the worker keeps running; a device loss crashes it so its supervisor restarts it.
 *
 * @example
 * ```ts
 * const system = await ActorSystem.start({ kind: 'supervisor', id: 'miner-1', children: [
 *   { kind: 'actor', id: 'gpu', placement: 'worker', behaviour: { module: new URL('./kernel-worker.ts', import.meta.url).href } },
 * ] })
 * (await system.ref('/miner-1/gpu').ask({ _tag: 'GetStatus' })).detail.adapter // "mesa … llvmpipe …"
 * ```
 */
import { BASIC_TAGS, basicBehaviour, type BasicState } from './basic.ts'
import { continueWith, failWith, type Behaviour, type HandleResult } from '../supervisor/types.ts'
import { toProtocolError } from '../supervisor/ref.ts'
import { KERNEL_REQUEST_TAGS, KernelRequest, type Message } from '../protocol/index.ts'
import { Schema } from 'effect'
import { GpuError } from '../kernels/errors.ts'
import { handleKernelRequest } from '../kernels/requests.ts'
import { KernelService, type KvCacheHandle } from '../kernels/service.ts'

const isKernelRequest = Schema.is(KernelRequest)

export { handleKernelRequest } from '../kernels/requests.ts'

export interface KernelWorkerState {
  readonly svc: KernelService
  readonly basic: BasicState
  readonly caches: Map<number, KvCacheHandle>
}

/** The kernel-worker behaviour (default export is a factory, as the actor runtime loads it). */
export function kernelWorkerBehaviour(): Behaviour<KernelWorkerState> {
  const basic = basicBehaviour('kernel-worker')
  return {
    accepts: [...BASIC_TAGS, ...KERNEL_REQUEST_TAGS],
    async init(ctx): Promise<KernelWorkerState> {
      const allowFallback = ctx.args.allowFallback !== false
      const svc = await KernelService.create({ allowFallback })
      return { svc, basic: await basic.init(ctx), caches: new Map() }
    },
    async handle(state, msg: Message, ctx): Promise<HandleResult<KernelWorkerState>> {
      if (state.svc.rt?.isLost) throw new Error('GPU device lost; restarting the kernel worker')
      if (isKernelRequest(msg)) {
        try {
          return continueWith(state, await handleKernelRequest(state.svc, msg, state.caches))
        } catch (e) {
          // A device error crashes the worker (restart with a fresh device); bad input is the caller's error.
          if (e instanceof GpuError) throw e
          return failWith(state, toProtocolError(ctx.address, e))
        }
      }
      const r = await basic.handle(state.basic, msg, ctx)
      if (msg._tag === 'GetStatus' && r._tag === 'Continue' && r.reply?._tag === 'StatusReply') {
        const reply = r.reply
        return continueWith(state, {
          ...reply,
          detail: {
            ...reply.detail,
            backend: state.svc.backend,
            adapter: state.svc.label,
            slow: state.svc.slow,
            software: state.svc.adapter?.software === true,
            kvCaches: state.caches.size,
          },
        })
      }
      if (r._tag === 'Continue') return r.reply === undefined ? continueWith(state) : continueWith(state, r.reply)
      return { ...r, state }
    },
    terminate(state): void {
      state.svc.destroy()
    },
  }
}

export default kernelWorkerBehaviour
