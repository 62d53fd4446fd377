import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  Ledger, MemoryStore, createWallet, defaultParams, exportWalletSecrets, fromAddress, listWallets, toAddress, tokens,
  unlockWallet, walletBalance, walletTransfer,
} from 'basedai/ledger'

const FAST = { scryptN: 1 << 12 }

test('wallet create/list/unlock: encrypted at rest, wrong passphrase and tampering rejected, secrets not in the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wallet-'))
  const a = createWallet(dir, 'alice', 'correct horse', FAST)
  createWallet(dir, 'bob', 'pw2', FAST)
  assert.throws(() => createWallet(dir, 'alice', 'x', FAST), (e: { _tag: string; reason: string }) => e._tag === 'WalletError' && e.reason === 'exists')
  assert.throws(() => createWallet(dir, '../evil', 'x', FAST), (e: { reason: string }) => e.reason === 'bad-name')
  assert.deepEqual(listWallets(dir).map((w) => w.name), ['alice', 'bob'])
  const keys = unlockWallet(dir, 'alice', 'correct horse')
  assert.equal(toAddress(keys.personal.publicKey), a.personal)
  assert.equal(toAddress(keys.compute.publicKey), a.compute)
  const file = path.join(dir, 'wallets', 'alice.json')
  const text = fs.readFileSync(file, 'utf8')
  assert.ok(!text.includes(Buffer.from(keys.personal.secretKey).toString('hex')), 'seed not stored in clear')
  assert.equal(fs.statSync(file).mode & 0o777, 0o600)
  assert.throws(() => unlockWallet(dir, 'alice', 'wrong'), (e: { reason: string }) => e.reason === 'bad-passphrase')
  // Swapping the stored address (AAD) breaks the tag too.
  const j = JSON.parse(text) as { personal: string }
  j.personal = toAddress(unlockWallet(dir, 'bob', 'pw2').personal.publicKey)
  fs.writeFileSync(file, JSON.stringify(j))
  assert.throws(() => unlockWallet(dir, 'alice', 'correct horse'), (e: { reason: string }) => e.reason === 'bad-passphrase')
  assert.throws(() => unlockWallet(dir, 'carol', 'x'), (e: { reason: string }) => e.reason === 'not-found')
  assert.equal(exportWalletSecrets(dir, 'bob', 'pw2').personalSeed.length, 64)
  fs.rmSync(dir, { recursive: true, force: true })
})

test('wallet balance and transfer against a ledger', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wallet-'))
  const a = createWallet(dir, 'alice', 'pw', FAST)
  const b = createWallet(dir, 'bob', 'pw', FAST)
  const params = defaultParams({ chainId: 'wallet-test' })
  const ledger = Ledger.open({
    store: new MemoryStore(),
    genesis: { params, time: 0, accounts: [{ publicKey: fromAddress(a.personal), based: tokens(100) }] },
  })
  assert.deepEqual(walletBalance(ledger, a.personal), { address: a.personal, based: '100', pepe: '0', nonce: '0' })
  const tx = walletTransfer(dir, 'alice', 'pw', ledger, b.personal, '2.5')
  const r = ledger.produceBlock([tx], { time: ledger.nextBlockTime(), proposer: fromAddress(b.personal) })
  assert.equal(r.included, 1)
  assert.ok(Number(walletBalance(ledger, b.personal).based) > 2.5) // 2.5 + the fee as proposer
  assert.equal(walletBalance(ledger, a.personal).nonce, '1')
  assert.throws(() => walletTransfer(dir, 'alice', 'pw', ledger, 'not-an-address', '1'), (e: { _tag: string }) => e._tag === 'InvalidAddress')
  fs.rmSync(dir, { recursive: true, force: true })
})
