import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ByteBpeTokenizer, loadGpt2Tokenizer, trainByteBpe } from 'basedai/model'

describe('tokenizers', () => {
  test('GPT-2 BPE (gpt-tokenizer r50k_base) gives the known GPT-2 ids', async () => {
    const tok = await loadGpt2Tokenizer()
    assert.equal(tok.vocabSize, 50257)
    assert.deepEqual(tok.encode('Hello world'), [15496, 995])
    assert.equal(tok.decode(tok.encode('The World Factbook, 2024.')), 'The World Factbook, 2024.')
  })

  test('byte-level BPE learns the most frequent pairs first and round-trips any text', () => {
    const text = 'the cat sat on the mat. the hat is flat; the rat ate the oat.'.repeat(5)
    const tok = trainByteBpe(text, 20)
    // "at" occurs 8 times per repetition (cat sat mat hat flat rat ate oat), more than any other pair ("th": 5).
    const first = tok.merges[0]
    assert.equal(String.fromCharCode(first[0], first[1]), 'at')
    assert.ok(tok.encode(text).length < new TextEncoder().encode(text).length / 2)
    const again = ByteBpeTokenizer.fromJSON(JSON.parse(JSON.stringify(tok.toJSON())))
    assert.deepEqual(again.encode(text), tok.encode(text))
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (s) => tok.decode(tok.encode(s)) === s), { seed: 3, numRuns: 300 })
  })

  test('malformed tokenizer JSON is rejected', () => {
    const bad = (j: unknown) => assert.throws(() => ByteBpeTokenizer.fromJSON(j), (e: { _tag?: string }) => e._tag === 'TokenizerFormatError')
    bad(null)
    bad({ type: 'other', version: 1, merges: [] })
    bad({ type: 'basedai-byte-bpe', version: 1, merges: [[1, 300]] })
    bad({ type: 'basedai-byte-bpe', version: 1, merges: [[1, 2], [1, 2]] })
    bad({ type: 'basedai-byte-bpe', version: 1, merges: 'x' })
  })
})

test('a GPT-2-vocabulary checkpoint runs end to end with the GPT-2 tokenizer', async () => {
  const { decodeConfig, generate, generateText, initWeights, loadGpt2Checkpoint, saveGpt2Checkpoint } = await import('basedai/model')
  const tok = await loadGpt2Tokenizer()
  const config = decodeConfig({ nLayer: 1, nHead: 2, nEmbd: 8, nCtx: 32, vocabSize: tok.vocabSize })
  const model = loadGpt2Checkpoint(saveGpt2Checkpoint({ config, weights: initWeights(config, 2) }, { dtype: 'F16' }))
  const opts = { maxNewTokens: 8, temperature: 1, topK: 50, seed: 4 }
  const tokens = [...generate(model, tok.encode('Hello world'), opts)]
  assert.equal(tokens.length, 8)
  assert.equal(new Set(tokens).size > 1, true)
  const pieces = [...generateText(model, tok, 'Hello world', opts)]
  assert.equal(pieces.join(''), tok.decode(tokens), 'streamed pieces concatenate to the decoded tokens')
})
