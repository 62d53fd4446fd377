#!/usr/bin/env node
/**
 * `based` — the command line of the BasedAI node.
 *
 *   based cluster up [--brains N] [--miners N] [--validators N] [--shards K] [--control-port P] [--data-dir D]
 *                    [--epoch-rule yuma|sigmoid] [--credits] [--genesis FILE --bft-listen MULTIADDR --join MULTIADDR…]
 *                    [--wallet W [--brain ID]]   (with --brains 0 --miners 1: a miner for a Brain hosted by another node)
 *   based network local --nodes N [--data-dir D] [--block-ms MS]   ·   based genesis …   ·   based validator-key
 *   based chain head|block <n> [--json]   ·   based metagraph --brain N   ·   based escrow open|show|close|withdraw
 *   based wallet …  ·  brain acquire|set|transfer|deactivate|list  ·  register  ·  stake  ·  weights set  ·  propose  ·  vote
 *   based inspect mailboxes [--json] [--watch S] [--control URL] [--data-dir D]
 *   based inspect tree [--control URL]   ·   based inspect observer (the live web page's address, with its token)
 *   based ask <address> '<message json>' [--timeout MS] [--peer MULTIADDR]
 *   based worker attach [--gpu] [--id ID] [--supervisor /root/miners]   ·   based worker detach <id>
 *     (attach points every running miner at the new worker with UseKernels; detach puts them back on the CPU)
 *   based generate "prompt" [--tokens N] [--temperature T] [--top-k K] [--int8] [--weights FILE] [--encrypted [--pay W]]
 *   based squeeze (--budget N | --fraction F | --theta T) --out FILE
 *
 *   based --version   ·   any command with --verbose: the stack trace of a failure
 *
 * `npm start` runs `based cluster up` with defaults. This file only parses arguments and composes the pieces.
 * `cluster up` takes the data dir's single-writer lock before opening anything (supervisor/datadir-lock.ts); every failure
 * ends as one typed line on stderr with logs flushed (cli/exit.ts). See docs/OPERATIONS.md.
 */
