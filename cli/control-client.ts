/**
 * Client side of the control endpoint (cli/control.ts): ask an actor of a running cluster and get its typed reply,
 * or its typed error thrown.
 */
import { Either } from 'effect'
import { ControlUnreachable } from './errors.ts'
import { DecodeError, PROTOCOL_VERSION, decodeFrame, encodeFrame, type Message, type ReplyFor } from '../protocol/index.ts'

export async function askControl<Q extends Message>(base: string, address: string, msg: Q, timeoutMs = 5000): Promise<ReplyFor<Q>> {
  const frame = encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: address, id: 1, body: msg })
  let res: Response
  try {
    res = await fetch(`${base}/ask?to=${encodeURIComponent(address)}`, {
      method: 'POST',
      body: frame,
      headers: { 'content-type': 'application/octet-stream' },
      signal: AbortSignal.timeout(timeoutMs + 1000),
    })
  } catch (e) {
    throw new ControlUnreachable({ url: base, reason: e instanceof Error ? `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}` : String(e) })
  }
  const answer = decodeFrame(new Uint8Array(await res.arrayBuffer()))
  if (Either.isLeft(answer)) throw answer.left.error
  const f = answer.right
  if (f._tag === 'Fail') throw f.error
  if (f._tag !== 'Reply') throw new DecodeError({ field: '_tag', reason: `expected Reply, got ${f._tag}` })
  return f.body as ReplyFor<Q>
}
