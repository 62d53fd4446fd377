/**
 * `based wallet create | list | balance | transfer` — thin commander wiring over basedai/ledger's wallet functions.
 * Wire it in cli/based.ts with `program.addCommand(walletCommand())`.
 *
 *   based wallet create <name> [--data-dir D]             prints the two addresses (never the secrets)
 *   based wallet list [--data-dir D] [--json]
 *   based wallet balance <name|address> [--data-dir D]    reads the local ledger at <data-dir>/ledger
 *   based wallet transfer <name> <to> <amount> [--pepe] [--nonce N] [--no-wait] [--data-dir D]
 *                                                         signs with the next nonce and minimum fee, submits it to the
 *                                                         running cluster and waits for its block (--no-wait: return
 *                                                         once admitted; --offline: print the tx hex instead)
 *   based wallet show-secret <name>                       the only command that prints secret seeds
 *
 * The passphrase comes from $BASED_WALLET_PASSPHRASE or, when standard input is a terminal, a prompt on stderr that
 * does not echo. With neither, the command fails with PassphraseRequired (naming the variable) and exits 1.
 *
 * `transfer` exits 0 only when the transaction is included and applied: it prints the block height. A refusal at
 * submission (the node's admission runs the ledger's own checks: InvalidAmount for 0, InsufficientFunds,
 * UnknownAccount for a sender never funded, FeeTooLow, BadNonce, …) or a failure in the block (fee paid, nonce
 * consumed, transfer not applied) prints the typed reason and exits 1. Amounts print in $BASED (or PEPE).
 */
import { Command } from 'commander'
import fs from 'node:fs'
import path from 'node:path'
import {
  Ledger, LmdbStore, PassphraseRequired, TxWaitTimeout, WalletError, createWallet, defaultParams, exportWalletSecrets,
  formatAmount, listWallets, toHex, walletBalance, walletTransfer,
} from '../ledger/index.ts'
import { LedgerRejection, type TxStatus } from '../protocol/index.ts'
import { findControl } from '../actors/control/index.ts'
import { askControl } from '../actors/control/client.ts'

/** Where the cluster's ledger actor lives (cli/cluster.ts). */
export const LEDGER_ADDRESS = '/root/ledger/writer'
/** The environment variable that carries the wallet passphrase when there is no terminal to prompt on. */
export const PASSPHRASE_ENV = 'BASED_WALLET_PASSPHRASE'

const DEFAULT_DATA_DIR = path.resolve(process.env.BASED_DATA_DIR ?? '.data')

/**
 * The passphrase: $BASED_WALLET_PASSPHRASE, else typed at a terminal (raw mode, nothing echoed, no escape codes
 * written: only the prompt and a newline go to stderr). PassphraseRequired when stdin is not a terminal or the prompt
 * is cancelled (Ctrl-C, Ctrl-D on an empty line).
 */
export async function passphrase(prompt: string): Promise<string> {
  const env = process.env[PASSPHRASE_ENV]
  if (env !== undefined) return env
  const input = process.stdin
  if (!input.isTTY) throw new PassphraseRequired({ envVar: PASSPHRASE_ENV, reason: 'no-terminal' })
  // Raw mode before the prompt, so nothing typed after the prompt appears is echoed by the terminal.
  input.setRawMode(true)
  input.resume()
  process.stderr.write(prompt)
  return new Promise<string>((resolve, reject) => {
    let chars: string[] = []
    const finish = (err?: PassphraseRequired): void => {
      input.off('data', onData)
      input.setRawMode(false)
      input.pause()
      process.stderr.write('\n')
      if (err) reject(err)
      else resolve(chars.join(''))
    }
    // Escape sequences (arrow and function keys: ESC [ … final, ESC O x) are skipped, not taken as passphrase text.
    let esc: 'none' | 'start' | 'body' = 'none'
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (esc === 'start') {
          esc = ch === '[' || ch === 'O' ? 'body' : 'none'
          continue
        }
        if (esc === 'body') {
          if (ch >= '@' && ch <= '~') esc = 'none'
          continue
        }
        if (ch === '\u001b') {
          esc = 'start'
          continue
        }
        if (ch === '\r' || ch === '\n') return finish()
        if (ch === '\u0003' || (ch === '\u0004' && chars.length === 0)) return finish(new PassphraseRequired({ envVar: PASSPHRASE_ENV, reason: 'cancelled' }))
        if (ch === '\u0004') return finish()
        if (ch === '\u007f' || ch === '\b') chars = chars.slice(0, -1)
        else if (ch >= ' ') chars.push(ch)
      }
    }
    input.on('data', onData)
  })
}

