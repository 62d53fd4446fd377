/**
 * A miner on another node (docs/NETWORK.md "A miner on another machine"), as two `based cluster up` processes on
 * loopback: node A is the network's validator with a Brain and a validator actor and no miner; node B follows A's
 * chain (`--join`) with `--brains 0 --miners 1 --wallet bob`. Checked: B's miner is registered and its signed
 * serveMiner record is on chain (peer id = B's, both signatures re-verified here); A's `inspect mailboxes` lists the
 * proxy as remote (table and JSON); an encrypted generation sent to A over libp2p (`generate --encrypted --peer A`, no
 * control endpoint) is served by B's miner (its product counter moves) with the same text as the plaintext int8 path
 * (test/net/netns.test.ts takes A's control endpoint); A's validator challenges it and an epoch
 * pays B's uid (emission and B's balance); the supply audit holds on both nodes; then `kill -9` B: A's Brain marks the
 * miner down and a new query ends in a typed error (no miner left).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fromAddress, fromHex, toHex, verifyServeRecord } from '../../ledger/index.ts'
import type { Metagraph } from '../../protocol/index.ts'
import { askControl, controlFetch } from '../../actors/control/client.ts'
import { findControl } from '../../actors/control/index.ts'
import { BOOTSTRAP, PASSPHRASE, based, nodeAArgs, nodeBArgs, prepareNetwork, runScript, spawnProc, BASED, type Proc } from './remote-helpers.ts'

/** Polls an async condition every 250 ms until it holds, or fails naming it. */
async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const start = Date.now()
  while (!(await pred())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

const PROMPT = ['The economy of', '--tokens', '2', '--temperature', '0']

test('a miner on another node: registered and served by signed record, listed remote, serves encrypted queries, challenged and paid; gone when its node dies', { timeout: 300_000 }, async (t) => {
  const t0 = Date.now()
  const lap = (what: string): void => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remote-miner-'))
  const net = prepareNetwork(dir, { blockMs: 400, tempo: 10 })
  const procs: Proc[] = []
  t.after(() => {
    for (const p of procs) p.child.kill('SIGKILL')
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const a = spawnProc(BASED, nodeAArgs(net, { bftListen: '/ip4/127.0.0.1/tcp/0', listen: '/ip4/127.0.0.1/tcp/0', validators: 1, challengeMs: 1500 }))
  procs.push(a)
  await until(() => a.out().includes('control: http://'), 90_000, `node A up\n${a.err()}`)
  const join = /bft: validator [0-9a-f]+ at (\S+)/.exec(a.out())?.[1] ?? ''
  assert.match(join, /\/p2p\//)
  lap('A up')
  const boot = await runScript(BOOTSTRAP, [net.aDir, '--validator'])
  assert.equal(boot.code, 0, boot.err)
  const brain = (JSON.parse(boot.out) as { brain: number }).brain
  lap(`Brain #${brain} and validator on chain`)

  const b = spawnProc(BASED, nodeBArgs(net, { bftListen: '/ip4/127.0.0.1/tcp/0', listen: '/ip4/127.0.0.1/tcp/0', join }), { env: { BASED_WALLET_PASSPHRASE: PASSPHRASE } })
  procs.push(b)
  await until(() => /serving: miner uid \d+/.test(b.out()), 150_000, `node B serving\n${b.out()}\n${b.err()}`)
  lap('B serving')
  const uid = Number(/serving: miner uid (\d+)/.exec(b.out())?.[1])
  const bPeer = /libp2p: \S+\/p2p\/(\S+)/.exec(b.out())?.[1] ?? ''
  assert.ok(bPeer.length > 40, b.out())

  // polls go to the control endpoints from this process (a CLI process per poll is slow on a loaded machine)
  const controlA = findControl(net.aDir)
  const controlB = findControl(net.bDir)
  // B's balance once its register and serveMiner fees are paid: it sends nothing more, so any rise is what it earns
  const balance = async (): Promise<bigint> => BigInt((await askControl(controlA, '/root/ledger/writer', { _tag: 'GetAccount', address: net.bob.personal })).based)
  const paidBefore = await balance()
  const metagraph = (): Promise<typeof Metagraph.Type> => askControl(controlA, '/root/ledger/writer', { _tag: 'GetMetagraph', brain }, 15_000)

  // on chain, seen from A: B's uid, its peer, both signatures of the binding; `metagraph --json` shows it too
  const cli = await based(['metagraph', '--brain', String(brain), '--json', '--data-dir', net.aDir])
  assert.equal(cli.code, 0, cli.err)
  assert.equal((JSON.parse(cli.out) as { rows: Array<{ uid: number; serving?: { peerId: string } }> }).rows.find((r) => r.uid === uid)?.serving?.peerId, bPeer)
  const row = (await metagraph()).rows.find((r) => r.uid === uid)
  assert.ok(row?.serving, 'B\'s miner row carries its serve record')
  assert.equal(row.role, 'miner')
  assert.equal(row.computeKey, net.bob.compute, 'the compute key is the wallet\'s, not a dev key')
  assert.equal(row.owner, net.bob.personal)
  assert.equal(row.serving.peerId, bPeer)
  assert.equal(row.serving.actor, '/root/miners/miner-1')
  assert.ok(row.serving.addrs.every((x) => x.endsWith(`/p2p/${bPeer}`)))
  const record = { ...row.serving, computeSig: fromHex(row.serving.computeSig), peerSig: fromHex(row.serving.peerSig) }
  assert.ok(verifyServeRecord('remote-miner-test', brain, toHex(fromAddress(row.computeKey)), record), 'compute-key and peer-key signatures hold')
  assert.ok(!verifyServeRecord('remote-miner-test', brain, toHex(fromAddress(row.computeKey)), { ...record, peerId: bPeer.slice(0, -1) + (bPeer.endsWith('x') ? 'y' : 'x') }))

  // A lists the proxy as remote
  const proxy = `/root/remote/b${brain}-uid${uid}`
  type Row = { address: string; role: string; remote?: { peerId: string; multiaddr: string; actor: string; uid: number; connected: boolean } }
  await until(async () => {
    const rows = (await (await controlFetch(`${controlA}/mailboxes`)).json()) as Row[]
    return rows.some((x) => x.address === proxy && x.remote?.connected === true)
  }, 60_000, 'A\'s proxy of B\'s miner connected')
  const [json, table] = await Promise.all([based(['inspect', 'mailboxes', '--json', '--data-dir', net.aDir]), based(['inspect', 'mailboxes', '--data-dir', net.aDir])])
  assert.equal(json.code, 0, json.err)
  const listed = (JSON.parse(json.out) as Row[]).find((x) => x.address === proxy)
  assert.equal(listed?.role, 'remote-miner')
  assert.deepEqual(listed.remote && { ...listed.remote, multiaddr: listed.remote.multiaddr.endsWith(`/p2p/${bPeer}`) }, { peerId: bPeer, multiaddr: true, actor: '/root/miners/miner-1', uid, connected: true })
  assert.equal(table.code, 0, table.err)
  const line = table.out.split('\n').find((l) => l.startsWith(proxy)) ?? ''
  assert.match(line, /remote-miner\s+remote\s+running/)
  assert.ok(line.includes(`[remote: ${bPeer} `) && line.includes('connected]'), line)
  lap('A lists it remote')

  // an encrypted generation through A is served by B's miner: the same text as the plaintext int8 path
  const productsOfB = async (): Promise<number> => Number((await askControl(controlB, '/root/miners/miner-1', { _tag: 'GetStatus' })).detail.encryptedProducts)
  const statusOfB = await askControl(controlB, '/root/miners/miner-1', { _tag: 'GetStatus' })
  assert.equal(statusOfB.detail.computeKey, toHex(fromAddress(net.bob.compute)), 'B\'s miner signs with the wallet\'s compute key')
  const before = await productsOfB()
  // over libp2p to A's net actor (no control endpoint): A's Brain routes to the proxy, which forwards to B
  const aPeer = /libp2p: (\/ip4\/\S+)/.exec(a.out())?.[1] ?? ''
  assert.match(aPeer, /\/p2p\//)
  const elsewhere = path.join(dir, 'client')
  const [enc, plain] = await Promise.all([
    based(['generate', ...PROMPT, '--encrypted', '--peer', aPeer, '--data-dir', elsewhere, '--control', 'http://127.0.0.1:1'], { timeoutMs: 150_000 }),
    based(['generate', ...PROMPT, '--int8'], { timeoutMs: 150_000 }),
  ])
  assert.equal(enc.code, 0, enc.err)
  assert.equal(plain.code, 0, plain.err)
  assert.equal(enc.out, plain.out, 'the same text as the plaintext int8 path')
  const served = (await productsOfB()) - before
  assert.ok(served > 0, 'B\'s miner computed the products')
  lap(`encrypted generation served by B (${served} products)`)

  // A's validator challenges the remote miner; an epoch pays B's uid
  await until(async () => {
    const r = (await metagraph()).rows.find((x) => x.uid === uid)
    return r !== undefined && r.emission !== null && BigInt(r.emission) > 0n && BigInt(r.incentive ?? '0') > 0n
  }, 90_000, 'an epoch paid B\'s uid')
  assert.ok((await balance()) > paidBefore, 'B\'s wallet received its emission')
  const scores = await askControl(controlA, '/root/validators/validator-1', { _tag: 'GetScores' })
  const mine = scores.miners.find((m) => m.miner === proxy)
  assert.ok(mine && mine.correct > 0, `A's validator challenged B's miner and it answered right: ${JSON.stringify(scores)}`)
  lap('challenged and paid')

  // the supply audit on both nodes
  for (const s of await Promise.all([net.aDir, net.bDir].map((d) => based(['chain', 'supply', '--json', '--data-dir', d])))) {
    assert.equal(s.code, 0, s.err)
    const audit = JSON.parse(s.out) as { supplyOk: boolean; basedIssued: string; basedHeld: string; height: number }
    assert.equal(audit.supplyOk, true, s.out)
    assert.equal(audit.basedHeld, audit.basedIssued, s.out)
  }

  // B dies: A's Brain marks the miner down and a new query ends in a typed error
  b.child.kill('SIGKILL')
  await b.exited
  await until(async () => (await askControl(controlA, '/root/brains/brain-1', { _tag: 'GetRouting' })).miners.find((x) => x.miner === proxy)?.down === true, 30_000, 'A\'s Brain marks the miner down')
  const after = await based(['generate', 'x', '--tokens', '1', '--encrypted', '--data-dir', net.aDir], { timeoutMs: 60_000 })
  assert.notEqual(after.code, 0)
  assert.match(after.err, /BrainRejection.*NoMiner|PeerLost/)
  lap('B killed: down, typed error')
})
