/**
 * `npm run bench -- actors`: message throughput of the actor runtime, beside raw worker_threads postMessage
 * measured in the same run.
 *
 * - one thread: `tell` of Probe messages to a main-thread actor (enqueue + handle), messages/s.
 * - across a worker thread, one-way: `send` of Probe messages to a worker-placed actor until all are handled;
 *   peer: raw postMessage of the same {sender, seq} objects to a bare worker that counts them.
 * - round trip: sequential `ask(Ping)` to a worker actor; peer: raw postMessage ping-pong.
 */
import { Worker } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { ActorSystem } from '../supervisor/index.ts'
import { cpuDescription, fmt, type BenchContext, type BenchSection } from './harness.ts'

const basic = new URL('../actors/basic.ts', import.meta.url).href

const RAW_WORKER = `
const { parentPort } = require('node:worker_threads')
let n = 0, target = -1
parentPort.on('message', (m) => {
  if (m === 'ping') { parentPort.postMessage('pong'); return }
  if (typeof m === 'number') { target = m; if (n >= target) parentPort.postMessage(n); return }
  n++
  if (n === target) parentPort.postMessage(n)
})
`

async function rawOneWay(n: number): Promise<number> {
  const w = new Worker(RAW_WORKER, { eval: true })
  await new Promise((r) => w.once('online', r))
  const t0 = performance.now()
  const done = new Promise((r) => w.once('message', r))
  for (let i = 0; i < n; i++) w.postMessage({ sender: 'raw', seq: i })
  w.postMessage(n)
  await done
  const ms = performance.now() - t0
  await w.terminate()
  return n / (ms / 1000)
}

async function rawRoundTrip(n: number): Promise<number> {
  const w = new Worker(RAW_WORKER, { eval: true })
  await new Promise((r) => w.once('online', r))
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const p = new Promise((r) => w.once('message', r))
    w.postMessage('ping')
    await p
  }
  const us = ((performance.now() - t0) * 1000) / n
  await w.terminate()
  return us
}

/** Median of `runs` measurements after one warm-up run (the JIT needs a few hundred thousand messages). */
async function median(runs: number, measure: () => Promise<number>): Promise<number> {
  await measure()
  const xs: number[] = []
  for (let i = 0; i < runs; i++) xs.push(await measure())
  xs.sort((a, b) => a - b)
  return xs[Math.floor(xs.length / 2)] ?? 0
}

/** Sends n probes (tell; send when the mailbox is full), waits until all are handled; returns msg/s. */
async function pushProbes(sys: ActorSystem, address: string, sender: string, n: number): Promise<number> {
  const sink = sys.ref(address)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    try {
      sink.tell({ _tag: 'Probe', sender, seq: i })
    } catch {
      await sink.send({ _tag: 'Probe', sender, seq: i })
    }
  }
  const report = await sink.ask({ _tag: 'GetProbeReport' }, { timeoutMs: 120_000 })
  const ms = performance.now() - t0
  const got = report.senders[sender]
  if (got?.received !== n || got.outOfOrder !== 0 || got.duplicates !== 0) throw new Error(`delivery broken: ${JSON.stringify(got)} for ${n}`)
  return n / (ms / 1000)
}

async function sinkSystem(placement: 'main' | 'worker'): Promise<ActorSystem> {
  return ActorSystem.start({
    kind: 'supervisor',
    id: 'bench',
    children: [{ kind: 'actor', id: 'sink', behaviour: { module: basic }, placement, mailbox: { capacity: placement === 'main' ? 1 << 16 : 1 << 14 } }],
  })
}

async function actorsOneThread(n: number, runs: number): Promise<number> {
  const sys = await sinkSystem('main')
  let round = 0
  const rate = await median(runs, () => pushProbes(sys, '/bench/sink', `r${round++}`, n))
  await sys.shutdown()
  return rate
}

async function actorsWorker(n: number, rounds: number, runs: number): Promise<{ oneWay: number; rttUs: number }> {
  const sys = await sinkSystem('worker')
  const sink = sys.ref('/bench/sink')
  let round = 0
  const oneWay = await median(runs, () => pushProbes(sys, '/bench/sink', `r${round++}`, n))
  const rttUs = await median(runs, async () => {
    const t1 = performance.now()
    for (let i = 0; i < rounds; i++) await sink.ask({ _tag: 'Ping' })
    return ((performance.now() - t1) * 1000) / rounds
  })
  await sys.shutdown()
  return { oneWay, rttUs }
}

export async function bench(ctx: BenchContext): Promise<BenchSection> {
  const n = ctx.quick ? 50_000 : 500_000
  const nw = ctx.quick ? 50_000 : 300_000
  const rounds = ctx.quick ? 1000 : 5000
  const runs = ctx.quick ? 1 : 3
  ctx.progress('raw postMessage one-way')
  const raw = await median(runs, () => rawOneWay(nw))
  ctx.progress('raw postMessage round trip')
  const rawRtt = await median(runs, () => rawRoundTrip(rounds))
  ctx.progress('actor, one thread')
  const local = await actorsOneThread(n, runs)
  ctx.progress('actor, worker thread')
  const w = await actorsWorker(nw, rounds, runs)
  return {
    title: 'Actors: message throughput',
    device: cpuDescription(),
    columns: ['path', 'actors', 'raw peer', 'ratio', 'target'],
    rows: [
      { path: 'one thread, tell (msg/s)', actors: fmt(local), 'raw peer': '—', ratio: '—', target: `≥ 2M msg/s: ${local >= 2e6 ? 'met' : 'not met'}` },
      {
        path: 'worker thread, one-way (msg/s)',
        actors: fmt(w.oneWay),
        'raw peer': fmt(raw),
        ratio: (w.oneWay / raw).toFixed(2),
        target: `≥ 0.70 of raw: ${w.oneWay / raw >= 0.7 ? 'met' : 'not met'}`,
      },
      {
        path: 'worker thread, round trip (µs)',
        actors: fmt(w.rttUs),
        'raw peer': fmt(rawRtt),
        ratio: (rawRtt / w.rttUs).toFixed(2),
        target: `≥ 0.70 of raw: ${rawRtt / w.rttUs >= 0.7 ? 'met' : 'not met'}`,
      },
    ],
    notes: [
      `${n} messages in one thread, ${nw} one-way across the thread, ${rounds} sequential round trips; median of ${runs} runs after a warm-up run; ratio = actors ÷ raw (for latency, raw ÷ actors).`,
      'Actor messages cross the thread as protocol frames (msgpack, Schema-validated on arrival) in batches; raw postMessage sends structured-clone objects one by one with no validation.',
    ],
  }
}
