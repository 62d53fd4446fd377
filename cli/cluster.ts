/**
 * The embedded single-machine cluster: one process, one supervision tree with the ledger shards, Brains, miners,
 * validators and the control endpoint (docs/ARCHITECTURE.md, docs/SUPERVISION.md):
 *
 *   root (one_for_one)
 *   ├── ledger (rest_for_one)        writer: the ledger (LMDB, K shard sub-databases, one transaction per block),
 *   │                                mempool and block timer
 *   ├── brains (one_for_one)         brain-1 … brain-B   (each serves the shipped model: its id and weights hash)
 *   ├── miners (one_for_one)         miner-1 … miner-M   (each in its own worker thread unless minerThreads is off)
 *   ├── validators (one_for_one)     validator-1 … validator-V   (encrypted challenges of their Brain's miners,
 *   │                                                              whose weights hash must be the Brain's)
 *   ├── net                          libp2p: serves these actors to other machines (net/)
 *   └── control                      loopback HTTP for `based inspect`
 *
 * Each role's child is built by its role definition (`ledgerRole`, `brainRole`, `minerRole`, `validatorRole`,
 * `netRole`, `controlRole` `.create`): the role's `Args` schema holds the defaults, so this file passes only what
 * the cluster decides.
 */
import path from 'node:path'
import type { SupervisorSpecInput, ChildSpecInput } from '../supervisor/index.ts'
import type { ActorSystem } from '../supervisor/index.ts'
import { controlRole } from '../actors/control/index.ts'
import { brainRole, shippedTask } from '../actors/brain.ts'
import { validatorRole } from '../actors/validator.ts'
import { minerRole } from '../actors/miner.ts'
import { ledgerRole } from '../actors/ledger-shard.ts'
import type { EpochRuleParams } from '../ledger/params.ts'
import { InvalidClusterConfig } from './errors.ts'
import { netRole } from '../actors/net.ts'

export interface ClusterOptions {
  readonly brains: number
  readonly miners: number
  readonly validators: number
  /** LMDB shard sub-databases of the ledger. */
  readonly shards: number
  readonly blockTimeMs: number
  /** How often each validator challenges one of its Brain's miners (0: only on request). */
  readonly challengeMs: number
  readonly controlPort: number
  readonly dataDir: string
  /** Run miners in worker threads (default true). */
  readonly minerThreads: boolean
  /** libp2p listen multiaddrs (default loopback, any port); empty: no network. */
  readonly listen: readonly string[]
  readonly onListening?: (addresses: string[]) => void
  /** The epoch's rule and Credits of a new ledger (genesis parameters; docs/CONSENSUS.md "On the chain"). */
  readonly epochParams?: EpochRuleParams
}

export const DEFAULT_CLUSTER: ClusterOptions = {
  brains: 2,
  miners: 2,
  validators: 1,
  shards: 4,
  blockTimeMs: 10_000,
  challengeMs: 30_000,
  controlPort: 7870,
  dataDir: path.resolve(process.env.BASED_DATA_DIR ?? '.data'),
  minerThreads: true,
  listen: ['/ip4/127.0.0.1/tcp/0'],
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1)
}

/**
 * `--brains 0`: the miners and validators that were not asked for explicitly default to 0 (they would serve a Brain
 * that does not exist); explicit counts > 0 are refused by `clusterSpec` with InvalidClusterConfig.
 */
export function countsFor(brains: number, miners: { value: number; explicit: boolean }, validators: { value: number; explicit: boolean }): { miners: number; validators: number } {
  if (brains > 0) return { miners: miners.value, validators: validators.value }
  return { miners: miners.explicit ? miners.value : 0, validators: validators.explicit ? validators.value : 0 }
}