import { Command, InvalidArgumentError } from 'commander'
import { Either } from 'effect'
import path from 'node:path'
import fs from 'node:fs'
import { ActorSystem, renderTree, type SupervisorEvent, type TreeNode } from '../supervisor/index.ts'
import { decodeFrame, decodeMessageUnknown, encodeFrame, PROTOCOL_VERSION } from '../protocol/index.ts'
import type { ActorStats } from '../actors/index.ts'
import { announceMiner, clusterSpec, countsFor, DEFAULT_CLUSTER } from './cluster.ts'
import { controlFile, findControl } from '../actors/control/index.ts'
import { askControl, controlFetch as clientControlFetch, controlToken } from '../actors/control/client.ts'
import { kernelWorkerRole } from '../actors/kernel-worker.ts'
import { acquireDataDirLock } from '../supervisor/datadir-lock.ts'
import { ControlHttpError, InvalidClusterConfig } from './errors.ts'
import { failAndExit, flushLogs, openLog } from './exit.ts'
import { renderMailboxes, watchMailboxes } from './inspect.ts'
import { Libp2pTransport } from '../net/index.ts'
import { registerModelCommands } from './model.ts'
import { registerParticipantCommands } from './participant.ts'
import { walletCommand } from './wallet.ts'
import { listWallets } from '../ledger/index.ts'
import { genesisFromPeers, registerNetworkCommands, withConsensus } from './network.ts'

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v)
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`)
    return n
  }
}

/** `--epoch-rule`: the consensus rules the ledger implements (ledger/params.ts EPOCH_RULES). */
function epochRuleOption(v: string): 'yuma' | 'sigmoid' {
  if (v === 'yuma' || v === 'sigmoid') return v
  throw new InvalidArgumentError('--epoch-rule must be yuma or sigmoid')
}

function describeEvent(e: SupervisorEvent): string {
  switch (e.type) {
    case 'child_started':
      return `started   ${e.child}`
    case 'child_stopped':
      return `stopped   ${e.child}`
    case 'child_exited':
      return `exited    ${e.child}: ${e.reason}`
    case 'child_restarted':
      return `restarted ${e.child} (${e.strategy})`
    case 'child_removed':
      return `removed   ${e.child}`
    case 'gave_up':
      return `GAVE UP   ${e.supervisor}: more than ${e.intensity} restarts in ${e.periodMs} ms`
    case 'start_failed':
      return `FAILED    ${e.child}: ${e.reason}`
  }
}

/** The package version, read from package.json next to this directory. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

const LEDGER_WRITER = '/root/ledger/writer'

/** fetch to the control endpoint with its auth token (actors/control/client.ts): ControlUnreachable, ControlUnauthorized. */
const controlFetch = clientControlFetch

const program = new Command()
program
  .name('based')
  .description('BasedAI node: supervised Brains, miners, validators and ledger shards')
  .version(packageVersion(), '-V, --version', 'print the version of based')
  .option('--verbose', 'print the stack trace of a failure (default: the typed error on one line)')

const cluster = program.command('cluster').description('run a cluster')
cluster
  .command('up')
  .description('start the embedded single-machine cluster and keep it running until Ctrl-C')
  .option('--brains <n>', 'Brain actors (0: also no miners/validators unless given, and then refused)', int('--brains', 0, 1024), DEFAULT_CLUSTER.brains)
  .option('--miners <n>', 'miner actors (each in its own worker thread)', int('--miners', 0, 1024), DEFAULT_CLUSTER.miners)
  .option('--validators <n>', 'validator actors', int('--validators', 0, 1024), DEFAULT_CLUSTER.validators)
  .option('--shards <k>', 'ledger shards (LMDB sub-databases)', int('--shards', 1, 64), DEFAULT_CLUSTER.shards)
  .option('--challenge-ms <ms>', 'how often each validator challenges a miner (0: only on request)', int('--challenge-ms', 0, 86_400_000), DEFAULT_CLUSTER.challengeMs)
  .option('--block-ms <ms>', 'block time of a new ledger (an existing ledger keeps the block time stored at its genesis; a different value given here is reported and ignored)', int('--block-ms', 100, 3_600_000), DEFAULT_CLUSTER.blockTimeMs)
  .option('--control-port <port>', 'loopback HTTP control port (0: any free port)', int('--control-port', 0, 65535), DEFAULT_CLUSTER.controlPort)
  .option('--data-dir <dir>', 'data directory', DEFAULT_CLUSTER.dataDir)
  .option('--main-thread-miners', 'run miners in the main thread instead of worker threads')
  .option('--listen <multiaddr...>', 'libp2p listen addresses (e.g. /ip4/0.0.0.0/tcp/4001 to serve other machines)', [...DEFAULT_CLUSTER.listen])
  .option('--no-net', 'do not start libp2p')
  .option('--genesis <file>', 'join a network of validators: agree on every block with those this genesis file names (docs/NETWORK.md; Brains default to 0)')
  .option('--join <multiaddr...>', 'peers of a network to connect to (…/p2p/<peer id>), redialled while not connected; without --genesis the first that answers gives the genesis (kept in the data dir)', [])
  .option('--bft-listen <multiaddr...>', 'with --genesis: listen addresses of the consensus node (e.g. /ip4/0.0.0.0/tcp/4002)', ['/ip4/127.0.0.1/tcp/0'])
  .option('--epoch-rule <rule>', 'consensus rule of a new ledger: yuma (subtensor\'s) or sigmoid (the seed\'s §3.4.1); governable afterwards', epochRuleOption, 'yuma')
  .option('--credits', 'Credits on in a new ledger (§3.4.3: up to +25% bond accrual, half at 10 Credits); governable afterwards')
  .option('--wallet <name>', 'the node\'s own wallet (of --data-dir; passphrase from $BASED_WALLET_PASSPHRASE): miner-1\'s compute key and payee. With --genesis --brains 0 --miners 1 the miner serves a Brain hosted by another node: it registers (if not yet) and announces where it serves (serveMiner, docs/NETWORK.md); default there: the data dir\'s only wallet')
  .option('--brain <id>', 'with --wallet and --brains 0: the Brain (ledger id) the miner serves (default: the first active Brain)', int('--brain', 1, 1_000_000))
  .option('--once', 'start, print the tree, then stop (smoke test)')
  .action(async (o: { epochRule: 'yuma' | 'sigmoid'; credits?: boolean; brains: number; miners: number; validators: number; shards: number; blockMs: number; challengeMs: number; controlPort: number; dataDir: string; mainThreadMiners?: boolean; once?: boolean; listen: string[]; net: boolean; genesis?: string; join: string[]; bftListen: string[]; wallet?: string; brain?: number }, cmd: Command) => {
    const explicit = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli'
    // --join without --genesis: the genesis of the network the peers are on (fetched once, kept in the data dir)
    if (o.genesis === undefined && o.join.length > 0) o.genesis = await genesisFromPeers(path.resolve(o.dataDir), o.join, (l) => process.stderr.write(`${l}\n`))
    if (o.genesis !== undefined && !explicit('brains')) o.brains = 0 // a network's Brains register by transaction, not by dev bootstrap
    const counts = countsFor(o.brains, { value: o.miners, explicit: explicit('miners') }, { value: o.validators, explicit: explicit('validators') })
    const holder: { system?: ActorSystem; listening?: string[] } = {}
    if (o.wallet === undefined && o.brains === 0 && o.genesis !== undefined && explicit('miners') && o.miners > 0) {
      // a miner for a Brain elsewhere runs with the node's own wallet: the data dir's only one when --wallet is not given
      const wallets = listWallets(path.resolve(o.dataDir))
      if (wallets.length === 1) {
        o.wallet = (wallets[0] as { name: string }).name
        process.stderr.write(`--brains 0 --miners ${o.miners}: the miner uses this node's wallet '${o.wallet}'\n`)
      } else {
        throw new InvalidClusterConfig({ field: '--wallet', reason: `a miner for a Brain hosted elsewhere needs the node's wallet: ${wallets.length === 0 ? 'create one (based wallet create NAME)' : `name one of ${wallets.map((w) => w.name).join(', ')}`} and pass --wallet NAME` })
      }
    }
    if (o.wallet !== undefined && o.brains === 0 && o.genesis === undefined) {
      // a miner for a Brain hosted elsewhere needs the chain that Brain is on
      throw new InvalidClusterConfig({ field: '--genesis', reason: '--wallet with --brains 0 serves a Brain of a network: give --genesis FILE and --join A' })
    }
    // Validate the whole configuration before touching the data dir.
    const plain = clusterSpec(
      {
        ...o,
        ...counts,
        dataDir: path.resolve(o.dataDir),
        minerThreads: !o.mainThreadMiners,
        blockTimeMs: o.blockMs,
        epochParams: { epochRule: o.epochRule, ...(o.credits === true ? { creditMaxBoostPpm: 250_000 } : {}) },
        listen: o.net ? o.listen : [],
        onListening: (addrs) => {
          holder.listening = addrs
          console.log(`libp2p: ${addrs.join('  ')}`)
        },
        ...(o.brain !== undefined ? { serveBrain: o.brain } : {}),
      },
      () => holder.system,
    )
    const spec = o.genesis === undefined ? plain : withConsensus(plain, { dataDir: path.resolve(o.dataDir), shards: o.shards }, { genesis: o.genesis, join: o.join, listen: o.bftListen })
    if (o.brains === 0 && o.wallet === undefined && (counts.miners !== o.miners || counts.validators !== o.validators)) {
      process.stderr.write('--brains 0: starting no miners and no validators (they serve local Brains)\n')
    }
    // One data dir, one writer: the lock comes before the log, the ledger, the network key and control.json.
    const lock = acquireDataDirLock(o.dataDir)
    const dataDir = lock.dataDir
    // A control.json still here was left by a node that died without stopping (we hold the lock: it is not live).
    fs.rmSync(controlFile(dataDir), { force: true })
    const log = openLog(path.join(dataDir, 'cluster.log'), dataDir)
    const onEvent = (e: SupervisorEvent): void => {
      log.info(e, e.type)
      if (e.type !== 'child_started') process.stderr.write(`  ${describeEvent(e)}\n`)
    }
    // From here a signal stops the node cleanly, also while it is still starting: the stop waits for the start.
    let stopRequested: string | undefined
    const stopper: { now?: (sig: string) => void } = {}
    const onSignal = (sig: string): void => {
      if (stopRequested !== undefined) {
        process.stderr.write('second signal: exiting now\n')
        flushLogs()
        process.exit(130)
      }
      stopRequested = sig
      if (stopper.now) stopper.now(sig)
      else process.stderr.write(`${sig}: stopping once the start completes (again to exit now)\n`)
    }
    process.on('SIGINT', () => onSignal('SIGINT'))
    process.on('SIGTERM', () => onSignal('SIGTERM'))
    console.log('starting the embedded cluster…')
    const system = await ActorSystem.start(spec, { onEvent })
    holder.system = system
    console.log(renderTree(system.tree()))
    const ledger = system.lookup(LEDGER_WRITER)
    if (ledger) {
      const head = await ledger.ask({ _tag: 'GetHead' }, { timeoutMs: 10_000 })
      console.log(`\nledger: height ${head.height}, chain ${head.chainId}, block time ${head.blockTimeMs} ms`)
      if (head.blockTimeMs !== o.blockMs && explicit('blockMs')) {
        const notice = `this ledger's block time is ${head.blockTimeMs} ms, fixed at its genesis: --block-ms ${o.blockMs} is ignored (use a new --data-dir for a different block time)`
        process.stderr.write(`notice: ${notice}\n`)
        log.warn({ stored: head.blockTimeMs, requested: o.blockMs }, notice)
      }
    }
    if (o.wallet !== undefined && o.brains === 0 && !o.once) {
      // a miner for a Brain hosted elsewhere: registered (if not yet) and announced with its signed serveMiner record
      try {
        const a = await announceMiner(system, {
          dataDir, wallet: o.wallet, ...(o.brain !== undefined ? { brain: o.brain } : {}), actor: '/root/miners/miner-1', addrs: holder.listening ?? [],
          log: (line) => console.log(line),
        })
        const line = `serving: miner uid ${a.uid} of Brain #${a.brain} (compute key ${a.computeKey}) at ${a.addrs.join('  ')}${a.servedAt !== undefined ? ` — serveMiner in block ${a.servedAt}` : ' — already on chain'}`
        console.log(line)
        log.info({ ...a }, line)
      } catch (e) {
        await system.shutdown()
        lock.release()
        failAndExit(e)
      }
    }
    const control = findControl(dataDir)
    console.log(`\ncontrol: ${control}   (based inspect mailboxes --watch 1 · based inspect observer · Ctrl-C stops everything in reverse start order)`)
    log.info({ control }, 'cluster up')
    const stop = async (why: string): Promise<void> => {
      process.stderr.write(`\n${why}: stopping…\n`)
      await system.shutdown()
      log.info('cluster down')
      flushLogs()
      lock.release()
      console.log('stopped cleanly.')
    }
    if (o.once) {
      await stop('--once')
      return
    }
    stopper.now = (sig) => void stop(sig).then(() => process.exit(0), (e: unknown) => failAndExit(e))
    if (stopRequested !== undefined) stopper.now(stopRequested)
    const reason = await system.exited
    if (stopRequested === undefined) {
      await system.shutdown()
      lock.release()
      failAndExit(reason)
    }
  })

