/**
 * Confidentiality, tested: the properties without which BFV's IND-CPA argument does not apply, checked on what the
 * code really produces (the default CSPRNG, the session's own key and ciphertexts, the bytes it sends).
 *
 * 1. Secret keys are uniform ternary: every coefficient in {−1, 0, 1} (the same value in every RNS limb), about a
 *    third each (chi-square), and two fresh keys differ.
 * 2. A fresh ciphertext hides Δ·m: c0 + c1·s′ − Δ·m is small only for the real key s; under the zero key, every key of
 *    Hamming weight 1 (±X^i) and random keys of weight 2 and 3 it is not (a bug like "s = 0" would make c0 − Δ·m = −e).
 * 3. The bytes a session sends the miner (whole protocol frames, as they go on the wire) contain no run of the
 *    activations it encrypts (int8 and int32 encodings, and their float32 source), and the replies contain no run of
 *    the int32 results; a planted leak in the same kind of frame is found by the same search (the search can fail).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createFheContext,
  createKeyGenerator,
  deserializeCiphertext,
  encryptActivations,
  linearPlain,
  planLinear,
  presets,
  serializeCiphertext,
  toCoefficientForm,
  type FheContext,
  type SecretKey,
} from '../../fhe/index.ts'
import { EncryptedSession, type AskMiner } from '../../gateway/index.ts'
import { encodeFrame, PROTOCOL_VERSION } from '../../protocol/index.ts'
import { ActorSystem } from '../../supervisor/index.ts'
import { forwardAsync, loadShippedModel, mulberry32, quantizeRowsInt8, quantizeWeightInt8, type AsyncLinearFn } from '../../model/index.ts'

const ctx = createFheContext(presets.bfv4096Linear)
const N = ctx.n

/** The secret key's coefficients (centred), read from its NTT form; checks that every RNS limb holds the same value. */
function keyCoefficients(c: FheContext, sk: SecretKey): Int32Array {
  const coef = toCoefficientForm(c, { paramsId: sk.paramsId, level: c.levels, polys: [sk.sNtt, sk.sNtt], ntt: true }).polys[0]!
  const out = new Int32Array(c.n)
  for (let j = 0; j < c.n; j++) {
    for (let i = 0; i < c.levels; i++) {
      const q = c.base.moduli[i]!
      const v = coef.data[i * c.n + j]!
      const centred = v > q / 2 ? v - q : v
      if (i === 0) out[j] = centred
      else assert.equal(centred, out[j], `limb ${i} disagrees at coefficient ${j}`)
    }
  }
  return out
}

/**
 * Chi-square of the counts of −1, 0, 1 against N/3 each. With 2 degrees of freedom P(χ² > x) = exp(−x/2) exactly, so
 * the threshold 2·ln(10^9) ≈ 41.4 gives a false-alarm rate of 10^−9 per key for a correct sampler.
 */
const CHI2_THRESHOLD = 2 * Math.log(1e9)
function chiSquare(s: Int32Array): number {
  const counts = [0, 0, 0]
  for (const v of s) counts[v + 1]!++
  const e = s.length / 3
  return counts.reduce((x, c) => x + (c - e) ** 2 / e, 0)
}

test('secret keys are ternary, about a third each of −1, 0, 1 (chi-square, false-alarm rate 1e-9 per key), and fresh', () => {
  const model = loadShippedModel().model
  const session = new EncryptedSession({ model, modelId: 'factbook-gpt', ask: () => Promise.reject(new Error('not used')) })
  // The session's own key (a private field, read here only to test it) and two keys from the default generator.
  const coeffs = [
    keyCoefficients(session.ctx, (session as unknown as { crypto: { secretKey: SecretKey } }).crypto.secretKey),
    keyCoefficients(ctx, createKeyGenerator(ctx).secretKey),
    keyCoefficients(ctx, createKeyGenerator(ctx).secretKey),
  ]
  for (const s of coeffs) {
    assert.equal(s.length, N)
    assert.ok(s.every((v) => v === -1 || v === 0 || v === 1), 'every coefficient in {−1, 0, 1}')
    const x2 = chiSquare(s)
    assert.ok(x2 < CHI2_THRESHOLD, `chi-square ${x2.toFixed(1)} ≥ ${CHI2_THRESHOLD.toFixed(1)}`)
  }
  // Two uniform ternary keys agree on a coefficient with probability 1/3: about N/3 matches, never N.
  for (let a = 0; a < coeffs.length; a++) {
    for (let b = a + 1; b < coeffs.length; b++) {
      const same = coeffs[a]!.reduce((n, v, j) => n + (v === coeffs[b]![j] ? 1 : 0), 0)
      assert.ok(same < N / 2, `keys ${a} and ${b} agree on ${same} of ${N} coefficients`)
    }
  }
})

