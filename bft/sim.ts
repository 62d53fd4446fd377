/**
 * A deterministic simulation of block agreement: the same `TendermintMachine` the node runs, driven over an
 * in-process network with seeded delays, reordering, losses and partitions, and a Byzantine minority. Everything
 * is a function of the seed, so a failing schedule replays exactly.
 *
 * Network model (partial synchrony): until `gstMs` each message is lost with probability `loss`, delayed uniformly
 * in [minDelayMs, maxDelayMs · 4], and dropped between the two sides of an active partition; from `gstMs` on every
 * message arrives within [minDelayMs, maxDelayMs]. Nodes re-gossip the current round's proposal and votes (and the prevotes behind their
 * valid value) every `gossipMs` (what gossipsub's mesh and CometBFT's gossip routines achieve), and answer a peer that is behind with
 * commit certificates. Optionally messages travel through a gossip mesh of `followers` non-voting peers with degree
 * `meshDegree`, to count what a larger network carries.
 *
 * Byzantine behaviours: `equivocate` (signs two different votes for each step and proposes two blocks, each to half
 * of the peers), `invalid` (proposes blocks that fail validation), `silent` (never sends), `random` (votes for
 * random blocks in random rounds), `fork` (proposes two blocks, one to each half of the peers, and prevotes and
 * precommits every block it is shown: with 1/3 of the power or more this forks the chain — the bound is tight).
 */
import { TendermintMachine, type Timeouts } from './machine.ts'
import type { Evidence, Input, Message, Output, Value } from './types.ts'
import { ValidatorSet } from './validators.ts'
import { mulberry32 } from '../numeric/prng.ts'

export type Byzantine = 'equivocate' | 'invalid' | 'silent' | 'random' | 'fork'

export interface Partition {
  readonly fromMs: number
  readonly toMs: number
  /** Node indices of one side; the rest are the other side. */
  readonly side: readonly number[]
}

export interface SimConfig {
  readonly seed: number
  readonly powers: readonly bigint[]
  readonly byzantine?: ReadonlyMap<number, Byzantine>
  readonly heights: number
  readonly minDelayMs?: number
  readonly maxDelayMs?: number
  readonly loss?: number
  readonly gstMs?: number
  readonly partitions?: readonly Partition[]
  readonly gossipMs?: number
  readonly maxTimeMs?: number
  readonly timeouts?: Timeouts
  /** Block size in bytes (for the bytes-per-height figures). */
  readonly blockBytes?: number
  /** Non-voting peers relaying through a gossip mesh (0: validators form a full mesh). */
  readonly followers?: number
  readonly meshDegree?: number
}

export interface SimResult {
  /** decided[node][height − 1] = block id (honest nodes only; undefined when not reached). */
  readonly decided: ReadonlyArray<ReadonlyArray<string | undefined>>
  readonly honest: readonly number[]
  /** Two honest nodes decided different blocks at one height. */
  readonly safetyViolation: string | undefined
  /** Every honest node decided every height. */
  readonly live: boolean
  /** Simulated time at which the last honest node decided the last height. */
  readonly finishedAtMs: number | undefined
  /** Per height: the time at which the last honest node decided it. */
  readonly finalityMs: readonly number[]
  readonly messages: number
  readonly bytes: number
  readonly evidence: readonly Evidence[]
}

interface Event {
  readonly at: number
  readonly seq: number
  readonly node: number
  readonly input: Input | 'gossip'
  /** The delivered message (for relaying through the mesh); undefined for local events. */
  readonly message?: Message
  readonly from?: number
}

