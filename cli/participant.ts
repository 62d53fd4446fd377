/**
 * The participant's command line (btcli's role for BasedAI): every ledger action a Brain owner, miner, validator,
 * staker or GigaBrain owner takes, signed with a wallet of the data dir and submitted to the running node through
 * its control endpoint — the same path as `based wallet transfer` (cli/wallet.ts). Wire it in cli/based.ts with
 * `registerParticipantCommands(program)`.
 *
 *   based brain acquire (--burn [--max-cost PEPE] | --stake) --wallet W
 *   based brain set <brain> <setting> <value> --wallet W     setting: name modelId weightsHash rewardTo registrationFee ownerBps minerBps queryPrice
 *   based brain transfer <brain> <to> --wallet W  ·  based brain deactivate <brain> --wallet W  ·  based brain list [--json]
 *   based register --brain N --as miner|validator --wallet W [--max-fee BASED]
 *   based stake add|remove <amount> --brain N [--validator <wallet|address>] --wallet W
 *   based weights set --brain N <uid=weight>... --wallet W
 *   based propose <param> <value> --wallet W  ·  based vote <proposal> --brain N (--approve | --reject) --wallet W
 *   based chain head [--json]  ·  based chain block <n> [--json]  ·  based chain supply [--json]
 *   based metagraph --brain N [--json]
 *   based escrow open --brain N --amount X --wallet W  ·  based escrow show [--wallet W | --address A] [--json]
 *   based escrow close --brain N --wallet W  ·  based escrow withdraw --brain N --wallet W
 *
 * Every signing command takes the next nonce (queued transactions counted) and the minimum fee, waits for the
 * transaction's block unless `--no-wait`, and prints the outcome in $BASED. It exits 0 only when the transaction is
 * included and applied; refused at admission, failed in its block (fee paid, nonce used, body not applied) or
 * dropped, it prints the ledger's typed reason (`refused: InsufficientFunds: …`, `failed in block 12: NotGigaBrain …`)
 * and exits 1. With `--json` the outcome is one JSON object on stdout (`status`, `reason` = the typed tag, `detail`).
 * The passphrase comes from $BASED_WALLET_PASSPHRASE or a prompt that does not echo.
 */
import { Command, Option } from 'commander'
import { Data } from 'effect'
import path from 'node:path'
import {
  GOVERNABLE, InvalidAmount, WalletError, fromAddress, formatAmount, listWallets, parseAmount, signTx, toAddress,
  unlockWallet, withMinFee, type GovernableParam, type TxBody,
} from '../ledger/index.ts'
import { BRAIN_SETTINGS, type BrainSetting } from '../ledger/tx.ts'
import { LedgerRejection, type Metagraph } from '../protocol/index.ts'
import { findControl } from '../actors/control/index.ts'
import { askControl } from '../actors/control/client.ts'
import { LEDGER_ADDRESS, PASSPHRASE_ENV, describeReason, fieldsOf, money, passphrase, waitForFate } from './wallet.ts'

const DEFAULT_DATA_DIR = process.env.BASED_DATA_DIR ?? '.data'
const NET_ADDRESS = '/root/net'

/** A command-line value that cannot be used (a bad uid=weight pair, an unknown setting, a missing flag). */
export class InvalidInput extends Data.TaggedError('InvalidInput')<{ readonly field: string; readonly reason: string }> {}
/** The node refused, failed or dropped the transaction: `reason` is the ledger's typed tag. */
export class TxNotApplied extends Data.TaggedError('TxNotApplied')<{
  readonly status: 'refused' | 'failed' | 'dropped'
  readonly reason: string
  readonly detail: string
  readonly height?: number
  readonly hash?: string
}> {}

interface Common {
  readonly dataDir: string
  readonly control?: string
  readonly json?: boolean
}
interface Signing extends Common {
  readonly wallet: string
  readonly wait: boolean
}

const dataDirOf = (o: Common): string => path.resolve(o.dataDir)
const baseOf = (o: Common): string => findControl(dataDirOf(o), o.control)

function amount(field: string, text: string): bigint {
  try {
    return parseAmount(text)
  } catch {
    throw new InvalidAmount({ field, reason: `not a decimal amount: ${JSON.stringify(text)}` })
  }
}
function count(field: string, text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new InvalidInput({ field, reason: `not a non-negative integer: ${JSON.stringify(text)}` })
  return n
}
/** A wallet name of the data dir (its personal key, or its compute key) or an SS58 address. */
function keyOf(dataDir: string, who: string, which: 'personal' | 'compute'): Uint8Array {
  const w = listWallets(dataDir).find((x) => x.name === who)
  return fromAddress(w ? w[which] : who)
}

function print(o: Common, json: unknown, text: string): void {
  process.stdout.write(o.json ? `${JSON.stringify(json)}\n` : `${text}\n`)
}

