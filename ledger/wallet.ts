/**
 * Wallets for `based wallet create | list | balance | transfer` (the CLI wires these functions).
 *
 * A wallet is a personal key (funds) and a compute key (identity on a Brain), stored as
 * `<dataDir>/wallets/<name>.json` (mode 0600):
 * ```json
 * { "version": 1, "name": "alice", "personal": "<SS58>", "compute": "<SS58>", "created": "<ISO time>",
 *   "kdf": { "name": "scrypt", "N": 32768, "r": 8, "p": 1, "salt": "<hex 16>" },
 *   "cipher": { "name": "aes-256-gcm", "iv": "<hex 12>", "tag": "<hex 16>", "data": "<hex 64>" } }
 * ```
 * `data` is AES-256-GCM(key = scrypt(passphrase, salt), personal seed ‖ compute seed) with the name and both
 * addresses as additional authenticated data, so a wrong passphrase or an edited file fails the GCM tag
 * (WalletError 'bad-passphrase'). Secrets never leave these functions except through {@link exportWalletSecrets},
 * which exists for an explicit `--show-secret`.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { WalletError } from './errors.ts'
import { fromAddress, generateKeyPair, keyPairFromSeed, toAddress, type KeyPair } from './keys.ts'
import { signTx, withMinFee, type PreparedTx } from './tx.ts'
import { formatAmount, parseAmount } from './units.ts'
import type { Params } from './params.ts'
import type { Account } from './records.ts'

export interface WalletInfo {
  readonly name: string
  /** SS58 address of the personal key (holds funds). */
  readonly personal: string
  /** SS58 address of the compute key (miner/validator identity). */
  readonly compute: string
  readonly created: string
}
export interface WalletKeys {
  readonly personal: KeyPair
  readonly compute: KeyPair
}
export interface WalletOptions {
  /** scrypt cost N (power of two). Default 2^15; tests may lower it. */
  readonly scryptN?: number
}

interface WalletFile extends WalletInfo {
  readonly version: 1
  readonly kdf: { readonly name: 'scrypt'; readonly N: number; readonly r: number; readonly p: number; readonly salt: string }
  readonly cipher: { readonly name: 'aes-256-gcm'; readonly iv: string; readonly tag: string; readonly data: string }
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/

function dirOf(dataDir: string): string {
  return path.join(dataDir, 'wallets')
}
function fileOf(dataDir: string, name: string): string {
  if (!NAME.test(name)) throw new WalletError({ reason: 'bad-name', name })
  return path.join(dirOf(dataDir), `${name}.json`)
}
function kdf(passphrase: string, salt: Buffer, N: number, r: number, p: number): Buffer {
  return crypto.scryptSync(passphrase.normalize('NFKC'), salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 })
}
function aad(info: { name: string; personal: string; compute: string }): Buffer {
  return Buffer.from(`basedai-wallet-v1\n${info.name}\n${info.personal}\n${info.compute}`, 'utf8')
}

/** Creates a wallet with fresh keys (or the given ones). WalletError 'exists' if the name is taken. */
export function createWallet(dataDir: string, name: string, passphrase: string, opts: WalletOptions & { keys?: WalletKeys } = {}): WalletInfo {
  const file = fileOf(dataDir, name)
  if (fs.existsSync(file)) throw new WalletError({ reason: 'exists', name })
  const keys = opts.keys ?? { personal: generateKeyPair(), compute: generateKeyPair() }
  const info = {
    name, personal: toAddress(keys.personal.publicKey), compute: toAddress(keys.compute.publicKey), created: new Date().toISOString(),
  }
  const N = opts.scryptN ?? 1 << 15
  const salt = crypto.randomBytes(16)
  const iv = crypto.randomBytes(12)
  const key = kdf(passphrase, salt, N, 8, 1)
  const c = crypto.createCipheriv('aes-256-gcm', key, iv)
  c.setAAD(aad(info))
  const data = Buffer.concat([c.update(Buffer.concat([keys.personal.secretKey, keys.compute.secretKey])), c.final()])
  const body: WalletFile = {
    version: 1, ...info,
    kdf: { name: 'scrypt', N, r: 8, p: 1, salt: salt.toString('hex') },
    cipher: { name: 'aes-256-gcm', iv: iv.toString('hex'), tag: c.getAuthTag().toString('hex'), data: data.toString('hex') },
  }
  fs.mkdirSync(dirOf(dataDir), { recursive: true, mode: 0o700 })
  fs.writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
  return info
}