const worker = program.command('worker').description('kernel workers of a running cluster')
worker
  .command('attach')
  .description('start a GPU kernel worker (its own thread and WebGPU device) under a supervisor of a running cluster')
  .option('--gpu', 'require a WebGPU adapter (fail instead of falling back to the slow TypeScript reference path)')
  .option('--id <id>', 'child id (default: kernel-<n>)')
  .option('--supervisor <address>', 'supervisor to attach it to', '/root/miners')
  .option('--control <url>', 'control URL')
  .option('--data-dir <dir>', 'data directory', DEFAULT_CLUSTER.dataDir)
  .action(async (o: { gpu?: boolean; id?: string; supervisor: string; control?: string; dataDir: string }) => {
    const base = findControl(path.resolve(o.dataDir), o.control)
    const id = o.id ?? `kernel-${Date.now().toString(36)}`
    const spec = kernelWorkerRole.create(id, { allowFallback: !o.gpu }, { placement: 'worker', shutdown: 10_000 })
    console.log(`attaching ${id} under ${o.supervisor}… (acquiring a WebGPU device can take a few seconds)`)
    const res = await controlFetch(`${base}/children`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ supervisor: o.supervisor, spec }),
    })
    const text = await res.text()
    if (!res.ok) throw new ControlHttpError({ url: `${base}/children`, status: res.status, body: text })
    const body = JSON.parse(text) as Record<string, unknown>
    const address = String(body.address)
    const { detail } = await askControl(base, address, { _tag: 'GetStatus' })
    const notes = [
      ...(detail.slow ? ['SLOW: no WebGPU adapter, TypeScript reference path'] : []),
      ...(detail.software ? ['SOFTWARE adapter: WGSL runs on the CPU (e.g. lavapipe/llvmpipe), not on a GPU'] : []),
    ]
    console.log(`attached ${address}: backend ${String(detail.backend)}, adapter: ${String(detail.adapter)}, slow: ${detail.slow === true}, software: ${detail.software === true}${notes.length ? ` (${notes.join('; ')})` : ''}`)
    // Every running miner runs its encrypted products on the new worker from now on (a worker without an adapter is
    // left unused by the miners: the TypeScript reference is slower than their CPU backend).
    const miners = await runningMiners(base)
    for (const m of miners) await askControl(base, m, { _tag: 'UseKernels', kernels: address })
    const using = await Promise.all(miners.map(async (m) => (await askControl(base, m, { _tag: 'GetStatus' })).detail))
    console.log(`miners: ${miners.length === 0 ? 'none running' : miners.map((m, i) => `${m} → ${String(using[i]?.backend)}`).join(', ')}`)
  })
