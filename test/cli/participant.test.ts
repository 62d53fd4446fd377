/**
 * The participant CLI (cli/participant.ts) end to end against one running node (`cluster up --brains 1 --miners 1
 * --validators 0 --no-net --block-ms 300`), every command a real `node cli/based.ts …` process:
 * acquire a Brain by burn, register a validator and a miner (fee to the owner), delegate stake to the validator, set
 * weights, read `metagraph --json`, `chain head --json`, `chain block --json`, `chain supply --json`; refusals
 * (stake beyond the balance, weights from a miner's wallet, an unfunded wallet) exit 1 with the ledger's typed tag;
 * balances move by exactly the fees and amounts printed. Then queries paid from a spending account (issue 14, §3.5.1):
 * the owner prices queries, a user opens a spending account, an encrypted generation on the running miner (whose
 * operator is the wallet that registered it on this Brain) is refused before any work when its allowance cannot
 * cover a request, then paid — the miner's signed units settled to the miner, the validator and the owner, seen in
 * `metagraph`; the account is closed, refused withdrawal before the delay, withdrawn after. After the node stops,
 * the LMDB ledger passes the supply audit.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Ledger, LmdbStore, auditSupply, createWallet, devKeys, parseAmount, tokens } from '../../ledger/index.ts'
import { askControl } from '../../actors/control/client.ts'
import { findControl } from '../../actors/control/index.ts'
import { until } from '../support/tracker.ts'

const based = new URL('../../cli/based.ts', import.meta.url).pathname
const LEDGER = '/root/ledger/writer'

interface Run {
  readonly code: number | null
  readonly out: string
  readonly err: string
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [based, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('exit', (code) => resolve({ code, out, err }))
  })
}

/** The JSON object a `--json` command printed last on stdout. */
function json(r: Run): Record<string, unknown> {
  const line = r.out.trim().split('\n').at(-1) ?? ''
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    assert.fail(`not JSON (exit ${String(r.code)}):\n${r.out}\n${r.err}`)
  }
}

