/**
 * `npm run bench -- kernels`: NTT throughput (polynomials/s) at N = 4096, 8192, 16384 on WebGPU (end to end:
 * upload + transform + readback, and device-resident: transform only) and on the TypeScript reference, beside
 * node-seal's BFV ciphertext → NTT transform in the same run; int8 matrix product GOP/s; attention latency for a
 * 2-layer model's shapes. Every result names the adapter.
 */
import SEAL from 'node-seal'
import { fmt, timeIt, type BenchContext, type BenchSection, type Cell } from './harness.ts'
import { KernelService } from '../kernels/service.ts'
import { NttKernels } from '../kernels/ntt/gpu.ts'
import { forwardNttUnchecked, makeNttTables } from '../kernels/ntt/reference.ts'
import { matmulInt8Reference } from '../kernels/matmul/reference.ts'
import { AttentionReference, type AttentionStep } from '../kernels/attention/reference.ts'
import { mulberry32 } from '../numeric/prng.ts'
import { makeRnsBase, type PolyBackend } from '../fhe/poly.ts'
import { wasmScalarBackend, wasmSimdBackend } from '../fhe/wasm/load.ts'

const PRIMES = [2147352577, 2146959361, 2146041857, 2144468993]

const rng = mulberry32

function batch(n: number, rows: number, primes: readonly number[], next: () => number): Uint32Array {
  const a = new Uint32Array(rows * n)
  for (let r = 0; r < rows; r++) {
    const q = primes[r % primes.length] as number
    for (let i = 0; i < n; i++) a[r * n + i] = Math.floor(next() * q)
  }
  return a
}

/** CPU time (user + system, all threads of this process — lavapipe's included) per call of `fn`, in µs. */
async function cpuPerCall(fn: () => unknown, minMs: number): Promise<number> {
  await fn()
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  let calls = 0
  while (calls < 3 || performance.now() - t0 < minMs) {
    await fn()
    calls++
  }
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / calls
}

interface SealNtt {
  readonly polys: number
  readonly primes: number
  readonly bits: string
  readonly ms: number
  readonly cpuUs: number
}

/** node-seal 7: time Evaluator.cipherTransformToNtt on a fresh BFV encryption (size-2 ciphertext). */
async function sealNtt(n: number, minMs: number): Promise<SealNtt> {
  const seal = await SEAL()
  const parms = new seal.EncryptionParameters(seal.SchemeType.bfv)
  parms.setPolyModulusDegree(n)
  const cm = seal.CoeffModulus.BFVDefault(n, seal.SecLevelType.tc128)
  parms.setCoeffModulus(cm)
  parms.setPlainModulus(seal.PlainModulus.Batching(n, 20))
  const ctx = new seal.SEALContext(parms, true, seal.SecLevelType.tc128)
  const kg = new seal.KeyGenerator(ctx)
  const pk = kg.createPublicKey()
  const enc = new seal.Encryptor(ctx, pk)
  const ev = new seal.Evaluator(ctx)
  const pt = new seal.Plaintext(n)
  const ct = new seal.Ciphertext(ctx)
  enc.encrypt(pt, ct)
  const out = new seal.Ciphertext(ctx)
  const ms = await timeIt(() => ev.cipherTransformToNtt(ct, out), { minMs })
  const cpuUs = await cpuPerCall(() => ev.cipherTransformToNtt(ct, out), minMs)
  if (!out.isNttForm()) throw new Error('node-seal: output is not in NTT form')
  const primes = ct.coeffModulusSize()
  const bits: number[] = []
  for (let i = 0; i < cm.size(); i++) bits.push(cm.get(i)?.bitCount() ?? 0)
  const res = { polys: ct.size() * primes, primes, bits: bits.slice(0, primes).join('+'), ms, cpuUs }
  for (const o of [out, ct, pt, ev, enc, pk, kg, ctx, parms]) o.delete()
  return res
}