worker
  .command('detach <id>')
  .description('stop and remove a kernel worker')
  .option('--supervisor <address>', 'its supervisor', '/root/miners')
  .option('--control <url>', 'control URL')
  .option('--data-dir <dir>', 'data directory', DEFAULT_CLUSTER.dataDir)
  .action(async (id: string, o: { supervisor: string; control?: string; dataDir: string }) => {
    const base = findControl(path.resolve(o.dataDir), o.control)
    // Miners using this worker go back to the CPU first, so no product is sent to a worker that is stopping.
    const address = `${o.supervisor}/${id}`
    for (const m of await runningMiners(base)) {
      const { detail } = await askControl(base, m, { _tag: 'GetStatus' })
      if (detail.kernelsTarget === address) await askControl(base, m, { _tag: 'UseKernels', kernels: 'cpu' })
    }
    const res = await controlFetch(`${base}/children?supervisor=${encodeURIComponent(o.supervisor)}&id=${encodeURIComponent(id)}`, { method: 'DELETE' })
    if (!res.ok) throw new ControlHttpError({ url: `${base}/children`, status: res.status, body: await res.text() })
    console.log(`detached ${o.supervisor}/${id}`)
  })

/** Addresses of the running miners of the cluster at `base`. */
async function runningMiners(base: string): Promise<string[]> {
  const rows = await getJson<ActorStats[]>(`${base}/mailboxes`)
  return rows.filter((r) => r.role === 'miner' && r.state === 'running').map((r) => r.address)
}