/**
 * Checks one fresh ciphertext (serialized, as the miner receives it) of the message m (int8 values in coefficients
 * 0…m.length−1, zero elsewhere) under key sk: c0 + c1·s′ − Δ·m is small only for s′ = s. Works mod the first prime
 * q0, where c0 + c1·s ≡ Δ·m − e (mod q0).
 */
function checkFresh(c: FheContext, sk: SecretKey, bytes: Uint8Array, m: Int8Array, rnd: () => number): void {
  const n = c.n
  const s = keyCoefficients(c, sk)
  const ct = toCoefficientForm(c, deserializeCiphertext(c, bytes))
  const q = c.base.moduli[0]!
  const delta = c.levelData[c.levels - 1]!.delta[0]!
  const c1 = Float64Array.from(ct.polys[1]!.data.subarray(0, n))
  // base = c0 − Δ·m, reduced into [0, q).
  const base = Float64Array.from(ct.polys[0]!.data.subarray(0, n))
  for (let j = 0; j < m.length; j++) base[j] = (((base[j]! - delta * m[j]!) % q) + q) % q
  // A residue counts as small if it lies within q/2^10 of 0 (the true noise is |e| ≤ 21); a wrong key leaves
  // uniform residues, small with probability 2^−9, i.e. about 8 of N = 4096.
  const smallBound = q / 1024
  // The number of small coefficients of base + c1·s′ for s′ = Σ sign·X^i over `terms` (negacyclic: coefficients
  // that wrap past X^N change sign).
  const underKey = (terms: ReadonlyArray<readonly [number, number]>): number => {
    let count = 0
    for (let j = 0; j < n; j++) {
      let r = base[j]!
      for (const [i, sign] of terms) r += j >= i ? sign * c1[j - i]! : -sign * c1[j - i + n]!
      const v = ((r % q) + q) % q
      if (v < smallBound || q - v < smallBound) count++
    }
    return count
  }

  // The detector works: under the real key, every coefficient is small.
  const real: Array<[number, number]> = []
  s.forEach((v, i) => {
    if (v !== 0) real.push([i, v])
  })
  assert.equal(underKey(real), n)

  const limit = n / 16
  assert.ok(underKey([]) < limit, 'the zero key')
  let worst = 0
  for (let i = 0; i < n; i++) {
    for (const sign of [1, -1]) worst = Math.max(worst, underKey([[i, sign]]))
  }
  assert.ok(worst < limit, `some weight-1 key leaves ${worst} small coefficients`)
  for (const weight of [2, 3]) {
    for (let k = 0; k < 200; k++) {
      const terms: Array<[number, number]> = []
      const used = new Set<number>()
      while (terms.length < weight) {
        const i = Math.floor(rnd() * n)
        if (used.has(i)) continue
        used.add(i)
        terms.push([i, rnd() < 0.5 ? -1 : 1])
      }
      const got = underKey(terms)
      assert.ok(got < limit, `a weight-${weight} key leaves ${got} small coefficients`)
    }
  }
}

test('a fresh ciphertext does not decrypt under the zero key, any weight-1 key, or random weight-2/3 keys; it does under the real one', () => {
  const sk = createKeyGenerator(ctx).secretKey
  const plan = planLinear(ctx, { dIn: 64, dOut: 64, tokens: 1 }, { force: { ni: 64, mt: 1, no: 64 } })
  const rnd = mulberry32(17)
  const x = Int8Array.from({ length: 64 }, () => Math.floor(rnd() * 255) - 127)
  const cts = encryptActivations(ctx, sk, plan, x)
  assert.equal(cts.length, 1)
  checkFresh(ctx, sk, serializeCiphertext(ctx, cts[0]!), x, rnd)
})

test('the same holds for the ciphertext a session sends (its own key, its request as intercepted)', async () => {
  const { model } = loadShippedModel()
  let sent: Parameters<AskMiner>[0] | undefined
  const session = new EncryptedSession({
    model,
    modelId: 'factbook-gpt',
    ask: (m) => {
      sent = m
      return Promise.reject(new RangeError('intercepted'))
    },
  })
  const rnd = mulberry32(23)
  const x = Float32Array.from({ length: 64 }, () => rnd() * 4 - 2)
  const L = model.weights.layers[0]!
  await assert.rejects(session.linear(x, 1, 64, 64, L.projW, L.projB, { layer: 0, name: 'proj' }), RangeError)
  assert.ok(sent)
  // One token of a 64 → 64 product: the plan packs the 64 int8 activations into coefficients 0…63 of one ciphertext.
  assert.deepEqual([sent.plan.ni, sent.plan.mt, sent.inputs.length], [64, 1, 1])
  checkFresh(session.ctx, (session as unknown as { crypto: { secretKey: SecretKey } }).crypto.secretKey, sent.inputs[0]!, quantizeRowsInt8(x, 1, 64).q, rnd)
})

/**
 * Byte encodings of consecutive windows of `values` (so any leaked run of at least 2·width values contains one),
 * skipping windows with fewer than 4 distinct values (zeros, padding). */