function readFile(dataDir: string, name: string): WalletFile {
  const file = fileOf(dataDir, name)
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    throw new WalletError({ reason: 'not-found', name })
  }
  try {
    const w = JSON.parse(text) as WalletFile
    if (w.version !== 1 || w.kdf?.name !== 'scrypt' || w.cipher?.name !== 'aes-256-gcm') throw new Error('format')
    fromAddress(w.personal)
    fromAddress(w.compute)
    return w
  } catch {
    throw new WalletError({ reason: 'corrupt', name })
  }
}

/** Public information of every wallet in the data dir (no passphrase needed, no secrets read). */
export function listWallets(dataDir: string): WalletInfo[] {
  const dir = dirOf(dataDir)
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .filter((n) => NAME.test(n))
    .sort()
    .map((n) => {
      const w = readFile(dataDir, n)
      return { name: w.name, personal: w.personal, compute: w.compute, created: w.created }
    })
}

/** Decrypts a wallet's keys. WalletError 'bad-passphrase' when the GCM tag does not verify. */
export function unlockWallet(dataDir: string, name: string, passphrase: string): WalletKeys {
  const w = readFile(dataDir, name)
  const key = kdf(passphrase, Buffer.from(w.kdf.salt, 'hex'), w.kdf.N, w.kdf.r, w.kdf.p)
  const d = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(w.cipher.iv, 'hex'))
  d.setAAD(aad(w))
  d.setAuthTag(Buffer.from(w.cipher.tag, 'hex'))
  let plain: Buffer
  try {
    plain = Buffer.concat([d.update(Buffer.from(w.cipher.data, 'hex')), d.final()])
  } catch {
    throw new WalletError({ reason: 'bad-passphrase', name })
  }
  if (plain.length !== 64) throw new WalletError({ reason: 'corrupt', name })
  const personal = keyPairFromSeed(new Uint8Array(plain.subarray(0, 32)))
  const compute = keyPairFromSeed(new Uint8Array(plain.subarray(32, 64)))
  if (toAddress(personal.publicKey) !== w.personal || toAddress(compute.publicKey) !== w.compute)
    throw new WalletError({ reason: 'corrupt', name })
  return { personal, compute }
}

/** Hex seeds, for an explicit `--show-secret` only. */
export function exportWalletSecrets(dataDir: string, name: string, passphrase: string): { personalSeed: string; computeSeed: string } {
  const k = unlockWallet(dataDir, name, passphrase)
  return { personalSeed: Buffer.from(k.personal.secretKey).toString('hex'), computeSeed: Buffer.from(k.compute.secretKey).toString('hex') }
}

/** What a balance query needs from a ledger (a `Ledger` satisfies it). */
export interface LedgerReader {
  account(publicKey: Uint8Array): Account | undefined
}
export interface Balance {
  readonly address: string
  readonly based: string
  readonly pepe: string
  readonly nonce: string
}
/** Balance of an SS58 address (or of a wallet name's personal key), formatted in whole tokens. */
export function walletBalance(ledger: LedgerReader, address: string): Balance {
  const a = ledger.account(fromAddress(address))
  return { address, based: formatAmount(a?.based ?? 0n), pepe: formatAmount(a?.pepe ?? 0n), nonce: String(a?.nonce ?? 0n) }
}

/** What signing a transfer needs from a ledger (a `Ledger` satisfies it). */
export interface LedgerSigningView {
  nonce(publicKey: Uint8Array): bigint
  params(): Params
}
/**
 * Builds and signs a $BASED (or Pepecoin) transfer from a wallet's personal key, with the next nonce and the
 * minimum fee; returns the prepared transaction for submission (the caller sends `bytes` to a node / mempool).
 */
export function walletTransfer(
  dataDir: string, name: string, passphrase: string, ledger: LedgerSigningView, to: string, amount: string,
  opts: { asset?: 'based' | 'pepe'; nonce?: bigint } = {},
): PreparedTx {
  const keys = unlockWallet(dataDir, name, passphrase)
  const p = ledger.params()
  const units = parseAmount(amount)
  const body = opts.asset === 'pepe'
    ? ({ kind: 'transferPepe', to: fromAddress(to), amount: units } as const)
    : ({ kind: 'transfer', to: fromAddress(to), amount: units } as const)
  const nonce = opts.nonce ?? ledger.nonce(keys.personal.publicKey)
  return signTx(withMinFee({ chainId: p.chainId, from: keys.personal.publicKey, nonce, body }, p.baseFee, p.byteFee), keys.personal.secretKey)
}
