/**
 * The cluster trees of "a miner on another machine" (cli/cluster.ts), without starting anything: node A (Brains and
 * libp2p) gets the `remote` supervisor and the `served-miners` actor; node B (`--brains 0 --miners 1 --wallet W`) gets
 * one miner whose compute key is the wallet's (no dev key) and nothing of the remote machinery; the combinations that
 * cannot work are typed refusals. Plus the proxy's dial targets.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { clusterSpec, DEFAULT_CLUSTER, type ClusterOptions } from '../../cli/cluster.ts'
import { dialTargets } from '../../actors/remote-miner.ts'
import type { ChildSpecInput } from '../../supervisor/index.ts'

const base: ClusterOptions = { ...DEFAULT_CLUSTER, dataDir: '/tmp/serve-config-never-created', controlPort: 0 }
const ids = (children: readonly ChildSpecInput[]): string[] => children.map((c) => c.id)
const child = (children: readonly ChildSpecInput[], id: string): ChildSpecInput | undefined => children.find((c) => c.id === id)

test('node A: proxies of remote miners under /root/remote, kept by served-miners; none without Brains or without libp2p', () => {
  const a = clusterSpec({ ...base, brains: 1, miners: 0, validators: 1 }, () => undefined)
  assert.deepEqual(ids(a.children), ['ledger', 'brains', 'miners', 'remote', 'served-miners', 'validators', 'net', 'control'])
  const served = child(a.children, 'served-miners')
  assert.ok(served?.kind === 'actor')
  assert.deepEqual(served.args, { brains: [{ actor: '/root/brains/brain-1', index: 1 }], validators: [{ actor: '/root/validators/validator-1', brain: 1 }] })
  assert.equal(served.role, 'served-miners')
  assert.deepEqual(ids(clusterSpec({ ...base, listen: [] }, () => undefined).children), ['ledger', 'brains', 'miners', 'validators', 'control'])
})

test('node B: one miner with the wallet\'s key for a Brain elsewhere; typed refusals', () => {
  const b = clusterSpec({ ...base, brains: 0, miners: 1, validators: 0, wallet: 'bob', serveBrain: 7 }, () => undefined)
  assert.deepEqual(ids(b.children), ['ledger', 'brains', 'miners', 'validators', 'net', 'control'])
  const miners = child(b.children, 'miners')
  assert.ok(miners?.kind === 'supervisor')
  const m = miners.children[0]
  assert.ok(m?.kind === 'actor')
  assert.deepEqual(m.args, { brainId: 7, wallet: { dataDir: base.dataDir, name: 'bob' } }, 'the wallet, no dev index, no local Brain\'s hash')
  const refused = (o: Partial<ClusterOptions>, field: string): void =>
    assert.throws(() => clusterSpec({ ...base, ...o }, () => undefined), (e: unknown) => (e as { _tag?: string; field?: string })._tag === 'InvalidClusterConfig' && (e as { field: string }).field === field)
  refused({ brains: 0, miners: 1, validators: 0 }, '--miners')
  refused({ brains: 0, miners: 2, validators: 0, wallet: 'bob' }, '--wallet')
  refused({ brains: 0, miners: 1, validators: 0, wallet: 'bob', listen: [] }, '--no-net')
})

test('dial targets: each announced multiaddr with its /p2p part, then the bare peer id', () => {
  const peer = '12D3KooWExamplePeerIdExamplePeerIdExamplePeer'
  assert.deepEqual(dialTargets(peer, ['/ip4/10.213.0.2/tcp/4001', `/ip4/10.213.0.2/tcp/4001/p2p/${peer}`, '/dns4/b.example/tcp/4001']), [
    `/ip4/10.213.0.2/tcp/4001/p2p/${peer}`, `/dns4/b.example/tcp/4001/p2p/${peer}`, peer,
  ])
})
