import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ActorSystem } from '../../supervisor/index.ts'
import { EncryptedSession } from '../../gateway/index.ts'
import { forward, forwardAsync, int8Linear, loadShippedModel } from '../../model/index.ts'
import { FheRejection, MinerRejection } from '../../protocol/index.ts'
import { rejectedWith } from '../support/rejection.ts'

const miner = new URL('../../actors/miner.ts', import.meta.url).href

/** One miner in a worker thread, as the cluster runs it. */
function startMiner(): Promise<ActorSystem> {
  return ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [{ kind: 'actor', id: 'miner-1', behaviour: { module: miner }, placement: 'worker', mailbox: { capacity: 64 } }],
  })
}

// The test takes ~7 s on this loaded 2-core machine; its limit is far below the runner's 300 s (the asks' own 120 s
// limits never come into play). t.after shuts the system down even when the test times out.
test('encrypted inference through a miner actor in a worker thread: logits bit-identical to the int8 path; bad requests refused', { timeout: 30_000 }, async (t) => {
  const sys = await startMiner()
  t.after(() => sys.shutdown())
  try {
    const ref = sys.ref('/root/miner-1')
    const { model, tokenizer } = loadShippedModel()
    const session = new EncryptedSession({ model, modelId: 'factbook-gpt', ask: (m) => ref.ask(m, { timeoutMs: 120_000 }) })
    const tokens = tokenizer.encode('The economy of')
    const encrypted = await forwardAsync(model, tokens, { linear: session.linear, lastOnly: true })
    const plain = forward(model, tokens, { linear: int8Linear(), lastOnly: true })
    assert.deepEqual(encrypted, plain, 'same logits, bit for bit')
    assert.equal(session.stats.products, 4 * model.config.nLayer, 'every dense product went to the miner')
    assert.ok(session.stats.bytesUp > 0 && session.stats.bytesDown > 0)
    const status = await ref.ask({ _tag: 'GetStatus' })
    assert.equal(status.detail.encryptedProducts, 4 * model.config.nLayer)

    // Bad requests get typed errors; the miner keeps serving.
    const x = new Float32Array(model.config.nEmbd).fill(0.5)
    let captured: Parameters<ConstructorParameters<typeof EncryptedSession>[0]['ask']>[0] | undefined
    const spy = new EncryptedSession({ model, modelId: 'factbook-gpt', ask: async (m) => { captured = m; return ref.ask(m, { timeoutMs: 120_000 }) } })
    await spy.linear(x, 1, model.config.nEmbd, model.config.nEmbd, model.weights.layers[0]!.projW, model.weights.layers[0]!.projB, { layer: 0, name: 'proj' })
    const good = captured!
    const corrupt = good.inputs.map((c) => c.slice())
    corrupt[0]![corrupt[0]!.length - 40] ^= 0xff
    await assert.rejects(ref.ask({ ...good, inputs: corrupt }, { timeoutMs: 60_000 }), rejectedWith(FheRejection, 'CiphertextDecodeError'))
    await assert.rejects(ref.ask({ ...good, model: 'gpt-5' }), rejectedWith(MinerRejection, 'UnknownModel'))
    await assert.rejects(ref.ask({ ...good, layer: 7 }), rejectedWith(MinerRejection, 'UnknownSite'))
    await assert.rejects(ref.ask({ ...good, site: 'fc' }), rejectedWith(MinerRejection, 'PlanMismatch'))
    await assert.rejects(ref.ask({ ...good, preset: 'bfv1024' }), rejectedWith(MinerRejection, 'UnknownPreset'))
    await assert.rejects(ref.ask({ ...good, inputs: good.inputs.slice(1) }, { timeoutMs: 60_000 }), rejectedWith(FheRejection, 'InvalidOperand'))
    assert.equal((await ref.ask({ ...good }, { timeoutMs: 60_000 }))._tag, 'EncryptedLinearReply')
    assert.equal(sys.stats()[0]?.restarts, 0)
  } finally {
    await sys.shutdown()
  }
})

test('client encryption and decryption off the main thread (comlink worker): the same ciphertexts and logits as in this thread', { timeout: 60_000 }, async (t) => {
  const sys = await startMiner()
  t.after(() => sys.shutdown())
  const ref = sys.ref('/root/miner-1')
  const { model, tokenizer } = loadShippedModel()
  const tokens = tokenizer.encode('The capital of')
  const run = async (offThread: boolean): Promise<{ logits: Float32Array; sent: Uint8Array[][]; placement: string }> => {
    const sent: Uint8Array[][] = []
    const session = new EncryptedSession({
      model, modelId: 'factbook-gpt', seed: 'comlink-parity', offThread,
      ask: (m) => {
        sent.push([...m.inputs])
        return ref.ask(m, { timeoutMs: 60_000 })
      },
    })
    try {
      return { logits: await forwardAsync(model, tokens, { linear: session.linear, lastOnly: true }), sent, placement: session.cryptoPlacement }
    } finally {
      await session.close()
    }
  }
  const here = await run(false)
  const there = await run(true)
  assert.equal(here.placement, 'main')
  assert.equal(there.placement, 'worker')
  assert.equal(there.sent.length, 4 * model.config.nLayer)
  assert.deepEqual(there.sent, here.sent, 'identical input ciphertexts')
  assert.deepEqual(there.logits, here.logits, 'identical logits')
  assert.deepEqual(here.logits, forward(model, tokens, { linear: int8Linear(), lastOnly: true }))
})