/** A binary min-heap of events by (time, sequence). */
class Queue {
  private readonly heap: Event[] = []
  get size(): number {
    return this.heap.length
  }
  push(e: Event): void {
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }
  pop(): Event | undefined {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && less(h[l]!, h[m]!)) m = l
        if (r < h.length && less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}

function less(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

const VOTE_BYTES = 8 + 4 + 1 + 32 + 32 + 64 // height, round, type, block id, validator key, signature

function messageBytes(m: Message, blockBytes: number): number {
  if (m.type === 'vote') return VOTE_BYTES
  if (m.type === 'proposal') return 8 + 4 + 4 + 32 + 64 + blockBytes
  return blockBytes + m.certificate.precommits.length * VOTE_BYTES
}

const keys = new WeakMap<Message, string>()

function messageKey(m: Message): string {
  const k = keys.get(m)
  if (k !== undefined) return k
  const made = makeKey(m)
  keys.set(m, made)
  return made
}

function makeKey(m: Message): string {
  if (m.type === 'vote') return `v:${m.vote.type}:${m.vote.height}:${m.vote.round}:${m.vote.from}:${m.vote.value ?? '-'}`
  if (m.type === 'proposal') return `p:${m.proposal.height}:${m.proposal.round}:${m.proposal.from}:${m.proposal.value.id}`
  return `c:${m.certificate.height}`
}

export function simulate(config: SimConfig): SimResult {
  const rand = mulberry32(config.seed)
  const n = config.powers.length
  const ids = config.powers.map((_, i) => `v${String(i).padStart(3, '0')}`)
  const set = new ValidatorSet(config.powers.map((power, i) => ({ id: ids[i]!, power })))
  const byz = config.byzantine ?? new Map<number, Byzantine>()
  const minDelay = config.minDelayMs ?? 1
  const maxDelay = config.maxDelayMs ?? 20
  const loss = config.loss ?? 0
  const gst = config.gstMs ?? 0
  const gossipMs = config.gossipMs ?? 200
  const maxTime = config.maxTimeMs ?? 120_000
  const blockBytes = config.blockBytes ?? 1024
  const followers = config.followers ?? 0
  const total = n + followers
  const meshDegree = Math.min(config.meshDegree ?? 8, total - 1)
  const partitions = config.partitions ?? []
  const honest = [...Array(n).keys()].filter((i) => !byz.has(i))

  // A gossip mesh when there are followers: each peer keeps `meshDegree` random neighbours (symmetric).
  const mesh: number[][] = Array.from({ length: total }, () => [])
  if (followers > 0) {
    for (let i = 0; i < total; i++) {
      while (mesh[i]!.length < meshDegree) {
        const j = Math.floor(rand() * total)
        if (j !== i && !mesh[i]!.includes(j)) {
          mesh[i]!.push(j)
          if (!mesh[j]!.includes(i)) mesh[j]!.push(i)
        }
      }
    }
  }
  const seen: Array<Set<string>> = Array.from({ length: total }, () => new Set())

  let valueCounter = 0
  const machines: TendermintMachine[] = []
  for (let i = 0; i < total; i++) {
    const self = i < n ? ids[i] : undefined
    const behaviour = byz.get(i)
    machines.push(
      new TendermintMachine({
        self,
        height: 1,
        validators: () => set,
        getValue: (h) => {
          valueCounter++
          const bad = behaviour === 'invalid'
          return { id: `${bad ? 'BAD' : 'b'}:${h}:${self ?? i}:${valueCounter}`, data: new Uint8Array(0) }
        },
        valid: (_h, v: Value) => !v.id.startsWith('BAD'),
        ...(config.timeouts ? { timeouts: config.timeouts } : {}),
      }),
    )
  }

  const decided: Array<Array<string | undefined>> = Array.from({ length: n }, () => Array.from({ length: config.heights }, () => undefined))
  const finality: number[] = Array.from({ length: config.heights }, () => 0)
  const evidence: Evidence[] = []
  const queue = new Queue()
  let seq = 0
  let messages = 0
  let bytes = 0
  let now = 0

  const partitioned = (a: number, b: number, t: number): boolean => {
    for (const p of partitions) {
      if (t >= p.fromMs && t < p.toMs && p.side.includes(a) !== p.side.includes(b)) return true
    }
    return false
  }

  const deliver = (from: number, to: number, m: Message): void => {
    if (from === to) return
    messages++
    bytes += messageBytes(m, blockBytes)
    if (now < gst) {
      if (rand() < loss || partitioned(from, to, now)) return
      queue.push({ at: now + minDelay + rand() * (maxDelay * 4 - minDelay), seq: seq++, node: to, input: toInput(m), message: m, from })
    } else {
      queue.push({ at: now + minDelay + rand() * (maxDelay - minDelay), seq: seq++, node: to, input: toInput(m), message: m, from })
    }
  }

  const send = (from: number, m: Message, targets?: readonly number[]): void => {
    seen[from]!.add(messageKey(m))
    if (followers > 0 && !targets) {
      for (const j of mesh[from]!) deliver(from, j, m)
      return
    }
    for (const j of targets ?? [...Array(n).keys()]) deliver(from, j, m)
  }

  const emit = (node: number, outs: readonly Output[]): void => {
    const behaviour = byz.get(node)
    for (const o of outs) {
      switch (o.type) {
        case 'broadcast':
          if (behaviour === 'silent') break
          if (behaviour === 'fork') {
            if (o.message.type === 'proposal') {
              const half = [...Array(n).keys()].filter((j) => j % 2 === 0)
              const other = [...Array(n).keys()].filter((j) => j % 2 === 1)
              send(node, o.message, half)
              send(node, twin(o.message, node), other)
            }
            break
          }
          if (behaviour === 'equivocate' && o.message.type !== 'commit') {
            const half = [...Array(n).keys()].filter((j) => j % 2 === 0)
            const other = [...Array(n).keys()].filter((j) => j % 2 === 1)
            send(node, o.message, half)
            send(node, twin(o.message, node), other)
          } else if (behaviour === 'random' && o.message.type === 'vote') {
            const v = o.message.vote
            const value = rand() < 0.5 ? null : `b:${v.height}:rand:${Math.floor(rand() * 3)}`
            send(node, { type: 'vote', vote: { ...v, value, round: v.round + (rand() < 0.2 ? 1 : 0) } })
          } else send(node, o.message)
          break
        case 'send': {
          if (behaviour === 'silent') break
          const to = ids.indexOf(o.to)
          if (to >= 0) send(node, o.message, [to])
          break
        }
        case 'schedule':
          queue.push({ at: now + o.afterMs, seq: seq++, node, input: { type: 'timeout', kind: o.kind, height: o.height, round: o.round } })
          break
        case 'decide':
          if (node < n && !byz.has(node) && o.height <= config.heights) {
            decided[node]![o.height - 1] = o.value.id
            finality[o.height - 1] = Math.max(finality[o.height - 1]!, now)
          }
          queue.push({ at: now + 1, seq: seq++, node, input: { type: 'start' } })
          break
        case 'evidence':
          if (!byz.has(node)) evidence.push(o.evidence)
          break
        case 'rejected':
          break
      }
    }
  }

  /** The equivocator's second message: another block id, or nil, for the same step. */
  const twin = (m: Message, node: number): Message => {
    if (m.type === 'vote') return { type: 'vote', vote: { ...m.vote, value: m.vote.value === null ? `b:${m.vote.height}:twin:${node}` : null } }
    if (m.type === 'proposal') {
      valueCounter++
      return { type: 'proposal', proposal: { ...m.proposal, value: { id: `b:${m.proposal.height}:twin:${node}:${valueCounter}`, data: new Uint8Array(0) } } }
    }
    return m
  }

  for (let i = 0; i < total; i++) {
    queue.push({ at: rand() * 5, seq: seq++, node: i, input: { type: 'start' } })
    queue.push({ at: gossipMs + rand() * gossipMs, seq: seq++, node: i, input: 'gossip' })
  }

  const done = (): boolean => honest.every((i) => decided[i]![config.heights - 1] !== undefined)
  let finishedAt: number | undefined
  while (queue.size > 0) {
    const e = queue.pop()!
    now = e.at
    if (now > maxTime) break
    if (e.input === 'gossip') {
      if (byz.get(e.node) !== 'silent') for (const m of machines[e.node]!.gossipMessages()) send(e.node, m)
      if (!done()) queue.push({ at: now + gossipMs, seq: seq++, node: e.node, input: 'gossip' })
      continue
    }
    if (e.message) {
      const k = messageKey(e.message)
      if (followers > 0) {
        // gossip: process and relay a message the first time this peer sees it
        if (seen[e.node]!.has(k)) continue
        seen[e.node]!.add(k)
        for (const j of mesh[e.node]!) if (j !== e.from) deliver(e.node, j, e.message)
      }
    }
    if (byz.get(e.node) === 'fork' && e.message?.type === 'proposal') {
      // sign a prevote and a precommit for every block shown, to everyone
      const p = e.message.proposal
      for (const type of ['prevote', 'precommit'] as const) send(e.node, { type: 'vote', vote: { type, height: p.height, round: p.round, value: p.value.id, from: ids[e.node]! } })
    }
    if (e.node >= n) continue // followers only relay here (they would run the machine to follow; it sends nothing)
    emit(e.node, machines[e.node]!.step(e.input))
    if (done()) {
      finishedAt = now
      break
    }
  }

  let safetyViolation: string | undefined
  for (let h = 0; h < config.heights && !safetyViolation; h++) {
    let first: string | undefined
    for (const i of honest) {
      const d = decided[i]![h]
      if (d === undefined) continue
      if (first === undefined) first = d
      else if (d !== first) safetyViolation = `height ${h + 1}: ${first} vs ${d} (node ${i})`
    }
  }
  return { decided, honest, safetyViolation, live: done(), finishedAtMs: finishedAt, finalityMs: finality, messages, bytes, evidence }
}

function toInput(m: Message): Input {
  if (m.type === 'vote') return { type: 'vote', vote: m.vote }
  if (m.type === 'proposal') return { type: 'proposal', proposal: m.proposal }
  return { type: 'commit', value: m.value, certificate: m.certificate }
}
