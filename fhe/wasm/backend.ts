/**
 * `PolyBackend` over the WebAssembly module built from fhe/wasm/assembly/poly.ts (SIMD or scalar variant).
 *
 * The module owns one linear memory. This side lays it out: from the module's heap base, a resident region (NTT
 * twiddle tables per (n, q) and RNS constants per converter, scaler and level, each copied in once and kept), then a
 * scratch region reused by every operation (operands are copied in, transformed, copied out; `Uint32Array.set` is a
 * memcpy). Tables are always made resident before scratch is laid out, so the two never overlap. The memory grows
 * when an operation needs more; it never shrinks.
 *
 * Results are bit-identical to `cpuBackend` and to fhe/rns.ts's reference conversions (tests check this on random
 * and edge inputs): every output is the canonical residue in [0, q), and the float steps (the centred conversion's
 * v, the scaling's rounding) run the same IEEE operations in the same order as the reference.
 */
import { shoupPrecompute, type NttTables } from '../../numeric/index.ts'
import { cpuBackend, type FusedKernels, type PolyBackend, type PreparedPoly, type RnsBase, type RnsKernels, type RnsPoly } from '../poly.ts'
import type { BaseConverter, DecryptConstants, Scaler } from '../rns.ts'
import { wasmApi, type WasmMemory, type WasmModule } from './api.ts'

/** The exports of the compiled module (pointers are byte offsets into its memory). */
interface PolyExports {
  readonly memory: WasmMemory
  heapBase(): number
  forward(a: number, n: number, q: number, tw: number, tws: number): void
  inverse(a: number, n: number, q: number, tw: number, tws: number, nInv: number, nInvShoup: number): void
  add(a: number, b: number, out: number, len: number, q: number): void
  mul(a: number, b: number, out: number, len: number, q: number, qInvNeg: number, r: number, rs: number): void
  mulAcc(acc: number, a: number, b: number, len: number, q: number, qInvNeg: number, r: number, rs: number): void
  mulAccShoup(acc: number, a: number, w: number, ws: number, len: number, q: number): void
  mulScalar(a: number, out: number, len: number, q: number, c: number, cs: number): void
  shoupQuotients(w: number, ws: number, len: number, q: number): void
  reduceMod(src: number, dst: number, len: number, q: number): void
  convertCentered(...args: number[]): void
  scaleRound(...args: number[]): void
  decryptScale(...args: number[]): void
  modSwitchLast(src: number, dst: number, n: number, k: number, qm: number, inv: number, invS: number, qLast: number): void
}

/** Per-prime constants resident in wasm memory. */
interface PrimeSlot {
  readonly q: number
  readonly tw: number
  readonly tws: number
  readonly itw: number
  readonly itws: number
  readonly nInv: number
  readonly nInvShoup: number
  /** −q^−1 mod 2^32, 2^32 mod q and its Shoup quotient (Montgomery products). */
  readonly qInvNeg: number
  readonly r: number
  readonly rs: number
}

function montgomery(q: number): { qInvNeg: number; r: number; rs: number } {
  let x = q // q·q ≡ 1 mod 8; Newton steps double the correct bits.
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(q, x))
  const r = 2 ** 32 % q
  return { qInvNeg: -x >>> 0, r, rs: shoupPrecompute(r, q) }
}

const PAGE = 65536

function checkLimbs(op: string, base: RnsBase, ...ps: RnsPoly[]): void {
  const k = base.moduli.length
  for (const p of ps) {
    if (p.k !== k || p.n !== base.n || p.data.length !== k * base.n) {
      throw new RangeError(`${op}: polynomial has ${p.k} limbs of ${p.n}, base has ${k} of ${base.n}`)
    }
  }
}

/** Smallest ring degree the module handles (SIMD loops step by 4 words and by two butterfly blocks). */
const MIN_WASM_N = 16

export interface WasmPolyBackend extends PolyBackend {
  readonly rns: RnsKernels
  readonly fused: FusedKernels
  /** Bytes of wasm memory in use (resident tables + largest scratch so far). */
  memoryBytes(): number
}