const based = (v: unknown): string => money(v, '').trimEnd()

/** The ledger's typed reason as one readable line (tag first); tags not listed here as `based wallet` prints them. */
export function readableReason(tag: string, detail: string): string {
  const f = fieldsOf(detail)
  switch (tag) {
    case 'PermissionDenied':
      return `${tag}: ${String(f.reason)}`
    case 'UnknownBrain':
      return `${tag}: no active Brain #${String(f.brain)}`
    case 'UnknownParticipant':
      return `${tag}: that compute key is not registered with this role on Brain #${String(f.brain)}`
    case 'BrainCapReached':
      return `${tag}: all ${String(f.max)} Brains exist`
    case 'BurnPriceAboveMax':
      return `${tag}: the burn price is now ${based(f.price)} PEPE, above your max ${based(f.maxCost)} PEPE (retry, or raise --max-cost)`
    case 'BrainNotTransferable':
      return `${tag}: Brain #${String(f.brain)} was acquired by ${String(f.method)} and cannot be transferred`
    case 'NotDeactivatable':
      return `${tag}: Brain #${String(f.brain)} (${String(f.method)}) cannot be deactivated`
    case 'StillLocked':
      return `${tag}: Brain #${String(f.brain)} is locked until block ${String(f.unlockAt)} (now ${String(f.height)})`
    case 'SlotsFull':
      return `${tag}: every ${String(f.role)} slot of Brain #${String(f.brain)} is taken by an immune participant`
    case 'AlreadyRegistered':
      return `${tag}: this compute key is already registered on Brain #${String(f.brain)}`
    case 'RegistrationFeeAboveMax':
      return `${tag}: the Brain now asks ${based(f.fee)} $BASED, above your max ${based(f.maxFee)} $BASED (the fee changed; retry or raise --max-fee)`
    case 'NotGigaBrain':
      return `${tag}: Brain #${String(f.brain)} holds less than the GigaBrain share of all stake`
    case 'AlreadyVoted':
      return `${tag}: Brain #${String(f.brain)} already voted on proposal #${String(f.proposal)}`
    case 'UnknownProposal':
      return `${tag}: no open proposal #${String(f.proposal)}`
    case 'UnknownBlock':
      return `${tag}: no block ${String(f.height)} (head ${String(f.head)})`
    default:
      return describeReason(tag, detail)
  }
}

