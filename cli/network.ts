/**
 * Many machines, one chain, from the command line (docs/NETWORK.md):
 *
 *   based validator-key [--data-dir D]                      this node's validator public key (created on first use)
 *   based genesis [--nodes N --data-dir D] [--validator HEX[:POWER]]… [--account ADDRESS:AMOUNT]… [--chain-id ID]
 *                 [--block-ms MS] [--out FILE] [--force]    writes a genesis (chain spec) file naming the validators
 *   based network local --nodes N [--data-dir D] [--block-ms MS] [--json]
 *                                                           N nodes as separate processes on loopback; Ctrl-C stops all
 *   based cluster up --genesis FILE [--join MULTIADDR…] [--bft-listen MULTIADDR…]   one node of a network
 *
 * `withConsensus` turns the embedded cluster's tree into a consensus node's: the ledger writer becomes the consensus
 * node (actors/bft-node.ts), which agrees on every block with the validators the genesis names.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Data } from 'effect'
import { Command, InvalidArgumentError } from 'commander'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { ChildSpecInput, SupervisorSpecInput } from '../supervisor/index.ts'
import { bftNodeRole, GENESIS_PROTOCOL } from '../actors/bft-node.ts'
import { askControl } from '../actors/control/client.ts'
import { findControl } from '../actors/control/index.ts'
import { loadOrCreateValidatorKey, makeChainSpec, parseChainSpec, readChainSpec } from '../bft/chain-spec.ts'
import { Libp2pTransport, loadOrCreateIdentity } from '../net/libp2p-transport.ts'
import { InvalidClusterConfig } from './errors.ts'
import { devKeys } from '../ledger/dev.ts'
import { fromAddress, toAddress, toHex } from '../ledger/index.ts'
import { parseAmount, tokens } from '../ledger/units.ts'

/** `based genesis` would overwrite a file, or was given nothing to name. */
export class GenesisRefused extends Data.TaggedError('GenesisRefused')<{ readonly reason: string }> {}
/** A node of `based network local` did not come up in time. */
export class NodeStartFailed extends Data.TaggedError('NodeStartFailed')<{ readonly node: number; readonly reason: string; readonly log: string }> {}

export interface ConsensusOptions {
  /** The genesis (chain spec) file. */
  readonly genesis: string
  readonly join: readonly string[]
  readonly listen: readonly string[]
}

