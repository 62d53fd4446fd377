/**
 * basedai/actors — the roles of the network and, re-exported for compatibility, the actor runtime they run on.
 *
 * The runtime (supervisor/: the behaviour contract, cells, refs, transports, `defineRole`) is re-exported here as
 * before, so `import { continueWith, type Behaviour } from 'basedai/actors'` keeps working. The roles are modules of
 * this folder, each with its `Args` schema and role definition: brain.ts (`brainRole`), miner.ts, validator.ts
 * (`validatorRole`), ledger-shard.ts, kernel-worker.ts (`kernelWorkerRole`), net.ts (`netRole`), control/
 * (`controlRole`), basic.ts (Ping, Echo, Probe). Import a role from its own module (each loads its domains: fhe,
 * ledger, kernels), which this facade does not re-export so that importing the runtime stays light.
 *
 * @example
 * ```ts
 * import { continueWith, type Behaviour } from 'basedai/actors'
 * export const counter: Behaviour<number> = {
 *   accepts: ['Ping'],
 *   init: () => 0,
 *   handle: (n, _msg, ctx) => continueWith(n + 1, { _tag: 'Pong', from: ctx.address, at: Date.now() }),
 *   status: (n) => ({ pings: n }), // GetStatus is answered by the runtime, with these fields added
 * }
 * ```
 */
export * from '../supervisor/runtime.ts'