export function clusterSpec(opts: ClusterOptions, system: () => ActorSystem | undefined): SupervisorSpecInput {
  const count = (name: string, n: number): void => {
    if (!Number.isSafeInteger(n) || n < 0 || n > 1024) throw new InvalidClusterConfig({ field: `--${name}`, reason: `must be an integer in 0..1024, got ${n}` })
  }
  count('brains', opts.brains)
  count('miners', opts.miners)
  count('validators', opts.validators)
  count('shards', opts.shards)
  if (opts.shards < 1) throw new InvalidClusterConfig({ field: '--shards', reason: 'at least one ledger shard' })
  if (!Number.isSafeInteger(opts.blockTimeMs) || opts.blockTimeMs < 100) throw new InvalidClusterConfig({ field: '--block-ms', reason: 'must be an integer ≥ 100' })
  // Miners and validators serve a local Brain: without Brains they would run for a Brain that does not exist.
  if (opts.brains === 0 && opts.miners > 0) throw new InvalidClusterConfig({ field: '--miners', reason: `--brains 0 leaves ${opts.miners} miner(s) without a Brain to serve; pass --miners 0 (or omit it)` })
  if (opts.brains === 0 && opts.validators > 0) throw new InvalidClusterConfig({ field: '--validators', reason: `--brains 0 leaves ${opts.validators} validator(s) without a Brain to validate; pass --validators 0 (or omit it)` })
  /** Miner m serves Brain ((m − 1) mod B) + 1. */
  const minerIndicesOf = (brain: number): number[] => range(opts.miners).filter((m) => ((m - 1) % Math.max(1, opts.brains)) + 1 === brain)
  const minersOf = (brain: number): string[] => minerIndicesOf(brain).map((m) => `/root/miners/miner-${m}`)
  const net: ChildSpecInput[] =
    opts.listen.length === 0
      ? []
      : [netRole.create('net', { listen: opts.listen, dataDir: opts.dataDir }, { system, ...(opts.onListening ? { onListening: opts.onListening } : {}) })]
  /** The Brain served by miner or validator i (round robin). */
  const brainOf = (i: number): number => ((i - 1) % Math.max(1, opts.brains)) + 1
  const task = opts.brains > 0 ? shippedTask() : undefined
  const children: ChildSpecInput[] = [
    {
      kind: 'supervisor',
      id: 'ledger',
      flags: { strategy: 'rest_for_one', intensity: 3, periodMs: 5000 },
      children: [
        ledgerRole.create(
          'writer',
          { dataDir: opts.dataDir, shards: opts.shards, blockTimeMs: opts.blockTimeMs, dev: { brains: opts.brains, miners: opts.miners, validators: opts.validators }, ...(opts.epochParams ? { params: opts.epochParams } : {}) },
          { mailbox: { capacity: 16_384 }, shutdown: 30_000 },
        ),
      ],
    },
    {
      kind: 'supervisor',
      id: 'brains',
      flags: { strategy: 'one_for_one', intensity: 3, periodMs: 5000 },
      children: range(opts.brains).map((i) => brainRole.create(`brain-${i}`, { brainId: i, miners: minersOf(i), ...task })),
    },
    {
      kind: 'supervisor',
      id: 'miners',
      flags: { strategy: 'one_for_one', intensity: 5, periodMs: 5000 },
      children: range(opts.miners).map((i) =>
        // the Brain's weights hash: weights that differ would be held but never served
        minerRole.create(`miner-${i}`, { brainId: brainOf(i), dev: i, ...(task ? { weightsHash: task.weightsHash } : {}) }, {
          placement: opts.minerThreads ? 'worker' : 'main',
          faults: true,
        }),
      ),
    },
    {
      kind: 'supervisor',
      id: 'validators',
      flags: { strategy: 'one_for_one', intensity: 3, periodMs: 5000 },
      children: range(opts.validators).map((i) =>
        validatorRole.create(`validator-${i}`, {
          miners: minersOf(brainOf(i)),
          minerDev: minerIndicesOf(brainOf(i)),
          dev: i,
          brain: brainOf(i),
          brainActor: `/root/brains/brain-${brainOf(i)}`,
          ledger: '/root/ledger/writer',
          challengeMs: opts.challengeMs,
        }),
      ),
    },
    ...net,
    controlRole.create('control', { port: opts.controlPort, dataDir: opts.dataDir }, { system }),
  ]
  return { kind: 'supervisor', id: 'root', flags: { strategy: 'one_for_one', intensity: 3, periodMs: 5000 }, children }
}
