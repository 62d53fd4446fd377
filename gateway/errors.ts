/**
 * Typed errors of the gateway (effect's Data.TaggedError; tests assert on `_tag` and `reason`, never on text).
 */
import { Data } from 'effect'

/**
 * A miner's compute receipt that the client does not accept:
 * - `signature`: the signature does not verify under the receipt's compute key;
 * - `request`: it names another request than the one sent (SHA-256 of the request);
 * - `session`: it names another session;
 * - `units`: its count differs from the products the request's packing plan needs;
 * - `key`: it is signed by another compute key than the session's miner;
 * - `empty`: there is nothing to settle.
 */
export class ReceiptRejected extends Data.TaggedError('ReceiptRejected')<{
  readonly reason: 'signature' | 'request' | 'session' | 'units' | 'key' | 'empty'
  readonly detail: string
}> {}

/** The miner's reply has the wrong number of result ciphertexts for the plan. */
export class ReplyMismatch extends Data.TaggedError('ReplyMismatch')<{
  readonly expected: number
  readonly got: number
}> {}

/**
 * An encrypted session's miner was gone and so was every miner it was rerouted to, `reroutes` times (the session's
 * bound); `lastError` is the `_tag` of the last transport error (ActorStopped, UnknownActor, AskTimeout,
 * PeerUnreachable). When the Brain has no miner left it answers BrainRejection NoMiner instead, which is passed on.
 */
export class RerouteExhausted extends Data.TaggedError('RerouteExhausted')<{
  readonly reroutes: number
  readonly lastMiner: string
  readonly lastError: string
}> {}
