/**
 * The embedded single-machine cluster: one process, one supervision tree with the ledger shards, Brains, miners,
 * validators and the control endpoint (docs/ARCHITECTURE.md, docs/SUPERVISION.md):
 *
 *   root (one_for_one)
 *   ├── ledger (rest_for_one)        writer: the ledger (LMDB, K shard sub-databases, one transaction per block),
 *   │                                mempool and block timer
 *   ├── brains (one_for_one)         brain-1 … brain-B   (each serves the shipped model: its id and weights hash)
 *   ├── miners (one_for_one)         miner-1 … miner-M   (each in its own worker thread unless minerThreads is off)
 *   ├── remote (one_for_one)         b<brain>-uid<uid>: proxies of miners served by other nodes (actors/remote-miner.ts)
 *   ├── served-miners                reads serveMiner records from the ledger, keeps the proxies (with Brains and net)
 *   ├── validators (one_for_one)     validator-1 … validator-V   (encrypted challenges of their Brain's miners,
 *   │                                                              whose weights hash must be the Brain's)
 *   ├── net                          libp2p: serves these actors to other machines (net/)
 *   └── control                      loopback HTTP for `based inspect`
 *
 * A node with `--brains 0 --miners 1 --wallet W` (`serve`) runs a miner for a Brain hosted elsewhere: its compute key
 * is the wallet's, and `announceMiner` registers it (if it is not) and submits its signed `serveMiner` record.
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
import { servedMinersRole } from '../actors/remote-miner.ts'
import type { Libp2pTransport } from '../net/libp2p-transport.ts'
import { loadOrCreateIdentity } from '../net/libp2p-transport.ts'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { ActorRef } from '../supervisor/runtime.ts'
import { LedgerRejection, type Message, type ReplyFor } from '../protocol/index.ts'
import { PassphraseRequired, TxWaitTimeout, fromAddress, signServe, toAddress, signTx, toHex, unlockWallet, withMinFee, type KeyPair, type TxBody } from '../ledger/index.ts'
import { Data } from 'effect'

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
  /**
   * The node's own wallet (`--wallet`): miner-1's compute key (it signs receipts and is the key registered on the
   * Brain). With `--brains 0` the node serves a Brain hosted elsewhere (`--miners 1` then needs it).
   */
  readonly wallet?: string
  /** With `--brains 0`: the Brain (ledger id) the miner serves (default: the first active Brain). */
  readonly serveBrain?: number
  /** How often the served-miners actor reads the ledger (ms). */
  readonly servedPollMs?: number
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
  // Miners and validators serve a local Brain: without Brains they would run for a Brain that does not exist — except a
  // miner with the node's wallet, which serves a Brain hosted elsewhere (announceMiner).
  if (opts.brains === 0 && opts.miners > 0 && opts.wallet === undefined) throw new InvalidClusterConfig({ field: '--miners', reason: `--brains 0 leaves ${opts.miners} miner(s) without a Brain to serve; pass --miners 0 (or omit it), or --wallet W to serve a Brain hosted by another node` })
  if (opts.wallet !== undefined && opts.miners !== 1) throw new InvalidClusterConfig({ field: '--wallet', reason: `one wallet is one compute key: --wallet runs exactly one miner (--miners 1), not ${opts.miners}` })
  if (opts.brains === 0 && opts.wallet !== undefined && opts.listen.length === 0) throw new InvalidClusterConfig({ field: '--no-net', reason: 'a miner serving a Brain hosted elsewhere is reached over libp2p: drop --no-net' })
  if (opts.brains === 0 && opts.validators > 0) throw new InvalidClusterConfig({ field: '--validators', reason: `--brains 0 leaves ${opts.validators} validator(s) without a Brain to validate; pass --validators 0 (or omit it)` })
  /** Miner m serves Brain ((m − 1) mod B) + 1. */
  const minerIndicesOf = (brain: number): number[] => range(opts.miners).filter((m) => ((m - 1) % Math.max(1, opts.brains)) + 1 === brain)
  const minersOf = (brain: number): string[] => minerIndicesOf(brain).map((m) => `/root/miners/miner-${m}`)
  // The net actor's transport, shared with the remote-miner proxies (one peer id per node on the data plane), and the
  // peers bound to registered miners (served-miners keeps it; the guard's `participant` kinds).
  const holder: { transport?: Libp2pTransport } = {}
  const boundPeers = new Set<string>()
  const remoteMiners = opts.listen.length > 0 && opts.brains > 0
  const net: ChildSpecInput[] =
    opts.listen.length === 0
      ? []
      : [netRole.create('net', { listen: opts.listen, dataDir: opts.dataDir }, {
          system,
          ...(opts.onListening ? { onListening: opts.onListening } : {}),
          onTransport: (t) => {
            if (t) holder.transport = t
            else delete holder.transport
          },
          // No remote peer is a participant: the messages of that kind (RegisterMiner, ChallengeMiner, SubmitWeights)
          // reach Brains and validators only from this node (remote miners come in through local proxies), so a
          // peer that merely registered a miner cannot fill a Brain's routing table or make a validator sign.
        })]
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
        minerRole.create(`miner-${i}`, {
          brainId: opts.brains > 0 ? brainOf(i) : (opts.serveBrain ?? 1),
          // the node's wallet (its compute key signs receipts; it is the key registered on the Brain), else the dev key
          ...(opts.wallet !== undefined && i === 1 ? { wallet: { dataDir: opts.dataDir, name: opts.wallet } } : { dev: i }),
          ...(task ? { weightsHash: task.weightsHash } : {}),
        }, {
          placement: opts.minerThreads ? 'worker' : 'main',
          faults: true,
        }),
      ),
    },
    ...(remoteMiners ? [{ kind: 'supervisor' as const, id: 'remote', flags: { strategy: 'one_for_one' as const, intensity: 10, periodMs: 5000 }, children: [] }] : []),
    ...(remoteMiners
      ? [servedMinersRole.create('served-miners', {
          brains: range(opts.brains).map((i) => ({ actor: `/root/brains/brain-${i}`, index: i })),
          validators: range(opts.validators).map((i) => ({ actor: `/root/validators/validator-${i}`, brain: brainOf(i) })),
          ...(opts.servedPollMs !== undefined ? { pollMs: opts.servedPollMs } : {}),
        }, { system, transport: () => holder.transport, boundPeers })]
      : []),
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

