/**
 * The ledger actor: the single writer of the node's ledger. It owns the LMDB environment (K shard sub-databases,
 * one write transaction per block — see docs/LEDGER.md for why one writer gives cross-shard atomicity), a mempool,
 * and the block timer: every `blockTimeMs` it tells itself ProduceBlock and executes the queued transactions.
 *
 * - SubmitTx: decodes the canonical encoding, checks the chain id, the signature and the nonce order (committed
 *   nonce + transactions already queued from the same key), then queues it. Every failure is a typed error
 *   (MalformedTx, WrongChain, BadSignature, BadNonce, MempoolFull) returned to the sender; the actor keeps running.
 * - Transactions still in the mempool when the actor crashes are lost (the committed state is not: every block is one
 *   LMDB transaction); a client resubmits, and nonces make a resubmission safe.
 * - Dev genesis: when the data dir has no ledger yet, genesis funds every wallet found in `<dataDir>/wallets`
 *   (1,000 $BASED and 200,000 Pepecoin each: create wallets before the first start) under chain id `basedai-dev`;
 *   with `args.dev` it also funds the dev network's public test keys and bootstraps its Brains, miners and
 *   validators on the ledger (ledger/dev.ts).
 */
import path from 'node:path'
import { continueWith, failWith, toProtocolError, type Behaviour, type HandleResult } from '../actors/index.ts'
import { HandlerError, type Message } from '../protocol/index.ts'
import { bytesEqual, decodeTx, fromAddress, fromHex, testKeyPair, toAddress, toHex, verify } from './index.ts'
import { devBootstrap, devGenesisAccounts, type DevNetwork } from './dev.ts'
import { BadNonce, BadSignature, WrongChain } from './errors.ts'
import { Ledger } from './ledger.ts'
import { defaultParams } from './params.ts'
import { LmdbStore } from './store.ts'
import { tokens } from './units.ts'
import { listWallets } from './wallet.ts'
import type { PreparedTx } from './tx.ts'

const MAX_MEMPOOL = 10_000

export interface LedgerActorState {
  readonly ledger: Ledger
  readonly store: LmdbStore
  mempool: PreparedTx[]
  readonly pending: Map<string, bigint>
  timer: NodeJS.Timeout | null
  readonly proposer: Uint8Array
}

function args(ctx: { args: Readonly<Record<string, unknown>> }): { dataDir: string; shards: number; blockTimeMs: number; autoBlocks: boolean; dev: DevNetwork | undefined } {
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
  }
}

export function ledgerBehaviour(): Behaviour<LedgerActorState> {
  return {
    accepts: ['Ping', 'GetStatus', 'SubmitTx', 'GetAccount', 'GetHead', 'ProduceBlock', 'GetBrains', 'GetParticipant'],
    init(ctx) {
      const o = args(ctx)
      const store = LmdbStore.open({ path: path.join(o.dataDir, 'ledger'), shards: o.shards })
      const fresh = store.head() === undefined
      const genesis = {
        params: defaultParams({ chainId: 'basedai-dev', blockTimeMs: o.blockTimeMs }),
        time: Date.now(),
        accounts: [
          ...listWallets(o.dataDir).map((w) => ({ publicKey: fromAddress(w.personal), based: tokens(1000), pepe: tokens(200_000) })),
          ...(o.dev ? devGenesisAccounts(o.dev) : []),
        ],
      }
      const ledger = Ledger.open({ store, ...(fresh ? { genesis } : {}) })
      if (fresh && o.dev) devBootstrap(ledger, o.dev)
      const state: LedgerActorState = { ledger, store, mempool: [], pending: new Map(), timer: null, proposer: testKeyPair('basedai-dev-proposer').publicKey }
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
            detail: { height: h.height, mempool: state.mempool.length, chainId: ledger.params().chainId },
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
            mempool: state.mempool.length,
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
              nextNonce: String(state.pending.get(toHex(key)) ?? nonce),
            })
          } catch (e) {
            return failWith(state, toProtocolError(ctx.address, e))
          }
        }
        case 'SubmitTx': {
          try {
            if (state.mempool.length >= MAX_MEMPOOL) {
              return failWith(state, new HandlerError({ actor: ctx.address, tag: 'MempoolFull', message: `${MAX_MEMPOOL} transactions queued` }))
            }
            const t = decodeTx(msg.tx)
            const chainId = ledger.params().chainId
            if (t.tx.chainId !== chainId) throw new WrongChain({ expected: chainId, got: t.tx.chainId })
            if (!verify(t.tx.from, t.payload, t.tx.sig)) throw new BadSignature({ tx: toHex(t.hash) })
            const who = toHex(t.tx.from)
            const expected = state.pending.get(who) ?? ledger.nonce(t.tx.from)
            if (t.tx.nonce !== expected) throw new BadNonce({ expected: String(expected), got: String(t.tx.nonce) })
            if (state.mempool.some((m) => bytesEqual(m.hash, t.hash))) throw new BadNonce({ expected: String(expected + 1n), got: String(t.tx.nonce) })
            state.mempool.push(t)
            state.pending.set(who, expected + 1n)
            return continueWith(state, { _tag: 'TxAccepted', hash: toHex(t.hash), nonce: String(t.tx.nonce), mempool: state.mempool.length })
          } catch (e) {
            return failWith(state, toProtocolError(ctx.address, e))
          }
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
        case 'ProduceBlock': {
          const txs = state.mempool
          state.mempool = []
          state.pending.clear()
          const verified = txs.map(() => true) // signatures were checked on SubmitTx
          const produced = ledger.produceBlock(txs, { time: ledger.nextBlockTime(), proposer: state.proposer, verified })
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
