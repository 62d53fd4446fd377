/**
 * basedai/protocol — the typed message schema every actor, thread and peer shares, its binary codec and the
 * errors that cross boundaries.
 *
 * Dependencies point here: this module does no I/O and imports nothing else of the project.
 *
 * @example
 * ```ts
 * import { encodeFrame, decodeFrame, PROTOCOL_VERSION } from 'basedai/protocol'
 * const bytes = encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: '/root/brain-1', id: 7, body: { _tag: 'Ping' } })
 * const frame = decodeFrame(bytes) // Either<Frame, { error: DecodeError | FrameTooLarge | VersionMismatch, partial }>
 * ```
 */
export * from './constants.ts'
export * from './errors.ts'
export * from './messages.ts'
export * from './kernel-messages.ts'
export * from './ledger-messages.ts'
export * from './fhe-messages.ts'
export * from './brain-messages.ts'
export * from './validator-messages.ts'
export * from './codec.ts'
export * from './rejections.ts'
