/**
 * The ledger actor: the single writer of the node's ledger. It owns the LMDB environment (K shard sub-databases,
 * one write transaction per block — see docs/LEDGER.md for why one writer gives cross-shard atomicity), a mempool,
 * and the block timer: every `blockTimeMs` it tells itself ProduceBlock and executes the queued transactions.
 *
 * - SubmitTx: admission (ledger/mempool.ts): the transaction runs through the same checks its execution will —
 *   chain id, signature, fee rule, nonce (committed nonce + the sender's queued transactions), balance (fee + amount,
 *   counting the sender's queued transactions), the rules of its kind (a zero amount is InvalidAmount) — and is
 *   queued, or refused at once with the typed error (its `_tag` travels as HandlerError.tag, its fields as the
 *   message, JSON). The actor keeps running.
 * - ProduceBlock: takes the queue in arrival order (nonce order per sender), executes it, and records a receipt for
 *   every transaction: included, failed (included, fee and nonce charged, body not applied — with the typed reason)
 *   or dropped. GetTxStatus answers from the receipts and the queue.
 * - Transactions still in the mempool when the actor crashes are lost (the committed state is not: every block is
 *   one LMDB transaction); a client resubmits, and nonces make a resubmission safe. Receipts are appended to
 *   `<dataDir>/ledger/receipts.jsonl` after each block and read back on start (the last 100,000).
 * - Dev genesis: when the data dir has no ledger yet, genesis funds every wallet found in `<dataDir>/wallets`
 *   (1,000 $BASED and 200,000 Pepecoin each: create wallets before the first start) under chain id `basedai-dev`;
 *   with `args.dev` it also funds the dev network's public test keys and bootstraps its Brains, miners and
 *   validators on the ledger (ledger/dev.ts).
 */
import path from 'node:path'
import { continueWith, failWith, toProtocolError, type Behaviour, type HandleResult } from './index.ts'
import { HandlerError, type Message, type TxStatus } from '../protocol/index.ts'
import { fromAddress, fromHex, testKeyPair, toAddress, toHex } from '../ledger/index.ts'
import { devBootstrap, devGenesisAccounts, type DevNetwork } from '../ledger/dev.ts'
import { isTxError } from '../ledger/errors.ts'
import { Ledger } from '../ledger/ledger.ts'
import { Mempool, ReceiptLog, type StoredFate, type TxFate } from '../ledger/mempool.ts'
import { defaultParams } from '../ledger/params.ts'
import { blockOf, forecastSeriesOf, ledgerStats, metagraphOf } from '../ledger/queries.ts'
import type { Params } from '../ledger/params.ts'
import { LmdbStore } from '../ledger/store.ts'
import { tokens } from '../ledger/units.ts'
import { listWallets } from '../ledger/wallet.ts'

export interface LedgerActorState {
  readonly ledger: Ledger
  readonly store: LmdbStore
  readonly mempool: Mempool
  readonly receipts: ReceiptLog
  timer: NodeJS.Timeout | null
  readonly proposer: Uint8Array
}

/**
 * A typed error as it crosses the actor boundary: HandlerError with the error's `_tag` as `tag` and its fields as
 * JSON in `message` (a Data.TaggedError has no message of its own).
 */
