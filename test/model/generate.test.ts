import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  argmax, decodeConfig, forward, generate, generateAsync, generateText, initWeights, int8Linear, linearF32, loadShippedModel,
  type AsyncLinearFn, type ContextEvent, type GptModel, type LinearFn,
} from 'basedai/model'

const isTag = (tag: string) => (e: unknown) => (e as { _tag?: string })._tag === tag
const { model: shipped, tokenizer } = loadShippedModel()

/** A long prompt: well over the shipped model's 64-token context. */
const LONG = 'The economy of the country is based on agriculture and services; exports include coffee, cotton and gold, '.repeat(4)

describe('generation never fails for length', () => {
  test('CLI defaults (60 new tokens, temperature 0.8, top-k 40) succeed on a short and a long prompt', () => {
    for (const prompt of ['The old man', LONG]) {
      const events: ContextEvent[] = []
      const toks = [...generate(shipped, tokenizer.encode(prompt), { maxNewTokens: 60, temperature: 0.8, topK: 40, seed: 1, onContext: (e) => events.push(e) })]
      assert.equal(toks.length, 60, prompt)
      const slid = events.filter((e) => e._tag === 'WindowSlid')
      assert.ok(slid.length >= 1, `${prompt}: ${JSON.stringify(events)}`)
      if (prompt === LONG) {
        const n = tokenizer.encode(LONG).length
        assert.ok(n > shipped.config.nCtx)
        assert.deepEqual(events[0], { _tag: 'PromptTruncated', dropped: n - 64, kept: 64, nCtx: 64 })
      }
    }
    const text = [...generateText(shipped, tokenizer, 'The old man', { maxNewTokens: 200, temperature: 0.8, topK: 40, seed: 3 })].join('')
    assert.ok(text.length > 200, text)
  })

  test("onFull 'stop' ends at the full context with a ContextFull event; bad options are typed errors", () => {
    const prompt = tokenizer.encode('The old man')
    const events: ContextEvent[] = []
    const toks = [...generate(shipped, prompt, { maxNewTokens: 500, temperature: 0, onFull: 'stop', onContext: (e) => events.push(e) })]
    // positions 0…63 hold the prompt and fed-back tokens; the last sampled token is never fed back.
    assert.equal(toks.length, 64 - prompt.length + 1)
    assert.deepEqual(events, [{ _tag: 'ContextFull', generated: toks.length, nCtx: 64 }])
    assert.throws(() => [...generate(shipped, prompt, { maxNewTokens: 3, slideKeep: 64 })], isTag('InvalidOption'))
    assert.throws(() => [...generate(shipped, prompt, { maxNewTokens: 3, slideKeep: 0 })], isTag('InvalidOption'))
    assert.throws(() => [...generate(shipped, prompt, { maxNewTokens: 3, onFull: 'wrap' as 'stop' })], isTag('InvalidOption'))
    assert.throws(() => [...generate(shipped, [], { maxNewTokens: 3 })], isTag('InvalidOption'))
    assert.throws(() => [...generate(shipped, [512], { maxNewTokens: 3 })], isTag('InvalidToken'))
  })
})

