import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { decodeConfig, initWeights, saveGpt2Checkpoint } from 'basedai/model'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const based = new URL('../../cli/based.ts', import.meta.url).pathname
const run = (...args: string[]) => spawnSync(process.execPath, [based, ...args], { encoding: 'utf8', timeout: 120_000 })

test('based generate streams text from the shipped model; greedy output is reproducible', () => {
  const a = run('generate', 'The economy of', '--tokens', '12', '--temperature', '0')
  assert.equal(a.status, 0, a.stderr)
  assert.ok(a.stdout.startsWith('The economy of'))
  assert.ok(a.stdout.trim().length > 'The economy of'.length + 5, a.stdout)
  const b = run('generate', 'The economy of', '--tokens', '12', '--temperature', '0')
  assert.equal(b.stdout, a.stdout)
  const int8 = run('generate', 'The economy of', '--tokens', '12', '--temperature', '0', '--int8')
  assert.equal(int8.status, 0, int8.stderr)
})

test('based generate with all defaults never fails for length: short and long prompts, slide or stop', () => {
  const short = run('generate', 'The old man')
  assert.equal(short.status, 0, short.stderr)
  assert.ok(short.stdout.startsWith('The old man') && short.stdout.endsWith('\n'))
  assert.match(short.stderr, /window slid 1 time/)
  const long = 'The economy of the country is based on agriculture and services; exports include coffee, cotton and gold. '.repeat(3)
  const l = run('generate', long)
  assert.equal(l.status, 0, l.stderr)
  assert.ok(l.stdout.startsWith(long))
  assert.ok(l.stdout.length > long.length + 60, l.stdout)
  // the notice is on stderr, on its own line, before any slide notice
  assert.match(l.stderr, /^notice: the prompt is \d+ tokens and the model's context 64; only its last 64 tokens are read\n/)
  const stop = run('generate', 'The old man', '--tokens', '500', '--on-full', 'stop', '--temperature', '0')
  assert.equal(stop.status, 0, stop.stderr)
  assert.match(stop.stderr, /^notice: stopped after \d+ new tokens: the context of 64 tokens is full/m)
  const empty = run('generate', '', '--tokens', '5')
  assert.equal(empty.status, 0, empty.stderr)
  assert.match(empty.stderr, /^notice: empty prompt/m)
  const help = run('generate', '--help')
  assert.doesNotMatch(help.stdout, /4096/)
  assert.match(help.stdout, /slides/)
})

test('based generate and squeeze refuse bad arguments with a clear message', () => {
  const bad = run('generate', 'x', '--tokens', '0')
  assert.notEqual(bad.status, 0)
  assert.match(bad.stderr, /--tokens must be an integer/)
  const none = run('squeeze', '--out', '/tmp/never-written.safetensors')
  assert.notEqual(none.status, 0)
  assert.match(none.stderr, /exactly one of --budget, --fraction, --theta/)
  const missing = run('generate', 'x', '--weights', '/nonexistent/model.safetensors')
  assert.notEqual(missing.status, 0)
  assert.match(missing.stderr, /WeightsUnreadable.*ENOENT|no such file/)
})

test('based brain template turns a checkpoint into a Brain task with its weights hash', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'brain-cli-'))
  try {
    const weights = new URL('../../model/weights/factbook-gpt.safetensors', import.meta.url).pathname
    const r = run('brain', 'template', '--weights', weights, '--fraction', '0.5', '--model-id', 'factbook-half', '--out', out)
    assert.equal(r.status, 0, r.stderr)
    const task = JSON.parse(fs.readFileSync(path.join(out, 'brain.json'), 'utf8')) as { modelId: string; weightsHash: string; squeeze: { budgetFraction: number; keptFraction: number; heads: string } }
    assert.equal(task.modelId, 'factbook-half')
    assert.equal(task.weightsHash, createHash('sha256').update(fs.readFileSync(path.join(out, 'model.safetensors'))).digest('hex'))
    assert.equal(task.squeeze.budgetFraction, 0.5)
    assert.ok(task.squeeze.keptFraction <= 0.5 && task.squeeze.keptFraction > 0)
    assert.equal((JSON.parse(r.stdout) as { weightsHash: string }).weightsHash, task.weightsHash)
    const bad = run('brain', 'template', '--weights', weights, '--fraction', '2', '--out', out)
    assert.notEqual(bad.status, 0)
    assert.match(bad.stderr, /--fraction must be a number in 0..1/)
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
})

test('an error during generation goes to stderr on its own line, after the prompt line is ended', () => {
  // a 300-token model read with GPT-2's tokenizer: the prompt's ids (464, …) are out of range once generation starts
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-err-'))
  try {
    const config = decodeConfig({ nLayer: 1, nHead: 1, nEmbd: 4, nCtx: 8, vocabSize: 300 })
    const file = path.join(dir, 'tiny.safetensors')
    fs.writeFileSync(file, saveGpt2Checkpoint({ config, weights: initWeights(config, 1) }))
    const r = run('generate', 'The old man', '--weights', file)
    assert.notEqual(r.status, 0)
    assert.equal(r.stdout, 'The old man\n')
    assert.match(r.stderr, /^(based: )?InvalidToken\b/m)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
