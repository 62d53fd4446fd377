/**
 * FHE benchmark: BFV (this package) on each polynomial backend (TS reference, wasm scalar, wasm SIMD) beside node-seal
 * 7 (Microsoft SEAL 4.1 in wasm) at N = 4096 and 8192 in the same run, tfhe (TFHE-rs wasm) client-side figures, the
 * encrypted 768×768 linear layer (latency, bytes on the wire per token each way) and the shipped model's encrypted
 * forward pass on the TS reference and on the default backend; the ciphertext multiply + relinearize batched through
 * basedai/kernels, resident on the device (one submission per batch) beside the previous round-trip path; encrypted ms
 * per decoded token of the shipped model and of GPT-2 small's shape, before (TS reference) and after (wasm SIMD, and
 * the WebGPU accelerator) in one table. SEAL is run three times per N: with our data primes
 * plus one special prime (the fair comparison: same number of data primes), with exactly our primes (SEAL keeps the
 * last as its special prime, so one data prime fewer) and with its BFVDefault modulus.
 */
import SEAL from 'node-seal'
import { cpuDescription, fmt, timeIt, type BenchContext, type BenchSection, type Cell } from './harness.ts'
import { createFheContext } from '../fhe/context.ts'
import { decrypt } from '../fhe/decrypt.ts'
import { encodeIntegers } from '../fhe/encoder.ts'
import { encryptPublic, encryptSymmetric } from '../fhe/encrypt.ts'
import * as ev from '../fhe/evaluate.ts'
import { createKeyGenerator } from '../fhe/keygen.ts'
import {
  decryptLinear,
  encryptActivations,
  evaluateLinear,
  linearPlain,
  planLinear,
  prepareLinear,
  type LinearShape,
} from '../fhe/linear.ts'
import { presets } from '../fhe/presets.ts'
import { deserializeCiphertext, deserializePartial, serializeCiphertext, serializePartial } from '../fhe/serialize.ts'
import { loadTfhe } from '../fhe/tfhe.ts'
import { kernelPolyBackend, multiplyRelinAsync, multiplyRelinManyAsync, type AsyncPolyBackend } from '../fhe/async.ts'
import { KernelService } from '../kernels/service.ts'
import os from 'node:os'
import { createKvCache, forward, forwardAsync, type GptModel } from '../model/forward.ts'
import { decodeConfig } from '../model/config.ts'
import { initWeights } from '../model/weights.ts'
import { int8Linear } from '../model/int8.ts'
import { loadShippedModel } from '../model/shipped.ts'
import { encryptedInt8Linear, encryptedInt8LinearAsync, type EncryptedLinearRecord } from '../fhe/inference.ts'
import { cpuBackend, type PolyBackend } from '../fhe/poly.ts'
import { PRIMES_31 } from '../fhe/presets.ts'
import { availablePolyBackends, defaultPolyBackend, wasmScalarBackend } from '../fhe/wasm/load.ts'

const OURS = 'ours (wasm SIMD, default)'
const SEAL_SAME = 'node-seal (same data primes + special)'
const SPEEDUP = 'speed-up vs node-seal'

interface OpTimes {
  keygen: number
  encrypt: number
  encryptSk: number
  decrypt: number
  add: number
  mulPlain: number
  mulRelin: number
  ctBytes: number
  ctBytesSeeded: number
  note: string
}

