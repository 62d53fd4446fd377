/**
 * Test support (not a test): puts a Brain on a test network's chain through a running node's control endpoint — the
 * dev owner key (funded by the test's genesis) acquires one by burn and, with `--validator`, dev validator 1
 * registers on it with stake (so the node's validator-1 holds a permit and its weights count). Prints
 * `{"brain": <id>}`. Run as a separate process so a test can run it inside a network namespace:
 *
 *   node test/net/remote-bootstrap.ts <data-dir> [--validator]
 */
import { askControl } from '../../actors/control/client.ts'
import { findControl } from '../../actors/control/index.ts'
import { DEV_VALIDATOR_STAKE, devKeys, signTx, toAddress, tokens, withMinFee, type KeyPair, type TxBody } from '../../ledger/index.ts'

const [dataDir, flag] = process.argv.slice(2)
if (!dataDir) throw new Error('usage: remote-bootstrap.ts <data-dir> [--validator]')
const base = findControl(dataDir)
const LEDGER = '/root/ledger/writer'

async function submit(key: KeyPair, body: TxBody): Promise<void> {
  const head = await askControl(base, LEDGER, { _tag: 'GetHead' })
  const acct = await askControl(base, LEDGER, { _tag: 'GetAccount', address: toAddress(key.publicKey) })
  const tx = signTx(withMinFee({ chainId: head.chainId, from: key.publicKey, nonce: BigInt(acct.nextNonce), body }, BigInt(head.baseFee), BigInt(head.byteFee)), key.secretKey)
  const { hash } = await askControl(base, LEDGER, { _tag: 'SubmitTx', tx: tx.bytes })
  for (let i = 0; i < 600; i++) {
    const s = await askControl(base, LEDGER, { _tag: 'GetTxStatus', hash })
    if (s.status === 'included') return
    if (s.status === 'failed' || s.status === 'dropped') throw new Error(`${body.kind}: ${s.status} ${s.reason ?? ''} ${s.detail ?? ''}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${body.kind}: not included in 60 s`)
}

await submit(devKeys.owner(), { kind: 'acquireBrainBurn', maxCost: tokens(1_000_000) })
const brain = (await askControl(base, LEDGER, { _tag: 'GetBrains' })).ids[0]
if (brain === undefined) throw new Error('no Brain after acquireBrainBurn')
if (flag === '--validator') {
  const v = devKeys.validator(1)
  const ck = devKeys.validatorCompute(1).publicKey
  await submit(v, { kind: 'register', brain, computeKey: ck, role: 'validator', maxFee: tokens(1000) })
  await submit(v, { kind: 'addStake', brain, target: ck, amount: DEV_VALIDATOR_STAKE })
}
process.stdout.write(`${JSON.stringify({ brain })}\n`)
