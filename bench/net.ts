/**
 * `npm run bench -- net`: the network, measured.
 *
 * - Actor round trip over libp2p between two processes (sequential `ask(Ping)` to an actor served by another
 *   process on loopback: TCP, Noise, yamux), beside the same `ask` to an actor in a worker thread, in one run.
 * - 4 validator nodes on loopback (`based network local`, separate processes, block time 50 ms): time to finality
 *   of empty blocks (height increase over a window) and of one transfer (submit → included, seen by polling every
 *   20 ms), and transfers per second finalized for a burst of transfers submitted at all four nodes (counted from
 *   the blocks' own times), beside the single-node ledger executing and committing the same kind of block in this
 *   process.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { ActorSystem, RemoteRef } from '../supervisor/index.ts'
import { Libp2pTransport } from '../net/libp2p-transport.ts'
import { serveActors } from '../supervisor/transport.ts'
import { askControl } from '../actors/control/client.ts'
import { findControl } from '../actors/control/index.ts'
import { startLocalNetwork, writeGenesis, type LocalNode } from '../cli/network.ts'
import { Ledger, MemoryStore, defaultParams, signTx, testKeyPair, toAddress, toHex, tokens, withMinFee, type PreparedTx } from '../ledger/index.ts'
import { cpuDescription, fmt, type BenchContext, type BenchSection } from './harness.ts'

const basic = new URL('../actors/basic.ts', import.meta.url).href
const PEER_ENV = 'BASED_BENCH_NET_PEER'
const WRITER = '/root/ledger/writer'

async function sinkSystem(placement: 'main' | 'worker'): Promise<ActorSystem> {
  return ActorSystem.start({ kind: 'supervisor', id: 'bench', children: [{ kind: 'actor', id: 'sink', behaviour: { module: basic }, placement }] })
}

/** The other process: serves a sink actor over libp2p, prints its address, runs until stdin closes. */
async function runPeer(): Promise<void> {
  const sys = await sinkSystem('main')
  const t = await Libp2pTransport.create()
  serveActors(t, (a) => sys.lookup(a))
  process.stdout.write(`${t.addresses()[0]}\n`)
  process.stdin.resume()
  process.stdin.on('end', () => void t.close().then(() => sys.shutdown()).then(() => process.exit(0)))
}
if (process.env[PEER_ENV] === '1') await runPeer()

async function roundTrips(rounds: number): Promise<{ libp2pUs: number; workerUs: number }> {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname], { env: { ...process.env, [PEER_ENV]: '1' }, stdio: ['pipe', 'pipe', 'inherit'] })
  const addr = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('\n')) resolve(out.trim())
    })
    child.once('exit', (c) => reject(new Error(`peer exited ${c}`)))
  })
  const client = await Libp2pTransport.create({ listen: [] })
  const remote = new RemoteRef(client, addr, '/bench/sink')
  for (let i = 0; i < 50; i++) await remote.ask({ _tag: 'Ping' })
  let t0 = performance.now()
  for (let i = 0; i < rounds; i++) await remote.ask({ _tag: 'Ping' })
  const libp2pUs = ((performance.now() - t0) * 1000) / rounds
  await client.close()
  child.stdin?.end()
  const sys = await sinkSystem('worker')
  const sink = sys.ref('/bench/sink')
  for (let i = 0; i < 50; i++) await sink.ask({ _tag: 'Ping' })
  t0 = performance.now()
  for (let i = 0; i < rounds; i++) await sink.ask({ _tag: 'Ping' })
  const workerUs = ((performance.now() - t0) * 1000) / rounds
  await sys.shutdown()
  return { libp2pUs, workerUs }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface Net {
  nodes: LocalNode[]
  children: ChildProcess[]
  dir: string
}

async function fourNodes(senders: number): Promise<Net> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-net-'))
  writeGenesis({
    nodes: 4, dataDir: dir, validator: [], power: 1000, chainId: 'bench-net', blockMs: 50, out: path.join(dir, 'genesis.json'),
    account: Array.from({ length: senders }, (_, i) => `${toAddress(testKeyPair(`bench-net-${i}`).publicKey)}:1000000`),
  })
  const children: ChildProcess[] = []
  const { nodes } = await startLocalNetwork({ nodes: 4, dataDir: dir, blockMs: 50, onSpawn: (c) => children.push(c) })
  return { nodes, children, dir }
}

