/**
 * `based wallet` end to end, each command a real `node cli/based.ts wallet …` process:
 * - create with no terminal and no BASED_WALLET_PASSPHRASE → PassphraseRequired naming the variable, exit 1, no file;
 *   at a terminal (a pseudo-terminal, via python3's pty) the prompt echoes nothing and writes no escape codes;
 * - transfer against a running small cluster: 0, an unfunded sender and an overdraft exit 1 with the typed reason;
 *   a good one waits and prints its block; --no-wait returns once admitted.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createWallet, formatAmount, listWallets, tokens } from '../../ledger/index.ts'
import { askControl } from '../../actors/control/client.ts'
import { findControl } from '../../actors/control/index.ts'
import { until } from '../support/tracker.ts'

const based = new URL('../../cli/based.ts', import.meta.url).pathname
const ENV = 'BASED_WALLET_PASSPHRASE'

interface Run {
  readonly code: number | null
  readonly out: string
  readonly err: string
}

function run(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: 'ignore' | 'pipe'; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [based, ...args], { stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'], env: opts.env ?? process.env })
    let out = ''
    let err = ''
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
    if (opts.stdin === 'pipe' && child.stdin) child.stdin.end(opts.input ?? '')
    child.on('exit', (code) => resolve({ code, out, err }))
  })
}

function envWithout(name: string): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env[name]
  return env
}

test('wallet create: no terminal and no passphrase variable → PassphraseRequired naming the variable, exit 1, nothing created; the variable works', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-wallet-cli-'))
  try {
    const bare = envWithout(ENV)
    const [devnull, piped] = await Promise.all([
      run(['wallet', 'create', 'alice', '--data-dir', dir], { env: bare, stdin: 'ignore' }),
      run(['wallet', 'create', 'alice', '--data-dir', dir], { env: bare, stdin: 'pipe', input: 'password1\npassword1\n' }),
    ])
    for (const r of [devnull, piped]) {
      assert.equal(r.code, 1, r.err)
      assert.match(r.err, /PassphraseRequired/)
      assert.match(r.err, /BASED_WALLET_PASSPHRASE/)
      assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace')
    }
    assert.deepEqual(listWallets(dir), [])
    const ok = await run(['wallet', 'create', 'alice', '--data-dir', dir], { env: { ...bare, [ENV]: 'password1' }, stdin: 'pipe', input: '' })
    assert.equal(ok.code, 0, ok.err)
    assert.match(ok.out, /personal \S+/)
    assert.deepEqual(listWallets(dir).map((w) => w.name), ['alice'])
    const weak = await run(['wallet', 'create', 'bob', '--data-dir', dir], { env: { ...bare, [ENV]: 'short' } })
    assert.equal(weak.code, 1)
    assert.match(weak.err, /WalletError .*weak-passphrase/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

const PTY_DRIVER = `
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
def pump(until, t=60):
    global out
    end = time.time() + t
    while time.time() < end and (until is None or until not in out):
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return
            if not d:
                return
            out += d
pump(b'passphrase: ')
os.write(fd, b'secret-pw-1\\x1b[A\\r')
pump(b'again: ')
os.write(fd, b'secret-pw-1\\r')
pump(None, 60)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.hex() + '\\n' + str(os.waitstatus_to_exitcode(status)) + '\\n')
`

test('wallet create at a terminal: the prompt echoes nothing and writes no escape codes', { skip: spawnSync('python3', ['-c', 'import pty']).status !== 0 ? 'python3 with pty not available' : false }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-wallet-pty-'))
  try {
    const r = spawnSync('python3', ['-c', PTY_DRIVER, process.execPath, based, 'wallet', 'create', 'carol', '--data-dir', dir], {
      env: envWithout(ENV), encoding: 'utf8', timeout: 120_000,
    })
    const [hex, code] = r.stdout.trim().split('\n')
    const text = Buffer.from(hex ?? '', 'hex').toString('utf8')
    assert.equal(code, '0', `${text}\n${r.stderr}`)
    assert.match(text, /passphrase: /)
    assert.match(text, /again: /)
    assert.match(text, /personal \S+/)
    assert.ok(!text.includes('secret-pw-1'), 'passphrase echoed')
    assert.ok(!text.includes('\u001b'), `escape code in ${JSON.stringify(text)}`)
    assert.deepEqual(listWallets(dir).map((w) => w.name), ['carol'])
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('wallet transfer against a running cluster: refusals exit 1 with the typed reason, a good transfer prints its block', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-wallet-transfer-'))
  const fast = { scryptN: 1 << 10 }
  const alice = createWallet(dir, 'alice', 'password1', fast) // funded by the dev genesis (created before the first start)
  const bob = createWallet(dir, 'bob', 'password1', fast)
  const env = { ...process.env, [ENV]: 'password1' }
  const node = spawn(process.execPath, [
    based, 'cluster', 'up', '--brains', '1', '--miners', '0', '--validators', '0', '--no-net', '--block-ms', '300', '--control-port', '0', '--data-dir', dir,
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  node.stdout.on('data', (d: Buffer) => (out += d.toString()))
  node.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => node.on('exit', (code) => resolve(code)))
  try {
    await until(() => out.includes('control: http://') || node.exitCode !== null, 120_000, 'cluster up')
    assert.ok(out.includes('control: http://'), `cluster did not start:\n${out}\n${err}`)
    createWallet(dir, 'carol', 'password1', fast) // after genesis: never funded
    const w = (...a: string[]): Promise<Run> => run(['wallet', 'transfer', ...a, '--data-dir', dir], { env })
    const [zero, unfunded, overdraft] = await Promise.all([w('alice', 'bob', '0'), w('carol', 'bob', '1'), w('alice', 'bob', '5000')])
    assert.equal(zero.code, 1, zero.out)
    assert.match(zero.err, /refused: InvalidAmount/)
    assert.equal(unfunded.code, 1, unfunded.out)
    assert.match(unfunded.err, /refused: UnknownAccount/)
    assert.equal(overdraft.code, 1, overdraft.out)
    assert.match(overdraft.err, /refused: InsufficientFunds: needs 5000 \$BASED/)

    const good = await w('alice', 'bob', '1.5')
    assert.equal(good.code, 0, good.err)
    const m = /included in block (\d+): 1\.5 \$BASED from alice/.exec(good.out)
    assert.ok(m, good.out)
    const url = findControl(dir) // control.json's URL; remembers the token of control.cookie for askControl
    const head = await askControl(url, '/root/ledger/writer', { _tag: 'GetHead' })
    assert.ok(head.height >= Number(m[1]))
    const b = await askControl(url, '/root/ledger/writer', { _tag: 'GetAccount', address: bob.personal })
    assert.equal(formatAmount(BigInt(b.based)), formatAmount(tokens(1000) + tokens(3) / 2n))
    const a = await askControl(url, '/root/ledger/writer', { _tag: 'GetAccount', address: alice.personal })
    assert.equal(a.nonce, '1', 'the refused transfers consumed no nonce')

    const quick = await w('alice', 'bob', '2', '--no-wait')
    assert.equal(quick.code, 0, quick.err)
    assert.match(quick.out, /accepted [0-9a-f]{64} \(nonce 1\): 2 \$BASED/)
  } finally {
    node.kill('SIGINT')
    await exited
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
