/**
 * Protocol constants: every frame limit, timeout and capacity the actor runtime and its transports use, each with
 * where its value comes from. Nothing here does I/O.
 */

/** Wire version of the envelope. A frame with another version is refused with `VersionMismatch`. */
export const PROTOCOL_VERSION = 1

/**
 * Largest encoded frame accepted from a thread or a peer: 8 MiB. Sized for one batch of FHE ciphertexts
 * (a BFV ciphertext at N = 8192 with 3 primes is ~400 KiB; see REFERENCES.md) with room to spare, and small enough
 * that a hostile peer cannot make a node allocate without bound.
 */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024

/** Default mailbox capacity (messages). OTP mailboxes are unbounded; ours are bounded so overload is visible. */
export const DEFAULT_MAILBOX_CAPACITY = 1024

/** Default `ask` timeout: 5 s, as gen_server:call's default. */
export const DEFAULT_ASK_TIMEOUT_MS = 5000

/** How many recent message types (with timestamps, no payloads) each actor remembers for introspection. */
export const RECENT_MESSAGE_TYPES = 16

/** Default restart intensity and period: OTP's defaults, 1 restart in 5 s (supervisor.erl). */
export const DEFAULT_INTENSITY = 1
export const DEFAULT_PERIOD_MS = 5000

/** Default time a child gets to stop before it is killed: 5 s, as OTP's default shutdown for workers. */
export const DEFAULT_SHUTDOWN_MS = 5000

/** Longest string field accepted in a message (actor ids, names, error messages): 64 KiB. */
export const MAX_STRING_BYTES = 64 * 1024
