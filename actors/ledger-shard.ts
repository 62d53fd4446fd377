/**
 * The ledger actor: the single writer of the node's ledger. It owns the LMDB environment (K shard sub-databases,
 * one write transaction per block — see docs/LEDGER.md for why one writer gives cross-shard atomicity), a mempool,
 * and the block timer: every `blockTimeMs` it tells itself ProduceBlock and executes the queued transactions.
 *
 * - SubmitTx: admission (ledger/mempool.ts): the transaction runs through the same checks its execution will —
 *   chain id, signature, fee rule, nonce (committed nonce + the sender's queued transactions), balance (fee + amount,
 *   counting the sender's queued transactions), the rules of its kind (a zero amount is InvalidAmount) — and is
 *   queued, or refused at once with the typed error, which crosses the boundary as `LedgerRejection { reason: its
 *   _tag, detail: its fields }` (supervisor `toProtocolError`). Every refusal of a query is a LedgerRejection too
 *   (UnknownBrain, UnknownParticipant, UnknownBlock, UnknownEscrow, InvalidAddress, MempoolFull). The actor keeps
 *   running.
 * - Status: the runtime answers GetStatus with `status(state)` (height, mempool, chain id, receipts).
 * - Spending accounts (§3.5.1): GetEscrows and GetSessionTab answer from the committed state (ledger/escrow.ts).
 * - ProduceBlock: takes the queue in arrival order (nonce order per sender), executes it, and records a receipt for
 *   every transaction: included, failed (included, fee and nonce charged, body not applied — with the typed reason)
 *   or dropped. GetTxStatus answers from the receipts and the queue.
 * - Transactions still in the mempool when the actor crashes are lost (the committed state is not: every block is
 *   one LMDB transaction); a client resubmits, and nonces make a resubmission safe. Receipts are appended to
 *   `<dataDir>/ledger/receipts.jsonl` after each block and read back on start (the last 100,000).
 * - Arguments: `LedgerArgs` below (defaults in one place); the cluster builds the child with `ledgerRole.create`.
 * - Dev genesis: when the data dir has no ledger yet, genesis funds every wallet found in `<dataDir>/wallets`
 *   (1,000 $BASED and 200,000 Pepecoin each: create wallets before the first start) under chain id `basedai-dev`;
 *   with `args.dev` it also funds the dev network's public test keys and bootstraps its Brains, miners and
 *   validators on the ledger (ledger/dev.ts).
 */
import path from 'node:path'
import { Schema } from 'effect'
import { continueWith, defineRole, failWith, toProtocolError, type Behaviour, type HandleResult } from '../supervisor/runtime.ts'
import type { Message, TxStatus } from '../protocol/index.ts'
import { fromAddress, fromHex, testKeyPair, toAddress, toHex } from '../ledger/index.ts'
import { devBootstrap, devGenesisAccounts } from '../ledger/dev.ts'
import { UnknownBlock, UnknownBrain, UnknownEscrow, UnknownParticipant } from '../ledger/errors.ts'
import { Ledger } from '../ledger/ledger.ts'
import { Mempool, ReceiptLog, type StoredFate, type TxFate } from '../ledger/mempool.ts'
import { defaultParams } from '../ledger/params.ts'
import { blockOf, escrowsOf, forecastSeriesOf, ledgerStats, metagraphOf, sessionTabOf } from '../ledger/queries.ts'
import { LmdbStore } from '../ledger/store.ts'
import { tokens } from '../ledger/units.ts'
import { listWallets } from '../ledger/wallet.ts'

const PositiveInt = Schema.Int.pipe(Schema.positive())
const Count = Schema.Int.pipe(Schema.nonNegative())

/**
 * Genesis overrides of the integer parameters that set the pace of a dev or test chain (tempo, the forecast rounds,
 * the spending accounts' withdrawal delay), used only when the data dir has no ledger yet.
 */
export const GenesisOverrides = Schema.Struct({
  tempo: Schema.optional(PositiveInt),
  forecastPeriod: Schema.optional(Count),
  forecastBlocksPerStep: Schema.optional(PositiveInt),
  forecastHorizon: Schema.optional(PositiveInt),
  forecastCommitLead: Schema.optional(Count),
  forecastRevealWindow: Schema.optional(Count),
  forecastBlocksPerYear: Schema.optional(PositiveInt),
  escrowWithdrawDelay: Schema.optional(Count),
  epochRule: Schema.optional(Schema.Literal('yuma', 'sigmoid')), // the epoch's rule and Credits (docs/CONSENSUS.md "On the chain")
  creditMaxBoostPpm: Schema.optional(Schema.Int.pipe(Schema.between(0, 1_000_000))), creditHalfCredits: Schema.optional(PositiveInt),
})

