/**
 * `npm run bench -- net`: the network, measured.
 *
 * - Actor round trip over libp2p between two processes (sequential `ask(Ping)` to an actor served by another
 *   process on loopback: TCP, Noise, yamux), beside the same `ask` to an actor in a worker thread, in one run.
 * - 4 validator nodes on loopback (`based network local`, separate processes, block time 50 ms): empty blocks
 *   finalized per second and their time to finality (a block's time — its proposal — to its commit by the last of
 *   the four, from the nodes' status); one transfer submitted → final; 2,000-transfer blocks (2,000 transfers
 *   published by a client peer in one gossip message, so that one block takes them all): their time to finality and
 *   the rate it allows, and publish → final at node 1; then 5 × 2,000 published at once → transfers finalized per
 *   second end to end; each beside the single-node ledger executing and committing a 2,000-transfer block in this
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
import { encodeTxBatch } from '../bft/tx-gossip.ts'
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

const status = async (n: LocalNode): Promise<Record<string, unknown>> => (await ask(() => askControl(findControl(n.dataDir), WRITER, { _tag: 'GetStatus' }, 30_000))).detail

/** The node's last committed blocks: height, transactions, ms from the block's time (its proposal) to its commit there. */
async function recentBlocks(n: LocalNode): Promise<Array<{ height: number; txs: number; ms: number }>> {
  return String((await status(n)).recentBlocks ?? '').split(' ').filter(Boolean).map((e) => {
    const [height, txs, ms] = e.split(':').map(Number) as [number, number, number]
    return { height, txs, ms }
  })
}

/** CPU seconds (user + system) a process has used so far, from /proc (undefined where there is none). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return undefined
  }
}

const timingOf = (d: Record<string, unknown>): Map<string, number> =>
  new Map(String(d.timing ?? '').split(' ').filter(Boolean).map((e) => {
    const [k, v] = e.split(':') as [string, string]
    return [k, Number(v)]
  }))

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/** Time to finality of block h: from its time (the proposal) until the last of the nodes committed it. */
async function finalityAtAll(net: Net, heights: ReadonlySet<number>): Promise<Map<number, { txs: number; ms: number }>> {
  const out = new Map<number, { txs: number; ms: number }>()
  for (const n of net.nodes) {
    for (const b of await recentBlocks(n)) {
      if (!heights.has(b.height)) continue
      const prev = out.get(b.height)
      out.set(b.height, { txs: b.txs, ms: Math.max(prev?.ms ?? 0, b.ms) })
    }
  }
  return out
}

