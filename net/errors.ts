/** Errors of the libp2p transport. */
import { Data } from 'effect'

/** A peer address that is neither a multiaddr with /p2p/<id> nor a peer id. */
export class BadPeerAddress extends Data.TaggedError('BadPeerAddress')<{ readonly peer: string; readonly reason: string }> {}

/** Dialing or talking to a peer failed (refused, reset, timed out, closed early). */
export class PeerUnreachable extends Data.TaggedError('PeerUnreachable')<{ readonly peer: string; readonly reason: string }> {}

/** The node identity file exists but cannot be read as a key. */
export class BadIdentity extends Data.TaggedError('BadIdentity')<{ readonly file: string; readonly reason: string }> {}
