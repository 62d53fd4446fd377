/**
 * The control endpoint of a running cluster: loopback HTTP (127.0.0.1 only), so `based inspect mailboxes` and other
 * local tools can read the live actor table without joining the cluster.
 *
 *   GET  /mailboxes           → JSON: one ActorStats row per actor (address, role, placement, state, mailbox depth
 *                               and capacity, processed, errors, restarts, last exit, recent message types); a proxy
 *                               of a miner served by another node (role `remote-miner`, actors/remote-miner.ts) adds
 *                               `remote: { peerId, multiaddr, actor, uid, connected }` (MailboxRow)
 *   GET  /tree                → JSON: the supervision tree
 *   GET  /events              → JSON: recent supervisor events
 *   POST /ask?to=<address>    → body: an encoded protocol frame (msgpack, application/octet-stream);
 *                               answer: the encoded Reply or Fail frame. Bad frames get a Fail frame, never a crash.
 *   POST /children            → body JSON { supervisor, spec }: start a child under a running supervisor
 *                               (`based worker attach`). The behaviour must be a module inside this project
 *                               (a loopback client cannot make the node load code from elsewhere).
 *   DELETE /children?supervisor=<address>&id=<id> → stop and remove that child.
 *
 *   GET  /observer            → the live observer page (actors/control/observer/): tree, mailboxes, charts, chain, peers
 *   GET  /events (Accept: text/event-stream) → server-sent events: a snapshot every ~500 ms (actors/control/observer/hub.ts)
 *
 * The server is itself a supervised actor (role `control`): it starts in `init` and closes in `terminate`. On start
 * it writes `<dataDir>/control.cookie` (a fresh random 32-byte token, hex, mode 0600, atomically) and then
 * `<dataDir>/control.json` ({ url, pid, startTime }) so clients find it; it removes both on a clean stop.
 *
 * Auth: every request must carry the token, as `Authorization: Bearer <token>` (the CLI: actors/control/client.ts) or
 * as the cookie `based_control_<port>` that `GET /observer?token=<token>` sets (HttpOnly, SameSite=Strict) for the
 * browser page. Otherwise: 401 `{ error: 'Unauthorized', reason: 'missing-token' | 'wrong-token', hint }`. So only
 * who can read the data dir's cookie file (its owner, root) can drive the node, as with bitcoind's `.cookie`.
 * A body over 8 MiB is answered 413 with `{ error: 'BodyTooLarge', limit, received }`.
 *
 * `POST /ask` decodes and validates the frame once, here where it enters the process, and hands the typed frame on
 * (`askFrame`, supervisor/ref.ts): neither the ref nor a worker thread decodes its body again.
 *
 * Start arguments in two parts (the server needs the running system, which cannot be serialized):
 * - `ControlArgs` (the spec's `args`, decoded in `init`, defaults here): `dataDir` (where control.json and
 *   control.cookie are written), `port` (0: a free port) and `host` (default 127.0.0.1);
 * - `ControlOptions` (given to `controlRole.create`): `system`, the tree to serve, read per request.
 * `controlBehaviour({ port, dataDir, system })` — everything in one options object, as before issue 10 — still
 * works: its serializable fields are then the arguments (what the spec's `args` carries overrides them).
 *
 * @example
 * ```ts
 * controlRole.create('control', { port: 7870, dataDir }, { system: () => sys })
 * ```
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Either, Schema } from 'effect'
import { askFrame, continueWith, defineLocalRole, type ActorStats, type Behaviour, type HandleResult } from '../../supervisor/runtime.ts'
import { answerBasic, basicState, BASIC_TAGS, type BasicState } from '../basic.ts'
import { DecodeError, PROTOCOL_VERSION, UnknownActor, decodeFrame, encodeFrame } from '../../protocol/index.ts'
import type { ActorSystem, ChildSpecInput } from '../../supervisor/index.ts'
import { rememberControlToken } from './client.ts'
import { isProcessAlive, processStartTime } from '../../supervisor/datadir-lock.ts'
import { BodyTooLarge, ControlCookieUnreadable, NoRunningNode } from './errors.ts'
import { ObserverHub } from './observer/hub.ts'

const MAX_BODY = 8 * 1024 * 1024 + 1024

/** Serializable start arguments of the control actor (defaults here and nowhere else). */
export const ControlArgs = Schema.Struct({
  /** Where control.json and control.cookie are written. */
  dataDir: Schema.String.pipe(Schema.minLength(1)),
  /** TCP port; 0 picks a free one. */
  port: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.between(0, 65535)), { default: () => 0 }),
  /** Interface to listen on: loopback unless told otherwise. */
  host: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1)), { default: () => '127.0.0.1' }),
})
export type ControlArgs = typeof ControlArgs.Type