async function ours(name: 'bfv4096' | 'bfv8192', minMs: number, backend: PolyBackend): Promise<OpTimes> {
  const ctx = createFheContext(presets[name], backend)
  const keygen = await timeIt(
    () => {
      const kg = createKeyGenerator(ctx)
      kg.createPublicKey()
      kg.createRelinKeys()
    },
    { minMs, minRuns: 3 },
  )
  const kg = createKeyGenerator(ctx)
  const pk = kg.createPublicKey()
  const rlk = kg.createRelinKeys()
  const vals = Array.from({ length: ctx.n }, (_, i) => (i * 31) % 1000)
  const pt = encodeIntegers(ctx, vals)
  const a = encryptPublic(ctx, pk, pt)
  const b = encryptPublic(ctx, pk, pt)
  const w = encodeIntegers(ctx, vals.map((v) => v % 7))
  return {
    keygen,
    encrypt: await timeIt(() => encryptPublic(ctx, pk, pt), { minMs }),
    encryptSk: await timeIt(() => encryptSymmetric(ctx, kg.secretKey, pt), { minMs }),
    decrypt: await timeIt(() => decrypt(ctx, kg.secretKey, a), { minMs }),
    add: await timeIt(() => ev.add(ctx, a, b), { minMs }),
    mulPlain: await timeIt(() => ev.multiplyPlain(ctx, a, w), { minMs }),
    mulRelin: await timeIt(() => ev.multiplyRelin(ctx, a, b, rlk), { minMs, minRuns: 3 }),
    ctBytes: serializeCiphertext(ctx, a).length,
    ctBytesSeeded: serializeCiphertext(ctx, encryptSymmetric(ctx, kg.secretKey, pt)).length,
    note: `${ctx.levels} × 31-bit primes (log q ${ctx.logQ.toFixed(1)}), t = ${ctx.t}`,
  }
}

type Seal = Awaited<ReturnType<typeof SEAL>>

/**
 * node-seal's operations. `primes` is SEAL's whole coefficient modulus (its last prime is the key-switching special
 * prime); `secNone` lifts SEAL's own 128-bit check, needed when the special prime comes on top of our data primes
 * (SEAL counts it against the security table, we have none).
 */
async function sealOps(
  seal: Seal,
  n: number,
  primes: readonly number[] | 'default',
  minMs: number,
  secNone = false,
): Promise<OpTimes & { rotate: number }> {
  const parms = new seal.EncryptionParameters(seal.SchemeType.bfv)
  parms.setPolyModulusDegree(n)
  const cm =
    primes === 'default'
      ? seal.CoeffModulus.BFVDefault(n, seal.SecLevelType.tc128)
      : seal.vecFromArrayModulus(primes.map((q) => new seal.Modulus(BigInt(q))))
  parms.setCoeffModulus(cm)
  parms.setPlainModulus(seal.PlainModulus.Batching(n, 20))
  const ctx = new seal.SEALContext(parms, true, secNone ? seal.SecLevelType.none : seal.SecLevelType.tc128)
  if (!ctx.parametersSet()) throw new Error(`SEAL refused parameters: ${ctx.toHuman()}`)
  const keygen = await timeIt(
    () => {
      const kg = new seal.KeyGenerator(ctx)
      kg.createPublicKey().delete()
      kg.createRelinKeys().delete()
      kg.delete()
    },
    { minMs, minRuns: 3 },
  )
  const kg = new seal.KeyGenerator(ctx)
  const pk = kg.createPublicKey()
  const rlk = kg.createRelinKeys()
  const galois = kg.createGaloisKeysWithSteps(Int32Array.of(1))
  const sk = kg.secretKey()
  const enc = new seal.Encryptor(ctx, pk, sk)
  const dec = new seal.Decryptor(ctx, sk)
  const evl = new seal.Evaluator(ctx)
  const be = new seal.BatchEncoder(ctx)
  const pt = new seal.Plaintext()
  be.encode(BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 1000)), pt)
  const a = new seal.Ciphertext(ctx)
  const b = new seal.Ciphertext(ctx)
  enc.encrypt(pt, a)
  enc.encrypt(pt, b)
  const out = new seal.Ciphertext(ctx)
  const ptOut = new seal.Plaintext()
  const res: OpTimes & { rotate: number } = {
    keygen,
    encrypt: await timeIt(() => enc.encrypt(pt, out), { minMs }),
    encryptSk: await timeIt(() => enc.encryptSymmetric(pt, out), { minMs }),
    decrypt: await timeIt(() => dec.decrypt(a, ptOut), { minMs }),
    add: await timeIt(() => evl.add(a, b, out), { minMs }),
    mulPlain: await timeIt(() => evl.multiplyPlain(a, pt, out), { minMs }),
    mulRelin: await timeIt(
      () => {
        evl.multiply(a, b, out)
        evl.relinearizeInplace(out, rlk)
      },
      { minMs, minRuns: 3 },
    ),
    rotate: await timeIt(() => evl.rotateRows(a, 1, galois, out), { minMs }),
    ctBytes: (a.saveToArray(seal.ComprModeType.none) as Uint8Array).length,
    ctBytesSeeded: (enc.encryptSymmetricSerializable(pt).saveToArray(seal.ComprModeType.none) as Uint8Array).length,
    note: `${ctx.firstContextData().totalCoeffModulusBitCount()} data bits + special prime`,
  }
  for (const o of [pk, rlk, galois, sk, enc, dec, evl, be, pt, a, b, out, ptOut, kg, ctx, parms]) o.delete()
  return res
}