/** One line for the failure, typed tag first; exit 1. */
function fail(cmd: string, o: Partial<Common>, e: unknown): never {
  if (e instanceof LedgerRejection) {
    // A query the node refused (an unknown Brain, block, participant…): its typed reason and fields.
    if (o.json) process.stdout.write(`${JSON.stringify({ status: 'error', reason: e.reason, detail: JSON.stringify(e.detail) })}\n`)
    process.stderr.write(`based ${cmd}: ${readableReason(e.reason, JSON.stringify(e.detail))}\n`)
  } else if (e instanceof TxNotApplied) {
    if (o.json) process.stdout.write(`${JSON.stringify({ status: e.status, reason: e.reason, detail: e.detail, height: e.height, hash: e.hash })}\n`)
    const where = e.status === 'refused' ? 'refused' : e.status === 'failed' ? `failed in block ${String(e.height)} (fee paid, nonce used, nothing else applied)` : 'dropped before inclusion (nothing charged)'
    process.stderr.write(`based ${cmd}: ${where}: ${readableReason(e.reason, e.detail)}\n`)
  } else if (typeof e === 'object' && e !== null && '_tag' in e) {
    const { _tag, ...fields } = e as { _tag: string } & Record<string, unknown>
    if (o.json) process.stdout.write(`${JSON.stringify({ status: 'error', reason: _tag, detail: fields })}\n`)
    process.stderr.write(`based ${cmd}: ${_tag} ${JSON.stringify(fields)}\n`)
    if (_tag === 'PassphraseRequired') process.stderr.write(`  set ${PASSPHRASE_ENV} in the environment, or run in a terminal\n`)
  } else process.stderr.write(`based ${cmd}: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
}

export interface Submitted {
  readonly hash: string
  readonly fee: bigint
  /** Block height; undefined with --no-wait. */
  readonly height?: number
  readonly personal: string
  readonly compute: string
}

/**
 * Signs `body` (built from the unlocked wallet's public keys) with the wallet's personal key, the next nonce and the
 * minimum fee; submits it; waits for its block unless `--no-wait`. Throws TxNotApplied on refusal / failure / drop.
 */
async function submit(o: Signing, build: (keys: { personal: Uint8Array; compute: Uint8Array }) => TxBody): Promise<Submitted> {
  const dataDir = dataDirOf(o)
  const base = baseOf(o)
  const info = listWallets(dataDir).find((w) => w.name === o.wallet)
  if (!info) throw new WalletError({ reason: 'not-found', name: o.wallet })
  const keys = unlockWallet(dataDir, o.wallet, await passphrase('passphrase: '))
  const body = build({ personal: keys.personal.publicKey, compute: keys.compute.publicKey })
  const head = await askControl(base, LEDGER_ADDRESS, { _tag: 'GetHead' })
  const acct = await askControl(base, LEDGER_ADDRESS, { _tag: 'GetAccount', address: info.personal })
  const tx = signTx(
    withMinFee({ chainId: head.chainId, from: keys.personal.publicKey, nonce: BigInt(acct.nextNonce), body }, BigInt(head.baseFee), BigInt(head.byteFee)),
    keys.personal.secretKey,
  )
  let accepted: { hash: string }
  try {
    accepted = await askControl(base, LEDGER_ADDRESS, { _tag: 'SubmitTx', tx: tx.bytes })
  } catch (e) {
    if (e instanceof LedgerRejection) throw new TxNotApplied({ status: 'refused', reason: e.reason, detail: JSON.stringify(e.detail) })
    throw e
  }
  const out = { hash: accepted.hash, fee: tx.tx.fee, personal: info.personal, compute: info.compute }
  if (!o.wait) return out
  if (!o.json) process.stderr.write(`submitted ${accepted.hash}; waiting for its block…\n`)
  const fate = await waitForFate(base, accepted.hash, head.blockTimeMs)
  if (fate.status === 'included') return { ...out, height: fate.height ?? 0 }
  throw new TxNotApplied({
    status: fate.status === 'failed' ? 'failed' : 'dropped', reason: fate.reason ?? 'Unknown', detail: fate.detail ?? '',
    hash: accepted.hash, ...(fate.height !== undefined ? { height: fate.height } : {}),
  })
}

/** The outcome line of an applied (or, with --no-wait, admitted) transaction. */
function done(o: Signing, s: Submitted, what: string, extra: Record<string, unknown> = {}): void {
  const where = s.height === undefined ? 'accepted (not waiting for its block)' : `included in block ${s.height}`
  print(o, { status: s.height === undefined ? 'accepted' : 'included', height: s.height, hash: s.hash, fee: formatAmount(s.fee), ...extra },
    `${where}: ${what}, fee ${formatAmount(s.fee)} $BASED (tx ${s.hash})`)
}

function common(c: Command): Command {
  return c.option('--data-dir <dir>', 'data directory (wallets, control.json)', DEFAULT_DATA_DIR).option('--control <url>', 'control URL of the node (default: from <data-dir>/control.json)')
}
function signing(c: Command): Command {
  return common(c)
    .requiredOption('--wallet <name>', 'wallet that signs (its personal key pays; its compute key is the miner/validator identity)')
    .option('--no-wait', 'return once the node has admitted the transaction, without waiting for its block')
    .option('--json', 'print the outcome as one JSON object')
}
function example(c: Command, text: string): Command {
  return c.addHelpText('after', `\nExample:\n  ${text}\n`)
}

async function metagraph(o: Common, brain: number): Promise<typeof Metagraph.Type> {
  return askControl(baseOf(o), LEDGER_ADDRESS, { _tag: 'GetMetagraph', brain })
}

const FIXED = (x: string): string => formatAmount(BigInt(x))

function brainCommands(program: Command): void {
  const brain = program.commands.find((c) => c.name() === 'brain') ?? program.command('brain').description('Brains: acquire, configure, transfer, deactivate, list')
  example(signing(brain.command('acquire').description('acquire a Brain by burning Pepecoin (the current burn price) or by locking 100,000 Pepecoin for 90 days'))
    .addOption(new Option('--burn', 'burn Pepecoin (transferable Brain)').conflicts('stake'))
    .addOption(new Option('--stake', 'lock Pepecoin (not transferable; deactivatable after the lock)').conflicts('burn'))
    .option('--max-cost <pepe>', 'with --burn: the most Pepecoin to burn (default: the current price)'), 'BASED_WALLET_PASSPHRASE=… based brain acquire --burn --wallet alice')
    .action(async (o: Signing & { burn?: boolean; stake?: boolean; maxCost?: string }) => {
      try {
        if (!o.burn && !o.stake) throw new InvalidInput({ field: '--burn/--stake', reason: 'say how to acquire: --burn or --stake' })
        const base = baseOf(o)
        const stats = await askControl(base, LEDGER_ADDRESS, { _tag: 'GetLedgerStats' })
        const before = new Set((await askControl(base, LEDGER_ADDRESS, { _tag: 'GetBrains' })).ids)
        const maxCost = o.maxCost !== undefined ? amount('--max-cost', o.maxCost) : BigInt(stats.nextBurnPrice)
        const s = await submit(o, () => (o.burn ? { kind: 'acquireBrainBurn', maxCost } : { kind: 'acquireBrainStake' }))
        let id: number | undefined
        if (s.height !== undefined) {
          for (const b of (await askControl(base, LEDGER_ADDRESS, { _tag: 'GetBrains' })).ids.filter((x) => !before.has(x))) {
            if ((await metagraph(o, b)).brain.owner === s.personal) id = b
          }
        }
        const cost = o.burn ? `burned up to ${formatAmount(maxCost)} PEPE` : `locked ${FIXED(stats.stakeBrainAmount)} PEPE`
        done(o, s, `Brain ${id !== undefined ? `#${id}` : '(id: see `based brain list`)'} acquired by ${o.wallet} (${cost})`, { brain: id })
      } catch (e) {
        fail('brain acquire', o, e)
      }
    })
  example(signing(brain.command('set <brain> <setting> <value>').description(`change an owner setting: ${BRAIN_SETTINGS.join(', ')} (rewardTo: wallet name or address; registrationFee in $BASED; *Bps in basis points; queryPrice in $BASED per 1,000 compute units, 0 = free)`)),
    'based brain set 8 registrationFee 50 --wallet alice')
    .action(async (brainText: string, setting: string, value: string, o: Signing) => {
      try {
        const brain = count('brain', brainText)
        if (!(BRAIN_SETTINGS as readonly string[]).includes(setting)) throw new InvalidInput({ field: 'setting', reason: `one of ${BRAIN_SETTINGS.join(', ')}` })
        const st = setting as BrainSetting
        const text = st === 'name' || st === 'modelId' || st === 'weightsHash' ? value : ''
        const key = st === 'rewardTo' ? keyOf(dataDirOf(o), value, 'personal') : new Uint8Array(0)
        const v = st === 'registrationFee' || st === 'queryPrice' ? amount('value', value) : st === 'ownerBps' || st === 'minerBps' ? BigInt(count('value', value)) : 0n
        const s = await submit(o, () => ({ kind: 'setBrain', brain, setting: st, text, key, value: v }))
        const shown = st === 'registrationFee' ? `${formatAmount(v)} $BASED` : st === 'queryPrice' ? `${formatAmount(v)} $BASED per 1,000 compute units` : value
        done(o, s, `Brain #${brain} ${setting} = ${shown}`)
      } catch (e) {
        fail('brain set', o, e)
      }
    })
  example(signing(brain.command('transfer <brain> <to>').description('give a burned Brain to another account (wallet name or address)')), 'based brain transfer 8 bob --wallet alice')
    .action(async (brainText: string, to: string, o: Signing) => {
      try {
        const brain = count('brain', brainText)
        const toKey = keyOf(dataDirOf(o), to, 'personal')
        const s = await submit(o, () => ({ kind: 'transferBrain', brain, to: toKey }))
        done(o, s, `Brain #${brain} transferred to ${toAddress(toKey)}`)
      } catch (e) {
        fail('brain transfer', o, e)
      }
    })
  example(signing(brain.command('deactivate <brain>').description('end a staked Brain after its lock: Pepecoin unlocked, every stake returned')), 'based brain deactivate 9 --wallet alice')
    .action(async (brainText: string, o: Signing) => {
      try {
        const brain = count('brain', brainText)
        const s = await submit(o, () => ({ kind: 'deactivateBrain', brain }))
        done(o, s, `Brain #${brain} deactivated`)
      } catch (e) {
        fail('brain deactivate', o, e)
      }
    })
  example(common(brain.command('list').description('active Brains: owner, method, participants, stake, fee')).option('--json', 'JSON array'), 'based brain list --json')
    .action(async (o: Common) => {
      try {
        const ids = (await askControl(baseOf(o), LEDGER_ADDRESS, { _tag: 'GetBrains' })).ids
        const brains = await Promise.all(ids.map(async (id) => (await metagraph(o, id)).brain))
        const lines = brains.map((b) => `#${String(b.id).padEnd(5)} ${b.method.padEnd(8)} owner ${b.owner}  validators ${b.validators}  miners ${b.miners}  stake ${FIXED(b.stake)} $BASED  fee ${FIXED(b.registrationFee)} $BASED${b.name ? `  "${b.name}"` : ''}`)
        print(o, brains, lines.join('\n') || '(no Brains)')
      } catch (e) {
        fail('brain list', o, e)
      }
    })
}