test('participant story through the CLI: Brain, miner, validator, stake, weights, metagraph, refusals, supply conserved', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-participant-'))
  const fast = { scryptN: 1 << 10 }
  // Created before the first start: the dev genesis funds each with 1,000 $BASED and 200,000 PEPE.
  const alice = createWallet(dir, 'alice', 'password1', fast)
  const carol = createWallet(dir, 'carol', 'password1', fast)
  const dave = createWallet(dir, 'dave', 'password1', fast)
  const erin = createWallet(dir, 'erin', 'password1', fast)
  const env = { ...process.env, BASED_WALLET_PASSPHRASE: 'password1' }
  const node = spawn(process.execPath, [
    based, 'cluster', 'up', '--brains', '1', '--miners', '1', '--validators', '0', '--challenge-ms', '0', '--no-net', '--block-ms', '300',
    '--control-port', '0', '--data-dir', dir,
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  node.stdout.on('data', (d: Buffer) => (out += d.toString()))
  node.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => node.on('exit', (code) => resolve(code)))
  const b = (...a: string[]): Promise<Run> => run([...a, '--data-dir', dir], env)
  let stakedThen: bigint | undefined
  try {
    await until(() => out.includes('control: http://') || node.exitCode !== null, 120_000, 'cluster up')
    assert.ok(out.includes('control: http://'), `cluster did not start:\n${out}\n${err}`)
    const url = findControl(dir)
    createWallet(dir, 'poor', 'password1', fast) // after genesis: never funded
    // mike operates the cluster's running miner: his wallet holds its (public, dev) keys, funded by the dev genesis
    // with 200 $BASED; he registers its compute key on alice's Brain below, so that Brain's queries reach it.
    const mike = createWallet(dir, 'mike', 'password1', { ...fast, keys: { personal: devKeys.miner(1), compute: devKeys.minerCompute(1) } })
    // The dev genesis gave that key 200 $BASED and its registration on the dev Brain took 100 + a fee: erin tops it up.
    const topUp = await b('wallet', 'transfer', 'erin', mike.personal, '100')
    assert.equal(topUp.code, 0, topUp.err)

    // A Brain by burn, at the ledger's current burn price (the dev bootstrap burned one already: 1,200 PEPE).
    const price = BigInt((await askControl(url, LEDGER, { _tag: 'GetLedgerStats' })).nextBurnPrice)
    assert.ok(price >= tokens(1000))
    const [acq, poor] = await Promise.all([
      b('brain', 'acquire', '--burn', '--wallet', 'alice', '--json'),
      b('brain', 'acquire', '--burn', '--wallet', 'poor', '--json'),
    ])
    assert.equal(acq.code, 0, acq.err)
    const a = json(acq)
    assert.equal(a.status, 'included')
    const brain = a.brain
    assert.ok(typeof brain === 'number', acq.out)
    assert.equal(poor.code, 1)
    assert.equal(json(poor).reason, 'UnknownAccount')
    const brainArg = String(brain)

    // A validator and a miner register (each pays the Brain's 100 $BASED fee to alice).
    const [regV, regM] = await Promise.all([
      b('register', '--brain', brainArg, '--as', 'validator', '--wallet', 'carol', '--json'),
      b('register', '--brain', brainArg, '--as', 'miner', '--wallet', 'mike', '--json'),
    ])
    assert.equal(regV.code, 0, regV.err)
    assert.equal(regM.code, 0, regM.err)
    const v = json(regV)
    const m = json(regM)
    assert.equal(v.computeKey, carol.compute)
    assert.equal(m.computeKey, mike.compute)
    const minerUid = m.uid
    assert.ok(typeof minerUid === 'number')

    // Delegation to the validator; refusals: more than the balance, weights from a miner's wallet.
    const [stake, over, notValidator] = await Promise.all([
      b('stake', 'add', '50', '--brain', brainArg, '--validator', 'carol', '--wallet', 'dave', '--json'),
      b('stake', 'add', '5000', '--brain', brainArg, '--wallet', 'alice', '--json'),
      b('weights', 'set', `${minerUid}=65535`, '--brain', brainArg, '--wallet', 'mike', '--json'),
    ])
    assert.equal(stake.code, 0, stake.err)
    assert.equal(over.code, 1, over.out)
    assert.equal(json(over).reason, 'InsufficientFunds')
    assert.match(over.err, /InsufficientFunds/)
    assert.equal(notValidator.code, 1, notValidator.out)
    assert.equal(json(notValidator).reason, 'UnknownParticipant')

    // Weights; the owner names the Brain; someone else may not give it away.
    const [weights, named, notOwner] = await Promise.all([
      b('weights', 'set', `${minerUid}=65535`, '--brain', brainArg, '--wallet', 'carol', '--json'),
      b('brain', 'set', brainArg, 'name', 'demo-brain', '--wallet', 'alice', '--json'),
      b('brain', 'transfer', brainArg, 'dave', '--wallet', 'mike', '--json'),
    ])
    assert.equal(weights.code, 0, weights.err)
    assert.equal(named.code, 0, named.err)
    assert.equal(notOwner.code, 1, notOwner.out)
    assert.equal(json(notOwner).reason, 'PermissionDenied')
    assert.match(notOwner.err, /PermissionDenied/)

    // All the stake is on this Brain, so it is a GigaBrain: its owner may propose.
    // erin acquires a Brain by locking 100,000 PEPE (not deactivatable before the 90-day lock ends).
    const [mg, head, supply, blk, list, prop, staked] = await Promise.all([
      b('metagraph', '--brain', brainArg, '--json'),
      b('chain', 'head', '--json'),
      b('chain', 'supply', '--json'),
      b('chain', 'block', String(a.height), '--json'),
      b('brain', 'list', '--json'),
      b('propose', 'immunityPeriod', '7000', '--wallet', 'alice', '--json'),
      b('brain', 'acquire', '--stake', '--wallet', 'erin', '--json'),
    ])
    assert.equal(staked.code, 0, staked.err)
    const stakedBrain = json(staked).brain
    assert.ok(typeof stakedBrain === 'number' && stakedBrain !== brain, staked.out)
    assert.equal(prop.code, 0, prop.err)
    const proposal = json(prop).proposal
    assert.ok(typeof proposal === 'number', prop.out)
    const g = json(mg) as { brain: { owner: string; name: string; validators: number; miners: number; stake: string }; rows: Array<Record<string, unknown>> }
    assert.equal(g.brain.owner, alice.personal)
    assert.equal(g.brain.name, 'demo-brain')
    assert.equal(g.brain.validators, 1)
    assert.equal(g.brain.miners, 1)
    const vr = g.rows.find((r) => r.computeKey === carol.compute)
    const mr = g.rows.find((r) => r.computeKey === mike.compute)
    assert.ok(vr && mr, mg.out)
    assert.equal(vr.role, 'validator')
    assert.equal(vr.stake, '50')
    assert.equal(vr.validatorPermit, true)
    assert.equal(vr.weights, 1)
    assert.equal(vr.owner, carol.personal)
    assert.equal(mr.role, 'miner')
    assert.equal(mr.validatorPermit, false)
    assert.equal(mr.uid, minerUid)
    assert.equal(vr.lastUpdate, Number(json(weights).height), 'last update = the block of the validator\'s setWeights')
    assert.equal(mr.lastUpdate, mr.registeredAt)

    const h = json(head)
    assert.ok(typeof h.height === 'number' && h.height >= Number(weights.out.match(/"height":(\d+)/)?.[1]))
    assert.equal(h.finalizedHeight, h.height)
    assert.equal(h.peers, 0)
    assert.match(String(h.hash), /^[0-9a-f]{64}$/)
    assert.match(String(h.stateRoot), /^[0-9a-f]{64}$/)

    const sup = json(supply)
    assert.equal(sup.supplyOk, true)
    stakedThen = BigInt(String(sup.staked))
    const bk = json(blk) as { height: number; txs: Array<{ kind: string; hash: string; status?: string }> }
    assert.equal(bk.height, a.height)
    assert.ok(bk.txs.some((t) => t.kind === 'acquireBrainBurn' && t.hash === a.hash && t.status === 'included'), blk.out)
    assert.ok((json(list) as unknown as Array<{ id: number }>).some((x) => x.id === brain), list.out)

    // Balances: carol paid exactly the registration fee and her two transaction fees; alice burned the burn price in PEPE.
    const acct = (addr: string) => askControl(url, LEDGER, { _tag: 'GetAccount', address: addr })
    const fee = (r: Run): bigint => parseAmount(String(json(r).fee))
    const [ca, da, aa] = await Promise.all([acct(carol.personal), acct(dave.personal), acct(alice.personal)])
    assert.equal(BigInt(ca.based), tokens(1000) - tokens(100) - fee(regV) - fee(weights))
    // dave paid 50 + fee; an epoch since may have paid him dividends as the validator pool's only staker.
    assert.ok(BigInt(da.based) >= tokens(1000) - tokens(50) - fee(stake))
    assert.equal(da.nonce, '1')
    assert.equal(BigInt(aa.pepe), tokens(200_000) - price)
    // alice also paid the fees of `brain set name` and `propose`; an epoch's owner cut may have come in since.
    assert.ok(BigInt(aa.based) >= tokens(1000) + tokens(200) - fee(acq) - fee(named) - fee(prop), 'both registration fees went to the owner')

    const [un, vote, vote2, table, locked] = await Promise.all([
      b('stake', 'remove', '10', '--brain', brainArg, '--validator', 'carol', '--wallet', 'dave', '--json'),
      b('vote', String(proposal), '--brain', brainArg, '--approve', '--wallet', 'alice', '--json'),
      b('vote', String(proposal), '--brain', brainArg, '--reject', '--wallet', 'carol', '--json'),
      b('metagraph', '--brain', brainArg),
      b('brain', 'deactivate', String(stakedBrain), '--wallet', 'erin', '--json'),
    ])
    assert.equal(locked.code, 1, locked.out)
    assert.equal(json(locked).reason, 'StillLocked')
    assert.equal(BigInt((await acct(erin.personal)).pepe), tokens(100_000), 'half of erin\'s PEPE is locked in her Brain')
    assert.equal(table.code, 0, table.err)
    assert.ok(table.out.includes(mike.compute) && table.out.includes(carol.compute), table.out)
    assert.equal(un.code, 0, un.err)
    assert.equal(vote.code, 0, vote.err)
    assert.equal(vote2.code, 1, vote2.out)
    assert.equal(json(vote2).reason, 'PermissionDenied', 'only the Brain owner votes with it')
    // alice: acquire, name, propose, vote — the refused 5,000 stake consumed no nonce.
    assert.equal((await acct(alice.personal)).nonce, '4')

    // Queries paid from a spending account. alice charges 1 $BASED per 1,000 compute units; dave sets 2 $BASED aside.
    const [priced, opened] = await Promise.all([
      b('brain', 'set', brainArg, 'queryPrice', '1', '--wallet', 'alice', '--json'),
      b('escrow', 'open', '--brain', brainArg, '--amount', '2', '--wallet', 'dave', '--json'),
    ])
    assert.equal(priced.code, 0, priced.err)
    assert.equal(opened.code, 0, opened.err)
    const shown = json(await b('escrow', 'show', '--wallet', 'dave', '--json')) as { accounts: Array<{ escrows: Array<{ brain: number; balance: string; unlockAt: number }> }> }
    assert.deepEqual(shown.accounts[0]?.escrows.map((e) => [e.brain, e.balance, e.unlockAt]), [[brain, String(tokens(2)), 0]])
    const MINER = '/root/miners/miner-1'
    const productsDone = async (): Promise<unknown> => (await askControl(url, MINER, { _tag: 'GetStatus' })).detail.encryptedProducts
    const gen = (...extra: string[]): Promise<Run> =>
      b('generate', 'The economy', '--encrypted', '--miner', MINER, '--tokens', '1', '--temperature', '0', '--pay', 'dave', ...extra)
    // An allowance of 1 compute unit cannot cover the first request: the miner refuses it before any work.
    const before = await productsDone()
    const capped = await gen('--max-units', '1')
    assert.equal(capped.code, 1, capped.err)
    assert.match(capped.err, /MinerRejection.*EscrowInsufficient/)
    assert.equal(await productsDone(), before, 'no product was computed for the refused request')
    // Paid: the units settled are the ones the miner signed (the CLI prints them); 70 % miner, 10 % validator, 20 % owner.
    const paidRun = await gen()
    assert.equal(paidRun.code, 0, paidRun.err)
    const paid = /paid ([\d.]+) \$BASED for (\d+) compute units/.exec(paidRun.err)
    assert.ok(paid, paidRun.err)
    const amount = parseAmount(paid[1] as string)
    assert.equal(amount, BigInt(Number(paid[2])) * (tokens(1) / 1000n), 'units × price per 1,000')
    assert.ok(amount > 0n)
    const pg = json(await b('metagraph', '--brain', brainArg, '--json')) as { brain: { queryPrice: string; ownerQueryEarned: string }; rows: Array<Record<string, unknown>> }
    assert.equal(pg.brain.queryPrice, String(tokens(1)))
    assert.equal(pg.brain.ownerQueryEarned, String((amount * 2n) / 10n))
    assert.equal(parseAmount(String(pg.rows.find((r) => r.computeKey === mike.compute)?.queryEarned)), (amount * 7n) / 10n)
    assert.equal(parseAmount(String(pg.rows.find((r) => r.computeKey === carol.compute)?.queryEarned)), amount / 10n)
    const afterPay = json(await b('escrow', 'show', '--wallet', 'dave', '--json')) as typeof shown
    assert.equal(afterPay.accounts[0]?.escrows[0]?.balance, String(tokens(2) - amount))
    const tableWithQueries = await b('metagraph', '--brain', brainArg)
    assert.match(tableWithQueries.out, /queries: 1 \$BASED per 1,000 compute units/)
    // Withdrawal: announced, refused before the delay, done after the epoch wait below.
    const closed = await b('escrow', 'close', '--brain', brainArg, '--wallet', 'dave', '--json')
    assert.equal(closed.code, 0, closed.err)
    const unlockAt = Number(json(closed).unlockAt)
    assert.ok(unlockAt > Number(json(closed).height))
    const early = await b('escrow', 'withdraw', '--brain', brainArg, '--wallet', 'dave', '--json')
    assert.equal(early.code, 1, early.out)
    assert.equal(json(early).reason, 'EscrowLocked')
    // The next epoch of the Brain after the weights runs Yuma consensus: the weighted miner's incentive becomes > 0.
    const weightsAt = Number(json(weights).height)
    for (const start = Date.now(); ;) {
      const g2 = await askControl(url, LEDGER, { _tag: 'GetMetagraph', brain: Number(brain) })
      if (g2.lastEpoch !== null && g2.lastEpoch > weightsAt) break
      assert.ok(Date.now() - start < 150_000, `no epoch after height ${weightsAt} within 150 s (head ${g2.height})`)
      await new Promise((r) => setTimeout(r, 500))
    }
    const after = json(await b('metagraph', '--brain', brainArg, '--json')) as { lastEpoch: number; rows: Array<Record<string, unknown>> }
    assert.ok(after.lastEpoch > weightsAt)
    assert.equal(after.rows.find((r) => r.computeKey === carol.compute)?.stake, '40')
    const minerRow = after.rows.find((r) => r.computeKey === mike.compute)
    assert.ok(typeof minerRow?.incentive === 'number' && minerRow.incentive > 0, JSON.stringify(after.rows))
    // The stored epoch's columns: rank/trust/consensus as numbers, the miner's emission paid in that epoch > 0.
    assert.ok(typeof minerRow.rank === 'number' && typeof minerRow.trust === 'number' && typeof minerRow.consensus === 'number', JSON.stringify(minerRow))
    assert.ok(parseAmount(String(minerRow.emission)) > 0n, JSON.stringify(minerRow))

    // The withdrawal delay has passed (or passes soon): what is left of dave's account comes back.
    for (const start = Date.now(); (await askControl(url, LEDGER, { _tag: 'GetHead' })).height + 1 < unlockAt;) {
      assert.ok(Date.now() - start < 120_000, `block ${unlockAt} not reached within 120 s`)
      await new Promise((r) => setTimeout(r, 300))
    }
    const daveBefore = BigInt((await acct(dave.personal)).based)
    const withdrawn = await b('escrow', 'withdraw', '--brain', brainArg, '--wallet', 'dave', '--json')
    assert.equal(withdrawn.code, 0, withdrawn.err)
    const wfee = fee(withdrawn)
    assert.ok(BigInt((await acct(dave.personal)).based) >= daveBefore + tokens(2) - amount - wfee, 'the rest of the account is back')
    assert.deepEqual((json(await b('escrow', 'show', '--wallet', 'dave', '--json')) as typeof shown).accounts[0]?.escrows, [])
  } finally {
    node.kill('SIGINT')
    await exited
  }
  try {
    const store = LmdbStore.open({ path: path.join(dir, 'ledger') })
    const ledger = Ledger.open({ store })
    const audit = auditSupply(ledger.store)
    assert.ok(audit.ok, JSON.stringify(audit, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)))
    assert.ok(stakedThen !== undefined)
    assert.equal(audit.staked, stakedThen - tokens(10), 'the 10 $BASED unstaked left the stake total')
    await store.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