async function tfheClient(minMs: number): Promise<Record<string, number>> {
  const tfhe = await loadTfhe()
  const config = tfhe.TfheConfigBuilder.default().build()
  const keygen = await timeIt(() => tfhe.TfheClientKey.generate(config).free(), { minMs, minRuns: 3 })
  const ck = tfhe.TfheClientKey.generate(config)
  const enc8 = await timeIt(() => tfhe.FheInt8.encrypt_with_client_key(-5, ck).free(), { minMs })
  const enc32 = await timeIt(() => tfhe.FheInt32.encrypt_with_client_key(-5, ck).free(), { minMs })
  const c8 = tfhe.FheInt8.encrypt_with_client_key(-5, ck)
  const c32 = tfhe.FheInt32.encrypt_with_client_key(-5, ck)
  const dec8 = await timeIt(() => c8.decrypt(ck), { minMs })
  const cpk = tfhe.TfheCompactPublicKey.new(ck)
  const buildList = () => {
    const b = tfhe.CompactCiphertextList.builder(cpk)
    for (let i = 0; i < 768; i++) b.push_i8((i % 256) - 128)
    return b.build_packed()
  }
  const list768 = await timeIt(() => buildList().free(), { minMs, minRuns: 2 })
  return {
    keygen,
    enc8,
    enc32,
    dec8,
    bytes8: c8.serialize().length,
    bytes32: c32.serialize().length,
    list768,
    listBytes768: buildList().serialize().length,
  }
}

interface LinearRun {
  shape: LinearShape
  plan: string
  prepare: number
  encrypt: number
  evaluate: number
  decrypt: number
  up: number
  down: number
  exact: boolean
  est: number
}

function linearRun(shape: LinearShape): LinearRun {
  const ctx = createFheContext(presets.bfv4096Linear)
  const kg = createKeyGenerator(ctx)
  const plan = planLinear(ctx, shape)
  const w = new Int8Array(shape.dIn * shape.dOut)
  const x = new Int8Array(shape.dIn * shape.tokens)
  for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) >>> 24) - 128
  for (let i = 0; i < x.length; i++) x[i] = ((i * 40503 + 17) >>> 3) % 256 - 128
  let t0 = performance.now()
  const prepared = prepareLinear(ctx, plan, w)
  const prepare = performance.now() - t0
  t0 = performance.now()
  const upBytes = encryptActivations(ctx, kg.secretKey, plan, x).map((c) => serializeCiphertext(ctx, c))
  const encrypt = performance.now() - t0
  t0 = performance.now()
  const downBytes = evaluateLinear(ctx, prepared, upBytes.map((b) => deserializeCiphertext(ctx, b))).map((p) => serializePartial(ctx, p))
  const evaluate = performance.now() - t0
  t0 = performance.now()
  const y = decryptLinear(ctx, kg.secretKey, plan, downBytes.map((b) => deserializePartial(ctx, b)))
  const decrypt = performance.now() - t0
  const ref = linearPlain(w, x, shape)
  return {
    shape,
    plan: `n_i=${plan.ni} m_t=${plan.mt} n_o=${plan.no}: ${plan.inputCiphertexts} up, ${plan.outputCiphertexts} down at ${plan.outputLevel} primes, ${plan.products} ct×pt products`,
    prepare,
    encrypt,
    evaluate,
    decrypt,
    up: upBytes.reduce((s, b) => s + b.length, 0),
    down: downBytes.reduce((s, b) => s + b.length, 0),
    exact: y.every((v, i) => v === ref[i]),
    est: plan.estimatedSeconds,
  }
}

