/**
 * A Byzantine validator among honest ones: 3 honest nodes as separate processes on loopback and, in the place of the
 * fourth validator (a quarter of the stake), this test holding its key and misbehaving on the consensus topic: votes
 * with bad signatures, two signed prevotes for different blocks in one round (equivocation), a proposal when it is
 * not the proposer, and, when it is, a well-formed block on the right parent with a wrong state root. Its peer id is
 * bound to validator 4 (a signed binding record, bft/binding.ts); it also publishes, first-hand, two conflicting
 * prevotes properly signed with validator 1's key (a peer speaking for another validator). The honest nodes keep
 * finalizing one chain without the bad block, count the bad signatures, record the evidence against validator 4,
 * and drop the impersonated votes, so validator 1 is never slashed.
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
import { Libp2pTransport } from '../../net/libp2p-transport.ts'
import { loadOrCreateValidatorKey, readChainSpec } from '../../bft/chain-spec.ts'
import { ValidatorSet } from '../../bft/index.ts'
import { decodeWire, encodeWire, signProposal, signVote } from '../../bft/wire.ts'
import { signBinding } from '../../bft/binding.ts'
import { blockHash, encodeBlock, fromHex, toHex } from 'basedai/ledger'

const WRITER = '/root/ledger/writer'
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

test('a Byzantine validator (bad signatures, equivocation, invalid blocks): no fork, invalid blocks rejected, evidence recorded', { timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byzantine-'))
  const children: ChildProcess[] = []
  let harness: Libp2pTransport | undefined
  let rebind: NodeJS.Timeout | undefined
  try {
    writeGenesis({ nodes: 4, dataDir: dir, validator: [], account: [], power: 1000, chainId: 'byz-test', blockMs: 200, out: path.join(dir, 'genesis.json') })
    const { nodes } = await startLocalNetwork({ nodes: 4, dataDir: dir, blockMs: 200, skip: [4], onSpawn: (c) => children.push(c) })
    assert.equal(nodes.length, 3)
    const chain = readChainSpec(path.join(dir, 'genesis.json'))
    const set = new ValidatorSet(chain.validators.map((v) => ({ id: toHex(v.publicKey), power: v.power })))
    const byz = loadOrCreateValidatorKey(path.join(dir, 'node-4'))
    const me = toHex(byz.publicKey)
    const honest1 = loadOrCreateValidatorKey(path.join(dir, 'node-1'))
    const v1 = toHex(honest1.publicKey)
    const control = (n: LocalNode): string => findControl(n.dataDir)
    const head = async (n: LocalNode) => askControl(control(n), WRITER, { _tag: 'GetHead' }, 10_000)

    harness = await Libp2pTransport.create({ listen: [], gossip: true })
    const topic = 'basedai/byz-test/bft'
    const badIds = new Set<string>()
    const done = new Set<string>()
    let sent = { badSig: 0, equivocations: 0, badBlocks: 0, notProposer: 0, impersonated: 0 }
    const h = harness
    const publish = (bytes: Uint8Array): void => void h.publish(topic, bytes).catch(() => undefined)
    const attack = async (height: number, round: number): Promise<void> => {
      const key = `${height}:${round}`
      if (done.has(key)) return
      done.add(key)
      const a = toHex(new Uint8Array(32).fill((height * 7 + round) % 250 + 1))
      const b = toHex(new Uint8Array(32).fill((height * 7 + round) % 250 + 2))
      // a vote whose signature is not its signer's
      const forged = signVote('byz-test', { type: 'prevote', height, round, value: a, from: me }, byz.secretKey)
      publish(encodeWire({ type: 'vote', signed: { ...forged, signature: forged.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) } }))
      sent.badSig++
      // two properly signed prevotes for different blocks in one round
      publish(encodeWire({ type: 'vote', signed: signVote('byz-test', { type: 'prevote', height, round, value: a, from: me }, byz.secretKey) }))
      publish(encodeWire({ type: 'vote', signed: signVote('byz-test', { type: 'prevote', height, round, value: b, from: me }, byz.secretKey) }))
      sent.equivocations++
      // a peer bound to validator 4 speaking for validator 1: two conflicting prevotes with validator 1's real key
      publish(encodeWire({ type: 'vote', signed: signVote('byz-test', { type: 'prevote', height, round, value: a, from: v1 }, honest1.secretKey) }))
      publish(encodeWire({ type: 'vote', signed: signVote('byz-test', { type: 'prevote', height, round, value: b, from: v1 }, honest1.secretKey) }))
      sent.impersonated++
      // out of turn: a proposal sent at once (its block does not matter: a proposal from the wrong proposer is refused
      // before its block is looked at; sent before the height can close, so that the honest nodes still judge it)
      if (set.proposer(height, round) !== me) {
        const header = {
          chainId: 'byz-test', height, parentHash: new Uint8Array(32).fill(3), stateRoot: new Uint8Array(32).fill(9), txRoot: new Uint8Array(32),
          time: Date.now(), proposer: byz.publicKey,
        }
        const id = toHex(blockHash(header))
        badIds.add(id)
        publish(encodeWire({ type: 'proposal', signed: signProposal('byz-test', { height, round, validRound: -1, from: me, value: { id, data: encodeBlock({ header, txs: [] }) } }, byz.secretKey) }))
        sent.notProposer++
        return
      }
      // our turn: a block on the right parent whose state root is wrong
      const parent = await head(nodes[0]!)
      if (parent.height + 1 !== height) return
      const header = {
        chainId: 'byz-test', height, parentHash: fromHex(parent.hash), stateRoot: new Uint8Array(32).fill(9), txRoot: new Uint8Array(32),
        time: Date.now(), proposer: byz.publicKey,
      }
      const id = toHex(blockHash(header))
      badIds.add(id)
      publish(encodeWire({ type: 'proposal', signed: signProposal('byz-test', { height, round, validRound: -1, from: me, value: { id, data: encodeBlock({ header, txs: [] }) } }, byz.secretKey) }))
      sent.badBlocks++
    }
    harness.subscribe(topic, (data) => {
      try {
        const m = decodeWire(data)
        if (m.type === 'vote') attack(m.signed.vote.height, m.signed.vote.round).catch(() => undefined)
        else if (m.type === 'proposal') attack(m.signed.proposal.height, m.signed.proposal.round).catch(() => undefined)
      } catch {
        // not ours to judge
      }
    })
    await Promise.all(nodes.map((n) => harness!.dial(n.multiaddr)))
    // the harness's peer id bound to validator 4, published by the harness itself (as a node does), every second
    const binding = encodeWire({ type: 'binding', signed: signBinding('byz-test', harness.peerId, byz, Date.now()) })
    publish(binding)
    rebind = setInterval(() => publish(binding), 1000)
    const start = (await head(nodes[0]!)).height
    const deadline = Date.now() + 90_000
    while (Date.now() < deadline && (sent.badBlocks < 1 || (await head(nodes[0]!)).height < start + 8)) await sleep(300)
    assert.ok(sent.badBlocks >= 1, `the harness got a turn to propose (sent ${JSON.stringify(sent)})`)
    const top = Math.min(...(await Promise.all(nodes.map(head))).map((x) => x.height))
    assert.ok(top >= start + 8, 'the three honest nodes kept finalizing')
    for (let k = start; k <= top; k++) {
      const blocks = await Promise.all(nodes.map((n) => askControl(control(n), WRITER, { _tag: 'GetBlock', height: k }, 10_000)))
      for (const b of blocks) assert.equal(b.hash, blocks[0]!.hash, `height ${k}: no fork`)
      assert.ok(!badIds.has(blocks[0]!.hash), `height ${k}: the invalid block was not finalized`)
    }
    const stats = await Promise.all(nodes.map((n) => askControl(control(n), WRITER, { _tag: 'GetStatus' }, 10_000)))
    for (const s of stats) {
      assert.ok(Number(s.detail.badSignatures) > 0, 'bad signatures counted, never fed to the machine')
      assert.ok(Number(s.detail.evidence) > 0, 'equivocation recorded as evidence')
      assert.ok(Number(s.detail.rejected) > 0, 'out-of-turn proposals rejected (NotProposer)')
      assert.ok(Number(s.detail.impersonations) > 0, 'votes for validator 1 from the peer bound to validator 4 dropped')
      assert.ok(Number(s.detail.boundPeers) >= 3, 'the other two honest nodes and the harness are bound')
    }
    // the evidence reaches a block: validator 4's power is slashed (10% per offence height) on every honest node
    const slashed = await Promise.all(nodes.map(async (n) => {
      for (let i = 0; i < 50; i++) {
        const s = await askControl(control(n), WRITER, { _tag: 'GetStatus' }, 10_000)
        const m = new RegExp(`${me.slice(0, 16)}:(\\d+)`).exec(String(s.detail.validatorPowers))
        if (m && BigInt(m[1]!) < 1000n) return BigInt(m[1]!)
        await sleep(300)
      }
      return 1000n
    }))
    for (const p of slashed) assert.ok(p < 1000n, `validator 4 slashed (${p})`)
    // validator 1's conflicting prevotes never reached a machine: no evidence against it, its power intact
    const final = await Promise.all(nodes.map((n) => askControl(control(n), WRITER, { _tag: 'GetStatus' }, 10_000)))
    for (const s of final) assert.match(String(s.detail.validatorPowers), new RegExp(`${v1.slice(0, 16)}:1000\\b`), 'validator 1 not slashed')
    sent = { ...sent }
    process.stderr.write(`byzantine: ${JSON.stringify(sent)}; validator 4's power now ${slashed.join(', ')} of 1000; honest counters ${JSON.stringify(stats.map((s) => ({ bad: s.detail.badSignatures, evidence: s.detail.evidence, rejected: s.detail.rejected, impersonations: s.detail.impersonations, unbound: s.detail.unbound })))}\n`)
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