/** What the control actor needs that cannot be serialized. */
export interface ControlOptions {
  /** The system to serve; read when a request comes in (the control actor starts inside it). */
  readonly system: () => ActorSystem | undefined
}

/** The options of the form before issue 10: the serializable arguments inside the options object. */
export interface ControlInit extends ControlOptions {
  readonly host?: string
  /** 0 picks a free port. */
  readonly port: number
  readonly dataDir: string
}

export interface ControlInfo {
  readonly url: string
  readonly pid: number
  /** The node's process start time (see datadir-lock.ts), so a reused pid is not taken for the node. */
  readonly startTime?: string
}

export function controlFile(dataDir: string): string {
  return path.join(dataDir, 'control.json')
}

/** The auth token file of the control endpoint (bitcoind's `.cookie`): 64 hex characters, mode 0600. */
export function controlCookieFile(dataDir: string): string {
  return path.join(dataDir, 'control.cookie')
}

/** Writes a fresh token to `<dataDir>/control.cookie`: created 0600 aside, then renamed (never half-written). */
function writeCookie(dataDir: string): string {
  const token = randomBytes(32).toString('hex')
  const file = controlCookieFile(dataDir)
  const tmp = `${file}.${process.pid}.tmp`
  fs.rmSync(tmp, { force: true })
  const fd = fs.openSync(tmp, 'wx', 0o600)
  try {
    fs.fchmodSync(fd, 0o600)
    fs.writeSync(fd, token)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
  return token
}

/**
 * Reads the token of the node on `dataDir`. Throws ControlCookieUnreadable (EACCES for another user's node, ENOENT,
 * MALFORMED) — a 401 later would say less.
 */
export function readControlCookie(dataDir: string): string {
  const file = controlCookieFile(dataDir)
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8').trim()
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : 'EIO'
    throw new ControlCookieUnreadable({ path: file, code, hint: code === 'EACCES' ? 'the node belongs to another user: only its owner (or root) can drive it' : 'is the node older than the control token, or was the file removed?' })
  }
  if (!/^[0-9a-f]{64}$/.test(text)) throw new ControlCookieUnreadable({ path: file, code: 'MALFORMED', hint: 'expected 64 hex characters' })
  return text
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Constant-time comparison (of digests, so lengths do not leak either). */
function sameToken(given: string, token: string): boolean {
  return timingSafeEqual(digest(given), digest(token))
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** The cookie name carries the port: browsers share cookies across the ports of one host. */
export function authCookieName(port: number): string {
  return `based_control_${port}`
}

/**
 * Answers 401 once the request body has been read and discarded (up to MAX_DRAIN, then the socket is cut): answering
 * while a client still sends a large frame would reach it as a connection reset instead of the 401.
 */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, reason: 'missing-token' | 'wrong-token'): void {
  let size = 0
  req.on('data', (c: Buffer) => {
    size += c.length
    if (size > MAX_DRAIN) req.destroy()
  })
  req.on('end', () => json(res, 401, { error: 'Unauthorized', reason, hint: AUTH_HINT }))
  req.resume()
}

const AUTH_HINT = 'send `Authorization: Bearer <token>` with the token in <data-dir>/control.cookie (the based CLI does), or open /observer?token=<token> once'

/**
 * Checks a request's token. Answers 401 (and returns false) when it is missing or wrong; `GET /observer?token=`
 * with the right token is answered with the session cookie and a redirect to the clean URL.
 */
function authorize(req: http.IncomingMessage, res: http.ServerResponse, url: URL, token: string, port: number): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
  const cookie = cookieValue(req.headers.cookie, authCookieName(port))
  const query = req.method === 'GET' && url.pathname === '/observer' ? url.searchParams.get('token') : null
  const given = bearer ?? query ?? cookie
  if (given === undefined || given === null || given === '') {
    refuse(req, res, 'missing-token')
    return false
  }
  if (!sameToken(given, token)) {
    refuse(req, res, 'wrong-token')
    return false
  }
  if (query !== null && bearer === undefined) {
    res.writeHead(303, {
      'set-cookie': `${authCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      location: '/observer',
      'cache-control': 'no-store',
    })
    res.end()
    return false
  }
  return true
}

/** At most this much of an oversized body is read (and thrown away) so the 413 answer reaches the client. */
const MAX_DRAIN = 64 * 1024 * 1024

/**
 * Reads a request body of at most MAX_BODY bytes. An oversized body rejects with BodyTooLarge only once the client
 * has finished sending (the excess is discarded): answering while it still sends would make the socket close with
 * unread data, which the client sees as a connection reset instead of the 413. Past MAX_DRAIN the socket is cut.
 */
function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_DRAIN) {
        req.destroy()
        reject(new BodyTooLarge({ limit: MAX_BODY, received: size }))
        return
      }
      if (size > MAX_BODY) {
        chunks.length = 0
        return
      }
      chunks.push(c)
    })
    req.on('end', () => (size > MAX_BODY ? reject(new BodyTooLarge({ limit: MAX_BODY, received: size })) : resolve(Buffer.concat(chunks))))
    req.on('error', reject)
  })
}

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url))

function errorJson(e: unknown): Record<string, unknown> {
  if (e && typeof e === 'object' && '_tag' in e) {
    const { _tag, ...rest } = e as Record<string, unknown>
    return { error: _tag, ...Object.fromEntries(Object.entries(rest).filter(([k]) => k !== 'stack')) }
  }
  return { error: 'Error', reason: e instanceof Error ? e.message : String(e) }
}

/** The path of the first behaviour module in a JSON spec that lies outside the project, if any. */
function outsideProject(spec: unknown, field = 'spec'): string | undefined {
  if (typeof spec !== 'object' || spec === null) return undefined
  const s = spec as { behaviour?: { module?: unknown }; children?: unknown }
  const mod = s.behaviour?.module
  if (typeof mod === 'string') {
    const file = path.resolve(mod.startsWith('file:') ? fileURLToPath(mod) : mod)
    if (!file.startsWith(PROJECT_ROOT)) return `${field}.behaviour.module`
  }
  if (Array.isArray(s.children)) {
    for (let i = 0; i < s.children.length; i++) {
      const bad = outsideProject(s.children[i], `${field}.children[${i}]`)
      if (bad) return bad
    }
  }
  return undefined
}

/** Where a remote miner's proxy reaches its miner (the `remote` field of a /mailboxes row). */
export interface RemoteMarker {
  readonly peerId: string
  readonly multiaddr: string
  /** The miner's actor address on that peer. */
  readonly actor: string
  readonly uid: number
  readonly connected: boolean
}
/** One row of GET /mailboxes: the runtime's ActorStats, plus `remote` for a miner served by another node. */
export type MailboxRow = ActorStats & { readonly remote?: RemoteMarker }

/** The runtime's rows, each remote-miner proxy's with where its miner is (read from the proxy's status). */
export async function mailboxRows(system: ActorSystem): Promise<MailboxRow[]> {
  return Promise.all(system.stats().map(async (r): Promise<MailboxRow> => {
    if (r.role !== 'remote-miner' || r.state !== 'running') return r
    try {
      const d = (await system.ref(r.address).ask({ _tag: 'GetStatus' }, { timeoutMs: 2000 })).detail
      return {
        ...r,
        remote: {
          peerId: String(d.peerId ?? ''), multiaddr: String(d.multiaddr ?? ''), actor: String(d.remoteActor ?? ''),
          uid: typeof d.uid === 'number' ? d.uid : -1, connected: d.connected === true,
        },
      }
    } catch {
      return r
    }
  }))
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

interface Served {
  readonly token: string
  readonly port: number
  readonly hub: ObserverHub
}

async function route(options: ControlOptions, served: Served, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (!authorize(req, res, url, served.token, served.port)) return
  const system = options.system()
  if (!system) return json(res, 503, { error: 'cluster not started' })
  if (await served.hub.handle(req, res, url)) return
  if (req.method === 'GET' && url.pathname === '/mailboxes') return json(res, 200, await mailboxRows(system))
  if (req.method === 'GET' && url.pathname === '/tree') return json(res, 200, system.tree())
  if (req.method === 'GET' && url.pathname === '/events') return json(res, 200, system.events())
  if (req.method === 'POST' && url.pathname === '/ask') {
    const to = url.searchParams.get('to') ?? ''
    let body: Buffer
    try {
      body = await readBody(req)
    } catch (e) {
      return json(res, e instanceof BodyTooLarge ? 413 : 400, errorJson(e))
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    res.end(await answerAsk(system, to, body))
    return
  }
  if (req.method === 'POST' && url.pathname === '/children') {
    let parsed: { supervisor?: unknown; spec?: unknown }
    let raw: Buffer
    try {
      raw = await readBody(req)
    } catch (e) {
      return json(res, e instanceof BodyTooLarge ? 413 : 400, errorJson(e))
    }
    try {
      parsed = JSON.parse(raw.toString('utf8')) as { supervisor?: unknown; spec?: unknown }
    } catch {
      return json(res, 400, { error: 'DecodeError', field: '(root)', reason: 'body is not JSON' })
    }
    const where = typeof parsed.supervisor === 'string' ? parsed.supervisor : '/root'
    const bad = outsideProject(parsed.spec)
    if (bad) return json(res, 400, { error: 'InvalidSpec', field: bad, reason: `behaviour module must be inside ${PROJECT_ROOT}` })
    try {
      const child = await system.supervisor(where).startChild(parsed.spec as ChildSpecInput)
      return json(res, 200, { address: child.address })
    } catch (e) {
      return json(res, 400, errorJson(e))
    }
  }
  if (req.method === 'DELETE' && url.pathname === '/children') {
    try {
      const removed = await system.supervisor(url.searchParams.get('supervisor') ?? '/root').terminateChild(url.searchParams.get('id') ?? '')
      return json(res, removed ? 200 : 404, { removed })
    } catch (e) {
      return json(res, 400, errorJson(e))
    }
  }
  json(res, 404, { error: `no route ${req.method} ${url.pathname}` })
}

/**
 * `POST /ask?to=`: the frame is decoded and validated once, here, and the typed frame handed to the actor
 * (`askFrame`); a frame that does not decode, or names an actor that does not exist, is answered with a typed Fail.
 */
async function answerAsk(system: ActorSystem, to: string, body: Uint8Array): Promise<Uint8Array> {
  const d = decodeFrame(body)
  if (Either.isLeft(d)) return encodeFrame({ _tag: 'Fail', v: PROTOCOL_VERSION, id: d.left.partial.id ?? 0, error: d.left.error })
  const frame = d.right
  if (frame._tag !== 'Tell' && frame._tag !== 'Ask') {
    return encodeFrame({ _tag: 'Fail', v: PROTOCOL_VERSION, id: frame.id, error: new DecodeError({ field: '_tag', reason: `${frame._tag} frames are answers, not requests` }) })
  }
  const ref = system.lookup(to)
  if (!ref) return encodeFrame({ _tag: 'Fail', v: PROTOCOL_VERSION, id: frame._tag === 'Ask' ? frame.id : 0, error: new UnknownActor({ address: to }) })
  return askFrame(ref, frame)
}

interface ControlState {
  readonly basic: BasicState
  readonly server: http.Server
  readonly token: string
  readonly hub: ObserverHub
  readonly dataDir: string
}

/** The control actor's behaviour; `controlRole.create` is the usual way to run it. */
export function controlBehaviour(options: ControlOptions | ControlInit): Behaviour<ControlState> {
  // the arguments inside the options (the older form) are defaults for the spec's own
  const legacy = 'dataDir' in options ? { dataDir: options.dataDir, port: options.port, ...(options.host !== undefined ? { host: options.host } : {}) } : {}
  return {
    accepts: BASIC_TAGS,
    async init(ctx) {
      const init = controlRole.args({ ...legacy, ...ctx.args })
      const hub = new ObserverHub(options.system)
      const served: { token: string; port: number; hub: ObserverHub } = { token: '', port: 0, hub }
      const server = http.createServer((req, res) => {
        route(options, served, req, res).catch((e: unknown) => {
          if (res.headersSent) res.destroy()
          else json(res, 500, errorJson(e))
        })
      })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(init.port, init.host, () => resolve())
      })
      const addr = server.address()
      const port = typeof addr === 'object' && addr ? addr.port : init.port
      served.port = port
      // The token file first: a client that finds control.json can read the token at once.
      try {
        served.token = writeCookie(init.dataDir)
      } catch (e) {
        server.close()
        throw e
      }
      const info: ControlInfo = { url: `http://${init.host}:${port}`, pid: process.pid, startTime: processStartTime(process.pid) }
      // Written aside and renamed: a client never reads a half-written control.json.
      const tmp = `${controlFile(init.dataDir)}.${process.pid}.tmp`
      fs.writeFileSync(tmp, JSON.stringify(info))
      fs.renameSync(tmp, controlFile(init.dataDir))
      return { basic: basicState(), server, token: served.token, hub, dataDir: init.dataDir }
    },
    status: (state) => {
      const addr = state.server.address()
      return { port: typeof addr === 'object' && addr ? addr.port : 0 }
    },
    handle: (state, msg, ctx): HandleResult<ControlState> => continueWith(state, answerBasic(state.basic, msg, ctx)),
    async terminate(state) {
      try {
        const info = JSON.parse(fs.readFileSync(controlFile(state.dataDir), 'utf8')) as ControlInfo
        if (info.pid === process.pid) fs.rmSync(controlFile(state.dataDir), { force: true })
      } catch {
        // no file: nothing to remove
      }
      try {
        if (fs.readFileSync(controlCookieFile(state.dataDir), 'utf8').trim() === state.token) fs.rmSync(controlCookieFile(state.dataDir), { force: true })
      } catch {
        // no cookie: nothing to remove
      }
      state.hub.close()
      state.server.closeAllConnections()
      await new Promise<void>((resolve) => state.server.close(() => resolve()))
    },
  }
}

/** The control role: `controlRole.create(id, args, { system })` (main thread only). */
export const controlRole = defineLocalRole('control', ControlArgs, controlBehaviour)

const START_HINT = 'start one with `based cluster up` (npm start), or pass --control <url>'

/**
 * Finds a running cluster's control URL from `--control` or the data dir's control.json. A control.json left by a
 * process that is gone (it survives SIGKILL) is reported as `NoRunningNode` with reason 'stale-control-file' and the
 * dead pid, instead of a connection error later. Never writes: read-only commands use it beside a running node.
 * It also reads the node's token from `<dataDir>/control.cookie` (ControlCookieUnreadable if it cannot: another
 * user's node) and remembers it for that URL, so askControl/controlFetch (actors/control/client.ts) send it.
 */
export function findControl(dataDir: string, explicit?: string): string {
  if (explicit) {
    const url = explicit.replace(/\/$/, '')
    // The token of the node on --data-dir, if there is one there (BASED_CONTROL_TOKEN otherwise).
    if (!process.env.BASED_CONTROL_TOKEN && fs.existsSync(controlCookieFile(dataDir))) rememberControlToken(url, readControlCookie(dataDir))
    return url
  }
  const file = controlFile(dataDir)
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    throw new NoRunningNode({ dataDir, reason: 'no-control-file', hint: START_HINT })
  }
  let info: Partial<ControlInfo>
  try {
    info = JSON.parse(text) as Partial<ControlInfo>
  } catch {
    throw new NoRunningNode({ dataDir, reason: 'unreadable-control-file', hint: START_HINT })
  }
  if (typeof info.url !== 'string' || typeof info.pid !== 'number') throw new NoRunningNode({ dataDir, reason: 'unreadable-control-file', hint: START_HINT })
  if (!isProcessAlive(info.pid, info.startTime ?? '')) {
    throw new NoRunningNode({ dataDir, reason: 'stale-control-file', pid: info.pid, hint: `process ${info.pid} that wrote ${file} is gone; ${START_HINT}` })
  }
  if (!process.env.BASED_CONTROL_TOKEN) rememberControlToken(info.url, readControlCookie(dataDir))
  return info.url
}