/** `announceMiner` could not finish: `step` says where (brain, register, serve), `reason` why. */
export class MinerAnnounceFailed extends Data.TaggedError('MinerAnnounceFailed')<{ readonly step: string; readonly reason: string }> {}

const LEDGER = '/root/ledger/writer'
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function ask<Q extends Message>(ledger: ActorRef, msg: Q): Promise<ReplyFor<Q>> {
  return ledger.ask(msg, { timeoutMs: 15_000 })
}

/** Signs `body` with the personal key at its next nonce and the minimum fee, submits it and waits for its block. */
async function submitAndWait(ledger: ActorRef, key: KeyPair, body: TxBody, step: string, deadline: number): Promise<{ hash: string; height: number }> {
  const head = await ask(ledger, { _tag: 'GetHead' })
  const acct = await ask(ledger, { _tag: 'GetAccount', address: toAddress(key.publicKey) })
  const tx = signTx(withMinFee({ chainId: head.chainId, from: key.publicKey, nonce: BigInt(acct.nextNonce), body }, BigInt(head.baseFee), BigInt(head.byteFee)), key.secretKey)
  let hash: string
  try {
    hash = (await ask(ledger, { _tag: 'SubmitTx', tx: tx.bytes })).hash
  } catch (e) {
    throw new MinerAnnounceFailed({ step, reason: e instanceof LedgerRejection ? `refused: ${e.reason} ${JSON.stringify(e.detail)}` : String((e as { _tag?: string })._tag ?? e) })
  }
  for (;;) {
    const st = await ask(ledger, { _tag: 'GetTxStatus', hash })
    if (st.status === 'included') return { hash, height: st.height ?? 0 }
    if (st.status === 'failed' || st.status === 'dropped') throw new MinerAnnounceFailed({ step, reason: `${st.status}: ${st.reason ?? ''} ${st.detail ?? ''}`.trim() })
    if (Date.now() > deadline) throw new TxWaitTimeout({ hash, waitedMs: 0, lastStatus: st.status })
    await sleep(200)
  }
}

export interface AnnouncedMiner {
  readonly brain: number
  readonly uid: number
  readonly computeKey: string
  readonly peerId: string
  readonly addrs: readonly string[]
  /** Heights of the register and serveMiner transactions (absent: nothing to do, already on chain). */
  readonly registeredAt?: number
  readonly servedAt?: number
}

/**
 * Makes this node's wallet miner a miner of a Brain on the chain (docs/NETWORK.md "A miner on another machine"):
 * waits until the Brain exists on the (following) ledger, registers the wallet's compute key as a miner if it is not
 * (signed by the wallet's personal key, the Brain's registration fee), then signs and submits the `serveMiner` record
 * — this node's libp2p peer id (the net actor's identity, `<data-dir>/peer-key`), its multiaddrs and the miner's actor
 * address, signed by the compute key and by the peer key — unless the same one is on chain already. Waits for each
 * transaction's block. Throws MinerAnnounceFailed (step, reason), PassphraseRequired, TxWaitTimeout.
 */