const kb = (b: number): string => `${fmt(b / 1024)} KB`

/**
 * multiply + relinearize through an AsyncPolyBackend (batched NTTs and tensor products): ms per product, one product
 * per call (`count` 1) or `count` products sharing their six submissions (multiplyRelinManyAsync).
 */
async function mulRelinVia(name: 'bfv4096' | 'bfv8192', abe: AsyncPolyBackend, minMs: number, count = 1): Promise<number> {
  const ctx = createFheContext(presets[name])
  const kg = createKeyGenerator(ctx)
  const pk = kg.createPublicKey()
  const rlk = kg.createRelinKeys()
  const a = encryptPublic(ctx, pk, encodeIntegers(ctx, [1, 2, 3]))
  const b = encryptPublic(ctx, pk, encodeIntegers(ctx, [4, 5, 6]))
  if (count === 1) return timeIt(() => multiplyRelinAsync(ctx, a, b, rlk, abe), { minMs, minRuns: 3 })
  const pairs = Array.from({ length: count }, () => [a, b] as const)
  return (await timeIt(() => multiplyRelinManyAsync(ctx, pairs, rlk, abe), { minMs, minRuns: 2 })) / count
}

/**
 * ms for one decoded token (KV cache, one new token) with every dense product encrypted, on `be` (sync) or through
 * the async accelerator (`accel`, over the default CPU backend). Best of `steps` steps after a warm-up step.
 */
async function decodeStepMs(model: GptModel, prompt: readonly number[], steps: number, be: PolyBackend, accel?: AsyncPolyBackend): Promise<number> {
  const lctx = createFheContext(presets.bfv4096Linear, be)
  const secretKey = createKeyGenerator(lctx).secretKey
  const cache = createKvCache(model.config)
  const step = accel
    ? (() => {
        const linear = encryptedInt8LinearAsync({ ctx: lctx, secretKey, accelerator: accel })
        return (tokens: readonly number[]) => forwardAsync(model, tokens, { cache, linear, lastOnly: true })
      })()
    : (() => {
        const linear = encryptedInt8Linear({ ctx: lctx, secretKey })
        return async (tokens: readonly number[]) => forward(model, tokens, { cache, linear, lastOnly: true })
      })()
  await step(prompt)
  await step([1]) // prepares the 1-row plans a decoding step uses
  let best = Infinity
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now()
    await step([i % 2])
    best = Math.min(best, performance.now() - t0)
  }
  return best
}