export async function bench(ctx: BenchContext): Promise<BenchSection> {
  const minMs = ctx.quick ? 150 : 600
  const svc = await KernelService.create()
  const device = `${svc.label}${svc.slow ? ' — no GPU: the WebGPU rows ran on the TypeScript reference' : ''}`
  const rows: Array<Record<string, Cell>> = []
  const notes: string[] = [`Adapter: ${device}.`]
  const next = rng(1)
  try {
    // ---- NTT -------------------------------------------------------------------------------------------------
    for (const n of [4096, 8192, 16384]) {
      ctx.progress(`NTT n=${n}`)
      const L = 2
      const primes = PRIMES.slice(0, L)
      const B = ctx.quick ? 4 : Math.max(4, 65536 / n) // polynomials per batch → B·L rows
      const R = B * L
      const data = batch(n, R, primes, next)
      const e2e = await timeIt(() => svc.nttForward(data, n, primes), { minMs })
      let resident = NaN
      let residentCpu = NaN
      const rt = svc.rt
      if (rt) {
        const k = new NttKernels(rt)
        const plan = k.plan(n, primes)
        const buf = rt.storage(data.byteLength, 'bench_ntt', data)
        const once = async (): Promise<void> => {
          const enc = rt.device.createCommandEncoder()
          const pass = enc.beginComputePass()
          const ub = k.encodeTransform(pass, 'forward', plan, buf, R)
          pass.end()
          rt.device.queue.submit([enc.finish()])
          await rt.device.queue.onSubmittedWorkDone()
          rt.release(ub)
        }
        resident = await timeIt(once, { minMs })
        if (rt.adapter.software) residentCpu = (await cpuPerCall(once, minMs)) / R
        rt.release(buf)
      }
      const tables = primes.map((q) => makeNttTables(n, q))
      const work = data.slice()
      const refRows = Math.min(R, 8)
      const ref = await timeIt(
        () => {
          for (let r = 0; r < refRows; r++) forwardNttUnchecked(work, r * n, tables[r % L] as ReturnType<typeof makeNttTables>)
        },
        { minMs },
      )
      const refCpu = (await cpuPerCall(() => forwardNttUnchecked(work, 0, tables[0] as ReturnType<typeof makeNttTables>), minMs)) / 1
      // The WebAssembly backends, as the scheme calls them (one polynomial of one prime, copied in and out).
      const wasmRate = async (be: PolyBackend | undefined): Promise<number> => {
        if (!be) return NaN
        const base = makeRnsBase(n, [primes[0] as number])
        const p = { n, k: 1, data: data.slice(0, n) }
        const reps = Math.max(1, Math.round(16384 / n))
        const ms = await timeIt(() => {
          for (let r = 0; r < reps; r++) be.forwardMany([p], base)
        }, { minMs })
        return (reps / ms) * 1000
      }
      const scalarRate = await wasmRate(wasmScalarBackend)
      const simdRate = await wasmRate(wasmSimdBackend)
      ctx.progress(`node-seal n=${n}`)
      let sealRate = NaN
      let sealNote = ''
      let sealCpu = NaN
      try {
        const s = await sealNtt(n, minMs)
        sealRate = (s.polys / s.ms) * 1000
        sealCpu = s.cpuUs / s.polys
        sealNote = `${s.ms.toFixed(3)} ms per ciphertext (${s.polys} polys: 2 × ${s.primes} primes of ${s.bits} bits)`
      } catch (e) {
        sealNote = `node-seal failed: ${e instanceof Error ? e.message : String(e)}`
      }
      const gpuRate = (R / e2e) * 1000
      const resRate = Number.isNaN(resident) ? NaN : (R / resident) * 1000
      rows.push({
        kernel: `NTT forward n=${n}`,
        batch: `${B} polys × ${L} primes`,
        'WebGPU e2e': `${fmt(gpuRate)} polys/s`,
        'WebGPU resident': Number.isNaN(resRate) ? 'n/a' : `${fmt(resRate)} polys/s`,
        'TS reference': `${fmt((refRows / ref) * 1000)} polys/s`,
        'wasm scalar': `${fmt(scalarRate)} polys/s`,
        'wasm SIMD': `${fmt(simdRate)} polys/s (${fmt(1e6 / simdRate)} µs)`,
        'node-seal': Number.isNaN(sealRate) ? 'n/a' : `${fmt(sealRate)} polys/s (${fmt(1e6 / sealRate)} µs)`,
        'wasm SIMD / node-seal': Number.isNaN(sealRate) ? 'n/a' : `${fmt(simdRate / sealRate)}× (scalar ${fmt(scalarRate / sealRate)}×, TS ${fmt((refRows / ref) * 1000 / sealRate)}×)`,
        'WebGPU / node-seal': Number.isNaN(sealRate) ? 'n/a' : `${fmt(gpuRate / sealRate)}× (resident ${fmt(resRate / sealRate)}×)`,
      })
      notes.push(`n=${n}: node-seal BFV Evaluator.cipherTransformToNtt, ${sealNote}; ours: 31-bit primes, e2e includes upload and readback.`)
      if (!Number.isNaN(residentCpu)) {
        notes.push(
          `n=${n}, CPU time per polynomial NTT, all threads of this process (lavapipe computes on the CPU; its threads may also spin while descheduled peers finish, so under load this overstates it): ` +
            `WebGPU/lavapipe ${fmt(residentCpu)} µs, TS reference ${fmt(refCpu)} µs, node-seal ${fmt(sealCpu)} µs (lavapipe / node-seal = ${fmt(residentCpu / sealCpu)}).`,
        )
      }
    }

    // ---- int8 matmul --------------------------------------------------------------------------------------------
    for (const [m, nOut, k] of [
      [1, 3072, 768],
      [64, 768, 768],
    ] as const) {
      ctx.progress(`matmul ${m}×${nOut}×${k}`)
      const w = {
        w: Int8Array.from({ length: nOut * k }, () => Math.floor(next() * 256) - 128),
        wScale: new Float32Array(nOut).fill(0.01),
        n: nOut,
        k,
      }
      const x = { a: Int8Array.from({ length: m * k }, () => Math.floor(next() * 256) - 128), aScale: new Float32Array(m).fill(0.02), m, k }
      const h = await svc.uploadWeights(w)
      const t = await timeIt(() => svc.matmulInt8(x, h), { minMs })
      const tr = await timeIt(() => matmulInt8Reference(x, w), { minMs, minRuns: 2 })
      await svc.releaseWeights(h)
      const ops = 2 * m * nOut * k
      rows.push({
        kernel: `int8 ${m === 1 ? 'GEMV' : 'GEMM'} ${m}×${k} · ${k}×${nOut}`,
        batch: 'weights resident',
        'WebGPU e2e': `${fmt(ops / t / 1e6)} GOP/s (${fmt(t)} ms)`,
        'WebGPU resident': '',
        'TS reference': `${fmt(ops / tr / 1e6)} GOP/s`,
        'node-seal': '',
        'WebGPU / node-seal': '',
      })
    }

    // ---- attention, 2 layers ------------------------------------------------------------------------------------
    const H = 12
    const D = 64
    const cap = 256
    const mk = (T: number): AttentionStep => {
      const i8 = (): Int8Array => Int8Array.from({ length: T * H * D }, () => Math.floor(next() * 256) - 128)
      const sc = (): Float32Array => new Float32Array(T * H).fill(0.01)
      return { tokens: T, q: i8(), qScale: sc(), k: i8(), kScale: sc(), v: i8(), vScale: sc(), withScores: false }
    }
    for (const [label, prefill, T] of [
      ['prefill 128 tokens', 0, 128],
      ['decode 1 token at 128 cached', 128, 1],
    ] as const) {
      ctx.progress(`attention ${label}`)
      const shape = { heads: H, headDim: D, capacity: cap }
      const layers = [await svc.createKvCache(shape), await svc.createKvCache(shape)]
      const refs = [new AttentionReference(shape), new AttentionReference(shape)]
      const step = mk(T)
      if (prefill > 0) {
        const pre = mk(prefill)
        for (const c of layers) await svc.attentionStep(c, pre)
        for (const r of refs) r.step(pre)
      }
      const t = await timeIt(async () => {
        for (const c of layers) {
          await svc.truncateKvCache(c, prefill)
          await svc.attentionStep(c, step)
        }
      }, { minMs })
      const tr = await timeIt(() => {
        for (const r of refs) {
          r.truncate(prefill)
          r.step(step)
        }
      }, { minMs, minRuns: 2 })
      for (const c of layers) await svc.releaseKvCache(c)
      rows.push({
        kernel: `attention 2 layers × ${H} heads × ${D}: ${label}`,
        batch: `T=${T}`,
        'WebGPU e2e': `${fmt(t)} ms`,
        'WebGPU resident': '',
        'TS reference': `${fmt(tr)} ms`,
        'node-seal': '',
        'WebGPU / node-seal': '',
      })
    }
    notes.push(
      'Attention latency: the two layers run one after the other (one submission each: KV append + scores + softmax·V); the decode row truncates each cache back to 128 tokens before every step; includes upload of q/k/v and readback of the outputs (scores and probabilities not read back: `withScores: false`).',
      'int8 matmul: 2·M·N·K operations per product; weights uploaded once; activations uploaded and outputs (int32 + f32) read back on every call.',
      'CPU NTT rows: TS reference = kernels/ntt/reference.ts (branch-free butterflies); wasm scalar / SIMD = fhe/wasm (AssemblyScript, lazy Harvey butterflies with Shoup twiddles), timed through PolyBackend.forwardMany on one polynomial of one 31-bit prime, copy into and out of wasm memory included; node-seal = Evaluator.cipherTransformToNtt per polynomial (SEAL\'s wasm build has no SIMD). Target (issue 12): wasm SIMD ≥ 5× node-seal at n = 4096.',
      'Goal on a real GPU: ≥ 3× node-seal NTT throughput. On lavapipe (a CPU rasterizer sharing this 2-core machine with other jobs) the ratio is reported as measured.',
    )
  } finally {
    svc.destroy()
  }
  return {
    title: 'Kernels: NTT, int8 matmul, attention',
    device,
    columns: ['kernel', 'batch', 'WebGPU e2e', 'WebGPU resident', 'TS reference', 'wasm scalar', 'wasm SIMD', 'node-seal', 'wasm SIMD / node-seal', 'WebGPU / node-seal'],
    rows,
    notes,
  }
}
