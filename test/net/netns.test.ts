/**
 * Two hosts in network namespaces joined by a veth pair: node A (the validator, with a Brain) in one, node B (a
 * miner for A's Brain, `--brains 0 --miners 1 --wallet bob`) in the other, each listening only on its own test address
 * (10.213.0.1 and 10.213.0.2, a /24 that exists only inside the namespaces this test creates). B joins A's chain over
 * the veth link, announces itself with its signed serveMiner record, and an encrypted generation through A is served
 * by B's miner with the same text as the plaintext int8 path. The namespaces (and the veth pair with them) are removed
 * after the test however it ends. Needs root and `ip netns` (CI runs as root); skipped otherwise, saying why.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fromAddress, toHex } from '../../ledger/index.ts'
import { BASED, BOOTSTRAP, PASSPHRASE, based, nodeAArgs, nodeBArgs, prepareNetwork, runScript, spawnProc, type Proc } from './remote-helpers.ts'

const tag = `${process.pid % 100_000}`
const NS_A = `based-a-${tag}`
const NS_B = `based-b-${tag}`
const VETH_A = `bva${tag}`
const VETH_B = `bvb${tag}`
const ADDR_A = '10.213.0.1'
const ADDR_B = '10.213.0.2'

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Why this test cannot run here, or undefined. */
function unavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces are Linux only'
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces (CI runs as root)'
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' })
  } catch {
    return '`ip netns` is not available'
  }
  return undefined
}

async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const start = Date.now()
  while (!(await pred())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

const skip = unavailable()

test('network namespaces: a miner node in one namespace serves encrypted queries for a Brain in the other', { timeout: 240_000, ...(skip ? { skip } : {}) }, async (t) => {
  const procs: Proc[] = []
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-miner-'))
  t.after(() => {
    for (const p of procs) p.child.kill('SIGKILL')
    for (const ns of [NS_A, NS_B]) {
      try {
        ip('netns', 'del', ns) // removes its end of the veth pair, and so the pair
      } catch {
        // not created
      }
    }
    fs.rmSync(dir, { recursive: true, force: true })
  })
  ip('netns', 'add', NS_A)
  ip('netns', 'add', NS_B)
  ip('link', 'add', VETH_A, 'type', 'veth', 'peer', 'name', VETH_B)
  ip('link', 'set', VETH_A, 'netns', NS_A)
  ip('link', 'set', VETH_B, 'netns', NS_B)
  for (const [ns, dev, addr] of [[NS_A, VETH_A, ADDR_A], [NS_B, VETH_B, ADDR_B]] as const) {
    ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev)
    ip('-n', ns, 'link', 'set', dev, 'up')
    ip('-n', ns, 'link', 'set', 'lo', 'up') // the control endpoint is loopback inside each namespace
  }

  const net = prepareNetwork(dir, { blockMs: 400, tempo: 100 })
  const a = spawnProc(BASED, nodeAArgs(net, { bftListen: `/ip4/${ADDR_A}/tcp/0`, listen: `/ip4/${ADDR_A}/tcp/0`, validators: 0 }), { ns: NS_A })
  procs.push(a)
  await until(() => a.out().includes('control: http://'), 90_000, `node A up in ${NS_A}\n${a.err()}`)
  const join = /bft: validator [0-9a-f]+ at (\S+)/.exec(a.out())?.[1] ?? ''
  assert.ok(join.startsWith(`/ip4/${ADDR_A}/`), join)
  const boot = await runScript(BOOTSTRAP, [net.aDir], { ns: NS_A })
  assert.equal(boot.code, 0, boot.err)
  const brain = (JSON.parse(boot.out) as { brain: number }).brain

  // no --wallet: B's data dir holds one wallet, the node's own
  const b = spawnProc(BASED, nodeBArgs(net, { bftListen: `/ip4/${ADDR_B}/tcp/0`, listen: `/ip4/${ADDR_B}/tcp/0`, join, wallet: false }), { ns: NS_B, env: { BASED_WALLET_PASSPHRASE: PASSPHRASE } })
  procs.push(b)
  await until(() => /serving: miner uid \d+/.test(b.out()), 150_000, `node B serving in ${NS_B}\n${b.out()}\n${b.err()}`)
  const uid = Number(/serving: miner uid (\d+)/.exec(b.out())?.[1])
  assert.match(b.err(), /the miner uses this node's wallet 'bob'/)
  assert.match(b.out(), new RegExp(`compute key ${toHex(fromAddress(net.bob.compute))}`), 'registered with the wallet\'s compute key')
  assert.match(b.out(), new RegExp(`serving: .* at /ip4/${ADDR_B.replaceAll('.', '\\.')}/tcp/\\d+/p2p/`), 'B announces its address on the veth link')

  // A reaches B's miner only across the veth link: its proxy is connected to B's address
  const proxy = `/root/remote/b${brain}-uid${uid}`
  await until(async () => {
    const r = await based(['inspect', 'mailboxes', '--json', '--data-dir', net.aDir], { ns: NS_A })
    const rows = JSON.parse(r.out || '[]') as Array<{ address: string; remote?: { multiaddr: string; connected: boolean } }>
    return rows.some((x) => x.address === proxy && x.remote?.connected === true && x.remote.multiaddr.startsWith(`/ip4/${ADDR_B}/`))
  }, 60_000, 'A\'s proxy connected to B across the namespaces')

  const products = async (): Promise<number> => {
    const r = await based(['ask', '/root/miners/miner-1', '{"_tag":"GetStatus"}', '--data-dir', net.bDir], { ns: NS_B })
    assert.equal(r.code, 0, r.err)
    return Number((JSON.parse(r.out) as { detail: { encryptedProducts: number } }).detail.encryptedProducts)
  }
  const before = await products()
  const prompt = ['The economy of', '--tokens', '2', '--temperature', '0']
  const [enc, plain] = await Promise.all([
    based(['generate', ...prompt, '--encrypted', '--data-dir', net.aDir], { ns: NS_A, timeoutMs: 150_000 }),
    based(['generate', ...prompt, '--int8'], { timeoutMs: 150_000 }),
  ])
  assert.equal(enc.code, 0, enc.err)
  assert.equal(plain.code, 0, plain.err)
  assert.equal(enc.out, plain.out, 'the same text as the plaintext int8 path')
  assert.ok((await products()) > before, 'B\'s miner, in the other namespace, computed the products')
})