async function getJson<T>(url: string): Promise<T> {
  const res = await controlFetch(url)
  if (!res.ok) throw new ControlHttpError({ url, status: res.status, body: await res.text() })
  return (await res.json()) as T
}

const inspect = program.command('inspect').description('look into a running cluster')
inspect
  .command('mailboxes')
  .description('live table of every actor: mailbox depth/capacity, processed, errors, restarts, state, recent message types')
  .option('--control <url>', 'control URL (default: read from <data-dir>/control.json)')
  .option('--data-dir <dir>', 'data directory', DEFAULT_CLUSTER.dataDir)
  .option('--json', 'print JSON')
  .option('--watch <seconds>', 'full-screen view redrawn every S seconds (Ctrl-C quits; with --json: JSON every S seconds)', int('--watch', 1, 3600))
  .action(async (o: { control?: string; dataDir: string; json?: boolean; watch?: number }) => {
    const base = findControl(path.resolve(o.dataDir), o.control)
    if (o.watch && !o.json) return watchMailboxes({ url: base, everyMs: o.watch * 1000, fetchRows: () => getJson<ActorStats[]>(`${base}/mailboxes`) })
    for (;;) {
      const rows = await getJson<ActorStats[]>(`${base}/mailboxes`)
      if (o.watch) process.stdout.write('\x1b[2J\x1b[H')
      console.log(o.json ? JSON.stringify(rows, null, 2) : renderMailboxes(rows))
      if (!o.watch) return
      await new Promise((r) => setTimeout(r, (o.watch ?? 1) * 1000))
    }
  })
