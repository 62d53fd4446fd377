/**
 * Shared by the remote-miner tests (test/net/remote-miner.test.ts, test/net/netns.test.ts): a one-validator test
 * network whose genesis funds the dev owner (to acquire a Brain), dev validator 1 (A's validator) and the wallet of
 * node B (its miner's payee), and helpers that run `based` processes, optionally inside a network namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { makeChainSpec, loadOrCreateValidatorKey, PARAM_OVERRIDES } from '../../bft/chain-spec.ts'
import { createWallet, defaultParams, devKeys, fromAddress, tokens } from '../../ledger/index.ts'

export const BASED = new URL('../../cli/based.ts', import.meta.url).pathname
export const BOOTSTRAP = new URL('./remote-bootstrap.ts', import.meta.url).pathname
export const PASSPHRASE = 'remote-miner-test-passphrase'

export interface TestNetwork {
  readonly genesis: string
  readonly aDir: string
  readonly bDir: string
  /** B's wallet: its personal (payee) and compute addresses. */
  readonly bob: { readonly personal: string; readonly compute: string }
}

export function prepareNetwork(dir: string, o: { blockMs: number; tempo: number }): TestNetwork {
  const aDir = path.join(dir, 'a')
  const bDir = path.join(dir, 'b')
  fs.mkdirSync(aDir, { recursive: true })
  fs.mkdirSync(bDir, { recursive: true })
  const validator = loadOrCreateValidatorKey(aDir)
  const defaults = defaultParams()
  const bob = createWallet(bDir, 'bob', PASSPHRASE, { scryptN: 1 << 12 })
  const spec = makeChainSpec({
    chainId: 'remote-miner-test', blockTimeMs: o.blockMs, validators: [{ publicKey: validator.publicKey, power: 1000n }],
    accounts: [
      { publicKey: devKeys.owner().publicKey, based: tokens(1000), pepe: tokens(1_000_000) },
      { publicKey: devKeys.validator(1).publicKey, based: tokens(5000) },
      { publicKey: fromAddress(bob.personal), based: tokens(1000) },
    ],
    // every overridable parameter must be named (bft/chain-spec.ts's schema): the defaults, with the test's tempo
    params: { ...Object.fromEntries(PARAM_OVERRIDES.map((k) => [k, defaults[k]])), tempo: o.tempo } as NonNullable<Parameters<typeof makeChainSpec>[0]['params']>,
  })
  const genesis = path.join(dir, 'genesis.json')
  fs.writeFileSync(genesis, `${JSON.stringify(spec, null, 2)}\n`)
  return { genesis, aDir, bDir, bob: { personal: bob.personal, compute: bob.compute } }
}

export interface Proc {
  readonly child: ChildProcess
  out(): string
  err(): string
  readonly exited: Promise<number | null>
}

/** Spawns `node <script> …args`, inside network namespace `ns` when given (`ip netns exec` execs node itself). */
export function spawnProc(script: string, args: readonly string[], o: { ns?: string; env?: Record<string, string> } = {}): Proc {
  const argv = [script, ...args]
  const child = o.ns
    ? spawn('ip', ['netns', 'exec', o.ns, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, out: () => out, err: () => err, exited }
}

/** Runs one `based` command to its end (killed after `timeoutMs`). */
export async function based(args: readonly string[], o: { ns?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number | null; out: string; err: string }> {
  return runScript(BASED, args, o)
}

export async function runScript(script: string, args: readonly string[], o: { ns?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawnProc(script, args, o)
  const timer = setTimeout(() => p.child.kill('SIGKILL'), o.timeoutMs ?? 120_000)
  const code = await p.exited
  clearTimeout(timer)
  return { code, out: p.out(), err: p.err() }
}

/** `cluster up` arguments of node A: the genesis validator with one Brain (and `validators` validators), no miner. */
export function nodeAArgs(net: TestNetwork, o: { bftListen: string; listen: string; validators: number; challengeMs?: number }): string[] {
  return [
    'cluster', 'up', '--genesis', net.genesis, '--data-dir', net.aDir, '--control-port', '0', '--brains', '1', '--miners', '0',
    '--validators', String(o.validators), '--challenge-ms', String(o.challengeMs ?? 0), '--bft-listen', o.bftListen, '--listen', o.listen,
  ]
}

/**
 * `cluster up` arguments of node B: no Brain, one miner with B's wallet, following A's chain. `wallet: false` leaves
 * `--wallet` out: the data dir's only wallet is used.
 */
export function nodeBArgs(net: TestNetwork, o: { bftListen: string; listen: string; join: string; wallet?: boolean }): string[] {
  return [
    'cluster', 'up', '--genesis', net.genesis, '--data-dir', net.bDir, '--control-port', '0', '--brains', '0', '--miners', '1',
    ...(o.wallet === false ? [] : ['--wallet', 'bob']), '--bft-listen', o.bftListen, '--join', o.join, '--listen', o.listen,
  ]
}