function openLedger(dataDir: string): Ledger {
  const dir = path.join(dataDir, 'ledger')
  if (!fs.existsSync(dir)) throw new Error(`no ledger at ${dir} (start a node first)`)
  return Ledger.open({ store: LmdbStore.open({ path: dir }) })
}

function addressOf(dataDir: string, nameOrAddress: string): string {
  return listWallets(dataDir).find((w) => w.name === nameOrAddress)?.personal ?? nameOrAddress
}

/** Fields of a typed ledger error from a receipt (TxStatus.detail carries them as JSON). */
export function fieldsOf(detail: string | undefined): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(detail ?? '{}')
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

export function money(v: unknown, unit: string): string {
  return typeof v === 'string' && /^\d+$/.test(v) ? `${formatAmount(BigInt(v))} ${unit}` : String(v)
}

/** One line for a ledger's typed reason (tag + fields), amounts in $BASED / PEPE. */
export function describeReason(tag: string, detail: string | undefined): string {
  const f = fieldsOf(detail)
  switch (tag) {
    case 'InsufficientFunds': {
      const unit = f.asset === 'pepe' ? 'PEPE' : f.asset === 'stake' ? '$BASED staked' : '$BASED'
      return `${tag}: needs ${money(f.needed, unit)}, ${money(f.available, unit)} available (the sender's queued transactions counted)`
    }
    case 'FeeTooLow':
      return `${tag}: the fee rule asks at least ${money(f.min, '$BASED')}, the transaction offers ${money(f.got, '$BASED')}`
    case 'InvalidAmount':
      return `${tag}: ${String(f.field)} ${String(f.reason)}`
    case 'UnknownAccount':
      return `${tag}: the sender has no account on this ledger (it has never been funded)`
    case 'BadNonce':
      return `${tag}: expected nonce ${String(f.expected)}, got ${String(f.got)}`
    case 'MempoolFull':
      return `${tag}: the node already holds ${String(f.max)} queued transactions; retry after the next block`
    case 'UnknownEscrow':
      return `${tag}: no spending account${f.brain ? ` on Brain #${String(f.brain)}` : ''} pays for this (based escrow open --brain N --amount X)`
    case 'EscrowInsufficient':
      return f.asset === 'units'
        ? `${tag}: the session's allowance is ${String(f.available)} compute units, ${String(f.needed)} needed`
        : `${tag}: the spending account holds ${money(f.available, '$BASED')}, ${money(f.needed, '$BASED')} needed`
    case 'EscrowClosing':
      return `${tag}: a withdrawal was announced on Brain #${String(f.brain)}'s spending account (withdrawable from block ${String(f.unlockAt)}): no top-up or new session`
    case 'EscrowLocked':
      return Number(f.unlockAt) === 0
        ? `${tag}: announce the withdrawal first (based escrow close --brain ${String(f.brain)})`
        : `${tag}: withdrawable from block ${String(f.unlockAt)} (now ${String(f.height)})`
    case 'ReceiptAlreadySettled':
      return `${tag}: receipt ${String(f.receipt).slice(0, 16)}… was already paid`
    case 'QueryPriceAboveMax':
      return `${tag}: the Brain now charges ${money(f.price, '$BASED')} per 1,000 compute units, above your max ${money(f.maxPrice, '$BASED')}`
    default:
      return `${tag} ${detail ?? ''}`.trim()
  }
}