async function stop(net: Net): Promise<void> {
  await Promise.all(net.children.map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null) return resolve()
    c.once('exit', () => resolve())
    c.kill('SIGTERM')
  })))
  fs.rmSync(net.dir, { recursive: true, force: true })
}

/**
 * A control request that survives a busy node: under a burst a node's event loop can stall for seconds and the HTTP
 * keep-alive socket is then reset (ECONNRESET); ask again, up to 5 times.
 */
async function ask<T>(f: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f()
    } catch (e) {
      if (i >= 4) throw e
      await sleep(500)
    }
  }
}

const head = async (n: LocalNode): Promise<number> => (await askControl(findControl(n.dataDir), WRITER, { _tag: 'GetHead' }, 30_000)).height

export async function bench(ctx: BenchContext): Promise<BenchSection> {
  const rounds = ctx.quick ? 300 : 2000
  ctx.progress('actor round trip: libp2p between two processes, and a worker thread')
  const rt = await roundTrips(rounds)

  const senders = 40
  const perSender = ctx.quick ? 10 : 50
  const total = senders * perSender
  ctx.progress('4 nodes on loopback: starting')
  const net = await fourNodes(senders)
  const rows: Array<Record<string, string>> = []
  const notes: string[] = []
  try {
    const [n1] = net.nodes as [LocalNode]
    await sleep(2000)
    ctx.progress('4 nodes: empty blocks')
    const window = ctx.quick ? 3000 : 8000
    const h0 = await head(n1)
    const t0 = performance.now()
    await sleep(window)
    const h1 = await head(n1)
    const emptyBps = ((h1 - h0) * 1000) / (performance.now() - t0)

    ctx.progress('4 nodes: one transfer, submit → final')
    const info = await askControl(findControl(n1.dataDir), WRITER, { _tag: 'GetHead' }, 30_000)
    const fee = { base: BigInt(info.baseFee), byte: BigInt(info.byteFee) }
    const sink = testKeyPair('bench-net-sink').publicKey
    const tx = (i: number, nonce: bigint): PreparedTx => {
      const k = testKeyPair(`bench-net-${i}`)
      return signTx(withMinFee({ chainId: 'bench-net', from: k.publicKey, nonce, body: { kind: 'transfer', to: sink, amount: tokens(1) } }, fee.base, fee.byte), k.secretKey)
    }
    const latencies: number[] = []
    for (let j = 0; j < 5; j++) {
      const t = tx(0, BigInt(j))
      const s0 = performance.now()
      const r = await askControl(findControl(n1.dataDir), WRITER, { _tag: 'SubmitTx', tx: t.bytes }, 30_000)
      for (;;) {
        const s = await askControl(findControl(n1.dataDir), WRITER, { _tag: 'GetTxStatus', hash: r.hash }, 30_000)
        if (s.status === 'included') break
        await sleep(20)
      }
      latencies.push(performance.now() - s0)
    }
    latencies.sort((a, b) => a - b)

    ctx.progress(`4 nodes: ${total} transfers gossiped to all four nodes`)
    // a client peer joins the network's gossip and publishes signed transfers on the transaction topic, as fast as it can
    const client = await Libp2pTransport.create({ listen: [], gossip: true })
    let gossiped = 0
    let publishS = NaN
    const startHeight = await head(n1)
    try {
      client.subscribe('basedai/bench-net/tx', () => undefined)
      await Promise.all(net.nodes.map((n) => client.dial(n.multiaddr)))
      await sleep(1500) // subscriptions exchanged
      const all: PreparedTx[] = []
      for (let k = 0; k < perSender; k++) for (let i = 1; i < senders; i++) all.push(tx(i, BigInt(k)))
      const p0 = performance.now()
      // in order per sender (a node admits a sender's nonces in sequence), up to 64 publications in flight
      for (let i = 0; i < all.length; i += 64) {
        await Promise.all(all.slice(i, i + 64).map((t) => client.publish('basedai/bench-net/tx', t.bytes)))
        gossiped += Math.min(64, all.length - i)
      }
      publishS = (performance.now() - p0) / 1000
      const lastOf = all.slice(-(senders - 1)).map((t) => toHex(t.hash))
      const deadline = Date.now() + 90_000
      for (const h of lastOf) {
        for (;;) {
          const s = await ask(() => askControl(findControl(n1.dataDir), WRITER, { _tag: 'GetTxStatus', hash: h }, 30_000))
          if (s.status !== 'pending' && s.status !== 'unknown') break
          if (Date.now() > deadline) break
          await sleep(200)
        }
      }
    } finally {
      await client.close()
    }
    // count from the blocks themselves: every transfer in the blocks after the burst began, and the blocks' times
    const top = await ask(() => head(n1))
    let count = 0
    let biggest = 0
    let biggestMs = NaN
    let firstH = 0
    let lastH = 0
    const times = new Map<number, number>()
    for (let h = startHeight; h <= top; h++) {
      const b = await ask(() => askControl(findControl(n1.dataDir), WRITER, { _tag: 'GetBlock', height: h }, 30_000))
      times.set(h, b.time)
      const n = h === startHeight ? 0 : b.txs.filter((t) => t.kind === 'transfer').length
      if (n > 0) {
        count += n
        if (n > biggest) {
          biggest = n
          biggestMs = b.time - (times.get(h - 1) ?? NaN)
        }
        firstH ||= h
        lastH = h
      }
    }
    const spanS = firstH > 0 ? ((times.get(lastH) ?? 0) - (times.get(firstH - 1) ?? 0)) / 1000 : NaN
    const finalizedTps = count / spanS

    ctx.progress('single-node ledger: the same transfers, one block')
    const single = singleNode(total)
    rows.push(
      { measure: 'actor round trip, libp2p between two processes', value: `${fmt(rt.libp2pUs)} µs`, peer: `worker thread: ${fmt(rt.workerUs)} µs`, ratio: `${fmt(rt.libp2pUs / rt.workerUs)}×` },
      { measure: '4 nodes: empty blocks finalized', value: `${fmt(emptyBps)} blocks/s (${fmt(1000 / emptyBps)} ms/block)`, peer: 'block time 50 ms', ratio: '' },
      { measure: '4 nodes: one transfer, submit → final (median of 5)', value: `${fmt(latencies[2]!)} ms`, peer: 'target < 1,000 ms', ratio: latencies[2]! < 1000 ? 'met' : 'not met' },
      {
        measure: `4 nodes: ${count} transfers finalized (largest block: ${biggest} in ${fmt(biggestMs)} ms after its parent, ${fmt((biggest * 1000) / biggestMs)} transfers/s)`,
        value: `${fmt(finalizedTps)} transfers/s`,
        peer: `single node: ${fmt(single)} transfers/s`, ratio: `${fmt(finalizedTps / single)}× (target ≥ 5,000/s: ${finalizedTps >= 5000 ? 'met' : 'not met'})`,
      },
    )
    notes.push(
      `A client peer gossiped ${gossiped} signed transfers on the transaction topic in ${fmt(publishS)} s (${fmt(gossiped / publishS)} tx/s published); the finalized rate counts the transfers in the blocks that hold them, from the parent of the first such block to the last (block times), ${count} of ${gossiped} included.`,
      "Each node executes a proposed block once (validate), keeps its writes and recomputes the state root as it commits the decided block; gossipsub checks every message's peer signature and the node each transaction's; after each block a node re-admits what is left in its mempool (signatures checked again).",
    )
  } finally {
    await stop(net)
  }
  return {
    title: 'Network: libp2p round trip and 4-node finality on loopback',
    device: cpuDescription(),
    columns: ['measure', 'value', 'peer', 'ratio'],
    rows,
    notes,
  }
}

/** Transfers per second the single-node ledger executes and commits in one block (the same transfers, in process). */
function singleNode(n: number): number {
  const senders = 40
  const keys = Array.from({ length: senders }, (_, i) => testKeyPair(`bench-net-${i}`))
  const params = defaultParams({ chainId: 'bench-single' })
  const ledger = Ledger.open({ store: new MemoryStore(), genesis: { params, time: Date.now(), accounts: keys.map((k) => ({ publicKey: k.publicKey, based: tokens(1_000_000) })) } })
  const sink = testKeyPair('bench-net-sink').publicKey
  const txs: PreparedTx[] = []
  for (let j = 0; txs.length < n; j++) for (const k of keys) if (txs.length < n) txs.push(signTx(withMinFee({ chainId: 'bench-single', from: k.publicKey, nonce: BigInt(j), body: { kind: 'transfer', to: sink, amount: tokens(1) } }, params.baseFee, params.byteFee), k.secretKey))
  const t0 = performance.now()
  const r = ledger.produceBlock(txs, { time: ledger.nextBlockTime(), proposer: sink })
  return (r.included * 1000) / (performance.now() - t0)
}