/** The "encrypted ms per decoded token" rows: shipped model and GPT-2 small's shape, before / after / WebGPU. */
async function tokenRows(ctx: BenchContext): Promise<Array<Record<string, Cell>>> {
  const { model, tokenizer } = loadShippedModel()
  const gpt2Layer: GptModel = (() => {
    const cfg = decodeConfig({ nLayer: 1, nHead: 12, nEmbd: 768, nCtx: 1024, vocabSize: 2 })
    return { config: cfg, weights: initWeights(cfg, 1, 0.02) }
  })()
  const service = await KernelService.create({ log: () => undefined })
  const out: Array<Record<string, Cell>> = []
  try {
    const accel = kernelPolyBackend(service)
    const cases = [
      { label: `shipped model (${model.config.nLayer} layers, d = ${model.config.nEmbd})`, m: model, prompt: tokenizer.encode('The economy of'), times: 1 },
      { label: 'GPT-2 small shape (12 layers, d = 768, 12 heads, vocab 50,257; random weights; 1 layer measured × 12)', m: gpt2Layer, prompt: [1, 0, 1], times: 12 },
    ]
    for (const c of cases) {
      const steps = ctx.quick ? 1 : 3
      ctx.progress(`ms/token ${c.label}: TS reference`)
      const before = c.times * (await decodeStepMs(c.m, c.prompt, steps, cpuBackend))
      ctx.progress(`ms/token ${c.label}: wasm SIMD`)
      const after = c.times * (await decodeStepMs(c.m, c.prompt, steps, defaultPolyBackend))
      ctx.progress(`ms/token ${c.label}: WebGPU accelerator`)
      const gpu = c.times * (await decodeStepMs(c.m, c.prompt, steps, defaultPolyBackend, accel))
      out.push({
        N: 4096,
        operation: `encrypted ms per decoded token: ${c.label}`,
        'TS reference': `${fmt(before)} ms (before)`,
        [OURS]: `${fmt(after)} ms (after: ${fmt(before / after)}× faster); via ${accel.name}: ${fmt(gpu)} ms`,
      })
    }
  } finally {
    service.destroy()
  }
  return out
}