/** The cluster tree with its ledger writer replaced by the consensus node (same address, /root/ledger/writer). */
export function withConsensus(spec: SupervisorSpecInput, o: { dataDir: string; shards: number }, c: ConsensusOptions): SupervisorSpecInput {
  const writer = bftNodeRole.create(
    'writer',
    { dataDir: o.dataDir, genesis: path.resolve(c.genesis), listen: [...c.listen], join: [...c.join], shards: o.shards },
    { mailbox: { capacity: 16_384 }, shutdown: 30_000 },
  )
  const children: ChildSpecInput[] = spec.children.map((child) =>
    child.kind === 'supervisor' && child.id === 'ledger' ? { ...child, children: child.children.map((w) => (w.id === 'writer' ? writer : w)) } : child,
  )
  return { ...spec, children }
}

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v)
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`)
    return n
  }
}
const collect = (v: string, prev: string[]): string[] => [...prev, v]

interface GenesisOpts {
  nodes?: number; dataDir?: string; validator: string[]; account: string[]; chainId: string; blockMs: number; out?: string; force?: boolean; power: number
}

/** Writes a genesis file (see `based genesis --help`); returns its path. */
export function writeGenesis(o: GenesisOpts): string {
  const validators: Array<{ publicKey: Uint8Array; power: bigint }> = []
  if (o.nodes !== undefined) {
    if (!o.dataDir) throw new GenesisRefused({ reason: '--nodes needs --data-dir (each node-<i> gets its validator key there)' })
    for (let i = 1; i <= o.nodes; i++) validators.push({ publicKey: loadOrCreateValidatorKey(path.join(o.dataDir, `node-${i}`)).publicKey, power: BigInt(o.power) })
  }
  for (const v of o.validator) {
    const m = /^([0-9a-f]{64})(?::([0-9]{1,19}))?$/.exec(v)
    if (!m) throw new InvalidArgumentError(`--validator ${v}: expected <64 hex digits>[:power]`)
    validators.push({ publicKey: Uint8Array.from(Buffer.from(m[1] as string, 'hex')), power: BigInt(m[2] ?? o.power) })
  }
  if (validators.length === 0) throw new GenesisRefused({ reason: 'no validators: give --nodes N --data-dir D, or --validator <public key hex> (see `based validator-key`)' })
  const accounts = o.account.map((a) => {
    const at = a.lastIndexOf(':')
    if (at < 0) throw new InvalidArgumentError(`--account ${a}: expected <address>:<amount in $BASED>`)
    let publicKey: Uint8Array
    let based: bigint
    try {
      publicKey = fromAddress(a.slice(0, at))
      based = parseAmount(a.slice(at + 1))
    } catch (e) {
      throw new InvalidArgumentError(`--account ${a}: ${e instanceof Error ? e.message : String(e)}`)
    }
    return { publicKey, based, pepe: tokens(1000) }
  })
  const spec = makeChainSpec({ chainId: o.chainId, blockTimeMs: o.blockMs, validators, accounts })
  const out = path.resolve(o.out ?? (o.dataDir ? path.join(o.dataDir, 'genesis.json') : 'genesis.json'))
  if (fs.existsSync(out) && !o.force) throw new GenesisRefused({ reason: `${out} exists (every node must keep the same file; --force to replace it)` })
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(out, `${JSON.stringify(spec, null, 2)}\n`)
  return out
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a ? a.port : 0
      s.close(() => resolve(port))
    })
  })
}

export interface LocalNode {
  readonly index: number
  readonly dataDir: string
  readonly validator: string
  readonly multiaddr: string
  readonly control: string
  pid: number
  /** The command that (re)starts this node: `process.execPath` followed by these arguments. */
  readonly argv: readonly string[]
}

const BASED = fileURLToPath(new URL('./based.ts', import.meta.url))

/** `based network local`: returns once every node answers on its control endpoint. */
export async function startLocalNetwork(o: {
  nodes: number; dataDir: string; blockMs: number; timeoutMs?: number; onSpawn?: (child: ChildProcess) => void
  /** Nodes (1-based) not to start (tests put a harness in their place). */
  skip?: readonly number[]
}): Promise<{ nodes: LocalNode[]; children: ChildProcess[] }> {
  const dataDir = path.resolve(o.dataDir)
  const genesis = path.join(dataDir, 'genesis.json')
  if (!fs.existsSync(genesis)) {
    writeGenesis({
      nodes: o.nodes, dataDir, validator: [], account: [], chainId: 'basedai-local', blockMs: o.blockMs, power: 1000, out: genesis,
    })
    // the dev owner key (public, ledger/dev.ts) is funded so that a person can send transactions at once
    const spec = JSON.parse(fs.readFileSync(genesis, 'utf8')) as { accounts: unknown[] }
    spec.accounts.push({ address: toAddress(devKeys.owner().publicKey), based: tokens(1_000_000).toString(), pepe: tokens(1_000_000).toString() })
    fs.writeFileSync(genesis, `${JSON.stringify(spec, null, 2)}\n`)
  }
  const chain = readChainSpec(genesis)
  if (chain.validators.length !== o.nodes) throw new GenesisRefused({ reason: `${genesis} names ${chain.validators.length} validators, not ${o.nodes} (use another --data-dir)` })
  const plan: Array<{ dir: string; port: number; peer: string; validator: string }> = []
  for (let i = 1; i <= o.nodes; i++) {
    const dir = path.join(dataDir, `node-${i}`)
    const peer = peerIdFromPrivateKey(await loadOrCreateIdentity(dir)).toString()
    plan.push({ dir, port: await freePort(), peer, validator: toHex(loadOrCreateValidatorKey(dir).publicKey) })
  }
  const addr = (p: { port: number; peer: string }): string => `/ip4/127.0.0.1/tcp/${p.port}/p2p/${p.peer}`
  const children: ChildProcess[] = []
  const nodes: LocalNode[] = plan.flatMap((p, i) => {
    if (o.skip?.includes(i + 1)) return []
    fs.rmSync(path.join(p.dir, 'control.json'), { force: true })
    const argv = [
      BASED, 'cluster', 'up', '--genesis', genesis, '--data-dir', p.dir, '--control-port', '0', '--brains', '0', '--no-net',
      '--bft-listen', `/ip4/127.0.0.1/tcp/${p.port}`, '--join', ...plan.filter((q) => q !== p).map(addr),
    ]
    const log = fs.openSync(path.join(p.dir, 'node.log'), 'a')
    const child = spawn(process.execPath, argv, { stdio: ['ignore', log, log] })
    fs.closeSync(log)
    children.push(child)
    o.onSpawn?.(child)
    fs.writeFileSync(path.join(p.dir, 'node.pid'), `${child.pid}\n`)
    return [{ index: i + 1, dataDir: p.dir, validator: p.validator, multiaddr: addr(p), control: '', pid: child.pid ?? 0, argv }]
  })
  const deadline = Date.now() + (o.timeoutMs ?? 120_000)
  const ready: LocalNode[] = []
  for (const [k, n] of nodes.entries()) {
    const child = children[k] as ChildProcess
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new NodeStartFailed({ node: n.index, reason: `exited (${child.exitCode ?? child.signalCode})`, log: path.join(n.dataDir, 'node.log') })
      }
      try {
        const control = findControl(n.dataDir)
        await askControl(control, '/root/ledger/writer', { _tag: 'GetHead' }, 2000)
        ready.push({ ...n, control })
        break
      } catch {
        if (Date.now() > deadline) throw new NodeStartFailed({ node: n.index, reason: 'no answer on its control endpoint in time', log: path.join(n.dataDir, 'node.log') })
        await new Promise((r) => setTimeout(r, 250))
      }
    }
  }
  fs.writeFileSync(path.join(dataDir, 'nodes.json'), `${JSON.stringify(ready, null, 2)}\n`)
  return { nodes: ready, children }
}

export function registerNetworkCommands(program: Command): void {
  program
    .command('validator-key')
    .description("this node's validator public key (hex; created in <data-dir>/validator-key on first use): give it to whoever writes the genesis")
    .option('--data-dir <dir>', 'data directory', path.resolve(process.env.BASED_DATA_DIR ?? '.data'))
    .action((o: { dataDir: string }) => {
      console.log(toHex(loadOrCreateValidatorKey(path.resolve(o.dataDir)).publicKey))
    })

  program
    .command('genesis')
    .description('write a genesis file: the chain id, block time, validators (public key and power) and funded accounts every node starts from')
    .option('--nodes <n>', 'create validator keys for N local nodes in <data-dir>/node-<i> and name them', int('--nodes', 1, 64))
    .option('--data-dir <dir>', 'where node-<i> directories and genesis.json go (with --nodes)')
    .option('--validator <hex[:power]>', 'a validator public key (`based validator-key` on its machine), repeatable', collect, [])
    .option('--account <address:amount>', 'fund an account with $BASED (and 1,000 Pepecoin), repeatable', collect, [])
    .option('--power <n>', 'voting power of validators given without one', int('--power', 1, 1_000_000_000), 1000)
    .option('--chain-id <id>', 'chain id', 'basedai-net')
    .option('--block-ms <ms>', 'block time', int('--block-ms', 50, 3_600_000), 1000)
    .option('--out <file>', 'output file (default <data-dir>/genesis.json, else ./genesis.json)')
    .option('--force', 'replace an existing file')
    .action((o: GenesisOpts) => {
      const out = writeGenesis(o)
      const spec = readChainSpec(out)
      console.log(`${out}: chain ${spec.spec.chainId}, ${spec.validators.length} validator(s), ${spec.genesis.accounts.length} funded account(s), block time ${spec.spec.blockTimeMs} ms`)
    })

  const network = program.command('network').description('several nodes agreeing on one chain')
  network
    .command('local')
    .description('N nodes as separate processes on loopback, from a dev genesis naming N validators (Ctrl-C stops them all)')
    .requiredOption('--nodes <n>', 'number of nodes (validators)', int('--nodes', 1, 32))
    .option('--data-dir <dir>', 'node-<i> directories, genesis.json and nodes.json go here', path.resolve(process.env.BASED_DATA_DIR ?? '.data', 'network'))
    .option('--block-ms <ms>', 'block time of a new genesis', int('--block-ms', 50, 3_600_000), 1000)
    .option('--json', 'print the nodes as JSON once they are up')
    .action(async (o: { nodes: number; dataDir: string; blockMs: number; json?: boolean }) => {
      const holder: { children: ChildProcess[] } = { children: [] }
      let stopping = false
      const stopAll = (sig: NodeJS.Signals): void => {
        if (stopping) {
          for (const c of holder.children) c.kill('SIGKILL')
          process.exit(130)
        }
        stopping = true
        process.stderr.write(`\n${sig}: stopping ${holder.children.length} node(s)…\n`)
        for (const c of holder.children) c.kill('SIGTERM')
      }
      process.on('SIGINT', () => stopAll('SIGINT'))
      process.on('SIGTERM', () => stopAll('SIGTERM'))
      let started: Awaited<ReturnType<typeof startLocalNetwork>>
      try {
        started = await startLocalNetwork({ ...o, onSpawn: (c) => holder.children.push(c) })
      } catch (e) {
        for (const c of holder.children) c.kill('SIGTERM')
        throw e
      }
      if (o.json) console.log(JSON.stringify(started.nodes, null, 2))
      else {
        for (const n of started.nodes) console.log(`node-${n.index}  control ${n.control}  multiaddr ${n.multiaddr}  (pid ${n.pid}, ${n.dataDir})`)
        console.log(`\n${started.nodes.length} nodes up: based chain head --json --data-dir ${started.nodes[0]?.dataDir} · Ctrl-C stops them all`)
      }
      console.log('ready')
      await Promise.all(started.children.map((c, i) => new Promise<void>((resolve) => {
        c.once('exit', (code, signal) => {
          if (!stopping) process.stderr.write(`node-${i + 1} exited (${code ?? signal})\n`)
          resolve()
        })
      })))
      console.log('all nodes stopped.')
    })
}

/**
 * `cluster up --join <A>` without `--genesis`: the chain spec of the network A is on. A data dir that already holds
 * one (`<data-dir>/genesis.json`, fetched on an earlier start) keeps it; otherwise the join peers are asked in turn
 * over `/basedai/genesis/1.0.0` (each authenticated by the peer id its multiaddr names), the first valid chain spec is
 * written there, and its path returned. No peer answering with a valid spec is an `InvalidClusterConfig` naming each
 * peer's failure.
 */
export async function genesisFromPeers(dataDir: string, join: readonly string[], log: (line: string) => void = () => undefined): Promise<string> {
  const file = path.join(dataDir, 'genesis.json')
  if (fs.existsSync(file)) {
    log(`genesis: ${file} (fetched on an earlier start)`)
    return file
  }
  const transport = await Libp2pTransport.create({ listen: [] })
  const failures: string[] = []
  try {
    for (const peer of join) {
      try {
        const bytes = await transport.call(peer, GENESIS_PROTOCOL, new Uint8Array(0), 10_000)
        const text = new TextDecoder().decode(bytes)
        const chain = parseChainSpec(JSON.parse(text))
        fs.mkdirSync(dataDir, { recursive: true })
        const tmp = `${file}.${process.pid}.tmp`
        fs.writeFileSync(tmp, text)
        fs.renameSync(tmp, file)
        log(`genesis: chain ${chain.spec.chainId} (${chain.validators.length} validators) from ${peer}, kept in ${file}`)
        return file
      } catch (e) {
        const tag = (e as { _tag?: string })._tag
        failures.push(`${peer}: ${tag ?? (e as Error).name ?? 'Error'} ${(e as Error).message ?? String(e)}`.trim())
      }
    }
  } finally {
    await transport.close()
  }
  throw new InvalidClusterConfig({ field: '--join', reason: `no peer gave a valid genesis (give --genesis FILE instead): ${failures.join('; ')}` })
}
