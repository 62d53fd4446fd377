import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ActorSystem } from '../../supervisor/index.ts'
import { EncryptedSession, RerouteExhausted, isMinerGone, type AskMiner, type MinerRoute } from '../../gateway/index.ts'
import { generate, generateAsync, int8Linear, loadShippedModel } from '../../model/index.ts'
import { ActorStopped, AskTimeout, BrainRejection, MinerRejection, UnknownActor } from '../../protocol/index.ts'
import { rejectedWith } from '../support/rejection.ts'

const brain = new URL('../../actors/brain.ts', import.meta.url).href
const miner = new URL('../../actors/miner.ts', import.meta.url).href
const A = '/root/miner-a'
const B = '/root/miner-b'

function startTree(): Promise<ActorSystem> {
  return ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      { kind: 'actor', id: 'miner-a', behaviour: { module: miner }, mailbox: { capacity: 64 } },
      { kind: 'actor', id: 'miner-b', behaviour: { module: miner }, mailbox: { capacity: 64 } },
      { kind: 'actor', id: 'brain-1', behaviour: { module: brain }, args: { brainId: 1, miners: [A, B] } },
    ],
  })
}

/** The route the CLI builds, over in-process refs: MinerGone, then Route excluding the miners that failed. */
function routeVia(sys: ActorSystem, first: string, askOf: (address: string) => AskMiner, reroutes: string[]): MinerRoute {
  const b = sys.ref('/root/brain-1')
  return {
    miner: first,
    async next(gone, exclude) {
      await b.ask({ _tag: 'MinerGone', miner: gone })
      return (await b.ask({ _tag: 'Route', exclude: [...exclude] })).miner
    },
    askOf,
    onReroute: (from, to) => reroutes.push(`${from}->${to}`),
  }
}

test('isMinerGone: transport and actor-gone errors reroute; answers do not', () => {
  assert.ok(isMinerGone(new ActorStopped({ actor: A })))
  assert.ok(isMinerGone(new UnknownActor({ address: A })))
  assert.ok(isMinerGone(new AskTimeout({ actor: A, messageTag: 'EncryptedLinear', timeoutMs: 1 })))
  assert.ok(!isMinerGone(new MinerRejection({ actor: A, reason: 'DeadlineExceeded', message: 'late', detail: {} })))
  assert.ok(!isMinerGone(new Error('plain')))
  assert.ok(!isMinerGone(undefined))
})

