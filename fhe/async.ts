/**
 * The asynchronous seam for GPU polynomial arithmetic, and the ciphertext operations that use it.
 *
 * WebGPU is asynchronous (buffer readback is `mapAsync`), so a GPU cannot implement the synchronous `PolyBackend`
 * directly. `AsyncPolyBackend` is the same contract with promises and batch-first methods: every NTT and pointwise
 * product of one operation is submitted as a single batch (one dispatch per stage on a GPU — a single N = 4096 NTT
 * is dispatch-bound, REFERENCES.md). `kernelPolyBackend` implements it over `basedai/kernels`' `KernelService`
 * (WebGPU when an adapter exists, its TypeScript reference otherwise); `asyncPolyBackend` lifts any synchronous
 * backend. `multiplyAsync`, `relinearizeAsync` and `evaluateLinearAsync` produce bit-identical results to their
 * synchronous versions (the tests compare the ciphertexts word for word). A backend with `mulRelinMany` (a
 * `KernelService`'s `bfvMulRelin`) runs `multiplyRelinManyAsync` resident on the device: every step of a batch of
 * products — exact lift, NTTs, tensor, exact t/Q scaling, relinearization — in one submission per level, the
 * operands uploaded once and the results read back once. Without it, the NTT and pointwise batches go to the backend
 * and the RNS base conversions and the t/Q scaling run on the CPU (rns.ts) between them.
 */
import type { FheContext } from './context.ts'
import { liftCoefficients, multiplyOperands, relinDigit, relinearizeOperand, scaleToQ } from './evaluate.ts'
import { linearSteps, type PreparedLinear } from './linear.ts'
import { limbsOf, prefixBase, zeroPoly, type PolyBackend, type RnsBase, type RnsPoly } from './poly.ts'
import type { Ciphertext, RelinKeys } from './types.ts'
import { InvalidOperand } from './errors.ts'
import { checkParamsId } from './validate.ts'
import { BFV_MAX_PRIMES, type BfvMulSpec } from '../kernels/rns/bfv.ts'

export interface AsyncPolyBackend {
  readonly name: string
  /** In-place forward NTT of every limb of every polynomial, as one batch. */
  forwardMany(polys: readonly RnsPoly[], base: RnsBase): Promise<void>
  /** In-place inverse NTT of every limb of every polynomial, as one batch. */
  inverseMany(polys: readonly RnsPoly[], base: RnsBase): Promise<void>
  /** outs[i] = a[i] ⊙ b[i] (NTT form), as one batch. */
  mulMany(a: readonly RnsPoly[], b: readonly RnsPoly[], outs: readonly RnsPoly[], base: RnsBase): Promise<void>
  /**
   * Optional: B multiply + relinearize products of one level resident on the device. `ops` holds B × [a0 a1 b0 b1]
   * × k limbs (coefficient form); the result B × [c0 c1] × k limbs (basedai/kernels' `bfvMulRelin` layouts). The
   * backend uploads each `rlk`'s keys for a level once and keeps them.
   */
  readonly mulRelinMany?: (spec: BfvMulSpec, ops: Uint32Array, rlk: RelinKeys) => Promise<Uint32Array>
  /**
   * Optional, with `mulRelinMany`: whether the resident path takes this level's shape (prime counts, message sizes);
   * where it says no, `multiplyRelinManyAsync` takes the six-batch path for that call.
   */
  readonly mulRelinFits?: (spec: BfvMulSpec) => boolean
}

/** Wraps a synchronous backend (the CPU reference) in the async contract. */
export function asyncPolyBackend(be: PolyBackend): AsyncPolyBackend {
  return {
    name: be.name,
    forwardMany: async (polys, base) => be.forwardMany(polys, base),
    inverseMany: async (polys, base) => be.inverseMany(polys, base),
    mulMany: async (a, b, outs, base) => {
      a.forEach((x, i) => be.mul(x, b[i] as RnsPoly, outs[i] as RnsPoly, base))
    },
  }
}

