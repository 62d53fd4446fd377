/**
 * The remote-miner proxy (actors/remote-miner.ts) in one process, over real libp2p: node A runs a Brain, a local
 * miner and the proxy of a miner served by node B (another libp2p node with its own tree). B's libp2p node stops in
 * the middle of an encrypted generation: the product in flight ends in the typed `PeerLost`, the session tells the
 * Brain and is rerouted to A's local miner, and the tokens are the int8 path's. The proxy then redials with
 * exponential back-off (capped), answers `PeerLost` at once while down, and when B is back on the same address and
 * peer id it reconnects and registers the miner with the Brain again (down mark cleared). A proxy whose record binds B's
 * peer to another compute key refuses B's answers (`MinerRejection UnboundReceipt`): their receipts are not that key's.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { ActorSystem } from '../../supervisor/index.ts'
import { Libp2pTransport, PeerGuard, serveGuarded, withRequestDeadlines } from '../../net/index.ts'
import { remoteMinerRole } from '../../actors/remote-miner.ts'
import { EncryptedSession, type AskMiner, type MinerRoute } from '../../gateway/index.ts'
import { generate, generateAsync, int8Linear, loadShippedModel } from '../../model/index.ts'
import { MinerRejection, type EncryptedLinear } from '../../protocol/index.ts'
import { devKeys, toHex } from '../../ledger/index.ts'
import { rejectedWith } from '../support/rejection.ts'

const minerModule = new URL('../../actors/miner.ts', import.meta.url).href
const brainModule = new URL('../../actors/brain.ts', import.meta.url).href
const LOCAL = '/root/miners/miner-a'
const PROXY = '/root/remote/b1-uid1'

async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const start = Date.now()
  while (!(await pred())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

// ~20 s on this loaded 2-core machine (two tokens of an encrypted generation, half of it on each miner).
test('a remote miner whose node goes away mid-generation: PeerLost, rerouted, same tokens; redial with back-off, back when its node is', { timeout: 120_000 }, async (t) => {
  // node B: a miner served to peers through the guard
  const sysB = await ActorSystem.start({
    kind: 'supervisor', id: 'root', children: [{ kind: 'supervisor', id: 'miners', children: [{ kind: 'actor', id: 'miner-1', behaviour: { module: minerModule }, args: { dev: 3 }, mailbox: { capacity: 64 } }] }],
  })
  t.after(() => sysB.shutdown())
  const keyB = await generateKeyPair('Ed25519')
  const serveB = async (listen: string): Promise<Libp2pTransport> => {
    const tr = await Libp2pTransport.create({ privateKey: keyB, listen: [listen] })
    serveGuarded(tr, withRequestDeadlines((a) => sysB.lookup(a)), new PeerGuard())
    return tr
  }
  let serverB = await serveB('/ip4/127.0.0.1/tcp/0')
  t.after(() => serverB.close())
  const addrB = serverB.addresses()[0] as string

  // node A: a Brain, a local miner, the proxy of B's miner (through A's own transport)
  const transportA = await Libp2pTransport.create({ listen: [] })
  t.after(() => transportA.close())
  const sysA = await ActorSystem.start({
    kind: 'supervisor', id: 'root', children: [
      { kind: 'supervisor', id: 'miners', children: [{ kind: 'actor', id: 'miner-a', behaviour: { module: minerModule }, mailbox: { capacity: 64 } }] },
      { kind: 'supervisor', id: 'brains', children: [{ kind: 'actor', id: 'brain-1', behaviour: { module: brainModule }, args: { miners: [LOCAL] } }] },
      {
        kind: 'supervisor', id: 'remote', children: [remoteMinerRole.create('b1-uid1', {
          brain: 1, uid: 1, computeKey: toHex(devKeys.minerCompute(3).publicKey), peerId: serverB.peerId, addrs: [addrB], actor: '/root/miners/miner-1',
          brainActor: '/root/brains/brain-1', heartbeatMs: 300, backoffMs: 100, maxBackoffMs: 800,
        }, { transport: () => transportA }),
        // a record binding B's peer to another compute key: B's answers through it are not attributable, refused
        remoteMinerRole.create('b1-uid2', {
          brain: 1, uid: 2, computeKey: 'ab'.repeat(32), peerId: serverB.peerId, addrs: [addrB], actor: '/root/miners/miner-1',
          brainActor: '/root/brains/none', heartbeatMs: 300,
        }, { transport: () => transportA })],
      },
    ],
  })
  t.after(() => sysA.shutdown())
  const brain = sysA.ref('/root/brains/brain-1')
  const proxy = sysA.ref(PROXY)
  const status = async (): Promise<Record<string, string | number | boolean>> => (await proxy.ask({ _tag: 'GetStatus' })).detail
  // the first heartbeat reaches B: the proxy registers the miner with the Brain, showing B's own status
  await until(async () => (await brain.ask({ _tag: 'GetRouting' })).miners.some((m) => m.miner === PROXY && !m.down), 20_000, 'the proxy registered with the Brain')
  const st = await status()
  assert.equal(st.remote, true)
  assert.equal(st.peerId, serverB.peerId)
  assert.equal(st.connected, true)
  assert.match(String(st.weightsHash), /^[0-9a-f]{64}$/, 'B\'s miner\'s own status (its weights hash) through the proxy')

  const { model, tokenizer } = loadShippedModel()
  const prompt = tokenizer.encode('The economy of')
  const opts = { maxNewTokens: 2, temperature: 0.8, topK: 20, seed: 7 }
  const expected = [...generate(model, prompt, { ...opts, forward: { linear: int8Linear() } })]
  // an answer whose receipt is not the bound compute key's is refused (typed), whatever it computed
  await until(async () => (await sysA.ref('/root/remote/b1-uid2').ask({ _tag: 'GetStatus' })).detail.connected === true, 20_000, 'the second proxy connected')
  const x = new Float32Array(model.config.nEmbd).fill(0.25)
  const unbound = new EncryptedSession({ model, modelId: 'factbook-gpt', seed: 'unbound', ask: (m) => sysA.ref('/root/remote/b1-uid2').ask(m, { timeoutMs: 60_000 }) })
  const w = new Float32Array(model.config.nEmbd * model.config.nEmbd).fill(0.01)
  await assert.rejects(unbound.linear(x, 1, model.config.nEmbd, model.config.nEmbd, w, new Float32Array(model.config.nEmbd), { layer: 0, name: 'proj' }), rejectedWith(MinerRejection, 'UnboundReceipt'))
  assert.equal((await sysA.ref('/root/remote/b1-uid2').ask({ _tag: 'GetStatus' })).detail.badReceipts, 1)
  assert.equal(await sysA.supervisor('/root/remote').terminateChild('b1-uid2'), true)

  const first = (await brain.ask({ _tag: 'Route', exclude: [LOCAL] })).miner
  assert.equal(first, PROXY)
  let toRemote = 0
  let lostWith = ''
  let sample: typeof EncryptedLinear.Type | undefined
  const askOf = (address: string): AskMiner => {
    const ref = sysA.ref(address)
    return async (m) => {
      sample ??= m
      // B's libp2p node stops just before the remote miner's 6th product
      if (address === PROXY && ++toRemote === 6) await serverB.close()
      try {
        return await ref.ask(m, { timeoutMs: 60_000 })
      } catch (e) {
        if (address === PROXY) lostWith = String((e as { _tag?: string })._tag)
        throw e
      }
    }
  }
  const reroutes: string[] = []
  const route: MinerRoute = {
    miner: first,
    async next(gone, exclude) {
      await brain.ask({ _tag: 'MinerGone', miner: gone })
      return (await brain.ask({ _tag: 'Route', exclude: [...exclude] })).miner
    },
    askOf,
    onReroute: (from, to) => reroutes.push(`${from}->${to}`),
  }
  const session = new EncryptedSession({ model, modelId: 'factbook-gpt', seed: 'remote-reroute', ask: askOf(first), route })
  const got: number[] = []
  for await (const tok of generateAsync(model, prompt, { ...opts, linear: session.linear })) got.push(tok)
  assert.deepEqual(got, expected, 'same tokens as the int8 path')
  assert.equal(lostWith, 'PeerLost', 'the product in flight on the remote miner ended in the typed PeerLost')
  assert.deepEqual(reroutes, [`${PROXY}->${LOCAL}`])
  assert.equal((await brain.ask({ _tag: 'GetRouting' })).miners.find((m) => m.miner === PROXY)?.down, true, 'the Brain routes nothing more to it')

  // while B is away: PeerLost at once, redials back off exponentially up to the cap
  assert.ok(sample)
  const t0 = Date.now()
  await assert.rejects(proxy.ask(sample, { timeoutMs: 10_000 }), (e: unknown) => (e as { _tag?: string })._tag === 'PeerLost')
  assert.ok(Date.now() - t0 < 2000, 'answered at once, not after a timeout')
  await until(async () => Number((await status()).failures) >= 4, 20_000, 'four failed redials')
  const down = await status()
  assert.equal(down.connected, false)
  assert.ok(Number(down.retryInMs) <= 800, `the back-off is capped (${String(down.retryInMs)} ms)`)
  assert.ok(Number(down.lost) >= 1)

  // B back on the same address and peer id: reconnected, registered again (the Brain's down mark cleared)
  serverB = await serveB(addrB.slice(0, addrB.indexOf('/p2p/')))
  await until(async () => (await status()).connected === true, 20_000, 'the proxy reconnected')
  await until(async () => (await brain.ask({ _tag: 'GetRouting' })).miners.find((m) => m.miner === PROXY)?.down === false, 10_000, 'the Brain routes to it again')
  const reply = await proxy.ask({ ...sample, deadline: Date.now() + 60_000 }, { timeoutMs: 60_000 })
  assert.equal(reply._tag, 'EncryptedLinearReply')
})