function windows(values: ArrayLike<number>, width: number, encode: (w: number[]) => Buffer): Buffer[] {
  const out: Buffer[] = []
  for (let o = 0; o + width <= values.length; o += width) {
    const w = Array.from({ length: width }, (_, k) => values[o + k] as number)
    if (new Set(w).size >= 4) out.push(encode(w))
  }
  return out
}
const int8 = (w: number[]): Buffer => Buffer.from(Int8Array.from(w).buffer)
const int32le = (w: number[]): Buffer => {
  const b = Buffer.alloc(4 * w.length)
  w.forEach((v, i) => b.writeInt32LE(v, 4 * i))
  return b
}
const int32be = (w: number[]): Buffer => {
  const b = Buffer.alloc(4 * w.length)
  w.forEach((v, i) => b.writeInt32BE(v, 4 * i))
  return b
}
const f32 = (w: number[]): Buffer => Buffer.from(Float32Array.from(w).buffer)

interface Secrets {
  readonly q: Int8Array
  readonly x: Float32Array
  readonly acc: Int32Array
}
/** Runs of the activations found in `up` and of the results found in `down` (0 and 0 means no leak found). */
function leaks(secrets: readonly Secrets[], up: Buffer, down: Buffer): { up: number; down: number; searched: number } {
  let foundUp = 0
  let foundDown = 0
  let searched = 0
  for (const s of secrets) {
    for (const needle of [...windows(s.q, 16, int8), ...windows(s.q, 8, int32le), ...windows(s.q, 8, int32be), ...windows(s.x, 4, f32)]) {
      searched++
      if (up.includes(needle)) foundUp++
    }
    for (const needle of [...windows(s.acc, 4, int32le), ...windows(s.acc, 4, int32be)]) {
      searched++
      if (down.includes(needle)) foundDown++
    }
  }
  return { up: foundUp, down: foundDown, searched }
}

test('the frames a session sends hold no run of its activations, the replies none of its results; a planted leak is found', { timeout: 120_000 }, async () => {
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [{ kind: 'actor', id: 'miner', behaviour: { module: new URL('../../actors/miner.ts', import.meta.url).href } }],
  })
  try {
    const ref = sys.ref('/root/miner')
    const { model, tokenizer } = loadShippedModel()
    const up: Uint8Array[] = []
    const down: Uint8Array[] = []
    const secrets: Secrets[] = []
    let id = 0
    const session = new EncryptedSession({
      model,
      modelId: 'factbook-gpt',
      ask: async (m) => {
        const n = ++id
        up.push(encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/miner', id: n, body: m }))
        const reply = await ref.ask(m, { timeoutMs: 120_000 })
        down.push(encodeFrame({ _tag: 'Reply', v: PROTOCOL_VERSION, id: n, body: reply }))
        return reply
      },
    })
    const linear: AsyncLinearFn = (x, rows, inDim, outDim, w, b, site) => {
      const a = quantizeRowsInt8(x, rows, inDim)
      const acc = linearPlain(quantizeWeightInt8(w, inDim, outDim).q, a.q, { dIn: inDim, dOut: outDim, tokens: rows })
      secrets.push({ q: a.q, x: Float32Array.from(x.subarray(0, rows * inDim)), acc })
      return session.linear(x, rows, inDim, outDim, w, b, site)
    }
    await forwardAsync(model, tokenizer.encode('The capital of Peru'), { linear, lastOnly: true })
    assert.equal(up.length, 4 * model.config.nLayer)
    const r = leaks(secrets, Buffer.concat(up), Buffer.concat(down))
    assert.ok(r.searched > 1000, `only ${r.searched} runs searched`)
    assert.deepEqual({ up: r.up, down: r.down }, { up: 0, down: 0 })

    // The same search on a frame that leaks (the int8 activations next to the ciphertexts, then as int32) finds them.
    const leakyInt8 = encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/miner', id: 99, body: { _tag: 'EncryptedLinear', model: 'factbook-gpt', layer: 0, site: 'attn', preset: 'bfv4096Linear', plan: { dIn: 64, dOut: 192, tokens: 1, ni: 64, mt: 1, no: 64 }, inputs: [new Uint8Array(secrets[0]!.q.buffer.slice(0))] } })
    assert.ok(leaks(secrets.slice(0, 1), Buffer.from(leakyInt8), Buffer.alloc(0)).up > 0)
    const leakyInt32 = Buffer.concat([Buffer.from(up[1]!), Buffer.from(Int32Array.from(secrets[0]!.q).buffer)])
    assert.ok(leaks(secrets.slice(0, 1), leakyInt32, Buffer.alloc(0)).up > 0)
    const leakyResults = Buffer.concat([Buffer.from(down[0]!), Buffer.from(secrets[0]!.acc.buffer)])
    assert.ok(leaks(secrets.slice(0, 1), Buffer.alloc(0), leakyResults).down > 0)
  } finally {
    await sys.shutdown()
  }
})
