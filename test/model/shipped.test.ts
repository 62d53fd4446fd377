import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import {
  evaluate, generateText, int8Linear, loadCorpus, loadShippedModel, SHIPPED_DIR, top1Predictions, windows,
} from 'basedai/model'

const { model, tokenizer } = loadShippedModel()
const corpus = loadCorpus()
const held = windows(tokenizer.encode(corpus.heldOut), model.config.nCtx)
const sample = held.filter((_, i) => i % 60 === 0)

describe('the shipped Factbook model', () => {
  test('config, tokenizer and weights agree', () => {
    assert.equal(tokenizer.vocabSize, model.config.vocabSize)
    assert.ok(sample.length >= 25)
    const report = JSON.parse(fs.readFileSync(path.join(SHIPPED_DIR, 'train-report.json'), 'utf8')) as { config: unknown; heldOut: { perplexity: number } }
    assert.deepEqual(report.config, model.config)
    assert.ok(fs.statSync(path.join(SHIPPED_DIR, 'factbook-gpt.safetensors')).size <= 20 * 1024 * 1024)
  })

  test('it has learned the text: held-out loss far below uniform and below a unigram model of the training split', () => {
    const counts = new Float64Array(model.config.vocabSize).fill(1)
    const trainTokens = tokenizer.encode(corpus.train.slice(0, 400_000))
    for (const t of trainTokens) counts[t]++
    const total = counts.reduce((a, b) => a + b, 0)
    let unigram = 0, n = 0
    for (const w of sample) for (const t of w.slice(1)) { unigram -= Math.log(counts[t] / total); n++ }
    unigram /= n
    const { loss } = evaluate(model, sample)
    assert.ok(loss < Math.log(model.config.vocabSize) - 2, `loss ${loss}`)
    assert.ok(loss < unigram - 1, `loss ${loss} vs unigram ${unigram}`)
  })

  test('the int8 path agrees with f32 on top-1 at ≥ 90% of held-out positions', () => {
    const f32 = top1Predictions(model, sample)
    const q = top1Predictions(model, sample, { linear: int8Linear() })
    let same = 0
    for (let i = 0; i < f32.length; i++) if (f32[i] === q[i]) same++
    assert.ok(same / f32.length >= 0.9, `agreement ${same / f32.length}`)
  })

  test('greedy text generation streams readable text', () => {
    const pieces = [...generateText(model, tokenizer, 'The economy of', { maxNewTokens: 30, temperature: 0 })]
    const text = pieces.join('')
    assert.ok(pieces.length > 1)
    assert.ok(/^[\x20-\x7e\n’–“”—]+$/.test(text), text)
    assert.ok(text.split(/\s+/).filter((w) => /^[a-z]+$/.test(w)).length >= 5, text)
  })
})