function refusal(address: string, e: unknown): ReturnType<typeof toProtocolError> {
  if (isTxError(e) || (typeof e === 'object' && e !== null && (e as { _tag?: unknown })._tag === 'MempoolFull')) {
    const { _tag, ...fields } = e as unknown as { _tag: string } & Record<string, unknown>
    return new HandlerError({ actor: address, tag: _tag, message: JSON.stringify(fields) })
  }
  return toProtocolError(address, e)
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

function positiveInt(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fallback
}

/**
 * `args.params`: genesis overrides of the integer parameters that set the pace of a dev or test chain (tempo and the
 * forecast rounds), used only when the data dir has no ledger yet; anything else is ignored.
 */
const GENESIS_OVERRIDES = [
  'tempo', 'forecastPeriod', 'forecastBlocksPerStep', 'forecastHorizon', 'forecastCommitLead', 'forecastRevealWindow', 'forecastBlocksPerYear',
] as const
function genesisParams(v: unknown): Partial<Params> {
  const out: Record<string, number> = {}
  if (typeof v !== 'object' || v === null) return out
  for (const k of GENESIS_OVERRIDES) {
    const x = (v as Record<string, unknown>)[k]
    if (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) out[k] = x
  }
  return out as Partial<Params>
}

function args(ctx: { args: Readonly<Record<string, unknown>> }): {
  dataDir: string; shards: number; blockTimeMs: number; autoBlocks: boolean; dev: DevNetwork | undefined; maxMempool: number; maxBlockTxs: number
  params: Partial<Params>
} {
  const a = ctx.args
  if (typeof a.dataDir !== 'string') throw new Error('ledger actor needs args.dataDir')
  const d = a.dev as Partial<DevNetwork> | undefined
  const dev = d && typeof d.brains === 'number' && typeof d.miners === 'number' && typeof d.validators === 'number' && d.brains > 0 ? (d as DevNetwork) : undefined
  return {
    dev,
    dataDir: a.dataDir,
    shards: typeof a.shards === 'number' ? a.shards : 4,
    blockTimeMs: typeof a.blockTimeMs === 'number' ? a.blockTimeMs : 10_000,
    autoBlocks: a.autoBlocks !== false,
    maxMempool: positiveInt(a.maxMempool, 10_000),
    maxBlockTxs: positiveInt(a.maxBlockTxs, 5_000),
    params: genesisParams(a.params),
  }
}

export function ledgerBehaviour(): Behaviour<LedgerActorState> {
  return {
    accepts: ['Ping', 'GetStatus', 'SubmitTx', 'GetAccount', 'GetHead', 'ProduceBlock', 'GetBrains', 'GetParticipant', 'GetTxStatus', 'GetMetagraph', 'GetBlock', 'GetLedgerStats', 'GetForecastSeries'],
    init(ctx) {
      const o = args(ctx)
      const store = LmdbStore.open({ path: path.join(o.dataDir, 'ledger'), shards: o.shards })
      const fresh = store.head() === undefined
      const genesis = {
        params: defaultParams({ ...o.params, chainId: 'basedai-dev', blockTimeMs: o.blockTimeMs }),
        time: Date.now(),
        accounts: [
          ...listWallets(o.dataDir).map((w) => ({ publicKey: fromAddress(w.personal), based: tokens(1000), pepe: tokens(200_000) })),
          ...(o.dev ? devGenesisAccounts(o.dev) : []),
        ],
      }
      const ledger = Ledger.open({ store, ...(fresh ? { genesis } : {}) })
      if (fresh && o.dev) devBootstrap(ledger, o.dev)
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
    handle(state, msg: Message, ctx): HandleResult<LedgerActorState> {
      const { ledger } = state
      switch (msg._tag) {
        case 'Ping':
          return continueWith(state, { _tag: 'Pong', from: ctx.address, at: Date.now() })
        case 'GetStatus': {
          const h = ledger.head()
          return continueWith(state, {
            _tag: 'StatusReply',
            actor: ctx.address,
            role: 'ledger',
            uptimeMs: ctx.uptimeMs(),
            detail: { height: h.height, mempool: state.mempool.size, chainId: ledger.params().chainId, receipts: state.receipts.size, receiptWriteErrors: state.receipts.writeErrors },
          })
        }
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
          try {
            const key = fromAddress(msg.address)
            const a = ledger.account(key)
            const nonce = a?.nonce ?? 0n
            return continueWith(state, {
              _tag: 'AccountInfo',
              address: msg.address,
              based: String(a?.based ?? 0n),
              pepe: String(a?.pepe ?? 0n),
              nonce: String(nonce),
              nextNonce: String(state.mempool.nextNonce(key)),
            })
          } catch (e) {
            return failWith(state, toProtocolError(ctx.address, e))
          }
        }
        case 'SubmitTx': {
          try {
            const t = state.mempool.admit(msg.tx)
            return continueWith(state, { _tag: 'TxAccepted', hash: toHex(t.hash), nonce: String(t.tx.nonce), mempool: state.mempool.size })
          } catch (e) {
            return failWith(state, refusal(ctx.address, e))
          }
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
          if (!p) return failWith(state, new HandlerError({ actor: ctx.address, tag: 'UnknownParticipant', message: `no participant ${msg.computeKey.slice(0, 16)}… on Brain ${msg.brain}` }))
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
          if (!m) return failWith(state, new HandlerError({ actor: ctx.address, tag: 'UnknownBrain', message: JSON.stringify({ brain: msg.brain }) }))
          return continueWith(state, { _tag: 'Metagraph', ...m })
        }
        case 'GetBlock': {
          const b = blockOf(ledger, msg.height)
          if (!b) return failWith(state, new HandlerError({ actor: ctx.address, tag: 'UnknownBlock', message: JSON.stringify({ height: msg.height, head: ledger.head().height }) }))
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
          if (!f) return failWith(state, new HandlerError({ actor: ctx.address, tag: 'UnknownBrain', message: JSON.stringify({ brain: msg.brain }) }))
          return continueWith(state, { _tag: 'ForecastSeries', ...f })
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
    },
    async terminate(state) {
      if (state.timer) clearInterval(state.timer)
      await state.store.close()
    },
  }
}

export default ledgerBehaviour