/** Instantiates a compiled module (either variant) as a `PolyBackend`. */
export function createWasmPolyBackend(module: WasmModule, name: string): WasmPolyBackend {
  if (!wasmApi) throw new RangeError('this engine has no WebAssembly')
  const instance = new wasmApi.Instance(module, { env: { abort: () => { throw new Error('wasm abort') } } })
  const ex = instance.exports as unknown as PolyExports
  const mem = ex.memory
  let u32 = new Uint32Array(mem.buffer)
  let f64 = new Float64Array(mem.buffer)
  let resident = (ex.heapBase() + 15) & ~15
  let scratch = resident

  const ensure = (end: number): void => {
    if (end > mem.buffer.byteLength) {
      mem.grow(Math.ceil((end - mem.buffer.byteLength) / PAGE))
      u32 = new Uint32Array(mem.buffer)
      f64 = new Float64Array(mem.buffer)
    }
  }
  /** Resident allocation (16-byte aligned). Only between operations' scratch use: resets the scratch top. */
  const allocResident = (bytes: number): number => {
    const p = resident
    resident = (resident + bytes + 15) & ~15
    ensure(resident)
    scratch = resident
    return p
  }
  const beginScratch = (): void => {
    scratch = resident
  }
  const allocScratch = (bytes: number): number => {
    const p = scratch
    scratch = (scratch + bytes + 15) & ~15
    ensure(scratch)
    return p
  }
  const putU32 = (src: ArrayLike<number>): number => {
    const p = allocResident(src.length * 4)
    u32.set(src, p >>> 2)
    return p
  }
  const putF64 = (src: ArrayLike<number>): number => {
    const p = allocResident(src.length * 8)
    f64.set(src, p >>> 3)
    return p
  }

  const primes = new Map<string, PrimeSlot>()
  const slot = (t: NttTables): PrimeSlot => {
    const key = `${t.n}:${t.q}`
    const hit = primes.get(key)
    if (hit) return hit
    const mg = montgomery(t.q)
    const s: PrimeSlot = {
      q: t.q,
      tw: putU32(t.psiRev),
      tws: putU32(t.psiRevShoup),
      itw: putU32(t.psiInvRev),
      itws: putU32(t.psiInvRevShoup),
      nInv: t.nInv,
      nInvShoup: t.nInvShoup,
      ...mg,
    }
    primes.set(key, s)
    return s
  }
  const slotsOf = (base: RnsBase): PrimeSlot[] => base.tables.map(slot)

  const copyIn = (p: number, data: Uint32Array): void => u32.set(data, p >>> 2)
  const copyOut = (p: number, data: Uint32Array): void => data.set(u32.subarray(p >>> 2, (p >>> 2) + data.length))

  const small = (base: RnsBase): boolean => base.n < MIN_WASM_N

  /** Runs a per-limb kernel on 1–3 operands copied into scratch; the result (operand `outIdx`) is copied back. */
  const limbwise = (
    base: RnsBase,
    ins: readonly Uint32Array[],
    out: Uint32Array,
    f: (ptrs: readonly number[], s: PrimeSlot, len: number, limb: number) => void,
  ): void => {
    const slots = slotsOf(base)
    beginScratch()
    const n = base.n
    const bytes = out.length * 4
    const ptrs = ins.map((d) => {
      const p = allocScratch(bytes)
      copyIn(p, d)
      return p
    })
    for (let i = 0; i < slots.length; i++) f(ptrs.map((p) => p + i * n * 4), slots[i] as PrimeSlot, n, i)
    copyOut(ptrs[0] as number, out)
  }

  const backend: Omit<WasmPolyBackend, 'rns' | 'fused'> = {
    name,
    forwardMany(polys, base) {
      if (small(base)) return cpuBackend.forwardMany(polys, base)
      const slots = slotsOf(base)
      beginScratch()
      let size = 0
      for (const p of polys) {
        checkLimbs('forward', base, p)
        size = Math.max(size, p.data.length)
      }
      const ptr = allocScratch(size * 4)
      const n = base.n
      for (const p of polys) {
        copyIn(ptr, p.data)
        for (let i = 0; i < p.k; i++) {
          const s = slots[i] as PrimeSlot
          ex.forward(ptr + i * n * 4, n, s.q, s.tw, s.tws)
        }
        copyOut(ptr, p.data)
      }
    },
    inverseMany(polys, base) {
      if (small(base)) return cpuBackend.inverseMany(polys, base)
      const slots = slotsOf(base)
      beginScratch()
      let size = 0
      for (const p of polys) {
        checkLimbs('inverse', base, p)
        size = Math.max(size, p.data.length)
      }
      const ptr = allocScratch(size * 4)
      const n = base.n
      for (const p of polys) {
        copyIn(ptr, p.data)
        for (let i = 0; i < p.k; i++) {
          const s = slots[i] as PrimeSlot
          ex.inverse(ptr + i * n * 4, n, s.q, s.itw, s.itws, s.nInv, s.nInvShoup)
        }
        copyOut(ptr, p.data)
      }
    },
    // Additions are memory-bound: copying operands into wasm memory and back would triple the traffic, so they run
    // in JavaScript on the caller's arrays (the wasm module has them too, for the fused kernels and the tests).
    add: (a, b, out, base) => cpuBackend.add(a, b, out, base),
    sub: (a, b, out, base) => cpuBackend.sub(a, b, out, base),
    negate: (a, out, base) => cpuBackend.negate(a, out, base),
    mul(a, b, out, base) {
      checkLimbs('mul', base, a, b, out)
      if (small(base)) return cpuBackend.mul(a, b, out, base)
      limbwise(base, [a.data, b.data], out.data, ([pa, pb], s, n) =>
        ex.mul(pa as number, pb as number, pa as number, n, s.q, s.qInvNeg, s.r, s.rs),
      )
    },
    mulAcc(acc, a, b, base) {
      checkLimbs('mulAcc', base, acc, a, b)
      if (small(base)) return cpuBackend.mulAcc(acc, a, b, base)
      limbwise(base, [acc.data, a.data, b.data], acc.data, ([pc, pa, pb], s, n) =>
        ex.mulAcc(pc as number, pa as number, pb as number, n, s.q, s.qInvNeg, s.r, s.rs),
      )
    },
    prepare(w, base) {
      checkLimbs('prepare', base, w)
      if (small(base)) return cpuBackend.prepare(w, base)
      const wShoup = new Uint32Array(w.data.length)
      limbwise(base, [wShoup, w.data], wShoup, ([ps, pw], s, n) => ex.shoupQuotients(pw as number, ps as number, n, s.q))
      return { n: base.n, k: w.k, w: w.data, wShoup }
    },
    mulAccPrepared(acc, a, w: PreparedPoly, base) {
      checkLimbs('mulAccPrepared', base, acc, a)
      if (w.k !== a.k || w.n !== a.n) throw new RangeError('mulAccPrepared: prepared operand shape differs')
      if (small(base)) return cpuBackend.mulAccPrepared(acc, a, w, base)
      limbwise(base, [acc.data, a.data, w.w, w.wShoup], acc.data, ([pc, pa, pw, ps], s, n) =>
        ex.mulAccShoup(pc as number, pa as number, pw as number, ps as number, n, s.q),
      )
    },
    mulScalar(a, scalars, out, base) {
      checkLimbs('mulScalar', base, a, out)
      if (small(base)) return cpuBackend.mulScalar(a, scalars, out, base)
      limbwise(base, [a.data], out.data, ([pa], s, n, i) => {
        const c = scalars[i] as number
        ex.mulScalar(pa as number, pa as number, n, s.q, c, shoupPrecompute(c, s.q))
      })
    },
    memoryBytes: () => scratch,
  }

  // ---- RNS kernels: constants resident per converter / scaler / level (WeakMap: they live as long as the context).
  interface ConvSlot {
    k: number
    K: number
    qm: number
    qhi: number
    qhis: number
    invQ: number
    pm: number
    invP: number
    qhp: number
    qp: number
    fix: number
    L: number
  }
  const convs = new WeakMap<BaseConverter, ConvSlot>()
  const convSlot = (cv: BaseConverter): ConvSlot => {
    const hit = convs.get(cv)
    if (hit) return hit
    const s: ConvSlot = {
      k: cv.from.length,
      K: cv.to.length,
      qm: putU32(cv.from),
      qhi: putU32(cv.qhatInv),
      qhis: putU32(cv.qhatInvShoup),
      invQ: putF64(cv.invQ),
      pm: putU32(cv.to),
      invP: putF64(cv.to.map((p) => 1 / p)),
      qhp: putU32(cv.qhatModP),
      qp: putU32(cv.qModP),
      fix: putU32(cv.invQFix),
      L: cv.fixWords,
    }
    convs.set(cv, s)
    return s
  }
  interface ScaleSlot {
    k: number
    K: number
    qm: number
    yi: number
    yis: number
    theta: number
    pm: number
    invP: number
    omega: number
    tq: number
    fix: number
    L: number
  }
  const scalers = new WeakMap<Scaler, ScaleSlot>()
  const scaleSlot = (sc: Scaler): ScaleSlot => {
    const hit = scalers.get(sc)
    if (hit) return hit
    const s: ScaleSlot = {
      k: sc.q.length,
      K: sc.p.length,
      qm: putU32(sc.q),
      yi: putU32(sc.yInv),
      yis: putU32(sc.yInvShoup),
      theta: putF64(sc.theta),
      pm: putU32(sc.p),
      invP: putF64(sc.p.map((p) => 1 / p)),
      omega: putU32(sc.omega),
      tq: putU32(sc.tQinv),
      fix: putU32(sc.thetaFix),
      L: sc.fixWords,
    }
    scalers.set(sc, s)
    return s
  }
  interface DecSlot {
    qm: number
    qhi: number
    qhis: number
    hi: number
    lo: number
  }
  const decs = new WeakMap<DecryptConstants, DecSlot>()
  const decSlot = (d: DecryptConstants): DecSlot => {
    const hit = decs.get(d)
    if (hit) return hit
    const s: DecSlot = {
      qm: putU32(d.moduli),
      qhi: putU32(d.qhatInv),
      qhis: putU32(d.qhatInvShoup),
      hi: putF64(d.thetaHi),
      lo: putF64(d.thetaLo),
    }
    decs.set(d, s)
    return s
  }
  const switches = new Map<string, { qm: number; inv: number; invS: number }>()

  const rns: RnsKernels = {
    convertCentered(cv, src, dst, n) {
      const s = convSlot(cv)
      beginScratch()
      const ps = allocScratch(s.k * n * 4)
      const pd = allocScratch(s.K * n * 4)
      const y = allocScratch((Math.max(s.k, s.K) + 3) * 48)
      copyIn(ps, src.subarray(0, s.k * n))
      ex.convertCentered(ps, pd, n, s.k, s.K, s.qm, s.qhi, s.qhis, s.invQ, s.pm, s.invP, s.qhp, s.qp, y, s.fix, s.L)
      copyOut(pd, dst.subarray(0, s.K * n))
    },
    scaleRound(sc, src, dst, n) {
      const s = scaleSlot(sc)
      beginScratch()
      const ps = allocScratch((s.k + s.K) * n * 4)
      const pd = allocScratch(s.K * n * 4)
      const y = allocScratch((Math.max(s.k, s.K) + 3) * 48)
      copyIn(ps, src.subarray(0, (s.k + s.K) * n))
      ex.scaleRound(ps, pd, n, s.k, s.K, s.qm, s.yi, s.yis, s.theta, s.pm, s.invP, s.omega, s.tq, y, s.fix, s.L)
      copyOut(pd, dst.subarray(0, s.K * n))
    },
    decryptScale(d, x, n, t, indices, out) {
      const s = decSlot(d)
      const k = d.moduli.length
      beginScratch()
      const px = allocScratch(k * n * 4)
      const pi = allocScratch(indices.length * 4)
      const po = allocScratch(indices.length * 4)
      copyIn(px, x.subarray(0, k * n))
      copyIn(pi, indices)
      ex.decryptScale(px, pi, po, indices.length, n, k, t, s.qm, s.qhi, s.qhis, s.hi, s.lo)
      copyOut(po, out.subarray(0, indices.length))
    },
    modSwitchLast(src, dst, n, moduli, lastInv) {
      const k = moduli.length
      const key = moduli.join(',')
      let s = switches.get(key)
      if (!s) {
        const low = moduli.slice(0, k - 1)
        s = {
          qm: putU32(low),
          inv: putU32(lastInv),
          invS: putU32(Array.from(lastInv, (v, i) => shoupPrecompute(v, low[i] as number))),
        }
        switches.set(key, s)
      }
      beginScratch()
      const ps = allocScratch(k * n * 4)
      const pd = allocScratch((k - 1) * n * 4)
      copyIn(ps, src.subarray(0, k * n))
      ex.modSwitchLast(ps, pd, n, k, s.qm, s.inv, s.invS, moduli[k - 1] as number)
      copyOut(pd, dst.subarray(0, (k - 1) * n))
    },
    reduceMod(src, dst, q) {
      beginScratch()
      const p = allocScratch(src.length * 4)
      copyIn(p, src)
      ex.reduceMod(p, p, src.length, q)
      copyOut(p, dst.subarray(0, src.length))
    },
  }
  // ---- Fused operations: every intermediate stays in scratch memory; only inputs and results are copied.
  const fwdAt = (p: number, slots: readonly PrimeSlot[], n: number): void => {
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i] as PrimeSlot
      ex.forward(p + i * n * 4, n, s.q, s.tw, s.tws)
    }
  }
  const invAt = (p: number, slots: readonly PrimeSlot[], n: number): void => {
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i] as PrimeSlot
      ex.inverse(p + i * n * 4, n, s.q, s.itw, s.itws, s.nInv, s.nInvShoup)
    }
  }
  const fused: FusedKernels = {
    multiply(md, a, out, n) {
      const cq = convSlot(md.qToP)
      const cp = convSlot(md.pToQ)
      const sc = scaleSlot(md.scaler)
      const slots = slotsOf(md.qpBase)
      const k = cq.k
      const K = cq.K
      const kk = k + K
      const limb = n * 4
      beginScratch()
      const y = allocScratch((kk + 3) * 48)
      const lifted = a.map((src) => {
        const p = allocScratch(kk * limb)
        copyIn(p, src.subarray(0, k * n))
        ex.convertCentered(p, p + k * limb, n, k, K, cq.qm, cq.qhi, cq.qhis, cq.invQ, cq.pm, cq.invP, cq.qhp, cq.qp, y, cq.fix, cq.L)
        fwdAt(p, slots, n)
        return p
      })
      const [x0, x1, y0, y1] = lifted as [number, number, number, number]
      const d = [allocScratch(kk * limb), allocScratch(kk * limb), allocScratch(kk * limb)] as const
      for (let j = 0; j < kk; j++) {
        const s = slots[j] as PrimeSlot
        const o = j * limb
        ex.mul(x0 + o, y0 + o, d[0] + o, n, s.q, s.qInvNeg, s.r, s.rs)
        ex.mul(x0 + o, y1 + o, d[1] + o, n, s.q, s.qInvNeg, s.r, s.rs)
        ex.mulAcc(d[1] + o, x1 + o, y0 + o, n, s.q, s.qInvNeg, s.r, s.rs)
        ex.mul(x1 + o, y1 + o, d[2] + o, n, s.q, s.qInvNeg, s.r, s.rs)
      }
      const tmp = allocScratch(K * limb)
      const res = allocScratch(k * limb)
      d.forEach((p, i) => {
        invAt(p, slots, n)
        ex.scaleRound(p, tmp, n, k, K, sc.qm, sc.yi, sc.yis, sc.theta, sc.pm, sc.invP, sc.omega, sc.tq, y, sc.fix, sc.L)
        ex.convertCentered(tmp, res, n, K, k, cp.qm, cp.qhi, cp.qhis, cp.invQ, cp.pm, cp.invP, cp.qhp, cp.qp, y, cp.fix, cp.L)
        copyOut(res, (out[i] as Uint32Array).subarray(0, k * n))
      })
    },
    relinearize(base, c, keysB, keysA, out) {
      const slots = slotsOf(base)
      const n = base.n
      const k = base.moduli.length
      const size = k * n
      beginScratch()
      const acc0 = allocScratch(size * 4)
      const acc1 = allocScratch(size * 4)
      const digit = allocScratch(size * 4)
      const key = allocScratch(size * 4)
      const c2 = allocScratch(size * 4)
      u32.fill(0, acc0 >>> 2, (acc0 >>> 2) + 2 * size)
      copyIn(c2, c[2].subarray(0, size))
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) ex.reduceMod(c2 + i * n * 4, digit + j * n * 4, n, base.moduli[j] as number)
        fwdAt(digit, slots, n)
        for (const [acc, keys] of [
          [acc0, keysB],
          [acc1, keysA],
        ] as const) {
          copyIn(key, (keys[i] as Uint32Array).subarray(0, size))
          for (let j = 0; j < k; j++) {
            const s = slots[j] as PrimeSlot
            const o = j * n * 4
            ex.mulAcc(acc + o, digit + o, key + o, n, s.q, s.qInvNeg, s.r, s.rs)
          }
        }
      }
      for (const [acc, src, dst] of [
        [acc0, c[0], out[0]],
        [acc1, c[1], out[1]],
      ] as const) {
        invAt(acc, slots, n)
        copyIn(key, src.subarray(0, size))
        for (let j = 0; j < k; j++) ex.add(acc + j * n * 4, key + j * n * 4, acc + j * n * 4, n, base.moduli[j] as number)
        copyOut(acc, dst.subarray(0, size))
      }
    },
  }
  return { ...backend, rns, fused }
}
