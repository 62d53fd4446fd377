/**
 * The live observer's server side (Erlang's observer, for this system), mounted on the control endpoint
 * (actors/control/index.ts, which checks the auth token first):
 *
 *   GET /observer                 → the page (index.html, plain HTML/CSS/JS in this directory, no build step)
 *   GET /observer/observer.js|css → its script and style
 *   GET /observer/snapshot        → one snapshot as JSON (what each event carries)
 *   GET /events, Accept: text/event-stream → a snapshot every SAMPLE_MS (server-sent events). Without that Accept
 *                                   header /events keeps its old answer (the supervisor events as JSON).
 *
 * A snapshot: every actor's stats (the /mailboxes rows), the supervision tree, the recent supervisor events, and —
 * refreshed every SLOW_MS by asking the actors — the chain head (GetHead to the ledger writer), the net actor's
 * status (peers) and each Brain's metagraph (GetBrains + GetMetagraph). Those asks show up in the ledger's
 * message counts while a page is open. One sampler serves every open page and runs only while one is open.
 */
import fs from 'node:fs'
import type http from 'node:http'
import type { ActorStats } from '../../index.ts'
import type { ReplyFor } from '../../../protocol/index.ts'
import type { ActorSystem, SupervisorEvent, TreeNode } from '../../../supervisor/index.ts'

export const SAMPLE_MS = 500
export const SLOW_MS = 2000
const LEDGER = '/root/ledger/writer'
const NET = '/root/net'
const MAX_BRAINS = 16
const KEEP_EVENTS = 64

/** A section the observer could not fill, and why (shown on the page as such). */
export interface Unavailable {
  readonly ok: false
  readonly reason: string
}
export type Section<T> = { readonly ok: true; readonly value: T } | Unavailable

export interface ObserverSnapshot {
  readonly at: number
  readonly pid: number
  readonly mailboxes: readonly ActorStats[]
  readonly tree: TreeNode
  readonly events: readonly SupervisorEvent[]
  readonly chain: Section<ReplyFor<{ _tag: 'GetHead' }>>
  readonly peers: Section<Readonly<Record<string, string | number | boolean>>>
  readonly metagraphs: Section<ReadonlyArray<ReplyFor<{ _tag: 'GetMetagraph'; brain: number }>>>
}

const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/observer': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/observer/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/observer/observer.js': { file: 'observer.js', type: 'text/javascript; charset=utf-8' },
  '/observer/observer.css': { file: 'observer.css', type: 'text/css; charset=utf-8' },
}

/** Same-origin only: no inline script, no third party. */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"

function why(e: unknown): string {
  if (e && typeof e === 'object' && '_tag' in e) {
    const tag = String((e as { _tag: unknown })._tag)
    const msg = 'messageTag' in e ? ` ${String((e as { messageTag: unknown }).messageTag)}` : ''
    return `${tag}${msg}`
  }
  return e instanceof Error ? e.message : String(e)
}

export class ObserverHub {
  private readonly system: () => ActorSystem | undefined
  private readonly clients = new Set<http.ServerResponse>()
  private timer: NodeJS.Timeout | undefined
  private slow: Pick<ObserverSnapshot, 'chain' | 'peers' | 'metagraphs'> = {
    chain: { ok: false, reason: 'not asked yet' },
    peers: { ok: false, reason: 'not asked yet' },
    metagraphs: { ok: false, reason: 'not asked yet' },
  }
  private slowAt = 0
  private slowInFlight: Promise<void> | undefined
  private closed = false

  constructor(system: () => ActorSystem | undefined) {
    this.system = system
  }

  /** Serves the observer's routes; false when the request is not one of them. */
  async handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
    if (req.method !== 'GET') return false
    const asset = ASSETS[url.pathname]
    if (asset) {
      const body = await fs.promises.readFile(new URL(asset.file, import.meta.url))
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' })
      res.end(body)
      return true
    }
    if (url.pathname === '/observer/snapshot') {
      const snap = await this.snapshot(true)
      res.writeHead(snap ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(JSON.stringify(snap ?? { error: 'cluster not started' }))
      return true
    }
    if (url.pathname === '/events' && (req.headers.accept ?? '').includes('text/event-stream')) {
      this.subscribe(req, res)
      return true
    }
    return false
  }

  private subscribe(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    res.write(`retry: 1000\n\n`)
    this.clients.add(res)
    const drop = (): void => {
      this.clients.delete(res)
      if (this.clients.size === 0 && this.timer) {
        clearInterval(this.timer)
        this.timer = undefined
      }
    }
    req.on('close', drop)
    res.on('error', drop)
    void this.tick()
    if (!this.timer && !this.closed) this.timer = setInterval(() => void this.tick(), SAMPLE_MS)
  }

  private async tick(): Promise<void> {
    if (this.clients.size === 0) return
    let data: string
    try {
      const snap = await this.snapshot(false)
      if (!snap) return
      data = `data: ${JSON.stringify(snap)}\n\n`
    } catch (e) {
      data = `event: failure\ndata: ${JSON.stringify({ reason: why(e) })}\n\n`
    }
    for (const c of this.clients) c.write(data)
  }

  /**
   * The current snapshot (undefined while the system is not up); the slow sections are refreshed when older than
   * SLOW_MS (awaited when `wait`).
   */
  async snapshot(wait: boolean): Promise<ObserverSnapshot | undefined> {
    const system = this.system()
    if (!system || system.isDown) return undefined
    if (Date.now() - this.slowAt >= SLOW_MS && !this.slowInFlight) {
      this.slowInFlight = this.refreshSlow(system).finally(() => {
        this.slowAt = Date.now()
        this.slowInFlight = undefined
      })
    }
    if (wait && this.slowInFlight) await this.slowInFlight
    return {
      at: Date.now(),
      pid: process.pid,
      mailboxes: system.stats(),
      tree: system.tree(),
      events: system.events().slice(-KEEP_EVENTS),
      ...this.slow,
    }
  }

  private async refreshSlow(system: ActorSystem): Promise<void> {
    const ledger = system.lookup(LEDGER)
    const net = system.lookup(NET)
    const opts = { timeoutMs: 1500 }
    let chain: ObserverSnapshot['chain'] = { ok: false, reason: `no ledger actor at ${LEDGER}` }
    let metagraphs: ObserverSnapshot['metagraphs'] = { ok: false, reason: `no ledger actor at ${LEDGER}` }
    let peers: ObserverSnapshot['peers'] = { ok: false, reason: `no net actor at ${NET} (started with --no-net?)` }
    if (ledger) {
      try {
        chain = { ok: true, value: await ledger.ask({ _tag: 'GetHead' }, opts) }
      } catch (e) {
        chain = { ok: false, reason: why(e) }
      }
      try {
        const brains = await ledger.ask({ _tag: 'GetBrains' }, opts)
        const graphs = []
        for (const brain of brains.ids.slice(0, MAX_BRAINS)) graphs.push(await ledger.ask({ _tag: 'GetMetagraph', brain }, opts))
        metagraphs = { ok: true, value: graphs }
      } catch (e) {
        metagraphs = { ok: false, reason: `not available: ${why(e)}` }
      }
    }
    if (net) {
      try {
        peers = { ok: true, value: (await net.ask({ _tag: 'GetStatus' }, opts)).detail }
      } catch (e) {
        peers = { ok: false, reason: why(e) }
      }
    }
    this.slow = { chain, peers, metagraphs }
  }

  /** Ends every event stream and stops the sampler (the control actor's terminate). */
  close(): void {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    for (const c of this.clients) c.end()
    this.clients.clear()
  }
}