export async function announceMiner(system: ActorSystem, o: {
  readonly dataDir: string; readonly wallet: string; readonly brain?: number; readonly actor: string; readonly addrs: readonly string[]
  readonly timeoutMs?: number; readonly log?: (line: string) => void
}): Promise<AnnouncedMiner> {
  const deadline = Date.now() + (o.timeoutMs ?? 180_000)
  const log = o.log ?? ((): void => undefined)
  const ledger = system.lookup(LEDGER)
  if (!ledger) throw new MinerAnnounceFailed({ step: 'ledger', reason: `no ledger actor at ${LEDGER}` })
  const pass = process.env.BASED_WALLET_PASSPHRASE
  if (pass === undefined) throw new PassphraseRequired({ envVar: 'BASED_WALLET_PASSPHRASE', reason: 'no-terminal' })
  const keys = unlockWallet(o.dataDir, o.wallet, pass)
  const ck = toHex(keys.compute.publicKey)
  // the Brain: on a node that has just joined, the ledger catches up first
  let brain: number | undefined
  let waiting = false
  for (;;) {
    const ids = (await ask(ledger, { _tag: 'GetBrains' })).ids
    brain = o.brain !== undefined ? (ids.includes(o.brain) ? o.brain : undefined) : ids[0]
    if (brain !== undefined) break
    if (Date.now() > deadline) throw new MinerAnnounceFailed({ step: 'brain', reason: o.brain !== undefined ? `no active Brain #${o.brain} on the chain` : 'no active Brain on the chain' })
    if (!waiting) log(`serve: waiting for ${o.brain !== undefined ? `Brain #${o.brain}` : 'a Brain'} on the chain (the ledger is catching up)…`)
    waiting = true
    await sleep(500)
  }
  let registeredAt: number | undefined
  const registered = await ask(ledger, { _tag: 'GetParticipant', brain, computeKey: ck }).then((p) => p.role === 'miner', (e: unknown) => {
    if (e instanceof LedgerRejection && e.reason === 'UnknownParticipant') return false
    throw e
  })
  if (!registered) {
    const fee = BigInt((await ask(ledger, { _tag: 'GetMetagraph', brain })).brain.registrationFee)
    registeredAt = (await submitAndWait(ledger, keys.personal, { kind: 'register', brain, computeKey: keys.compute.publicKey, role: 'miner', maxFee: fee }, 'register', deadline)).height
    log(`serve: registered compute key ${ck} as a miner of Brain #${brain} (block ${registeredAt})`)
  }
  const identity = await loadOrCreateIdentity(o.dataDir)
  const peerId = peerIdFromPrivateKey(identity).toString()
  // loopback addresses last: a node listening on 0.0.0.0 lists them too, and they name the dialler's own host
  const loopback = (a: string): boolean => /^\/ip4\/127\.|^\/ip6\/::1\//.test(a)
  const addrs = [...new Set(o.addrs)].filter((a) => a.endsWith(`/p2p/${peerId}`)).sort((x, y) => Number(loopback(x)) - Number(loopback(y))).slice(0, 8)
  if (addrs.length === 0) throw new MinerAnnounceFailed({ step: 'serve', reason: `the net actor listens on none of this node's peer id ${peerId}: ${o.addrs.join(' ')}` })
  const row = (await ask(ledger, { _tag: 'GetMetagraph', brain })).rows.find((r) => r.role === 'miner' && r.uid !== undefined && toHex(fromAddressSafe(r.computeKey)) === ck)
  if (!row) throw new MinerAnnounceFailed({ step: 'register', reason: `compute key ${ck} is not a miner of Brain #${brain}` })
  const same = row.serving && row.serving.peerId === peerId && row.serving.actor === o.actor && row.serving.addrs.join(' ') === addrs.join(' ')
  let servedAt: number | undefined
  if (!same) {
    const head = await ask(ledger, { _tag: 'GetHead' })
    const issuedAt = Math.max(Date.now(), (row.serving?.issuedAt ?? 0) + 1)
    const binding = { chainId: head.chainId, brain, computeKey: keys.compute.publicKey, peerId, addrs, actor: o.actor, issuedAt }
    const sigs = signServe(binding, keys.compute.secretKey, identity.raw.subarray(0, 32))
    servedAt = (await submitAndWait(ledger, keys.personal, { kind: 'serveMiner', brain, computeKey: keys.compute.publicKey, peerId, addrs, actor: o.actor, issuedAt, ...sigs }, 'serve', deadline)).height
  }
  return { brain, uid: row.uid, computeKey: ck, peerId, addrs, ...(registeredAt !== undefined ? { registeredAt } : {}), ...(servedAt !== undefined ? { servedAt } : {}) }
}

function fromAddressSafe(address: string): Uint8Array {
  try {
    return fromAddress(address)
  } catch {
    return new Uint8Array(0)
  }
}