// ~15 s on this loaded 2-core machine (two forward passes' worth of encrypted products); limit far below the runner's.
test('an encrypted generation whose miner stops mid-way is rerouted by the Brain and yields the int8 path\'s tokens', { timeout: 120_000 }, async (t) => {
  const sys = await startTree()
  t.after(() => sys.shutdown())
  const { model, tokenizer } = loadShippedModel()
  const prompt = tokenizer.encode('The economy of')
  const opts = { maxNewTokens: 3, temperature: 0.8, topK: 20, seed: 7 }
  const expected = [...generate(model, prompt, { ...opts, forward: { linear: int8Linear() } })]

  const b = sys.ref('/root/brain-1')
  const first = (await b.ask({ _tag: 'Route' })).miner
  assert.equal(first, A, 'least-loaded, then address order')
  const perPass = 4 * model.config.nLayer
  let toFirst = 0
  // Every ask goes through the actor system; the first miner is stopped by its supervisor (terminateChild) just
  // before its 6th product, in the middle of the first forward pass.
  const askOf = (address: string): AskMiner => {
    const ref = sys.ref(address)
    return async (m) => {
      if (address === first && ++toFirst === 6) assert.equal(await sys.supervisor('/root').terminateChild('miner-a'), true)
      return ref.ask(m, { timeoutMs: 60_000 })
    }
  }
  const reroutes: string[] = []
  const session = new EncryptedSession({ model, modelId: 'factbook-gpt', seed: 'reroute-test', ask: askOf(first), route: routeVia(sys, first, askOf, reroutes) })
  const got: number[] = []
  for await (const tok of generateAsync(model, prompt, { ...opts, linear: session.linear })) got.push(tok)

  assert.deepEqual(got, expected, 'same tokens as the int8 path')
  assert.deepEqual(reroutes, [`${A}->${B}`], 'one reroute, to the other miner')
  assert.deepEqual(session.miner, { current: B, gone: [A] })
  assert.equal(session.stats.products, opts.maxNewTokens * perPass, 'every product answered once (the failed one resent)')
  assert.equal(session.receipts.length, session.stats.products)
  assert.equal(new Set(session.receipts.map((r) => r.computeKey)).size, 2, 'receipts of both miners, each verified under its own key')

  // The Brain shows the dead miner down and routes nothing more to it.
  const table = await b.ask({ _tag: 'GetRouting' })
  assert.deepEqual(table.miners.map((m) => [m.miner, m.down]), [[A, true], [B, false]])
  for (let i = 0; i < 3; i++) assert.equal((await b.ask({ _tag: 'Route' })).miner, B)

  // Both gone: the next product finds B stopped too, the Brain has no miner left → BrainRejection NoMiner.
  assert.equal(await sys.supervisor('/root').terminateChild('miner-b'), true)
  const again = generateAsync(model, prompt, { ...opts, linear: session.linear })
  await assert.rejects(again.next(), rejectedWith(BrainRejection, 'NoMiner'))
  assert.deepEqual(session.miner.gone, [A, B])
  assert.deepEqual((await b.ask({ _tag: 'GetRouting' })).miners.map((m) => m.down), [true, true])
  assert.equal(sys.stats().find((s) => s.address === '/root/brain-1')?.restarts ?? 0, 0)
})

test('a session without a route passes a gone miner\'s error on; with a bound, RerouteExhausted', { timeout: 30_000 }, async () => {
  const { model } = loadShippedModel()
  const x = new Float32Array(model.config.nEmbd).fill(0.25)
  const w = new Float32Array(model.config.nEmbd * model.config.nEmbd).fill(0.01)
  const bias = new Float32Array(model.config.nEmbd)
  const gone: AskMiner = () => Promise.reject(new ActorStopped({ actor: A }))
  const plain = new EncryptedSession({ model, modelId: 'factbook-gpt', seed: 's', ask: gone })
  await assert.rejects(plain.linear(x, 1, model.config.nEmbd, model.config.nEmbd, w, bias, { layer: 0, name: 'proj' }), (e: unknown) => e instanceof ActorStopped)
  // A Brain that always names another miner, each one gone: the session stops after maxReroutes.
  let n = 0
  const bounded = new EncryptedSession({
    model, modelId: 'factbook-gpt', seed: 's', ask: gone,
    route: { miner: '/m/0', next: () => Promise.resolve(`/m/${++n}`), askOf: () => gone, maxReroutes: 2 },
  })
  await assert.rejects(bounded.linear(x, 1, model.config.nEmbd, model.config.nEmbd, w, bias, { layer: 0, name: 'proj' }), (e: unknown) => e instanceof RerouteExhausted && e.reroutes === 2 && e.lastError === 'ActorStopped')
  assert.equal(n, 2)
  // An answer (a MinerRejection) is not a gone miner: passed on, no reroute.
  const refusing = new EncryptedSession({
    model, modelId: 'factbook-gpt', seed: 's',
    ask: () => Promise.reject(new MinerRejection({ actor: A, reason: 'DeadlineExceeded', message: 'late', detail: {} })),
    route: { miner: A, next: () => assert.fail('no reroute on an answer'), askOf: () => gone },
  })
  await assert.rejects(refusing.linear(x, 1, model.config.nEmbd, model.config.nEmbd, w, bias, { layer: 0, name: 'proj' }), rejectedWith(MinerRejection, 'DeadlineExceeded'))
})
