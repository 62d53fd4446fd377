import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { evaluate, generate, loadCorpus, loadShippedLarge, loadShippedModel, SHIPPED_DIR, SHIPPED_LARGE_DIR, windows } from 'basedai/model'

const { model, tokenizer } = loadShippedLarge()
const held = windows(tokenizer.encode(loadCorpus().heldOut), model.config.nCtx)
interface Report {
  config: unknown
  stepsDone: number
  steps: number
  heldOut: { perplexity: number; bitsPerByte: number; tokens: number; windows: number; of: number; everyKthWindow: number }
  log: { step: number; trainLoss: number; heldOutProbeLoss?: number }[]
}
const subset = held.filter((_, i) => i % 60 === 0)
let subsetEval: ReturnType<typeof evaluate> | undefined
const subsetResult = (): ReturnType<typeof evaluate> => (subsetEval ??= evaluate(model, subset))
const report = JSON.parse(fs.readFileSync(path.join(SHIPPED_LARGE_DIR, 'train-report.json'), 'utf8')) as Report

describe('the large shipped model (model/weights/large)', () => {
  test('config, tokenizer and report agree; the tokenizer is the small model\'s', () => {
    assert.deepEqual(report.config, model.config)
    assert.deepEqual({ nLayer: model.config.nLayer, nHead: model.config.nHead, nEmbd: model.config.nEmbd, nCtx: model.config.nCtx }, { nLayer: 4, nHead: 4, nEmbd: 128, nCtx: 256 })
    assert.equal(tokenizer.vocabSize, model.config.vocabSize)
    assert.equal(fs.readFileSync(path.join(SHIPPED_LARGE_DIR, 'tokenizer.json'), 'utf8'), fs.readFileSync(path.join(SHIPPED_DIR, 'tokenizer.json'), 'utf8'))
    // the final number was measured on every window of the held-out split, by the reference forward
    assert.equal(report.heldOut.everyKthWindow, 1)
    assert.equal(report.heldOut.windows, held.length)
    assert.equal(report.heldOut.of, held.length)
    assert.ok(fs.existsSync(path.join(SHIPPED_LARGE_DIR, 'loss-curve.svg')))
    assert.ok(report.log.filter((e) => e.heldOutProbeLoss !== undefined).length >= 3, 'the loss curve has held-out probes')
  })

  // Pinned held-out perplexity. Computed with model/eval.ts's `evaluate` (the reference forward of forward.ts) on
  // the held-out split (every 10th country block of model/train/corpus/factbook.txt), shipped 512-token tokenizer,
  // non-overlapping 256-token windows. The full split (all windows) is in the report (PINNED_FULL below, checked
  // against the report); the subset here, every 60th window, keeps the test to a few seconds. Deterministic (same
  // weights, tokenizer and f32 forward); the tolerance covers float summation order only.
  const PINNED_SUBSET = 12.5492
  const PINNED_FULL = 9.9516
  test('held-out perplexity: pinned subset, and the full-split figure of the report', () => {
    const { perplexity } = subsetResult()
    assert.ok(Math.abs(perplexity - PINNED_SUBSET) < 0.01, `subset perplexity ${perplexity}`)
    assert.ok(Math.abs(report.heldOut.perplexity - PINNED_FULL) < 1e-3, `report ${report.heldOut.perplexity}`)
  })

  test('it beats the small model on the same held-out text, per token and per byte', () => {
    const small = JSON.parse(fs.readFileSync(path.join(SHIPPED_DIR, 'train-report.json'), 'utf8')) as Report
    // issue 13's goal: at most half the small model's held-out perplexity per token (28.34 → ≤ 14.17), same tokenizer
    assert.ok(report.heldOut.perplexity <= small.heldOut.perplexity / 2, `${report.heldOut.perplexity} vs ${small.heldOut.perplexity}`)
    assert.ok(report.heldOut.bitsPerByte < small.heldOut.bitsPerByte)
    // and the small model on the same subset of text is worse than the large one (measured, not from a report)
    const s = loadShippedModel()
    const smallSample = windows(s.tokenizer.encode(loadCorpus().heldOut), s.model.config.nCtx).filter((_, i) => i % 240 === 0)
    assert.ok(subsetResult().loss < evaluate(s.model, smallSample).loss)
  })
})

test('based generate --model large streams from the large model; --model is checked', () => {
  const based = new URL('../../cli/based.ts', import.meta.url).pathname
  const run = (...args: string[]) => spawnSync(process.execPath, [based, ...args], { encoding: 'utf8', timeout: 120_000 })
  const a = run('generate', 'The economy of', '--model', 'large', '--tokens', '8', '--temperature', '0')
  assert.equal(a.status, 0, a.stderr)
  assert.ok(a.stdout.startsWith('The economy of') && a.stdout.trim().length > 'The economy of'.length + 3, a.stdout)
  // greedy decoding of the large model, computed here without the CLI, is what the CLI printed
  const ids = tokenizer.encode('The economy of')
  const out = [...generate(model, ids, { maxNewTokens: 8, temperature: 0 })]
  assert.equal(a.stdout.trimEnd(), tokenizer.decode([...ids, ...out]).trimEnd())
  const bad = run('generate', 'x', '--model', 'huge')
  assert.notEqual(bad.status, 0)
  assert.match(bad.stderr, /--model must be small or large/)
})