function pack(polys: readonly RnsPoly[]): Uint32Array {
  const total = polys.reduce((s, p) => s + p.data.length, 0)
  const out = new Uint32Array(total)
  let o = 0
  for (const p of polys) {
    out.set(p.data, o)
    o += p.data.length
  }
  return out
}

function unpack(data: Uint32Array, polys: readonly RnsPoly[]): void {
  let o = 0
  for (const p of polys) {
    p.data.set(data.subarray(o, o + p.data.length))
    o += p.data.length
  }
}

function checkBatch(polys: readonly RnsPoly[], base: RnsBase): void {
  for (const p of polys) {
    if (p.k !== base.moduli.length || p.n !== base.n) throw new RangeError(`batch polynomial has ${p.k} limbs, base ${base.moduli.length}`)
  }
}

/**
 * What `kernelPolyBackend` needs of the GPU kernels: batched NTTs and pointwise products over rows of n words, row r
 * reduced mod primes[r mod L]. `KernelService` (basedai/kernels, a device in this thread) has these methods, and so
 * does `kernelWorkerClient` (a kernel-worker actor reached by messages).
 */
export interface PolyKernels {
  readonly backend: string
  nttForward(data: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array>
  nttInverse(data: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array>
  pointwise(op: 'mul' | 'add' | 'sub', a: Uint32Array, b: Uint32Array, n: number, primes: readonly number[]): Promise<Uint32Array>
  /** Optional (KernelService has them): keys resident on the device, and the resident multiply + relinearize. */
  uploadBfvKeys?(n: number, q: readonly number[], keys: Uint32Array): Promise<BfvKeysRef>
  bfvMulRelin?(spec: BfvMulSpec, ops: Uint32Array, keys: BfvKeysRef): Promise<Uint32Array>
  releaseBfvKeys?(keys: BfvKeysRef): Promise<void>
  /** Optional: whether `bfvMulRelin` takes this shape (absent: every shape the kernels accept). */
  bfvFits?(spec: BfvMulSpec): boolean
}

/** A handle to keys held by the kernels (KernelService's `BfvKeysHandle`). */
export interface BfvKeysRef {
  readonly kind: 'bfv-keys'
  readonly id: number
  readonly n: number
  readonly q: readonly number[]
}

/** One level's relinearization keys as the resident kernel takes them: [b_0 … b_{k−1}, a_0 … a_{k−1}] × k limbs. */
export function packRelinKeys(rlk: RelinKeys, k: number): Uint32Array {
  const polys = [...rlk.b.slice(0, k), ...rlk.a.slice(0, k)]
  const first = polys[0]
  if (!first) return new Uint32Array(0)
  const size = k * first.n
  const out = new Uint32Array(polys.length * size)
  polys.forEach((p, i) => out.set(p.data.subarray(0, size), i * size))
  return out
}

/**
 * `basedai/kernels` as an `AsyncPolyBackend`. Polynomials are concatenated limb-major, so row r of the batch is
 * reduced mod base.moduli[r mod L] — the KernelService row convention.
 */
export function kernelPolyBackend(service: PolyKernels): AsyncPolyBackend {
  const upload = service.uploadBfvKeys?.bind(service)
  const mulRelin = service.bfvMulRelin?.bind(service)
  const keys = new WeakMap<RelinKeys, Map<string, Promise<BfvKeysRef>>>()
  // Device copies of keys whose RelinKeys object was collected are released (best effort: the service may be gone).
  const release = service.releaseBfvKeys?.bind(service)
  const gone = new FinalizationRegistry<Promise<BfvKeysRef>>((h) => {
    if (release) h.then(release).catch(() => undefined)
  })
  const resident =
    upload && mulRelin
      ? async (spec: BfvMulSpec, ops: Uint32Array, rlk: RelinKeys): Promise<Uint32Array> => {
          let perLevel = keys.get(rlk)
          if (!perLevel) {
            perLevel = new Map()
            keys.set(rlk, perLevel)
          }
          const id = `${spec.n}:${spec.q.join(',')}`
          const keysFor = (): Promise<BfvKeysRef> => {
            let h = perLevel.get(id)
            if (!h) {
              h = upload(spec.n, spec.q, packRelinKeys(rlk, spec.q.length))
              perLevel.set(id, h)
              h.catch(() => perLevel.delete(id))
              gone.register(rlk, h)
            }
            return h
          }
          try {
            return await mulRelin(spec, ops, await keysFor())
          } catch (e) {
            // The kernels lost the keys (a kernel worker restarted with a fresh device): upload them again, once.
            if (!/unknown BFV keys handle/.test(String((e as { message?: unknown })?.message ?? e))) throw e
            perLevel?.delete(id)
            return mulRelin(spec, ops, await keysFor())
          }
        }
      : undefined
  const fits = service.bfvFits?.bind(service)
  return {
    name: `kernels:${service.backend}`,
    ...(resident ? { mulRelinMany: resident } : {}),
    ...(resident && fits ? { mulRelinFits: fits } : {}),
    async forwardMany(polys, base) {
      if (polys.length === 0) return
      checkBatch(polys, base)
      unpack(await service.nttForward(pack(polys), base.n, base.moduli), polys)
    },
    async inverseMany(polys, base) {
      if (polys.length === 0) return
      checkBatch(polys, base)
      unpack(await service.nttInverse(pack(polys), base.n, base.moduli), polys)
    },
    async mulMany(a, b, outs, base) {
      if (a.length === 0) return
      checkBatch([...a, ...b, ...outs], base)
      unpack(await service.pointwise('mul', pack(a), pack(b), base.n, base.moduli), outs)
    },
  }
}

function addInto(acc: RnsPoly, x: RnsPoly, base: RnsBase): void {
  const n = base.n
  for (let i = 0; i < acc.k; i++) {
    const q = base.moduli[i] as number
    for (let j = i * n; j < (i + 1) * n; j++) {
      const s = (acc.data[j] as number) + (x.data[j] as number)
      acc.data[j] = s >= q ? s - q : s
    }
  }
}

/** Runs `f` on each group of items sharing a level, putting each result back at its item's position. */
async function byLevel<T, R>(items: readonly T[], levelOf: (t: T) => number, f: (group: readonly T[], level: number) => Promise<R[]>): Promise<R[]> {
  const groups = new Map<number, number[]>()
  items.forEach((t, i) => {
    const l = levelOf(t)
    const g = groups.get(l)
    if (g) g.push(i)
    else groups.set(l, [i])
  })
  const out = new Array<R>(items.length)
  for (const [level, idx] of groups) {
    const rs = await f(idx.map((i) => items[i] as T), level)
    idx.forEach((i, j) => (out[i] = rs[j] as R))
  }
  return out
}

/**
 * Many `multiply`s (size-2 × size-2 → size 3) at once: the lifted operands of every pair are transformed in one
 * batch, every tensor product is one batch, the inverse transforms one batch (per level present), so a GPU backend
 * gets three submissions for any number of products. The exact lift and the t/Q scaling run on the CPU.
 */
export async function multiplyManyAsync(ctx: FheContext, pairs: ReadonlyArray<readonly [Ciphertext, Ciphertext]>, abe: AsyncPolyBackend): Promise<Ciphertext[]> {
  const ops = pairs.map(([a, b]) => multiplyOperands(ctx, a, b))
  return byLevel(ops, ([a]) => a.level, async (group, k) => {
    const n = ctx.n
    const qp = ctx.mulData(k).qpBase
    const lifted = group.flatMap(([a, b]) => [...a.polys, ...b.polys].map((p) => liftCoefficients(ctx, p, k)))
    await abe.forwardMany(lifted, qp)
    const prods = lifted.map(() => zeroPoly(n, qp.moduli.length))
    const left: RnsPoly[] = []
    const right: RnsPoly[] = []
    for (let g = 0; g < group.length; g++) {
      const [x0, x1, y0, y1] = lifted.slice(4 * g, 4 * g + 4) as [RnsPoly, RnsPoly, RnsPoly, RnsPoly]
      left.push(x0, x0, x1, x1)
      right.push(y0, y1, y0, y1)
    }
    await abe.mulMany(left, right, prods, qp)
    const tensors = group.map((_, g) => {
      const [d0, d1, d1b, d2] = prods.slice(4 * g, 4 * g + 4) as [RnsPoly, RnsPoly, RnsPoly, RnsPoly]
      addInto(d1, d1b, qp)
      return [d0, d1, d2]
    })
    await abe.inverseMany(tensors.flat(), qp)
    return tensors.map((ds) => ({ paramsId: ctx.paramsId, level: k, polys: scaleToQ(ctx, ds, k) }))
  })
}

/** `multiply` with every NTT and tensor product batched on `abe`. */
export async function multiplyAsync(ctx: FheContext, a: Ciphertext, b: Ciphertext, abe: AsyncPolyBackend): Promise<Ciphertext> {
  return (await multiplyManyAsync(ctx, [[a, b]], abe))[0] as Ciphertext
}

/**
 * Many `relinearize`s at once: the digit transforms of every ciphertext are one batch, the key products one batch,
 * the inverse transforms one batch (per level present).
 */
export async function relinearizeManyAsync(ctx: FheContext, cts: readonly Ciphertext[], rlk: RelinKeys, abe: AsyncPolyBackend): Promise<Ciphertext[]> {
  const ops = cts.map((c) => relinearizeOperand(ctx, c, rlk))
  return byLevel(ops, (a) => a.level, async (group, k) => {
    const n = ctx.n
    const base = prefixBase(ctx.base, k)
    const digits = group.flatMap((a) =>
      Array.from({ length: k }, (_, i) => {
        const d = zeroPoly(n, k)
        relinDigit(ctx, a.polys[2] as RnsPoly, i, base, d)
        return d
      }))
    await abe.forwardMany(digits, base)
    const keysB = digits.map((_, j) => limbsOf(rlk.b[j % k] as RnsPoly, k))
    const keysA = digits.map((_, j) => limbsOf(rlk.a[j % k] as RnsPoly, k))
    const prods = digits.map(() => zeroPoly(n, k)).concat(digits.map(() => zeroPoly(n, k)))
    await abe.mulMany([...digits, ...digits], [...keysB, ...keysA], prods, base)
    const D = digits.length
    const accs = group.map((_, g) => {
      const acc0 = zeroPoly(n, k)
      const acc1 = zeroPoly(n, k)
      for (let i = 0; i < k; i++) {
        addInto(acc0, prods[g * k + i] as RnsPoly, base)
        addInto(acc1, prods[D + g * k + i] as RnsPoly, base)
      }
      return [acc0, acc1] as const
    })
    await abe.inverseMany(accs.flat(), base)
    return group.map((a, g) => {
      const [acc0, acc1] = accs[g] as readonly [RnsPoly, RnsPoly]
      addInto(acc0, a.polys[0] as RnsPoly, base)
      addInto(acc1, a.polys[1] as RnsPoly, base)
      return { paramsId: ctx.paramsId, level: k, polys: [acc0, acc1] }
    })
  })
}

/** `relinearize` with the digit NTTs, key products and inverse NTTs batched on `abe`. */
export async function relinearizeAsync(ctx: FheContext, a: Ciphertext, rlk: RelinKeys, abe: AsyncPolyBackend): Promise<Ciphertext> {
  return (await relinearizeManyAsync(ctx, [a], rlk, abe))[0] as Ciphertext
}

/** multiplyAsync then relinearizeAsync. */
export async function multiplyRelinAsync(ctx: FheContext, a: Ciphertext, b: Ciphertext, rlk: RelinKeys, abe: AsyncPolyBackend): Promise<Ciphertext> {
  return relinearizeAsync(ctx, await multiplyAsync(ctx, a, b, abe), rlk, abe)
}

/**
 * Many multiply + relinearize at once. On a backend with `mulRelinMany`: one resident call (one device submission)
 * per level present, whatever the count. Otherwise six batches in all, with the lift and the scaling on the CPU.
 */
export async function multiplyRelinManyAsync(
  ctx: FheContext, pairs: ReadonlyArray<readonly [Ciphertext, Ciphertext]>, rlk: RelinKeys, abe: AsyncPolyBackend,
): Promise<Ciphertext[]> {
  if (abe.mulRelinMany && pairs.every(([a, b]) => residentFits(ctx, abe, Math.min(a.level, b.level)))) {
    return multiplyRelinResident(ctx, pairs, rlk, abe.mulRelinMany)
  }
  return relinearizeManyAsync(ctx, await multiplyManyAsync(ctx, pairs, abe), rlk, abe)
}

/** Whether the resident kernels take level k: at most BFV_MAX_PRIMES primes in Q and in P, and the backend's own limits. */
function residentFits(ctx: FheContext, abe: AsyncPolyBackend, k: number): boolean {
  if (k < 1 || k > ctx.levels) return true // multiplyOperands gives the typed error
  const spec = mulSpec(ctx, k)
  if (spec.q.length > BFV_MAX_PRIMES || spec.p.length > BFV_MAX_PRIMES) return false
  return abe.mulRelinFits?.(spec) ?? true
}

/** The parameters of the multiply at level k, as the resident kernels take them. */
export function mulSpec(ctx: FheContext, k: number): BfvMulSpec {
  return { n: ctx.n, q: ctx.base.moduli.slice(0, k), p: ctx.mulData(k).pBase.moduli, t: ctx.t }
}

async function multiplyRelinResident(
  ctx: FheContext,
  pairs: ReadonlyArray<readonly [Ciphertext, Ciphertext]>,
  rlk: RelinKeys,
  run: NonNullable<AsyncPolyBackend['mulRelinMany']>,
): Promise<Ciphertext[]> {
  const ops = pairs.map(([a, b]) => multiplyOperands(ctx, a, b))
  checkParamsId(ctx, rlk.paramsId)
  if (rlk.b.length !== ctx.levels || rlk.a.length !== ctx.levels) {
    throw new InvalidOperand({ reason: 'missing_key', message: 'relinearization keys incomplete' })
  }
  return byLevel(ops, ([a]) => a.level, async (group, k) => {
    const n = ctx.n
    const size = k * n
    const buf = new Uint32Array(group.length * 4 * size)
    group.forEach(([a, b], g) => [...a.polys, ...b.polys].forEach((p, j) => buf.set(p.data.subarray(0, size), (4 * g + j) * size)))
    const out = await run(mulSpec(ctx, k), buf, rlk)
    return group.map((_, g): Ciphertext => ({
      paramsId: ctx.paramsId,
      level: k,
      polys: [0, 1].map((h) => ({ n, k, data: out.slice((2 * g + h) * size, (2 * g + h + 1) * size) })),
    }))
  })
}

/**
 * `evaluateLinearFull` with the NTTs of all inputs and results as one batch each on `abe` (the multiply-accumulates
 * against the prepared weights stay on the CPU backend, which has the Shoup quotients).
 */
export async function evaluateLinearFullAsync(
  ctx: FheContext,
  prepared: PreparedLinear,
  inputs: readonly Ciphertext[],
  abe: AsyncPolyBackend,
): Promise<Ciphertext[]> {
  const steps = linearSteps(ctx, prepared, inputs)
  await abe.forwardMany(steps.toTransform, ctx.base)
  const results = steps.accumulate()
  await abe.inverseMany(results.flatMap((c) => c.polys as RnsPoly[]), ctx.base)
  return steps.finish(results)
}
