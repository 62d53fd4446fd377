/**
 * The GPU kernel worker: an actor behaviour that owns one `KernelService` (one Dawn device) in its thread. Run it
 * with `placement: 'worker'` under a supervisor; a device loss or a crash makes its handler throw, the actor
 * crashes, and the supervisor restarts it with a fresh device (init acquires a new one).
 *
 * It answers the basic requests (actors/basic.ts) and the kernel requests of the protocol
 * (protocol/kernel-messages.ts: KernelNtt, KernelMatmul, KernelAttention, …), which `handleKernelRequest` serves; its
 * status (answered by the runtime) adds backend, adapter, slow, software and kvCaches. Bad input to a kernel (wrong
 * sizes, bad NTT parameters) is answered with a typed `KernelRejection` (reason: the kernels/errors.ts tag, e.g.
 * InvalidInput) and the worker keeps running; a device loss crashes it so its supervisor restarts it.
 *
 * Args (`KernelWorkerArgs`): `allowFallback` (default true) — whether a machine without a GPU adapter serves the
 * requests on the CPU reference instead of failing init with GpuUnavailable.
 *
 * @example
 * ```ts
 * const system = await ActorSystem.start({ kind: 'supervisor', id: 'miner-1', children: [
 *   kernelWorkerRole.create('gpu', { allowFallback: false }, { placement: 'worker' }),
 * ] })
 * (await system.ref('/miner-1/gpu').ask({ _tag: 'GetStatus' })).detail.adapter // "mesa … llvmpipe …"
 * ```
 */
import { Schema } from 'effect'
import { answerBasic, basicState, BASIC_TAGS, type BasicState } from './basic.ts'
import { continueWith, defineRole, failWith, type Behaviour, type HandleResult } from '../supervisor/runtime.ts'
import { toProtocolError } from '../supervisor/ref.ts'
import { KERNEL_REQUEST_TAGS, KernelRequest, type Message } from '../protocol/index.ts'
import { GpuError } from '../kernels/errors.ts'
import { handleKernelRequest } from '../kernels/requests.ts'
import { KernelService, type BfvKeysHandle, type KvCacheHandle } from '../kernels/service.ts'

const isKernelRequest = Schema.is(KernelRequest)

export { handleKernelRequest } from '../kernels/requests.ts'

/** Start arguments of a kernel worker (defaults here and nowhere else). */
export const KernelWorkerArgs = Schema.Struct({
  /** Serve on the CPU reference when no GPU adapter is found (false: init fails with GpuUnavailable). */
  allowFallback: Schema.optionalWith(Schema.Boolean, { default: () => true }),
})
export type KernelWorkerArgs = typeof KernelWorkerArgs.Type

export const kernelWorkerRole = defineRole('kernel-worker', import.meta.url, KernelWorkerArgs)

export interface KernelWorkerState {
  readonly svc: KernelService
  readonly basic: BasicState
  readonly caches: Map<number, KvCacheHandle>
  /** One level's BFV relinearization keys uploaded by clients (KernelBfvKeys), by handle id. */
  readonly bfvKeys: Map<number, BfvKeysHandle>
}

/** The kernel-worker behaviour (default export is a factory, as the actor runtime loads it). */
export function kernelWorkerBehaviour(): Behaviour<KernelWorkerState> {
  return {
    accepts: [...BASIC_TAGS, ...KERNEL_REQUEST_TAGS],
    async init(ctx): Promise<KernelWorkerState> {
      const args = kernelWorkerRole.args(ctx.args)
      const svc = await KernelService.create({ allowFallback: args.allowFallback })
      return { svc, basic: basicState(), caches: new Map(), bfvKeys: new Map() }
    },
    status: (state) => ({
      backend: state.svc.backend,
      adapter: state.svc.label,
      slow: state.svc.slow,
      software: state.svc.adapter?.software === true,
      kvCaches: state.caches.size,
      bfvKeys: state.bfvKeys.size,
    }),
    async handle(state, msg: Message, ctx): Promise<HandleResult<KernelWorkerState>> {
      if (state.svc.rt?.isLost) throw new Error('GPU device lost; restarting the kernel worker')
      if (!isKernelRequest(msg)) return continueWith(state, answerBasic(state.basic, msg, ctx))
      try {
        return continueWith(state, await handleKernelRequest(state.svc, msg, state.caches, state.bfvKeys))
      } catch (e) {
        // A device error crashes the worker (restart with a fresh device); bad input is the caller's error.
        if (e instanceof GpuError) throw e
        return failWith(state, toProtocolError(ctx.address, e))
      }
    },
    terminate(state): void {
      state.svc.destroy()
    },
  }
}

export default kernelWorkerBehaviour