describe('sliding window', () => {
  const cfg = decodeConfig({ nLayer: 2, nHead: 2, nEmbd: 8, nCtx: 8, vocabSize: 11 })
  const model: GptModel = { config: cfg, weights: initWeights(cfg, 7, 0.5) }

  /**
   * Independent reference: keep the token history, and at every step run a fresh forward pass (no cache) over the
   * tokens the window should hold: the last ≤ nCtx tokens, restarting from the last `keep` tokens each time the
   * window overflows.
   */
  function reference(prompt: number[], n: number, keep: number): { tokens: number[]; logits: Float32Array[]; windows: number[][] } {
    let window = prompt.slice(-cfg.nCtx)
    const tokens: number[] = []
    const logits: Float32Array[] = []
    const windows: number[][] = []
    for (let i = 0; i < n; i++) {
      const l = forward(model, window, { lastOnly: true })
      logits.push(l)
      windows.push([...window])
      const t = argmax(l)
      tokens.push(t)
      window = [...window, t]
      if (window.length > cfg.nCtx) window = window.slice(window.length - keep)
    }
    return { tokens, logits, windows }
  }

  for (const keep of [undefined, 1, 3, 7]) {
    test(`logits after each KV-cache rebuild and every step after it equal a fresh forward over the same window (slideKeep ${keep ?? 'default'})`, () => {
      const prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1]
      const got: Float32Array[] = []
      const events: ContextEvent[] = []
      const toks = [...generate(model, prompt, {
        maxNewTokens: 40, temperature: 0, ...(keep !== undefined ? { slideKeep: keep } : {}),
        onLogits: (l) => got.push(Float32Array.from(l)), onContext: (e) => events.push(e),
      })]
      const k = keep ?? Math.ceil(cfg.nCtx / 2)
      const ref = reference(prompt, 40, k)
      assert.deepEqual(toks, ref.tokens)
      assert.equal(got.length, 40)
      for (let i = 0; i < 40; i++) {
        for (let v = 0; v < cfg.vocabSize; v++) assert.ok(Math.abs(got[i][v] - ref.logits[i][v]) < 1e-5, `step ${i} logit ${v}: ${got[i][v]} vs ${ref.logits[i][v]}`)
      }
      const slides = events.filter((e) => e._tag === 'WindowSlid')
      assert.ok(slides.length >= 3)
      for (const s of slides) assert.deepEqual(s, { _tag: 'WindowSlid', dropped: cfg.nCtx + 1 - k, kept: k, nCtx: cfg.nCtx })
      // The reference windows really did restart (the test exercises rebuilds, not only incremental steps).
      assert.ok(ref.windows.some((w, i) => i > 0 && w.length < ref.windows[i - 1].length))
    })
  }

  test('the int8 path slides the same way: its logits equal a fresh int8 forward over the window', () => {
    const linear = int8Linear()
    const got: Float32Array[] = []
    const toks = [...generate(model, [3, 1, 4], { maxNewTokens: 20, temperature: 0, forward: { linear }, onLogits: (l) => got.push(Float32Array.from(l)) })]
    let window = [3, 1, 4]
    for (let i = 0; i < 20; i++) {
      const l = forward(model, window, { lastOnly: true, linear })
      for (let v = 0; v < cfg.vocabSize; v++) assert.ok(Math.abs(got[i][v] - l[v]) < 1e-5, `step ${i}`)
      window = [...window, toks[i]]
      if (window.length > cfg.nCtx) window = window.slice(-Math.ceil(cfg.nCtx / 2))
    }
  })
})

describe('streaming', () => {
  const cfg = decodeConfig({ nLayer: 2, nHead: 2, nEmbd: 8, nCtx: 8, vocabSize: 11 })
  const model: GptModel = { config: cfg, weights: initWeights(cfg, 5, 0.5) }
  const perPass = 4 * cfg.nLayer // dense products per forward pass

  /** The log of events: every dense product, and every token the consumer receives, in order. */
  function assertStreamed(log: string[], n: number): void {
    // before the first token: exactly the prompt's forward pass; then each token is followed by one more pass.
    const firstToken = log.indexOf('token')
    assert.equal(firstToken, perPass, log.join(' '))
    const tokenAt = log.flatMap((e, i) => (e === 'token' ? [i] : []))
    assert.equal(tokenAt.length, n)
    for (let i = 1; i < n; i++) assert.equal(tokenAt[i] - tokenAt[i - 1], perPass + 1, `token ${i}: ${log.join(' ')}`)
  }

  test('sync (f32 and int8): each token reaches the caller before the next token is computed, across slides', () => {
    for (const inner of [linearF32, int8Linear()]) {
      const log: string[] = []
      const linear: LinearFn = (...args) => { log.push('linear'); return inner(...args) }
      let n = 0
      // 6 new tokens from a 6-token prompt fill the 8-token context: a slide happens in the middle.
      for (const _t of generate(model, [1, 2, 3, 4, 5, 6], { maxNewTokens: 6, temperature: 0, forward: { linear } })) { log.push('token'); n++ }
      assert.equal(n, 6)
      assertStreamed(log, 6)
    }
  })

  test('async (the kernels and encrypted hook): each token reaches the caller before the next token is computed', async () => {
    const log: string[] = []
    const linear: AsyncLinearFn = async (x, rows, inDim, outDim, w, b, site) => {
      log.push('linear')
      await new Promise((r) => setImmediate(r))
      return linearF32(x, rows, inDim, outDim, w, b, site)
    }
    let n = 0
    for await (const _t of generateAsync(model, [1, 2, 3, 4, 5, 6], { maxNewTokens: 6, temperature: 0, linear })) { log.push('token'); n++ }
    assert.equal(n, 6)
    assertStreamed(log, 6)
  })
})
