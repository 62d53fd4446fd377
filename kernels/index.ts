/**
 * basedai/kernels — WGSL compute kernels run through the `webgpu` package (Dawn), each with a plain TypeScript
 * reference it is tested against bit for bit (integers) or within stated tolerances (floats):
 *
 * - FHE polynomial arithmetic: negacyclic NTT / inverse NTT for n = 2^10 … 2^16 modulo primes q < 2^31
 *   (q ≡ 1 mod 2n), batched B polynomials × L RNS primes per dispatch; pointwise mul/add/sub; polynomial products
 *   in Z_q[X]/(X^n + 1); fast RNS base conversion (BEHZ/HPS); a device-resident BFV multiply + relinearize for a
 *   batch of ciphertext pairs (`bfvMulRelin`: exact lift, NTTs, tensor, exact t/Q scale-and-round, relinearization,
 *   one submission). No 64-bit integers in WGSL: 16-bit-limb products with Shoup (twiddles) and Montgomery
 *   (pointwise) reduction; the HPS roundings in integer fixed point (rns/exact.ts).
 * - Model kernels: int8 GEMV/GEMM with int32 accumulation and per-row/per-channel scales; causal multi-head
 *   attention over an int8 KV cache with a head mask (pruned heads launch no work); the Cerberus squeeze (§5.1).
 *
 * `KernelService` is the facade: it acquires a device (logging the adapter) or, with no adapter, falls back to the
 * references and says so (`slow: true`). All its methods are async and take/return typed arrays and plain handles,
 * so it runs unchanged inside a worker thread: actors/kernel-worker.ts is the supervised kernel-worker actor (load it by
 * module path), kernels/messages.ts its message schemas, and `kernelWorkerClient(ask)` the same NTT methods served by
 * such a worker through messages (what a miner uses for BFV on an attached GPU). DEBUG_GPU=1 turns on error scopes and disables buffer reuse.
 *
 * @example
 * ```ts
 * import { KernelService, makeNttTables, polyMulNegacyclic } from 'basedai/kernels'
 * const k = await KernelService.create()           // logs "[kernels] WebGPU adapter: …" or the fallback warning
 * const f = await k.nttForward(batch, 4096, [2147352577, 2146959361]) // rows alternate between the two primes
 * const c = polyMulNegacyclic(a, b, makeNttTables(4096, 2147352577))  // CPU reference, same result
 * k.destroy()
 * ```
 */
export * from './errors.ts'
export * from './ntt/reference.ts'
export { nttByDefinitionBigInt, polyMulSchoolbookBigInt } from './ntt/slow.ts'
export * from './rns/reference.ts'
export * from './matmul/reference.ts'
export * from './attention/reference.ts'
export * from './squeeze/reference.ts'
export { KernelService, gpuSkipDecision, type KernelServiceInit, type WeightsHandle, type KvCacheHandle, type BfvKeysHandle } from './service.ts'
export { GpuRuntime, type RuntimeOptions, debugFromEnv } from './runtime.ts'
export { acquireGpu, adapterLabel, GPU_FIX, type AdapterDescription, type GpuHandle } from './device.ts'
export { NttKernels, type PointwiseOp, type RnsPlan } from './ntt/gpu.ts'
export { BaseConvKernels } from './rns/gpu.ts'
export { BfvKernels, type GpuBfvKeys } from './rns/bfv-gpu.ts'
export * from './rns/bfv.ts'
export * from './rns/exact.ts'
export { MatmulKernels, type GpuWeights, type MatmulKernel } from './matmul/gpu.ts'
export { GpuKvCache, type GpuAttentionResult } from './attention/gpu.ts'
export { SqueezeKernels } from './squeeze/gpu.ts'
export * from './dispatch.ts'
export * from './messages.ts'
export { handleKernelRequest } from './requests.ts'
export { kernelWorkerClient, type KernelAsk, type KernelWorkerClient } from './client.ts'