inspect
  .command('observer')
  .description('print the address of the live observer page (opening it once sets a browser cookie; it holds the token)')
  .option('--control <url>', 'control URL')
  .option('--data-dir <dir>', 'data directory', DEFAULT_CLUSTER.dataDir)
  .action((o: { control?: string; dataDir: string }) => {
    const base = findControl(path.resolve(o.dataDir), o.control)
    console.log(`${base}/observer?token=${controlToken(base) ?? ''}`)
  })
inspect
  .command('tree')
  .description('the supervision tree of a running cluster')
  .option('--control <url>', 'control URL')
  .option('--data-dir <dir>', 'data directory', DEFAULT_CLUSTER.dataDir)
  .action(async (o: { control?: string; dataDir: string }) => {
    const base = findControl(path.resolve(o.dataDir), o.control)
    console.log(renderTree(await getJson<TreeNode>(`${base}/tree`)))
  })

program
  .command('ask <address> <message>')
  .description(`send one message (JSON, e.g. '{"_tag":"Ping"}'; '-' reads it from standard input, '@file' from a file) to an actor of a running cluster and print the reply`)
  .option('--control <url>', 'control URL')
  .option('--data-dir <dir>', 'data directory', DEFAULT_CLUSTER.dataDir)
  .option('--timeout <ms>', 'reply timeout', int('--timeout', 1, 600_000), 5000)
  .option('--peer <multiaddr>', 'ask over libp2p, on the node at this address (…/p2p/<peer id>), instead of the local control endpoint')
  .action(async (address: string, message: string, o: { control?: string; dataDir: string; timeout: number; peer?: string }) => {
    let text = message
    if (message === '-') text = fs.readFileSync(0, 'utf8')
    else if (message.startsWith('@')) {
      try {
        text = fs.readFileSync(message.slice(1), 'utf8')
      } catch (e) {
        throw new InvalidArgumentError(`cannot read ${message.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
      }
    }
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch {
      throw new InvalidArgumentError(`message is not JSON: ${text.slice(0, 200)}`)
    }
    const msg = decodeMessageUnknown(raw)
    if (Either.isLeft(msg)) failAndExit(msg.left, 2)
    const frame = encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to: address, id: 1, body: msg.right })
    let bytes: Uint8Array
    if (o.peer) {
      const client = await Libp2pTransport.create({ listen: [] })
      try {
        bytes = await client.request(o.peer, frame, { timeoutMs: o.timeout })
      } finally {
        await client.close()
      }
    } else {
      const base = findControl(path.resolve(o.dataDir), o.control)
      const res = await controlFetch(`${base}/ask?to=${encodeURIComponent(address)}`, {
        method: 'POST',
        body: frame,
        headers: { 'content-type': 'application/octet-stream' },
        signal: AbortSignal.timeout(o.timeout + 1000),
      })
      bytes = new Uint8Array(await res.arrayBuffer())
    }
    const answer = decodeFrame(bytes)
    if (Either.isLeft(answer)) throw answer.left.error
    if (answer.right._tag === 'Fail') throw answer.right.error
    console.log(JSON.stringify(answer.right._tag === 'Reply' ? answer.right.body : answer.right, null, 2))
  })

registerModelCommands(program)
program.addCommand(walletCommand())
registerParticipantCommands(program)
registerNetworkCommands(program)

program.parseAsync().catch((e: unknown) => failAndExit(e))