/** Start arguments of the ledger writer (defaults here and nowhere else). */
export const LedgerArgs = Schema.Struct({
  /** The node's data dir: the ledger lives in `<dataDir>/ledger`, wallets found in `<dataDir>/wallets` are funded at genesis. */
  dataDir: Schema.String.pipe(Schema.minLength(1)),
  /** LMDB shard sub-databases (fixed when the ledger is created). */
  shards: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 1024)), { default: () => 4 }),
  /** Block interval (ms): the block timer and the genesis `blockTimeMs`. */
  blockTimeMs: Schema.optionalWith(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)), { default: () => 10_000 }),
  /** Produce blocks on the timer (false: only on ProduceBlock, for tests). */
  autoBlocks: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** The dev network's Brains, miners and validators (ledger/dev.ts), bootstrapped on a fresh ledger; none with 0 Brains. */
  dev: Schema.optional(Schema.Struct({ brains: Count, miners: Count, validators: Count })),
  /** Most transactions queued at once. */
  maxMempool: Schema.optionalWith(PositiveInt, { default: () => 10_000 }),
  /** Most transactions one block takes. */
  maxBlockTxs: Schema.optionalWith(PositiveInt, { default: () => 5_000 }),
  params: Schema.optionalWith(GenesisOverrides, { default: () => ({}) }),
})
export type LedgerArgs = typeof LedgerArgs.Type

export const ledgerRole = defineRole('ledger', import.meta.url, LedgerArgs)

export interface LedgerActorState {
  readonly ledger: Ledger
  readonly store: LmdbStore
  readonly mempool: Mempool
  readonly receipts: ReceiptLog
  timer: NodeJS.Timeout | null
  readonly proposer: Uint8Array
}

/** The TxStatus reply of a stored fate. */
function statusOf(hash: string, fate: StoredFate): typeof TxStatus.Type {
  return {
    _tag: 'TxStatus', hash, status: fate.status,
    ...(fate.height !== undefined ? { height: fate.height } : {}),
    ...(fate.reason !== undefined ? { reason: fate.reason } : {}),
    ...(fate.detail !== undefined ? { detail: fate.detail } : {}),
  }
}

