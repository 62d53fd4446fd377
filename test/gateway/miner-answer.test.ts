/**
 * The encrypted path depends on the miner's answer: a session's logits come from what it decrypts of the miner's
 * reply, so a miner that answers with another layer's result, echoes the inputs or returns zeros changes the logits
 * or causes a typed error, and a homomorphic "+ SHIFT" on the reply shows up in every product the client uses.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ActorSystem } from '../../supervisor/index.ts'
import { EncryptedSession } from '../../gateway/index.ts'
import { forward, forwardAsync, int8Linear, loadShippedModel, quantizeRowsInt8, quantizeWeightInt8, type AsyncLinearFn } from '../../model/index.ts'
import { SHIFT } from '../support/bad-miners.ts'

const url = (p: string): string => new URL(p, import.meta.url).href
const miner = url('../../actors/miner.ts')
const bad = url('../support/bad-miners.ts')
const { model, tokenizer } = loadShippedModel()
const tokens = tokenizer.encode('The economy of France')
let sys: ActorSystem

/** Each test takes under 4 s on this loaded 2-core machine; the limit (tests and hooks) is far below the runner's 300 s. */
const T = { timeout: 30_000 }

before(async () => {
  sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      { kind: 'actor', id: 'honest', behaviour: { module: miner } },
      { kind: 'actor', id: 'lazy', behaviour: { module: url('../support/lazy-miner.ts') } },
      { kind: 'actor', id: 'other', behaviour: { module: bad, export: 'otherLayerMiner' } },
      { kind: 'actor', id: 'echo', behaviour: { module: bad, export: 'echoMiner' } },
      { kind: 'actor', id: 'zero', behaviour: { module: bad, export: 'zeroMiner' } },
      { kind: 'actor', id: 'shift', behaviour: { module: bad, export: 'shiftMiner' } },
      { kind: 'actor', id: 'truncating', behaviour: { module: bad, export: 'truncatingMiner' } },
    ],
  })
}, T)
after(async () => {
  await sys.shutdown()
}, T)

const session = (id: string): EncryptedSession => {
  const ref = sys.ref(`/root/${id}`)
  return new EncryptedSession({ model, modelId: 'factbook-gpt', ask: (m) => ref.ask(m, { timeoutMs: 120_000 }) })
}
const logits = (id: string): Promise<Float32Array> => forwardAsync(model, tokens, { linear: session(id).linear, lastOnly: true })

test('an honest miner: the int8 logits, bit for bit (the control for the tests below)', T, async () => {
  assert.deepEqual(await logits('honest'), forward(model, tokens, { linear: int8Linear(), lastOnly: true }))
})

test('a miner answering with another layer\'s result, or with zeros, changes the logits', T, async () => {
  const honest = await logits('honest')
  for (const id of ['other', 'zero']) {
    const got = await logits(id)
    assert.equal(got.length, honest.length)
    const changed = got.reduce((n, v, i) => n + (v !== honest[i] ? 1 : 0), 0)
    assert.ok(changed > got.length / 2, `${id}: ${changed} of ${got.length} logits changed`)
  }
})

test('a miner that evaluates another layer and signs a receipt naming the request it evaluated, not the one sent: ReceiptRejected (request)', T, async () => {
  await assert.rejects(logits('lazy'), (e: unknown) => (e as { _tag?: string; reason?: string })._tag === 'ReceiptRejected' && (e as { reason?: string }).reason === 'request')
})

test('a miner echoing the input ciphertexts gets a typed error, not logits', T, async () => {
  await assert.rejects(logits('echo'), (e: unknown) => (e as { _tag?: string })._tag === 'CiphertextDecodeError')
})

test('a reply with fewer result ciphertexts than the plan: ReplyMismatch', T, async () => {
  await assert.rejects(logits('truncating'), (e: unknown) => (e as { _tag?: string })._tag === 'ReplyMismatch')
})

test('every product the client uses is decrypted from the miner\'s reply: + SHIFT on the reply moves each output by SHIFT·scale', T, async () => {
  const honest = session('honest')
  const shifted = session('shift')
  let checked = 0
  const linear: AsyncLinearFn = async (x, rows, inDim, outDim, w, b, site) => {
    const y = await honest.linear(x, rows, inDim, outDim, w, b, site)
    const z = await shifted.linear(x, rows, inDim, outDim, w, b, site)
    // rescale: y = acc · a_step[r] · w_scale[j] + b[j], so acc + SHIFT moves y by SHIFT · a_step[r] · w_scale[j].
    const aq = quantizeRowsInt8(x, rows, inDim)
    const wq = quantizeWeightInt8(w, inDim, outDim)
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < outDim; j++) {
        const i = r * outDim + j
        const want = SHIFT * (aq.step[r] as number) * (wq.scale[j] as number)
        const got = (z[i] as number) - (y[i] as number)
        const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(y[i] as number), Math.abs(z[i] as number), 2 ** -126))) - 22)
        assert.ok(Math.abs(got - want) <= 2 * ulp + 1e-6 * Math.abs(want), `${site.name}@${site.layer} [${r},${j}]: moved by ${got}, expected ${want}`)
        assert.notEqual(got, 0)
      }
    }
    checked++
    return y
  }
  await forwardAsync(model, tokens, { linear, lastOnly: true })
  assert.equal(checked, 4 * model.config.nLayer, 'every dense product of the forward pass was checked')
  assert.equal(honest.stats.products, checked)
  assert.equal(shifted.stats.products, checked)
})