function fail(e: unknown): never {
  if (e instanceof LedgerRejection) {
    process.stderr.write(`based wallet: refused: ${describeReason(e.reason, JSON.stringify(e.detail))}\n`)
  } else if (typeof e === 'object' && e !== null && '_tag' in e) {
    const { _tag, ...fields } = e as { _tag: string } & Record<string, unknown>
    process.stderr.write(`based wallet: ${_tag} ${JSON.stringify(fields)}\n`)
    if (_tag === 'PassphraseRequired')
      process.stderr.write(`  no terminal to ask for the wallet passphrase: set ${PASSPHRASE_ENV} in the environment (e.g. ${PASSPHRASE_ENV}=... based wallet ...), or run in a terminal\n`)
  } else process.stderr.write(`based wallet: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls GetTxStatus until the transaction is included, failed or dropped; TxWaitTimeout after `timeoutMs`. */
export async function waitForFate(base: string, hash: string, blockTimeMs: number, timeoutMs = Math.max(30_000, 20 * blockTimeMs)): Promise<typeof TxStatus.Type> {
  const started = Date.now()
  const every = Math.max(50, Math.min(500, Math.floor(blockTimeMs / 4)))
  let unknown = 0
  for (;;) {
    const s = await askControl(base, LEDGER_ADDRESS, { _tag: 'GetTxStatus', hash })
    if (s.status === 'included' || s.status === 'failed' || s.status === 'dropped') return s
    // Admitted, then unknown: the node lost its queue (a restart before the block). Say so instead of waiting on.
    unknown = s.status === 'unknown' ? unknown + 1 : 0
    const waited = Date.now() - started
    if (waited >= timeoutMs || unknown >= 3) throw new TxWaitTimeout({ hash, waitedMs: waited, lastStatus: s.status })
    await sleep(every)
  }
}

export function walletCommand(): Command {
  const wallet = new Command('wallet').description('keys and $BASED transfers (keys encrypted at rest)')
  wallet.command('create <name>').description('create a personal + compute key pair')
    .option('--data-dir <dir>', 'data directory', DEFAULT_DATA_DIR)
    .action(async (name: string, o: { dataDir: string }) => {
      try {
        const pw = await passphrase('passphrase: ')
        if (pw.length < 8) throw new WalletError({ reason: 'weak-passphrase', name })
        const again = process.env[PASSPHRASE_ENV] === undefined ? await passphrase('again: ') : pw
        if (again !== pw) throw new WalletError({ reason: 'passphrases-differ', name })
        const w = createWallet(o.dataDir, name, pw)
        process.stdout.write(`${w.name}\n  personal ${w.personal}\n  compute  ${w.compute}\n`)
      } catch (e) {
        fail(e)
      }
    })
  wallet.command('list').description('list wallets (public addresses only)')
    .option('--data-dir <dir>', 'data directory', DEFAULT_DATA_DIR)
    .option('--json', 'machine-readable output')
    .action((o: { dataDir: string; json?: boolean }) => {
      try {
        const ws = listWallets(o.dataDir)
        if (o.json) process.stdout.write(`${JSON.stringify(ws)}\n`)
        else for (const w of ws) process.stdout.write(`${w.name.padEnd(16)} ${w.personal}  (compute ${w.compute})\n`)
      } catch (e) {
        fail(e)
      }
    })
  wallet.command('balance <nameOrAddress>').description('$BASED and Pepecoin balance from the local ledger')
    .option('--data-dir <dir>', 'data directory', DEFAULT_DATA_DIR)
    .action(async (who: string, o: { dataDir: string }) => {
      try {
        const ledger = openLedger(o.dataDir)
        const b = walletBalance(ledger, addressOf(o.dataDir, who))
        process.stdout.write(`${b.address}\n  BASED ${b.based}\n  PEPE  ${b.pepe}\n  nonce ${b.nonce}\n`)
        await ledger.store.close()
      } catch (e) {
        fail(e)
      }
    })
  wallet.command('transfer <name> <to> <amount>').description('sign a transfer, submit it to the running cluster, wait for its block')
    .option('--data-dir <dir>', 'data directory', DEFAULT_DATA_DIR)
    .option('--pepe', 'transfer bridged Pepecoin instead of $BASED')
    .option('--nonce <n>', 'nonce (default: the next nonce, counting queued transactions)')
    .option('--no-wait', 'return once the node has admitted the transaction, without waiting for its block')
    .option('--offline', 'do not submit: read the local ledger, print the signed transaction')
    .option('--control <url>', 'control URL of the cluster')
    .action(async (name: string, to: string, amount: string, o: { dataDir: string; pepe?: boolean; nonce?: string; wait: boolean; offline?: boolean; control?: string }) => {
      try {
        const unit = o.pepe ? 'PEPE' : '$BASED'
        if (!o.offline) {
          const base = findControl(o.dataDir, o.control)
          const from = listWallets(o.dataDir).find((w) => w.name === name)
          if (!from) throw new WalletError({ reason: 'not-found', name })
          const pw = await passphrase('passphrase: ')
          const head = await askControl(base, LEDGER_ADDRESS, { _tag: 'GetHead' })
          const acct = await askControl(base, LEDGER_ADDRESS, { _tag: 'GetAccount', address: from.personal })
          const view = {
            nonce: () => BigInt(acct.nextNonce),
            params: () => defaultParams({ chainId: head.chainId, baseFee: BigInt(head.baseFee), byteFee: BigInt(head.byteFee), blockTimeMs: head.blockTimeMs }),
          }
          const toAddress = addressOf(o.dataDir, to)
          const tx = walletTransfer(o.dataDir, name, pw, view, toAddress, amount, {
            asset: o.pepe ? 'pepe' : 'based', ...(o.nonce !== undefined ? { nonce: BigInt(o.nonce) } : {}),
          })
          const sent = formatAmount((tx.tx.body as { amount: bigint }).amount)
          const fee = formatAmount(tx.tx.fee)
          const accepted = await askControl(base, LEDGER_ADDRESS, { _tag: 'SubmitTx', tx: tx.bytes })
          if (!o.wait) {
            process.stdout.write(`accepted ${accepted.hash} (nonce ${accepted.nonce}): ${sent} ${unit} to ${toAddress}, fee ${fee} $BASED; it should land in the next block (≤ ${head.blockTimeMs / 1000} s) — not waiting\n`)
            return
          }
          process.stderr.write(`submitted ${accepted.hash} (nonce ${accepted.nonce}); waiting for its block…\n`)
          const fate = await waitForFate(base, accepted.hash, head.blockTimeMs)
          if (fate.status === 'included') {
            process.stdout.write(`included in block ${String(fate.height)}: ${sent} ${unit} from ${name} to ${toAddress}, fee ${fee} $BASED (tx ${accepted.hash})\n`)
            return
          }
          const where = fate.status === 'failed' ? `failed in block ${String(fate.height)} (fee ${fee} $BASED paid, nonce used, nothing transferred)` : 'dropped before inclusion (nothing charged)'
          process.stderr.write(`based wallet: ${where}: ${describeReason(fate.reason ?? 'Unknown', fate.detail)}\n`)
          process.exit(1)
        }
        const ledger = openLedger(o.dataDir)
        const pw = await passphrase('passphrase: ')
        const tx = walletTransfer(o.dataDir, name, pw, ledger, addressOf(o.dataDir, to), amount, {
          asset: o.pepe ? 'pepe' : 'based', ...(o.nonce !== undefined ? { nonce: BigInt(o.nonce) } : {}),
        })
        process.stdout.write(`hash ${toHex(tx.hash)}\nfee  ${formatAmount(tx.tx.fee)} $BASED\ntx   ${toHex(tx.bytes)}\n`)
        await ledger.store.close()
      } catch (e) {
        fail(e)
      }
    })
  wallet.command('show-secret <name>').description('print the secret seeds (only when you ask)')
    .option('--data-dir <dir>', 'data directory', DEFAULT_DATA_DIR)
    .action(async (name: string, o: { dataDir: string }) => {
      try {
        const s = exportWalletSecrets(o.dataDir, name, await passphrase('passphrase: '))
        process.stdout.write(`personal seed ${s.personalSeed}\ncompute seed  ${s.computeSeed}\n`)
      } catch (e) {
        fail(e)
      }
    })
  return wallet
}
