/**
 * The actor runtime: the behaviour contract, cells (main thread, worker thread), mailboxes, refs and the transport
 * seam. Supervisors (supervisor.ts, system.ts) build on it; roles (actors/) implement behaviours against it.
 */
export * from './types.ts'
export * from './actor-errors.ts'
export type { Child, ShutdownPolicy } from './child.ts'
export { Mailbox } from './mailbox.ts'
export { type ActorRef, type AskOptions, type SendOptions, askFrame, toProtocolError } from './ref.ts'
export { Cell, LocalCell, type CellOptions } from './cell.ts'
export { WorkerCell, type WorkerCellOptions } from './worker-cell.ts'
export { loadBehaviour } from './runner.ts'
export { type Transport, type FrameHandler, RemoteRef, serveActors, LoopbackNetwork } from './transport.ts'
export { defineLocalRole, defineRole, type LocalRoleDefinition, type LocalRoleSpecOptions, type RoleDefinition, type RoleSpecOptions } from './role.ts'
