/**
 * `based wallet create | list | balance | transfer` — thin commander wiring over basedai/ledger's wallet functions.
 * Wire it in cli/based.ts with `program.addCommand(walletCommand())`.
 *
 *   based wallet create <name> [--data-dir D]             prints the two addresses (never the secrets)
 *   based wallet list [--data-dir D] [--json]
 *   based wallet balance <name|address> [--data-dir D]    reads the local ledger at <data-dir>/ledger
 *   based wallet transfer <name> <to> <amount> [--pepe] [--nonce N] [--data-dir D]
 *                                                         signs with the next nonce and minimum fee and submits it to
 *                                                         the running cluster (--offline: print the tx hex instead)
 *   based wallet show-secret <name>                       the only command that prints secret seeds
 *
 * The passphrase comes from $BASED_WALLET_PASSPHRASE or an interactive prompt (input not echoed).
 */
import { Command } from 'commander'
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import {
  Ledger, LmdbStore, createWallet, defaultParams, exportWalletSecrets, listWallets, toHex, walletBalance, walletTransfer,
} from '../ledger/index.ts'
import { findControl } from './control.ts'
import { askControl } from './control-client.ts'

/** Where the cluster's ledger actor lives (cli/cluster.ts). */
export const LEDGER_ADDRESS = '/root/ledger/writer'

const DEFAULT_DATA_DIR = path.resolve(process.env.BASED_DATA_DIR ?? '.data')

export async function passphrase(prompt: string): Promise<string> {
  const env = process.env.BASED_WALLET_PASSPHRASE
  if (env !== undefined) return env
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true })
  const muted = rl as unknown as { _writeToOutput: (s: string) => void }
  process.stderr.write(prompt)
  muted._writeToOutput = () => {}
  const answer = await new Promise<string>((resolve) => rl.question('', resolve))
  rl.close()
  process.stderr.write('\n')
  return answer
}

function openLedger(dataDir: string): Ledger {
  const dir = path.join(dataDir, 'ledger')
  if (!fs.existsSync(dir)) throw new Error(`no ledger at ${dir} (start a node first)`)
  return Ledger.open({ store: LmdbStore.open({ path: dir }) })
}

function addressOf(dataDir: string, nameOrAddress: string): string {
  return listWallets(dataDir).find((w) => w.name === nameOrAddress)?.personal ?? nameOrAddress
}

function fail(e: unknown): never {
  if (typeof e === 'object' && e !== null && '_tag' in e) {
    const { _tag, ...fields } = e as { _tag: string } & Record<string, unknown>
    process.stderr.write(`based wallet: ${_tag} ${JSON.stringify(fields)}\n`)
  } else process.stderr.write(`based wallet: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
}

export function walletCommand(): Command {
  const wallet = new Command('wallet').description('keys and $BASED transfers (keys encrypted at rest)')
  wallet.command('create <name>').description('create a personal + compute key pair')
    .option('--data-dir <dir>', 'data directory', DEFAULT_DATA_DIR)
    .action(async (name: string, o: { dataDir: string }) => {
      try {
        const pw = await passphrase('passphrase: ')
        if (pw.length < 8) throw new Error('passphrase must be at least 8 characters')
        const again = process.env.BASED_WALLET_PASSPHRASE === undefined ? await passphrase('again: ') : pw
        if (again !== pw) throw new Error('passphrases differ')
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
  wallet.command('transfer <name> <to> <amount>').description('sign a transfer and submit it to the running cluster')
    .option('--data-dir <dir>', 'data directory', DEFAULT_DATA_DIR)
    .option('--pepe', 'transfer bridged Pepecoin instead of $BASED')
    .option('--nonce <n>', 'nonce (default: the next nonce, counting queued transactions)')
    .option('--offline', 'do not submit: read the local ledger, print the signed transaction')
    .option('--control <url>', 'control URL of the cluster')
    .action(async (name: string, to: string, amount: string, o: { dataDir: string; pepe?: boolean; nonce?: string; offline?: boolean; control?: string }) => {
      try {
        if (!o.offline) {
          const base = findControl(o.dataDir, o.control)
          const pw = await passphrase('passphrase: ')
          const head = await askControl(base, LEDGER_ADDRESS, { _tag: 'GetHead' })
          const from = listWallets(o.dataDir).find((w) => w.name === name)
          if (!from) throw new Error(`no wallet named ${name} in ${o.dataDir}`)
          const acct = await askControl(base, LEDGER_ADDRESS, { _tag: 'GetAccount', address: from.personal })
          const view = {
            nonce: () => BigInt(acct.nextNonce),
            params: () => defaultParams({ chainId: head.chainId, baseFee: BigInt(head.baseFee), byteFee: BigInt(head.byteFee), blockTimeMs: head.blockTimeMs }),
          }
          const tx = walletTransfer(o.dataDir, name, pw, view, addressOf(o.dataDir, to), amount, {
            asset: o.pepe ? 'pepe' : 'based', ...(o.nonce !== undefined ? { nonce: BigInt(o.nonce) } : {}),
          })
          const accepted = await askControl(base, LEDGER_ADDRESS, { _tag: 'SubmitTx', tx: tx.bytes })
          process.stdout.write(`submitted ${accepted.hash} (nonce ${accepted.nonce}, fee ${tx.tx.fee}); it lands in the next block (≤ ${head.blockTimeMs / 1000} s)\n`)
          return
        }
        const ledger = openLedger(o.dataDir)
        const pw = await passphrase('passphrase: ')
        const tx = walletTransfer(o.dataDir, name, pw, ledger, addressOf(o.dataDir, to), amount, {
          asset: o.pepe ? 'pepe' : 'based', ...(o.nonce !== undefined ? { nonce: BigInt(o.nonce) } : {}),
        })
        process.stdout.write(`hash ${toHex(tx.hash)}\nfee  ${tx.tx.fee}\ntx   ${toHex(tx.bytes)}\n`)
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
