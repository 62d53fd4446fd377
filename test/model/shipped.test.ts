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

  // Pinned held-out perplexity (issue 17). Computed once with model/eval.ts's `evaluate` on the held-out split of
  // model/train/corpus/factbook.txt (every 10th country block), tokenized with the shipped tokenizer and cut into
  // non-overlapping 64-token windows (1,851 windows; all of them give 28.336 over 116,604 positions, the 28.3 of the
  // README, but take ~2 minutes here). The fixed subset is every 10th window (186 windows, 11,709 predicted positions):
  // perplexity 28.4728. The computation is deterministic (same weights, tokenizer, f32 forward); the tolerance ±0.02
  // (0.07%) only allows for last-bit differences of Math.exp/Math.tanh between platforms; retraining, another
  // tokenizer or a forward-pass bug move it by far more. int8 moves perplexity by only 0.007 (on the smaller subset
  // below), so the int8 pin is tighter: ±0.002.
  test('held-out perplexity is pinned: 28.4728 ± 0.02 on every 10th held-out window (full split: 28.34)', () => {
    const subset = held.filter((_, i) => i % 10 === 0)
    assert.equal(held.length, 1851)
    assert.equal(subset.length, 186)
    const r = evaluate(model, subset)
    assert.equal(r.count, 11_709)
    assert.ok(Math.abs(r.perplexity - 28.4728) <= 0.02, `perplexity ${r.perplexity}`)
  })

  test('int8 held-out perplexity is pinned: 26.3550 ± 0.002 (f32 26.3482) on every 40th held-out window', () => {
    const subset = held.filter((_, i) => i % 40 === 0)
    const q = evaluate(model, subset, { linear: int8Linear() })
    assert.equal(q.count, 2961)
    assert.ok(Math.abs(q.perplexity - 26.3550) <= 0.002, `int8 perplexity ${q.perplexity}`)
    const f = evaluate(model, subset)
    assert.ok(Math.abs(f.perplexity - 26.3482) <= 0.002, `f32 perplexity ${f.perplexity}`)
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
