/**
 * Gossip peer scoring on the consensus node: 3 honest validators as separate processes on loopback and, in the place
 * of the fourth, a harness peer bound to validator 4's key that floods the consensus topic with badly signed votes
 * and undecodable messages. Each honest node rejects them (gossipsub's Reject: the harness's P4 penalty grows with
 * the square of the count), graylists it and disconnects it once its score falls below the threshold
 * (net/libp2p-transport.ts GOSSIP_SCORE), refusing its connections afterwards — while the three keep finalizing one
 * chain.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { askControl } from '../../actors/control/client.ts'
import { findControl } from '../../actors/control/index.ts'
import { startLocalNetwork, writeGenesis, type LocalNode } from '../../cli/network.ts'
import { GOSSIP_SCORE, Libp2pTransport } from '../../net/libp2p-transport.ts'
import { loadOrCreateValidatorKey } from '../../bft/chain-spec.ts'
import { encodeWire, signVote } from '../../bft/wire.ts'
import { signBinding } from '../../bft/binding.ts'
import { toHex } from 'basedai/ledger'

const WRITER = '/root/ledger/writer'
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

test('a peer flooding badly signed and undecodable consensus messages is scored down and disconnected; the others keep finalizing', { timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scoring-'))
  const children: ChildProcess[] = []
  let harness: Libp2pTransport | undefined
  let rebind: NodeJS.Timeout | undefined
  try {
    writeGenesis({ nodes: 4, dataDir: dir, validator: [], account: [], power: 1000, chainId: 'score-test', blockMs: 200, out: path.join(dir, 'genesis.json') })
    const { nodes } = await startLocalNetwork({ nodes: 4, dataDir: dir, blockMs: 200, skip: [4], onSpawn: (c) => children.push(c) })
    const control = (n: LocalNode): string => findControl(n.dataDir)
    const head = async (n: LocalNode) => askControl(control(n), WRITER, { _tag: 'GetHead' }, 10_000)
    const status = async (n: LocalNode) => (await askControl(control(n), WRITER, { _tag: 'GetStatus' }, 10_000)).detail
    const byz = loadOrCreateValidatorKey(path.join(dir, 'node-4'))
    const me = toHex(byz.publicKey)
    const topic = 'basedai/score-test/bft'

    harness = await Libp2pTransport.create({ listen: [], gossip: true })
    const h = harness
    harness.subscribe(topic, () => undefined)
    await Promise.all(nodes.map((n) => h.dial(n.multiaddr)))
    const binding = encodeWire({ type: 'binding', signed: signBinding('score-test', h.peerId, byz, Date.now()) })
    const publish = (bytes: Uint8Array): Promise<void> => h.publish(topic, bytes).catch(() => undefined)
    await publish(binding)
    rebind = setInterval(() => void publish(binding), 1000)
    // bound first (validator 4's peer), so that its votes are judged by their signatures
    for (let i = 0; i < 40; i++) {
      const s = await Promise.all(nodes.map(status))
      if (s.every((d) => Number(d.boundPeers) >= 3)) break
      await sleep(250)
    }
    const start = Math.min(...(await Promise.all(nodes.map(head))).map((x) => x.height))

    // the flood: 150 votes whose signatures do not hold and 50 undecodable messages, over about two seconds
    let sent = 0
    for (let i = 0; i < 200; i++) {
      if (i % 4 === 3) {
        await publish(new Uint8Array([0xee, i & 0xff, 1, 2, 3]))
      } else {
        const v = signVote('score-test', { type: 'prevote', height: start + 1, round: i, value: toHex(new Uint8Array(32).fill(i % 250)), from: me }, byz.secretKey)
        await publish(encodeWire({ type: 'vote', signed: { ...v, signature: v.signature.map((x, j) => (j === 5 ? x ^ 0x10 : x)) } }))
      }
      sent++
      if (i % 10 === 9) await sleep(100)
    }
    assert.equal(sent, 200)

    // every honest node disconnects the harness and reports it with a negative score
    const banned = await (async () => {
      for (let i = 0; i < 60; i++) {
        const s = await Promise.all(nodes.map(status))
        if (s.every((d) => String(d.scoreBanned).includes(h.peerId))) return s
        await sleep(250)
      }
      return Promise.all(nodes.map(status))
    })()
    for (const d of banned) {
      assert.ok(Number(d.scoreBans) >= 1, `a peer was disconnected for its score (${JSON.stringify({ scoreBans: d.scoreBans, scoreBanned: d.scoreBanned })})`)
      const m = new RegExp(`${h.peerId}:(-?[0-9.]+)`).exec(String(d.scoreBanned))
      assert.ok(m, 'the harness is the banned peer')
      assert.ok(Number(m[1]) < GOSSIP_SCORE.graylist, `its score ${m[1]} is below the graylist threshold`)
      assert.ok(Number(d.badSignatures) + Number(d.malformed) >= 100, `its messages were counted as invalid (${d.badSignatures} bad signatures, ${d.malformed} malformed)`)
    }
    for (let i = 0; i < 20 && h.connectedPeers().length > 0; i++) await sleep(250)
    assert.deepEqual(h.connectedPeers(), [], 'the harness has no connection left')
    // its connections are refused from now on: a new dial is closed by the node (its gater denies the peer once the
    // handshake names it), and nothing it sends is heard
    await h.dial(nodes[0]!.multiaddr, 3000).catch(() => undefined)
    for (let i = 0; i < 20 && h.connectedPeers().length > 0; i++) await sleep(250)
    assert.deepEqual(h.connectedPeers(), [], 'a redial by the banned peer does not stay connected')

    // meanwhile and afterwards the three honest nodes keep finalizing one chain
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline && Math.min(...(await Promise.all(nodes.map(head))).map((x) => x.height)) < start + 8) await sleep(300)
    const top = Math.min(...(await Promise.all(nodes.map(head))).map((x) => x.height))
    assert.ok(top >= start + 8, `the honest nodes kept finalizing (${start} → ${top})`)
    for (let k = start; k <= top; k++) {
      const blocks = await Promise.all(nodes.map((n) => askControl(control(n), WRITER, { _tag: 'GetBlock', height: k }, 10_000)))
      for (const b of blocks) assert.equal(b.hash, blocks[0]!.hash, `height ${k}: one chain`)
    }
    // the honest nodes kept each other: nobody else was banned
    for (const d of await Promise.all(nodes.map(status))) {
      assert.equal(String(d.scoreBanned).trim().split(/\s+/).filter(Boolean).length, 1, 'only the flooder is banned')
      assert.ok(Number(d.peers) >= 2, 'the honest nodes are still connected to each other')
    }
    process.stderr.write(`scoring: heights ${start} → ${top}; ${JSON.stringify(banned.map((d) => ({ scoreBanned: d.scoreBanned, bad: d.badSignatures, malformed: d.malformed })))}\n`)
  } finally {
    clearInterval(rebind)
    await harness?.close()
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve()
      c.once('exit', () => resolve())
      c.kill('SIGKILL')
    })))
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