export async function bench(ctx: BenchContext): Promise<BenchSection> {
  const rounds = ctx.quick ? 300 : 2000
  ctx.progress('actor round trip: libp2p between two processes, and a worker thread')
  const rt = await roundTrips(rounds)

  const senders = 40
  const BLOCK = 2000
  const single2000 = ctx.quick ? 2 : 4
  const sustained = ctx.quick ? 2 : 5
  ctx.progress('4 nodes on loopback: starting')
  const net = await fourNodes(senders + 1)
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
    const emptyFinal = [...(await finalityAtAll(net, new Set(Array.from({ length: h1 - h0 }, (_, i) => h0 + 1 + i)))).values()].filter((b) => b.txs === 0).map((b) => b.ms)

    ctx.progress('4 nodes: one transfer, submit → final')
    const info = await askControl(findControl(n1.dataDir), WRITER, { _tag: 'GetHead' }, 30_000)
    const fee = { base: BigInt(info.baseFee), byte: BigInt(info.byteFee) }
    const sink = testKeyPair('bench-net-sink').publicKey
    const keys = Array.from({ length: senders + 1 }, (_, i) => testKeyPair(`bench-net-${i}`))
    const nonces = keys.map(() => 0n)
    const tx = (i: number): PreparedTx => {
      const k = keys[i]!
      const nonce = nonces[i]!
      nonces[i] = nonce + 1n
      return signTx(withMinFee({ chainId: 'bench-net', from: k.publicKey, nonce, body: { kind: 'transfer', to: sink, amount: tokens(1) } }, fee.base, fee.byte), k.secretKey)
    }
    const latencies: number[] = []
    for (let j = 0; j < 5; j++) {
      const t = tx(0)
      const s0 = performance.now()
      const r = await askControl(findControl(n1.dataDir), WRITER, { _tag: 'SubmitTx', tx: t.bytes }, 30_000)
      for (;;) {
        const s = await askControl(findControl(n1.dataDir), WRITER, { _tag: 'GetTxStatus', hash: r.hash }, 30_000)
        if (s.status === 'included') break
        await sleep(20)
      }
      latencies.push(performance.now() - s0)
    }

    // a client peer joins the network's gossip and publishes signed transfers on the transaction topic, 2,000 per message
    const client = await Libp2pTransport.create({ listen: [], gossip: true })
    const batch = (): PreparedTx[] => {
      const out: PreparedTx[] = []
      for (let k = 0; k < BLOCK / senders; k++) for (let i = 1; i <= senders; i++) out.push(tx(i))
      return out
    }
    /**
     * Waits until every transaction of `txs` is final at node 1 and returns when the last of them was seen final (ms,
     * performance.now()): the batch's last transaction is polled, then each sender's last one is checked (a batch is
     * admitted in one step, so its transactions normally share a block).
     */
    const finalAt = async (txs: readonly PreparedTx[]): Promise<number | undefined> => {
      const last = new Map<string, string>()
      for (const t of txs) last.set(toHex(t.tx.from), toHex(t.hash))
      const deadline = Date.now() + 120_000
      const order = [toHex(txs[txs.length - 1]!.hash), ...last.values()]
      let seen = 0
      for (const h of order) {
        for (;;) {
          const s = await ask(() => askControl(findControl(n1.dataDir), WRITER, { _tag: 'GetTxStatus', hash: h }, 30_000))
          if (s.status === 'included' || s.status === 'failed') break
          if (Date.now() > deadline) return undefined
          seen = 0
          await sleep(s.status === 'pending' ? 10 : 25)
        }
        seen ||= performance.now()
      }
      return seen
    }
    const roundMs: number[] = []
    let sustainedTps = NaN
    let sustainedNote = ''
    let cpuTotal = NaN
    let cpuPerK = NaN
    let timingNote = ''
    const fullBlocks = new Map<number, { txs: number; ms: number }>()
    let startHeight = 0
    try {
      client.subscribe('basedai/bench-net/tx', () => undefined)
      await Promise.all(net.nodes.map((n) => client.dial(n.multiaddr)))
      await sleep(1500) // subscriptions exchanged
      startHeight = await ask(() => head(n1))
      for (let r = 0; r < single2000; r++) {
        ctx.progress(`4 nodes: ${BLOCK} transfers in one gossip message → final (${r + 1} of ${single2000})`)
        const txs = batch()
        const p0 = performance.now()
        await client.publish('basedai/bench-net/tx', encodeTxBatch(txs.map((t) => t.bytes)))
        const at = await finalAt(txs)
        if (at === undefined) throw new Error('the 2,000 transfers were not final within 120 s')
        roundMs.push(at - p0)
        await sleep(500)
      }
      const top1 = await ask(() => head(n1))
      for (const [h, b] of await finalityAtAll(net, new Set(Array.from({ length: top1 - startHeight }, (_, i) => startHeight + 1 + i)))) if (b.txs >= BLOCK / 2) fullBlocks.set(h, b)

      ctx.progress(`4 nodes: ${sustained} × ${BLOCK} transfers published at once → all final`)
      const all: PreparedTx[][] = Array.from({ length: sustained }, () => batch())
      const from = await ask(() => head(n1))
      const cpu0 = net.nodes.map((n) => cpuSeconds(n.pid))
      const timing0 = (await Promise.all(net.nodes.map(status))).map(timingOf)
      const p0 = performance.now()
      for (const txs of all) await client.publish('basedai/bench-net/tx', encodeTxBatch(txs.map((t) => t.bytes)))
      const at = await finalAt(all.flat())
      const ok = at !== undefined
      const spanMs = (at ?? performance.now()) - p0
      const cpu1 = net.nodes.map((n) => cpuSeconds(n.pid))
      const timing1 = (await Promise.all(net.nodes.map(status))).map(timingOf)
      const to = await ask(() => head(n1))
      const sizes: number[] = []
      for (let h = from + 1; h <= to; h++) {
        const b = await ask(() => askControl(findControl(n1.dataDir), WRITER, { _tag: 'GetBlock', height: h }, 30_000))
        const n = b.txs.filter((t) => t.kind === 'transfer').length
        if (n > 0) sizes.push(n)
      }
      const count = sizes.reduce((a, b) => a + b, 0)
      sustainedTps = (count * 1000) / spanMs
      sustainedNote = `${count} of ${sustained * BLOCK} transfers final ${ok ? '' : '(timed out) '}in ${fmt(spanMs)} ms, in ${sizes.length} blocks of ${sizes.join(', ')}`
      const used = cpu0.map((c, i) => (c === undefined || cpu1[i] === undefined ? NaN : cpu1[i]! - c))
      cpuTotal = used.reduce((a, b) => a + b, 0)
      cpuPerK = (cpuTotal * 1000) / count
      const parts = new Map<string, number>()
      timing1.forEach((t, i) => {
        for (const [k, v] of t) parts.set(k, (parts.get(k) ?? 0) + v - (timing0[i]?.get(k) ?? 0))
      })
      timingNote = [...parts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmt(v)} ms`).join(', ')
    } finally {
      await client.close()
    }
    const details = await Promise.all(net.nodes.map(status))

    ctx.progress('single-node ledger: the same transfers, one block')
    const { tps: single, cpuPerK: singleCpuPerK } = singleNode(BLOCK)
    const fullMs = [...fullBlocks.values()].map((b) => b.ms)
    const fullFinality = median(fullMs)
    const consensusTps = (BLOCK * 1000) / fullFinality
    const e2e = median(roundMs)
    rows.push(
      { measure: 'actor round trip, libp2p between two processes', value: `${fmt(rt.libp2pUs)} µs`, peer: `worker thread: ${fmt(rt.workerUs)} µs`, ratio: `${fmt(rt.libp2pUs / rt.workerUs)}×` },
      {
        measure: 'empty blocks: finalized per second (time to finality: proposal → committed by all 4, median)',
        value: `${fmt(emptyBps)} blocks/s (${fmt(median(emptyFinal))} ms)`, peer: 'block time 50 ms; target < 1,000 ms', ratio: median(emptyFinal) < 1000 ? 'met' : 'not met',
      },
      { measure: 'one transfer, submitted at a node → final (median of 5)', value: `${fmt(median(latencies))} ms`, peer: 'target < 1,000 ms', ratio: median(latencies) < 1000 ? 'met' : 'not met' },
      {
        measure: `${BLOCK}-transfer blocks: time to finality (proposal → committed by all 4, median of ${fullMs.length}) and the rate it allows`,
        value: `${fmt(fullFinality)} ms: ${fmt(1000 / fullFinality)} blocks/s, ${fmt(consensusTps)} transfers/s`,
        peer: `single node: ${fmt(single)} transfers/s`, ratio: `${fmt(consensusTps / single)}×`,
      },
      {
        measure: `${BLOCK} transfers in one gossip message → final at node 1 (median of ${roundMs.length}: gossip, signature checks, admission, agreement)`,
        value: `${fmt(e2e)} ms: ${fmt((BLOCK * 1000) / e2e)} transfers/s`, peer: `single node: ${fmt(single)} transfers/s`, ratio: `${fmt((BLOCK * 1000) / e2e / single)}×`,
      },
      {
        measure: `${sustained} × ${BLOCK} transfers published at once → all final at node 1 (transfers finalized per second)`,
        value: `${fmt(sustainedTps)} transfers/s`, peer: `single node: ${fmt(single)} transfers/s`,
        ratio: `${fmt(sustainedTps / single)}× (target ≥ 5,000/s: ${sustainedTps >= 5000 ? 'met' : 'not met'})`,
      },
      {
        measure: `the same run: CPU time of the 4 node processes per 1,000 transfers finalized, and the rate ${os.cpus().length} idle cores would allow`,
        value: `${fmt(cpuPerK)} CPU s per 1,000 (${fmt(cpuTotal)} s in all): ${fmt((os.cpus().length * 1000) / cpuPerK)} transfers/s`,
        peer: `single node: ${fmt(singleCpuPerK)} CPU s per 1,000`, ratio: `${fmt(cpuPerK / singleCpuPerK)}× the CPU`,
      },
    )
    notes.push(
      `Sustained run: ${sustainedNote}. A client peer publishes the transfers on the transaction topic, ${BLOCK} per gossip message; every node verifies each signature once (on libuv's threadpool), admits the transfers in arrival order, and a block's transactions are not verified again when it is proposed, validated or committed.`,
      `The four node processes and the client share this machine's CPUs (${os.cpus().length}): each transfer's signature is verified by all four nodes, each block executed by all four.`,
      `Where the 4 nodes' event loops spent the sustained run (summed over the nodes, wall ms on the event loop; signature checks of gossiped transactions run on libuv's threadpool and count only in the CPU row): ${timingNote}. The rest of the CPU is libp2p (Noise encryption, yamux, gossipsub's protobuf and signatures on every message), LMDB and GC.`,
      `Node 1 after the run: ${JSON.stringify({ decided: details[0]?.decided, badTxSignatures: details[0]?.badTxSignatures, signaturesCached: details[0]?.signaturesCached, gossipAdmitted: details[0]?.gossipAdmitted, errors: details[0]?.errors })}.`,
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

/**
 * The single-node ledger executing and committing one block of the same transfers in process (each signature
 * verified once, inline): transfers per second (wall) and CPU seconds per 1,000 transfers.
 */
function singleNode(n: number): { tps: number; cpuPerK: number } {
  const senders = 40
  const keys = Array.from({ length: senders }, (_, i) => testKeyPair(`bench-net-${i}`))
  const params = defaultParams({ chainId: 'bench-single' })
  const ledger = Ledger.open({ store: new MemoryStore(), genesis: { params, time: Date.now(), accounts: keys.map((k) => ({ publicKey: k.publicKey, based: tokens(1_000_000) })) } })
  const sink = testKeyPair('bench-net-sink').publicKey
  const txs: PreparedTx[] = []
  for (let j = 0; txs.length < n; j++) for (const k of keys) if (txs.length < n) txs.push(signTx(withMinFee({ chainId: 'bench-single', from: k.publicKey, nonce: BigInt(j), body: { kind: 'transfer', to: sink, amount: tokens(1) } }, params.baseFee, params.byteFee), k.secretKey))
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  const r = ledger.produceBlock(txs, { time: ledger.nextBlockTime(), proposer: sink })
  const c = process.cpuUsage(c0)
  return { tps: (r.included * 1000) / (performance.now() - t0), cpuPerK: ((c.user + c.system) / 1e6) * (1000 / r.included) }
}