function participantCommands(program: Command): void {
  example(signing(program.command('register').description('register the wallet\'s compute key on a Brain as a miner or validator, paying the Brain\'s registration fee to its owner'))
    .requiredOption('--brain <n>', 'Brain id')
    .addOption(new Option('--as <role>', 'role').choices(['miner', 'validator']).makeOptionMandatory())
    .option('--max-fee <based>', 'the most $BASED to pay (default: the fee the Brain asks now)'), 'based register --brain 8 --as validator --wallet carol')
    .action(async (o: Signing & { brain: string; as: 'miner' | 'validator'; maxFee?: string }) => {
      try {
        const brain = count('--brain', o.brain)
        const maxFee = o.maxFee !== undefined ? amount('--max-fee', o.maxFee) : BigInt((await metagraph(o, brain)).brain.registrationFee)
        const s = await submit(o, (k) => ({ kind: 'register', brain, computeKey: k.compute, role: o.as, maxFee }))
        const row = s.height !== undefined ? (await metagraph(o, brain)).rows.find((r) => r.computeKey === s.compute) : undefined
        done(o, s, `${s.compute} registered on Brain #${brain} as ${o.as}${row ? ` (uid ${row.uid}, fee ${FIXED(row.feePaid)} $BASED)` : ''}`, { uid: row?.uid, computeKey: s.compute })
      } catch (e) {
        fail('register', o, e)
      }
    })

  const stake = program.command('stake').description('stake $BASED on a Brain or on one of its validators (delegation)')
  for (const dir of ['add', 'remove'] as const) {
    example(signing(stake.command(`${dir} <amount>`).description(dir === 'add' ? 'move $BASED from the balance into a stake position' : 'return staked $BASED to the balance'))
      .requiredOption('--brain <n>', 'Brain id')
      .option('--validator <who>', 'a validator\'s compute key (wallet name or address); default: the Brain\'s own pool'),
    `based stake ${dir} 25 --brain 8 --validator carol --wallet dave`)
      .action(async (text: string, o: Signing & { brain: string; validator?: string }) => {
        try {
          const brain = count('--brain', o.brain)
          const value = amount('amount', text)
          const target = o.validator !== undefined ? keyOf(dataDirOf(o), o.validator, 'compute') : new Uint8Array(0)
          const s = await submit(o, () => ({ kind: dir === 'add' ? 'addStake' : 'removeStake', brain, target, amount: value }))
          done(o, s, `${dir === 'add' ? 'staked' : 'unstaked'} ${formatAmount(value)} $BASED ${dir === 'add' ? 'on' : 'from'} Brain #${brain}${o.validator !== undefined ? ` (validator ${toAddress(target)})` : ''}`)
        } catch (e) {
          fail(`stake ${dir}`, o, e)
        }
      })
  }

  const weights = program.command('weights').description('validator weights')
  example(signing(weights.command('set <pairs...>').description('set the wallet\'s validator weights on a Brain: uid=weight pairs (weights 0..65535)'))
    .requiredOption('--brain <n>', 'Brain id'), 'based weights set 1=65535 2=1000 --brain 8 --wallet carol')
    .action(async (pairs: string[], o: Signing & { brain: string }) => {
      try {
        const brain = count('--brain', o.brain)
        const entries = pairs.map((p) => {
          const m = /^(\d+)=(\d+)$/.exec(p)
          if (!m) throw new InvalidInput({ field: 'pairs', reason: `expected uid=weight, got ${JSON.stringify(p)}` })
          const w = Number(m[2])
          if (w > 65_535) throw new InvalidInput({ field: 'pairs', reason: `weight ${w} above 65535` })
          return [Number(m[1]), w] as const
        }).sort((a, b) => a[0] - b[0])
        if (entries.some((e, i) => i > 0 && e[0] === (entries[i - 1] as readonly [number, number])[0])) throw new InvalidInput({ field: 'pairs', reason: 'a uid appears twice' })
        const s = await submit(o, (k) => ({ kind: 'setWeights', brain, computeKey: k.compute, uids: entries.map((e) => e[0]), weights: entries.map((e) => e[1]) }))
        done(o, s, `weights of ${s.compute} on Brain #${brain}: ${entries.map((e) => `${e[0]}=${e[1]}`).join(' ')}`)
      } catch (e) {
        fail('weights set', o, e)
      }
    })

  example(signing(program.command('propose <param> <value>').description(`open a governance proposal (foundation or a GigaBrain owner): ${GOVERNABLE.join(', ')}; value in the parameter's own unit (amounts in 10⁻⁹ $BASED)`)),
    'based propose defaultRegistrationFee 50000000000 --wallet alice')
    .action(async (param: string, value: string, o: Signing) => {
      try {
        if (!(GOVERNABLE as readonly string[]).includes(param)) throw new InvalidInput({ field: 'param', reason: `one of ${GOVERNABLE.join(', ')}` })
        if (!/^\d+$/.test(value)) throw new InvalidInput({ field: 'value', reason: 'a non-negative integer' })
        const base = baseOf(o)
        const before = new Set((await askControl(base, LEDGER_ADDRESS, { _tag: 'GetLedgerStats' })).openProposals)
        const s = await submit(o, () => ({ kind: 'propose', param: param as GovernableParam, value: BigInt(value) }))
        const fresh = s.height !== undefined ? (await askControl(base, LEDGER_ADDRESS, { _tag: 'GetLedgerStats' })).openProposals.filter((p) => !before.has(p)) : []
        done(o, s, `proposal ${fresh.length === 1 ? `#${fresh[0]}` : '(id: see open proposals in `based chain supply`)'}: ${param} = ${value}`, { proposal: fresh.length === 1 ? fresh[0] : undefined })
      } catch (e) {
        fail('propose', o, e)
      }
    })
  example(signing(program.command('vote <proposal>').description('vote on a proposal with one of your GigaBrains (one vote per GigaBrain)'))
    .requiredOption('--brain <n>', 'the GigaBrain that votes')
    .addOption(new Option('--approve', 'vote yes').conflicts('reject'))
    .addOption(new Option('--reject', 'vote no').conflicts('approve')), 'based vote 0 --brain 8 --approve --wallet alice')
    .action(async (proposalText: string, o: Signing & { brain: string; approve?: boolean; reject?: boolean }) => {
      try {
        const proposal = count('proposal', proposalText)
        const brain = count('--brain', o.brain)
        if (!o.approve && !o.reject) throw new InvalidInput({ field: '--approve/--reject', reason: 'say --approve or --reject' })
        const s = await submit(o, () => ({ kind: 'vote', proposal, brain, approve: o.approve === true }))
        done(o, s, `Brain #${brain} voted ${o.approve ? 'yes' : 'no'} on proposal #${proposal}`)
      } catch (e) {
        fail('vote', o, e)
      }
    })
}

function queryCommands(program: Command): void {
  const chain = program.command('chain').description('the chain: head, blocks, supply')
  example(common(chain.command('head').description('{height, hash, stateRoot, finalizedHeight, peers}: one node finalizes its own blocks (finalizedHeight = height); a network node stores a block once > 2/3 of the stake precommitted it; peers: the consensus node\'s, else the net actor\'s (0 with --no-net)'))
    .option('--json', 'JSON object'), 'based chain head --json')
    .action(async (o: Common) => {
      try {
        const base = baseOf(o)
        const h = await askControl(base, LEDGER_ADDRESS, { _tag: 'GetHead' })
        let peers = h.peers ?? 0
        let peersFrom = h.peers !== undefined ? `${LEDGER_ADDRESS} (consensus peers)` : 'none (no net actor: --no-net)'
        if (h.peers === undefined) {
          try {
            const s = await askControl(base, NET_ADDRESS, { _tag: 'GetStatus' })
            if (typeof s.detail.peers === 'number') {
              peers = s.detail.peers
              peersFrom = NET_ADDRESS
            }
          } catch {
            // no net actor in this node: 0 peers, said in peersFrom
          }
        }
        // every stored block is final: a single node finalizes its own at once, a network stores a block once agreed (finalizedHeight)
        const out = { height: h.height, hash: h.hash, stateRoot: h.stateRoot, finalizedHeight: h.finalizedHeight ?? h.height, peers, peersFrom, chainId: h.chainId, mempool: h.mempool }
        print(o, out, `height ${h.height} (final: ${h.finalizedHeight !== undefined ? 'agreed by > 2/3 of the stake' : 'single node'})\nhash ${h.hash}\nstate root ${h.stateRoot}\npeers ${peers} (${peersFrom})\nchain ${h.chainId}, mempool ${h.mempool}`)
      } catch (e) {
        fail('chain head', o, e)
      }
    })
  example(common(chain.command('block <n>').description('a block: header, transactions (kind, sender, nonce, fee, status) and, on a network, its commit certificate (the signed precommits of > 2/3 of the stake)')).option('--json', 'JSON object'), 'based chain block 12 --json')
    .action(async (n: string, o: Common) => {
      try {
        const b = await askControl(baseOf(o), LEDGER_ADDRESS, { _tag: 'GetBlock', height: count('n', n) })
        const lines = [
          `block ${b.height} ${b.hash}`, `parent ${b.parentHash}`, `state root ${b.stateRoot}`, `tx root ${b.txRoot}`,
          `time ${new Date(b.time).toISOString()}, proposer ${b.proposer}, ${b.txs.length} transaction(s)`,
          ...b.txs.map((t) => `  ${t.hash.slice(0, 16)}… ${t.kind.padEnd(16)} from ${t.from} nonce ${t.nonce} fee ${FIXED(t.fee)} $BASED${t.status ? ` ${t.status}${t.reason ? ` (${t.reason})` : ''}` : ''}`),
          ...(b.certificate ? [`commit certificate: round ${b.certificate.round}, ${b.certificate.precommits.length} precommit(s) holding ${b.certificate.power} of ${b.certificate.totalPower} power`] : []),
        ]
        print(o, b, lines.join('\n'))
      } catch (e) {
        fail('chain block', o, e)
      }
    })
  example(common(chain.command('supply').description('the supply audit: $BASED issued (genesis + emitted) vs held (balances + stakes + pending), Pepecoin likewise'))
    .option('--json', 'JSON object (amounts in 10⁻⁹ units)'), 'based chain supply --json')
    .action(async (o: Common) => {
      try {
        const s = await askControl(baseOf(o), LEDGER_ADDRESS, { _tag: 'GetLedgerStats' })
        print(o, s, [
          `height ${s.height}: supply ${s.supplyOk ? 'conserved' : 'NOT CONSERVED'}`,
          `$BASED issued ${FIXED(s.basedIssued)} (emitted ${FIXED(s.emitted)}), held ${FIXED(s.basedHeld)}, staked ${FIXED(s.staked)}`,
          `PEPE issued ${FIXED(s.pepeIssued)}, held ${FIXED(s.pepeHeld)}; next burn price ${FIXED(s.nextBurnPrice)} PEPE`,
          `open proposals: ${s.openProposals.join(', ') || 'none'}`,
        ].join('\n'))
      } catch (e) {
        fail('chain supply', o, e)
      }
    })

  example(common(program.command('metagraph').description('a Brain\'s participants: uid, compute key, stake, incentive, dividends, validator permit, …'))
    .requiredOption('--brain <n>', 'Brain id')
    .option('--json', 'JSON object {brain, rows}'), 'based metagraph --brain 8 --json')
    .action(async (o: Common & { brain: string }) => {
      try {
        const m = await metagraph(o, count('--brain', o.brain))
        // Rank, trust, consensus, incentive, dividends and emission come from the Brain's stored last epoch (null for a
        // uid that epoch did not cover); incentive/dividends fall back to the stored score before the first epoch.
        const frac = (x: string | null): number | null => (x === null ? null : Number(x) / 1e9)
        const rows = m.rows.map((r) => ({
          uid: r.uid, role: r.role, computeKey: r.computeKey, owner: r.owner, stake: FIXED(r.stake),
          incentive: frac(r.incentive) ?? (r.role === 'miner' ? Number(r.score) / 1e9 : 0),
          dividends: frac(r.dividends) ?? (r.role === 'validator' ? Number(r.score) / 1e9 : 0),
          validatorPermit: r.validatorPermit, registeredAt: r.registeredAt, feePaid: FIXED(r.feePaid), weights: r.weights,
          rank: frac(r.rank), trust: frac(r.trust), consensus: frac(r.consensus), emission: r.emission === null ? null : FIXED(r.emission),
          lastUpdate: r.lastUpdate, queryEarned: FIXED(r.queryEarned),
          // where a miner serves (its signed serveMiner record: peer id, multiaddrs, actor), when it announced one
          ...(r.serving ? { serving: r.serving } : {}),
        }))
        const b = m.brain
        const head = `Brain #${b.id} (${b.method}) owner ${b.owner} at height ${m.height}: stake ${FIXED(b.stake)} $BASED, pending emission ${FIXED(b.pending)}, performance ${b.performance}, fee ${FIXED(b.registrationFee)} $BASED\nqueries: ${FIXED(b.queryPrice)} $BASED per 1,000 compute units; owner earned ${FIXED(b.ownerQueryEarned)} $BASED from paid queries`
        const f6 = (x: number | null): string => (x === null ? '-' : x.toFixed(6)).padStart(9)
        const table = [
          'UID   ROLE       STAKE($BASED)      RANK      TRUST  CONSENSUS  INCENTIVE  DIVIDENDS  EMISSION($BASED)  QUERIES($BASED)  VPERMIT  REG@     UPDATED  WEIGHTS  COMPUTE KEY',
          ...rows.map((r) => `${String(r.uid).padEnd(5)} ${r.role.padEnd(10)} ${r.stake.padStart(13)} ${f6(r.rank)} ${f6(r.trust)}  ${f6(r.consensus)}  ${f6(r.incentive)}  ${f6(r.dividends)}  ${(r.emission ?? '-').padStart(16)}  ${r.queryEarned.padStart(15)}  ${(r.validatorPermit ? 'yes' : 'no').padEnd(7)}  ${String(r.registeredAt).padEnd(8)} ${String(r.lastUpdate).padEnd(8)} ${String(r.weights).padEnd(8)} ${r.computeKey}`),
        ]
        const stored = m.epoch ? `stored epoch at ${m.epoch.height}: owner cut ${FIXED(m.epoch.ownerCut)}, Brain pool ${FIXED(m.epoch.brainPool)} $BASED` : 'no stored epoch yet'
        print(o, { height: m.height, tempo: m.tempo, lastEpoch: m.lastEpoch, epoch: m.epoch, brain: b, rows }, `${head}\nlast epoch ${m.lastEpoch ?? 'none yet'} (tempo ${m.tempo}); ${stored}\n${table.join('\n')}`)
      } catch (e) {
        fail('metagraph', o, e)
      }
    })
}

function escrowCommands(program: Command): void {
  const escrow = program.command('escrow').description('spending accounts: $BASED set aside to pay a Brain\'s miners, validators and owner for queries (§3.5.1)')
  example(signing(escrow.command('open').description('move $BASED into your spending account on a Brain (opens it, or tops it up)'))
    .requiredOption('--brain <n>', 'Brain id')
    .requiredOption('--amount <based>', '$BASED to set aside'), 'based escrow open --brain 8 --amount 5 --wallet dave')
    .action(async (o: Signing & { brain: string; amount: string }) => {
      try {
        const brain = count('--brain', o.brain)
        const value = amount('--amount', o.amount)
        const s = await submit(o, () => ({ kind: 'escrowOpen', brain, amount: value }))
        done(o, s, `${formatAmount(value)} $BASED into the spending account on Brain #${brain}`)
      } catch (e) {
        fail('escrow open', o, e)
      }
    })
  example(common(escrow.command('show').description('your spending accounts: Brain, balance, open sessions, the Brain\'s price, when a withdrawal is possible'))
    .option('--wallet <name>', 'a wallet of the data dir (default: every wallet)')
    .option('--address <address>', 'any account address')
    .option('--json', 'JSON'), 'based escrow show --wallet dave --json')
    .action(async (o: Common & { wallet?: string; address?: string }) => {
      try {
        const base = baseOf(o)
        const who = o.address !== undefined ? [{ name: o.address, personal: o.address }]
          : listWallets(dataDirOf(o)).filter((w) => o.wallet === undefined || w.name === o.wallet)
        if (o.wallet !== undefined && who.length === 0) throw new WalletError({ reason: 'not-found', name: o.wallet })
        const head = (await askControl(base, LEDGER_ADDRESS, { _tag: 'GetHead' })).height
        const out = await Promise.all(who.map(async (w) => ({ name: w.name, ...(await askControl(base, LEDGER_ADDRESS, { _tag: 'GetEscrows', address: w.personal })) })))
        const lines = out.flatMap((a) => a.escrows.map((e) => {
          const state = e.unlockAt === 0 ? 'open' : e.unlockAt <= head + 1 ? `withdrawable (since block ${e.unlockAt})` : `closing: withdrawable from block ${e.unlockAt}`
          return `${a.name.padEnd(16)} Brain #${String(e.brain).padEnd(5)} ${FIXED(e.balance).padStart(14)} $BASED  ${e.openSessions} open session(s)  price ${FIXED(e.queryPrice)} $BASED / 1,000 units  ${state}`
        }))
        print(o, { height: head, accounts: out }, lines.join('\n') || '(no spending accounts)')
      } catch (e) {
        fail('escrow show', o, e)
      }
    })
  example(signing(escrow.command('close').description('announce a withdrawal: after the chain\'s delay (in blocks) `escrow withdraw` returns the balance; miners take no new work on it, and settle what they did meanwhile'))
    .requiredOption('--brain <n>', 'Brain id'), 'based escrow close --brain 8 --wallet dave')
    .action(async (o: Signing & { brain: string }) => {
      try {
        const brain = count('--brain', o.brain)
        const s = await submit(o, () => ({ kind: 'escrowClose', brain }))
        const acct = s.height !== undefined ? (await askControl(baseOf(o), LEDGER_ADDRESS, { _tag: 'GetEscrows', address: s.personal })).escrows.find((e) => e.brain === brain) : undefined
        done(o, s, `withdrawal from the spending account on Brain #${brain} announced${acct ? `: withdrawable from block ${acct.unlockAt}` : ''}`, { unlockAt: acct?.unlockAt })
      } catch (e) {
        fail('escrow close', o, e)
      }
    })
  example(signing(escrow.command('withdraw').description('return what is left of a closed spending account to your balance (after the delay)'))
    .requiredOption('--brain <n>', 'Brain id'), 'based escrow withdraw --brain 8 --wallet dave')
    .action(async (o: Signing & { brain: string }) => {
      try {
        const brain = count('--brain', o.brain)
        const address = listWallets(dataDirOf(o)).find((w) => w.name === o.wallet)?.personal
        const before = address ? (await askControl(baseOf(o), LEDGER_ADDRESS, { _tag: 'GetEscrows', address })).escrows.find((e) => e.brain === brain) : undefined
        const s = await submit(o, () => ({ kind: 'escrowWithdraw', brain }))
        done(o, s, `spending account on Brain #${brain} withdrawn${before ? `: ${FIXED(before.balance)} $BASED back to the balance` : ''}`, { amount: before?.balance })
      } catch (e) {
        fail('escrow withdraw', o, e)
      }
    })
}

/** Adds brain, register, stake, weights, propose, vote, chain, metagraph and escrow to `program`. */
export function registerParticipantCommands(program: Command): void {
  brainCommands(program)
  participantCommands(program)
  queryCommands(program)
  escrowCommands(program)
}
