/**
 * Client side of the control endpoint (actors/control/index.ts): ask an actor of a running cluster and get its typed reply,
 * or its typed error thrown.
 *
 * Every request carries the node's auth token (`Authorization: Bearer <token>`). The token is the content of
 * `<data-dir>/control.cookie` (mode 0600, written by the node at each start): `findControl` (actors/control/index.ts) reads it
 * and remembers it here for that control URL's origin, so every caller that found the node through `findControl`
 * is authenticated without passing the token around. `BASED_CONTROL_TOKEN` in the environment overrides the file.
 *
 *   const base = findControl(dataDir)                      // reads control.json and control.cookie
 *   const head = await askControl(base, '/root/ledger/writer', { _tag: 'GetHead' })
 */
import { Either } from 'effect'
import { ControlUnauthorized, ControlUnreachable } from './errors.ts'
import { DecodeError, PROTOCOL_VERSION, decodeFrame, encodeFrame, type Message, type ReplyFor } from '../../protocol/index.ts'

/** The header that carries the token. */
export const AUTH_HEADER = 'authorization'

const tokens = new Map<string, string>()

function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return url
  }
}

/** Remembers the token of the control endpoint at `url` (any URL of it: keyed by origin). */
export function rememberControlToken(url: string, token: string): void {
  tokens.set(originOf(url), token)
}

/** The token to send to the control endpoint at `url`: BASED_CONTROL_TOKEN, else the one `findControl` read. */
export function controlToken(url: string): string | undefined {
  const env = process.env.BASED_CONTROL_TOKEN
  if (env) return env.trim()
  return tokens.get(originOf(url))
}

/** `init` with the Authorization header of the control endpoint at `url` added (when a token is known). */
export function withControlAuth(url: string, init: RequestInit = {}): RequestInit {
  const token = controlToken(url)
  if (!token) return init
  const headers = new Headers(init.headers)
  headers.set(AUTH_HEADER, `Bearer ${token}`)
  return { ...init, headers }
}

/**
 * fetch to the control endpoint with its token: a refused/reset/timed-out connection is ControlUnreachable, a 401
 * (no token, or not this node's) is ControlUnauthorized. Other statuses are the caller's to judge.
 */
export async function controlFetch(url: string, init?: RequestInit): Promise<Response> {
  let res: Response
  try {
    res = await fetch(url, withControlAuth(url, init))
  } catch (e) {
    throw new ControlUnreachable({ url, reason: e instanceof Error ? `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}` : String(e) })
  }
  if (res.status === 401) {
    let reason: 'missing-token' | 'wrong-token' = controlToken(url) ? 'wrong-token' : 'missing-token'
    try {
      const body = (await res.json()) as { reason?: unknown }
      if (body.reason === 'missing-token' || body.reason === 'wrong-token') reason = body.reason
    } catch {
      // not JSON: keep the reason guessed from whether a token was sent
    }
    throw new ControlUnauthorized({
      url,
      reason,
      hint: 'the token is in <data-dir>/control.cookie (readable by the user who runs the node); pass --data-dir, or set BASED_CONTROL_TOKEN',
    })
  }
  return res
}

export async function askControl<Q extends Message>(base: string, address: string, msg: Q, timeoutMs = 5000): Promise<ReplyFor<Q>> {
  const frame = encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: address, id: 1, body: msg })
  const res = await controlFetch(`${base}/ask?to=${encodeURIComponent(address)}`, {
    method: 'POST',
    body: frame,
    headers: { 'content-type': 'application/octet-stream' },
    signal: AbortSignal.timeout(timeoutMs + 1000),
  })
  const answer = decodeFrame(new Uint8Array(await res.arrayBuffer()))
  if (Either.isLeft(answer)) throw answer.left.error
  const f = answer.right
  if (f._tag === 'Fail') throw f.error
  if (f._tag !== 'Reply') throw new DecodeError({ field: '_tag', reason: `expected Reply, got ${f._tag}` })
  return f.body as ReplyFor<Q>
}