export async function bench(ctx: BenchContext): Promise<BenchSection> {
  const minMs = ctx.quick ? 150 : 600
  const rows: Array<Record<string, Cell>> = []
  const notes: string[] = []
  const seal = await SEAL()
  const rotateMs: Record<number, number> = {}
  const mulPlainMs: Record<number, number> = {}
  const mulRelinSeal: Record<number, number> = {}
  const syncMulRelin: Record<number, number> = {}
  for (const [name, n] of [
    ['bfv4096', 4096],
    ['bfv8192', 8192],
  ] as const) {
    const per = new Map<string, OpTimes>()
    for (const be of availablePolyBackends) {
      ctx.progress(`ours ${name} on ${be.name}`)
      per.set(be.name, await ours(name, ctx.quick && be === cpuBackend ? minMs / 2 : minMs, be))
    }
    const o = per.get(defaultPolyBackend.name) as OpTimes
    ctx.progress(`node-seal N=${n}, our primes + one special prime`)
    const dataPrimes = presets[name].coeffModulus
    const sd = await sealOps(seal, n, [...dataPrimes, PRIMES_31[dataPrimes.length] as number], minMs, true)
    ctx.progress(`node-seal N=${n}, our primes`)
    const s = await sealOps(seal, n, presets[name].coeffModulus, minMs)
    ctx.progress(`node-seal N=${n}, BFVDefault`)
    const d = await sealOps(seal, n, 'default', minMs)
    rotateMs[n] = s.rotate
    mulPlainMs[n] = s.mulPlain
    const ops: Array<[string, keyof OpTimes]> = [
      ['keygen (sk, pk, relin)', 'keygen'],
      ['encrypt (public key)', 'encrypt'],
      ['encrypt (secret key)', 'encryptSk'],
      ['decrypt', 'decrypt'],
      ['add', 'add'],
      ['multiply plain', 'mulPlain'],
      ['multiply + relinearize', 'mulRelin'],
    ]
    const cell = (be: PolyBackend | undefined, k: keyof OpTimes): string => {
      const v = be ? per.get(be.name)?.[k] : undefined
      return typeof v === 'number' ? `${fmt(v)} ms` : 'n/a'
    }
    for (const [label, k] of ops) {
      const ov = o[k] as number
      const sdv = sd[k] as number
      const sv = s[k] as number
      const dv = d[k] as number
      rows.push({
        N: n,
        operation: label,
        'TS reference': cell(cpuBackend, k),
        'wasm scalar': cell(wasmScalarBackend, k),
        [OURS]: `${fmt(ov)} ms`,
        [SEAL_SAME]: `${fmt(sdv)} ms`,
        [SPEEDUP]: `${fmt(sdv / ov)}×`,
        'node-seal (same q)': `${fmt(sv)} ms (${fmt(sv / ov)}×)`,
        'node-seal (BFVDefault)': `${fmt(dv)} ms`,
      })
      if (k === 'mulRelin') {
        mulRelinSeal[n] = sdv
        syncMulRelin[n] = ov
      }
    }
    rows.push({
      N: n,
      operation: 'ciphertext bytes (public-key / seeded)',
      [OURS]: `${kb(o.ctBytes)} / ${kb(o.ctBytesSeeded)}`,
      [SEAL_SAME]: `${kb(sd.ctBytes)} / ${kb(sd.ctBytesSeeded)}`,
      [SPEEDUP]: `size ${fmt(o.ctBytes / sd.ctBytes)}×`,
      'node-seal (same q)': `${kb(s.ctBytes)} / ${kb(s.ctBytesSeeded)}`,
      'node-seal (BFVDefault)': `${kb(d.ctBytes)} / ${kb(d.ctBytesSeeded)}`,
    })
    notes.push(
      `N=${n}: ours ${o.note}; node-seal same data primes: ${sd.note} (SEAL's own 128-bit check lifted: it counts the special prime, which we do not need); same q: ${s.note} (one data prime fewer than ours); BFVDefault: ${d.note}. node-seal sizes uncompressed (ComprModeType.none).`,
    )
  }
  ctx.progress('kernels service')
  const service = await KernelService.create({ log: (line) => ctx.progress(line) })
  const device = `${service.label}${service.slow ? ' (no adapter: TypeScript reference fallback)' : ''}`
  try {
    const resident = kernelPolyBackend(service)
    // The previous path: the same device for the NTT and pointwise batches, the lift and the t/Q scaling on the CPU.
    const { mulRelinMany: _resident, ...roundTrip } = resident
    for (const [name, n] of [
      ['bfv4096', 4096],
      ['bfv8192', 8192],
    ] as const) {
      const seal = mulRelinSeal[n] ?? NaN
      const sync = syncMulRelin[n] ?? NaN
      for (const B of ctx.quick && n === 8192 ? [8] : [8, 32]) {
        ctx.progress(`multiply + relinearize, ${B} per call via kernels N=${n}: resident, then round trip`)
        const viaResident = await mulRelinVia(name, resident, minMs, B)
        const viaRoundTrip = await mulRelinVia(name, roundTrip, minMs, B)
        rows.push({
          N: n,
          operation: `multiply + relinearize, batch of ${B} via ${resident.name} (per product): resident (1 submission) / round trip (6 submissions, RNS on the CPU)`,
          [OURS]: `${fmt(viaResident)} ms / ${fmt(viaRoundTrip)} ms (wasm SIMD one at a time: ${fmt(sync)} ms)`,
          [SEAL_SAME]: `${fmt(seal)} ms`,
          [SPEEDUP]: `${fmt(seal / viaResident)}× / ${fmt(seal / viaRoundTrip)}×`,
        })
      }
    }
    notes.push(
      `kernels: ${device}. "Resident": Evaluator.multiplyRelinMany over kernelPolyBackend(KernelService) — operands uploaded once, lift, NTTs, tensor, t/Q scale-and-round, relinearization on the device, one submission and one read-back per batch (kernels/rns/bfv.wgsl); "round trip": the same device with the lift and scaling on the CPU between six submissions (the path before this change). lavapipe is Mesa's CPU Vulkan driver on the same 2 shared cores, not a GPU: these rows measure the plumbing, not GPU speed.`,
    )
  } finally {
    service.destroy()
  }
  ctx.progress('tfhe client side')
  try {
    const t = await tfheClient(minMs)
    rows.push({ N: 'tfhe', operation: 'client keygen', tfhe: `${fmt(t.keygen as number)} ms` })
    rows.push({ N: 'tfhe', operation: 'encrypt FheInt8 / FheInt32', tfhe: `${fmt(t.enc8 as number)} / ${fmt(t.enc32 as number)} ms` })
    rows.push({ N: 'tfhe', operation: 'decrypt FheInt8', tfhe: `${fmt(t.dec8 as number)} ms` })
    rows.push({ N: 'tfhe', operation: 'ciphertext bytes FheInt8 / FheInt32', tfhe: `${kb(t.bytes8 as number)} / ${kb(t.bytes32 as number)}` })
    rows.push({
      N: 'tfhe',
      operation: '768 int8 as one packed compact list',
      tfhe: `${fmt(t.list768 as number)} ms, ${kb(t.listBytes768 as number)}`,
    })
    notes.push('tfhe: client side only — its JS API has no homomorphic operations and cannot serialize a server key, so no miner-side figure exists.')
  } catch (e) {
    notes.push(`tfhe failed to load: ${e instanceof Error ? e.message : String(e)}`)
  }
  const shapes: LinearShape[] = ctx.quick
    ? [{ dIn: 768, dOut: 768, tokens: 1 }]
    : [
        { dIn: 768, dOut: 768, tokens: 1 },
        { dIn: 768, dOut: 768, tokens: 8 },
      ]
  for (const shape of shapes) {
    ctx.progress(`linear ${shape.dOut}×${shape.dIn}, ${shape.tokens} token(s)`)
    const r = linearRun(shape)
    rows.push({
      N: 4096,
      operation: `linear ${shape.dOut}×${shape.dIn}, T=${shape.tokens}${r.exact ? ' (exact)' : ' (MISMATCH)'}`,
      [OURS]: `client enc ${fmt(r.encrypt)} ms, miner ${fmt(r.evaluate)} ms, client dec ${fmt(r.decrypt)} ms`,
      wire: `${kb(r.up / shape.tokens)} up, ${kb(r.down / shape.tokens)} down per token`,
    })
    notes.push(`linear T=${shape.tokens}: ${r.plan}; weight preparation (once per layer) ${fmt(r.prepare)} ms; planner estimate ${fmt(r.est * 1000)} ms at 100 Mbit/s.`)
  }
  ctx.progress('shipped model, encrypted forward pass')
  try {
    const { model, tokenizer } = loadShippedModel()
    const tokens = tokenizer.encode('The capital of France is Paris. The population of')
    for (const be of [cpuBackend, defaultPolyBackend]) {
      const lctx = createFheContext(presets.bfv4096Linear, be)
      const kg = createKeyGenerator(lctx)
      const records: EncryptedLinearRecord[] = []
      const linear = encryptedInt8Linear({ ctx: lctx, secretKey: kg.secretKey, onProduct: (r) => records.push(r) })
      forward(model, tokens, { linear }) // warm-up: the miner prepares each weight tensor once
      const prepMs = records.reduce((s, r) => s + r.prepareMs, 0)
      records.length = 0
      const t0 = performance.now()
      const enc = forward(model, tokens, { linear })
      const encMs = performance.now() - t0
      const t1 = performance.now()
      const plain = forward(model, tokens, { linear: int8Linear() })
      const plainMs = performance.now() - t1
      const same = enc.length === plain.length && enc.every((v, i) => v === plain[i])
      const up = records.reduce((s, r) => s + r.bytesUp, 0)
      const down = records.reduce((s, r) => s + r.bytesDown, 0)
      const client = records.reduce((s, r) => s + r.clientMs, 0)
      const miner = records.reduce((s, r) => s + r.minerMs, 0)
      rows.push({
        N: 4096,
        operation: `shipped model forward on ${be.name}, ${tokens.length} tokens, ${records.length} encrypted products${same ? ' (logits bit-identical)' : ' (MISMATCH)'}`,
        [be === cpuBackend ? 'TS reference' : OURS]: `${fmt(encMs / tokens.length)} ms per token; ${fmt(encMs)} ms in all (client ${fmt(client)} ms, miner ${fmt(miner)} ms; plaintext int8 ${fmt(plainMs)} ms; one-off weight preparation ${fmt(prepMs)} ms)`,
        wire: `${kb(up / tokens.length)} up, ${kb(down / tokens.length)} down per token`,
      })
    }
    notes.push('Shipped model: every dense product through encryptedInt8Linear (weights prepared in a warm-up pass, as a miner would once); LM head and non-linear steps in plaintext on the client.')
  } catch (e) {
    notes.push(`shipped model run failed: ${e instanceof Error ? e.message : String(e)}`)
  }
  ctx.progress('encrypted ms per decoded token: shipped model and GPT-2 small shape')
  try {
    for (const r of await tokenRows(ctx)) rows.push(r)
    notes.push(
      'Encrypted ms per decoded token: one decoding step with a KV cache (1 new token after a prompt; the weights prepared in a warm-up step, as a miner does once), every dense product encrypted (client encryption and decryption plus the miner in this process, bytes serialized both ways), attention, LayerNorm and GELU in plaintext on the client. "before" = the TypeScript reference backend, "after" = wasm SIMD (the default), "WebGPU" = the miner half through LinearPlanner with kernelPolyBackend(KernelService) as accelerator (inverse NTTs on the device, lavapipe here). GPT-2 small shape: 12 layers, d = 768, 12 heads, vocabulary 50,257, RANDOM weights (cost depends on shapes only); one layer\'s decoding step is measured and multiplied by 12; the client\'s plaintext LM head (768 × 50,257, the same on every backend) is not included.',
    )
  } catch (e) {
    notes.push(`ms per token run failed: ${e instanceof Error ? e.message : String(e)}`)
  }
  // Halevi–Shoup estimate from SEAL's own measured primitives (slot batching, BSGS): ~2√d rotations + d diagonal products.
  const d = 768
  const rot = Math.ceil(2 * Math.sqrt(d))
  const hs = rot * (rotateMs[4096] ?? NaN) + d * (mulPlainMs[4096] ?? NaN)
  notes.push(
    `Halevi–Shoup 768×768 at N=4096 (slot batching, BSGS), estimated from node-seal's measured rotateRows ${fmt(rotateMs[4096] ?? NaN)} ms and multiplyPlain ${fmt(mulPlainMs[4096] ?? NaN)} ms: ${rot} rotations + ${d} plaintext products ≈ ${fmt(hs)} ms, plus Galois keys uploaded once; one ciphertext each way per token (not implemented — see docs/FHE.md).`,
  )
  notes.push(
    'Ours: the synchronous rows run each PolyBackend — TS reference (kernels/ntt/reference.ts, branch-free), wasm scalar and wasm SIMD (fhe/wasm, the default where the engine has SIMD); speed-up = node-seal ms / ours (wasm SIMD) ms with the same data primes (issue 12 targets: multiply + relinearize ≥ 2×, decrypt and multiply plain ≥ 1×); the "batched via kernels" rows run the AsyncPolyBackend over basedai/kernels (WebGPU). The goal (ct×ct faster than node-seal on a real GPU) was not measurable here: this machine has only lavapipe.',
  )
  notes.push(`Load average during the run: ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')} on ${os.cpus().length} cores (other jobs were running; timings vary between runs).`)
  return {
    title: 'FHE: BFV (ours) vs node-seal 7 and tfhe (client side); encrypted linear layer',
    device: cpuDescription(),
    columns: ['N', 'operation', 'TS reference', 'wasm scalar', OURS, SEAL_SAME, SPEEDUP, 'node-seal (same q)', 'node-seal (BFVDefault)', 'tfhe', 'wire'],
    rows,
    notes,
  }
}