export function ledgerBehaviour(): Behaviour<LedgerActorState> {
  return {
    accepts: [
      'Ping', 'SubmitTx', 'GetAccount', 'GetHead', 'ProduceBlock', 'GetBrains', 'GetParticipant', 'GetTxStatus', 'GetMetagraph', 'GetBlock',
      'GetLedgerStats', 'GetForecastSeries', 'GetEscrows', 'GetSessionTab',
    ],
    init(ctx) {
      const o = ledgerRole.args(ctx.args)
      const dev = o.dev && o.dev.brains > 0 ? o.dev : undefined
      const store = LmdbStore.open({ path: path.join(o.dataDir, 'ledger'), shards: o.shards })
      const fresh = store.head() === undefined
      const genesis = {
        params: defaultParams({ ...o.params, chainId: 'basedai-dev', blockTimeMs: o.blockTimeMs }),
        time: Date.now(),
        accounts: [
          ...listWallets(o.dataDir).map((w) => ({ publicKey: fromAddress(w.personal), based: tokens(1000), pepe: tokens(200_000) })),
          ...(dev ? devGenesisAccounts(dev) : []),
        ],
      }
      const ledger = Ledger.open({ store, ...(fresh ? { genesis } : {}) })
      if (fresh && dev) devBootstrap(ledger, dev)
      const proposer = testKeyPair('basedai-dev-proposer').publicKey
      const mempool = new Mempool(ledger, proposer, { maxSize: o.maxMempool, maxBlockTxs: o.maxBlockTxs })
      const receipts = new ReceiptLog(100_000, path.join(o.dataDir, 'ledger', 'receipts.jsonl'))
      const state: LedgerActorState = { ledger, store, mempool, receipts, timer: null, proposer }
      const self = ctx.self
      if (o.autoBlocks && self) {
        state.timer = setInterval(() => {
          try {
            self.tell({ _tag: 'ProduceBlock' })
          } catch {
            // mailbox full: this tick is skipped; the next one produces the block
          }
        }, ledger.params().blockTimeMs)
        state.timer.unref()
      }
      return state
    },
    status: (state) => ({
      height: state.ledger.head().height,
      mempool: state.mempool.size,
      chainId: state.ledger.params().chainId,
      receipts: state.receipts.size,
      receiptWriteErrors: state.receipts.writeErrors,
    }),
    handle(state, msg: Message, ctx): HandleResult<LedgerActorState> {
      const { ledger } = state
      /** A refusal: the domain error crosses as its LedgerRejection (reason = its tag, detail = its fields). */
      const refuse = (e: UnknownBlock | UnknownBrain | UnknownEscrow | UnknownParticipant): HandleResult<LedgerActorState> =>
        failWith(state, toProtocolError(ctx.address, e))
      try {
        switch (msg._tag) {
          case 'Ping':
            return continueWith(state, { _tag: 'Pong', from: ctx.address, at: Date.now() })
          case 'GetHead': {
            const h = ledger.head()
            const p = ledger.params()
            return continueWith(state, {
              _tag: 'HeadInfo',
              height: h.height,
              hash: toHex(h.hash),
              stateRoot: toHex(h.stateRoot),
              chainId: p.chainId,
              baseFee: String(p.baseFee),
              byteFee: String(p.byteFee),
              blockTimeMs: p.blockTimeMs,
              mempool: state.mempool.size,
            })
          }
          case 'GetAccount': {
            const key = fromAddress(msg.address)
            const a = ledger.account(key)
            return continueWith(state, {
              _tag: 'AccountInfo',
              address: msg.address,
              based: String(a?.based ?? 0n),
              pepe: String(a?.pepe ?? 0n),
              nonce: String(a?.nonce ?? 0n),
              nextNonce: String(state.mempool.nextNonce(key)),
            })
          }
          case 'SubmitTx': {
            const t = state.mempool.admit(msg.tx)
            return continueWith(state, { _tag: 'TxAccepted', hash: toHex(t.hash), nonce: String(t.tx.nonce), mempool: state.mempool.size })
          }
          case 'GetTxStatus': {
            const hash = msg.hash.toLowerCase()
            if (state.mempool.has(hash)) return continueWith(state, { _tag: 'TxStatus', hash, status: 'pending' })
            const fate = state.receipts.get(hash)
            return continueWith(state, fate ? statusOf(hash, fate) : { _tag: 'TxStatus', hash, status: 'unknown' })
          }
          case 'GetBrains':
            return continueWith(state, { _tag: 'BrainList', ids: [...ledger.globals().brains] })
          case 'GetParticipant': {
            const p = /^[0-9a-f]{64}$/.test(msg.computeKey) ? ledger.participant(msg.brain, fromHex(msg.computeKey)) : undefined
            if (!p) return refuse(new UnknownParticipant({ brain: msg.brain, key: msg.computeKey }))
            return continueWith(state, {
              _tag: 'ParticipantInfo',
              brain: msg.brain,
              uid: p.uid,
              role: p.role,
              owner: toAddress(p.owner),
              score: String(p.score),
              stake: String(p.stake),
            })
          }
          case 'GetMetagraph': {
            const m = metagraphOf(ledger, msg.brain)
            if (!m) return refuse(new UnknownBrain({ brain: msg.brain }))
            return continueWith(state, { _tag: 'Metagraph', ...m })
          }
          case 'GetBlock': {
            const b = blockOf(ledger, msg.height)
            if (!b) return refuse(new UnknownBlock({ height: msg.height, head: ledger.head().height }))
            const txs = b.txs.map((t) => {
              const fate = state.receipts.get(t.hash)
              return { ...t, ...(fate ? { status: fate.status } : {}), ...(fate?.reason !== undefined ? { reason: fate.reason } : {}) }
            })
            return continueWith(state, { _tag: 'BlockInfo', ...b, txs })
          }
          case 'GetLedgerStats':
            return continueWith(state, { _tag: 'LedgerStats', ...ledgerStats(ledger) })
          case 'GetForecastSeries': {
            const f = forecastSeriesOf(ledger, msg.brain, msg.windows)
            if (!f) return refuse(new UnknownBrain({ brain: msg.brain }))
            return continueWith(state, { _tag: 'ForecastSeries', ...f })
          }
          case 'GetEscrows':
            return continueWith(state, { _tag: 'EscrowList', address: msg.address, ...escrowsOf(ledger, fromAddress(msg.address)) })
          case 'GetSessionTab': {
            const t = sessionTabOf(ledger, msg.sessionHash)
            if (!t) return refuse(new UnknownEscrow({ payer: '', brain: 0, session: msg.sessionHash }))
            return continueWith(state, { _tag: 'SessionTab', sessionHash: msg.sessionHash, ...t })
          }
          case 'ProduceBlock': {
            const txs = state.mempool.take()
            const verified = txs.map(() => true) // signatures were checked on SubmitTx
            const produced = ledger.produceBlock(txs, { time: ledger.nextBlockTime(), proposer: state.proposer, verified })
            const height = produced.block.header.height
            const fates: Array<[string, TxFate]> = produced.receipts.map((r) => [
              toHex(r.hash), r.error ? { status: 'failed', height, error: r.error } : { status: 'included', height },
            ])
            for (const r of produced.rejected) {
              const t = txs[r.index]
              if (t) fates.push([toHex(t.hash), { status: 'dropped', error: r.error }])
            }
            for (const d of state.mempool.afterBlock()) fates.push([toHex(d.tx.hash), { status: 'dropped', error: d.error }])
            state.receipts.record(fates)
            return continueWith(state, {
              _tag: 'BlockProduced',
              height: produced.block.header.height,
              hash: toHex(produced.hash),
              included: produced.included,
              rejected: produced.rejected.length,
            })
          }
          default:
            return continueWith(state)
        }
      } catch (e) {
        // Typed ledger errors (InvalidAddress, MalformedTx, MempoolFull, every admission refusal) are refusals and
        // cross as LedgerRejection. Anything else is a bug or a storage failure: the actor crashes and its
        // supervisor restarts it over the committed ledger (a failed block commit leaves no trace, docs/LEDGER.md).
        const r = toProtocolError(ctx.address, e)
        if (r._tag === 'LedgerRejection') return failWith(state, r)
        throw e
      }
    },
    async terminate(state) {
      if (state.timer) clearInterval(state.timer)
      await state.store.close()
    },
  }
}

export default ledgerBehaviour
