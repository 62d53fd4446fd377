/**
 * Transactions: types, canonical encoding, signing and hashing.
 *
 * Wire layout (codec.ts primitives, in this order):
 *   version u8 (=1) · chainId str · from fixed32 · nonce big · fee big · kind u8 · body (per kind) · sig fixed64
 * The signing payload is `"basedai-tx-v1" ‖ encoding-without-sig`; the tx hash is sha256 of the payload, so it does
 * not depend on the signature bytes. Decoding is strict: any non-canonical or unknown field is a {@link MalformedTx}.
 */
import { DecodeError, Reader, Writer } from './codec.ts'
import { MalformedTx } from './errors.ts'
import { sha256, sign } from './keys.ts'
import { GOVERNABLE, type GovernableParam } from './params.ts'
import { MAX_SERVE_ADDRS, MAX_SERVE_TEXT } from './serve.ts'

export const TX_VERSION = 1
const DOMAIN = new TextEncoder().encode('basedai-tx-v1')
export const MAX_TEXT = 256

export type Role = 'miner' | 'validator'
/** Owner settings of §2.4.3, by wire id. */
export const BRAIN_SETTINGS = ['name', 'modelId', 'weightsHash', 'rewardTo', 'registrationFee', 'ownerBps', 'minerBps', 'queryPrice'] as const
export type BrainSetting = (typeof BRAIN_SETTINGS)[number]

export type TxBody =
  | { readonly kind: 'transfer'; readonly to: Uint8Array; readonly amount: bigint }
  | { readonly kind: 'transferPepe'; readonly to: Uint8Array; readonly amount: bigint }
  | { readonly kind: 'bridgeMint'; readonly to: Uint8Array; readonly amount: bigint; readonly ref: Uint8Array }
  | { readonly kind: 'acquireBrainBurn'; readonly maxCost: bigint }
  | { readonly kind: 'acquireBrainStake' }
  | { readonly kind: 'deactivateBrain'; readonly brain: number }
  | { readonly kind: 'transferBrain'; readonly brain: number; readonly to: Uint8Array }
  /** `text` carries name / modelId / weightsHash, `key` carries rewardTo, `value` carries fee / bps; unused empty. */
  | {
      readonly kind: 'setBrain'
      readonly brain: number
      readonly setting: BrainSetting
      readonly text: string
      readonly key: Uint8Array
      readonly value: bigint
    }
  | {
      readonly kind: 'register'
      readonly brain: number
      readonly computeKey: Uint8Array
      readonly role: Role
      readonly maxFee: bigint
    }
  /** `target` is empty (stake on the Brain) or a validator's 32-byte compute key. */
  | { readonly kind: 'addStake'; readonly brain: number; readonly target: Uint8Array; readonly amount: bigint }
  | { readonly kind: 'removeStake'; readonly brain: number; readonly target: Uint8Array; readonly amount: bigint }
  | { readonly kind: 'propose'; readonly param: GovernableParam; readonly value: bigint }
  | { readonly kind: 'vote'; readonly proposal: number; readonly brain: number; readonly approve: boolean }
  /**
   * A validator's weights on its Brain's participants, by uid (strictly ascending, ≤ {@link MAX_WEIGHTS} entries,
   * each weight 0..65535). Signed by the personal key that registered the validator's compute key.
   */
  | {
      readonly kind: 'setWeights'
      readonly brain: number
      readonly computeKey: Uint8Array
      readonly uids: readonly number[]
      readonly weights: readonly number[]
    }
  /**
   * A validator's commitment to its forecast for the round of Brain `brain` starting at `originHeight`
   * (ledger/forecast.ts): sha256 of (compute key, forecast, salt) as forecast/scoring.ts's `commitForecast`.
   * Signed by the personal key that registered the validator.
   */
  | {
      readonly kind: 'commitForecast'
      readonly brain: number
      readonly computeKey: Uint8Array
      readonly originHeight: number
      readonly commitment: Uint8Array
    }
  // Spending accounts (§3.5.1, ledger/escrow.ts)
  /** Moves `amount` from the sender's balance into its spending account on `brain` (opens it, or tops it up). */
  | { readonly kind: 'escrowOpen'; readonly brain: number; readonly amount: bigint }
  /**
   * Authorizes one session (its id's SHA-256) to be charged from the sender's spending account on `brain`, for at
   * most `maxUnits` compute units at the Brain's current price, which must be ≤ `maxPrice` (per 1,000 units).
   */
  | { readonly kind: 'escrowAuthorize'; readonly brain: number; readonly sessionHash: Uint8Array; readonly maxUnits: bigint; readonly maxPrice: bigint }
  /** Announces a withdrawal: after `escrowWithdrawDelay` blocks the balance can be withdrawn (settlements go on meanwhile). */
  | { readonly kind: 'escrowClose'; readonly brain: number }
  /** Returns what is left of a closed spending account to the sender's balance, once the delay has passed. */
  | { readonly kind: 'escrowWithdraw'; readonly brain: number }
  /**
   * Pays for answered queries of one session from its payer's spending account: the miner's signed compute receipts
   * (protocol/fhe-messages.ts ComputeReceipt, less the session and key they share). Anyone may submit (the fee is the
   * submitter's); payments go to the miner that signed, the Brain owner and the Brain's validators.
   */
  | {
      readonly kind: 'escrowSettle'
      readonly brain: number
      readonly session: string
      readonly computeKey: Uint8Array
      readonly receipts: readonly SettledReceipt[]
    }
  /** Opens a commitment: τ × Q quantile values (window-major, signed 64-bit) and the salt (16..1024 bytes). */
  | {
      readonly kind: 'revealForecast'
      readonly brain: number
      readonly computeKey: Uint8Array
      readonly originHeight: number
      readonly values: readonly bigint[]
      readonly salt: Uint8Array
    }
  /**
   * Where a registered miner serves (ledger/serve.ts): its libp2p peer id, multiaddrs and actor address, with the
   * binding signed by the miner's compute key and by the peer's own key. Signed by the personal key that registered
   * the miner. A later record (larger `issuedAt`) replaces the earlier one.
   */
  | {
      readonly kind: 'serveMiner'
      readonly brain: number
      readonly computeKey: Uint8Array
      readonly peerId: string
      readonly addrs: readonly string[]
      readonly actor: string
      readonly issuedAt: number
      readonly computeSig: Uint8Array
      readonly peerSig: Uint8Array
    }

/** One compute receipt inside an escrowSettle (its session and compute key are the settlement's). */
export interface SettledReceipt {
  readonly units: number
  /** SHA-256 of the request (32 bytes). */
  readonly request: Uint8Array
  /** The miner's ed25519 signature (64 bytes) over protocol/fhe-messages.ts `receiptSigningBytes`. */
  readonly signature: Uint8Array
}
/** Most receipts in one escrowSettle. */
export const MAX_SETTLE_RECEIPTS = 256

export type TxKind = TxBody['kind']
export const TX_KINDS: readonly TxKind[] = [
  'transfer', 'transferPepe', 'bridgeMint', 'acquireBrainBurn', 'acquireBrainStake', 'deactivateBrain',
  'transferBrain', 'setBrain', 'register', 'addStake', 'removeStake', 'propose', 'vote', 'setWeights',
  'commitForecast', 'revealForecast', 'escrowOpen', 'escrowAuthorize', 'escrowClose', 'escrowWithdraw', 'escrowSettle',
  'serveMiner',
]
/** Most entries in one setWeights (validator + miner slots). */
export const MAX_WEIGHTS = 2048
/** Most values in one revealForecast. */
export const MAX_FORECAST_VALUES = 4096
/** Salt length bounds of a revealForecast (forecast/scoring.ts requires ≥ 16 bytes). */
export const FORECAST_SALT_MIN = 16
export const FORECAST_SALT_MAX = 1024
const I64_MIN = -(1n << 63n)
const I64_MAX = (1n << 63n) - 1n
/** Signed 64-bit ↔ unsigned by zigzag (0, −1, 1, −2, … → 0, 1, 2, 3, …): a bijection, so the encoding stays canonical. */
function zigzag(v: bigint): bigint {
  return v >= 0n ? v << 1n : ((-v) << 1n) - 1n
}
function unzigzag(u: bigint): bigint {
  return (u & 1n) === 0n ? u >> 1n : -((u + 1n) >> 1n)
}

export interface UnsignedTx {
  readonly chainId: string
  readonly from: Uint8Array
  readonly nonce: bigint
  readonly fee: bigint
  readonly body: TxBody
}
export interface SignedTx extends UnsignedTx {
  readonly sig: Uint8Array
}
/** A decoded (or freshly signed) transaction with its derived bytes, computed once. */
export interface PreparedTx {
  readonly tx: SignedTx
  /** Full wire encoding (with signature). */
  readonly bytes: Uint8Array
  /** Signing payload (domain ‖ encoding without signature). */
  readonly payload: Uint8Array
  /** sha256(payload). */
  readonly hash: Uint8Array
}

function writeBody(w: Writer, b: TxBody): void {
  w.u8(TX_KINDS.indexOf(b.kind))
  switch (b.kind) {
    case 'transfer':
    case 'transferPepe':
      w.fixed(b.to, 32).big(b.amount)
      return
    case 'bridgeMint':
      w.fixed(b.to, 32).big(b.amount).fixed(b.ref, 32)
      return
    case 'acquireBrainBurn':
      w.big(b.maxCost)
      return
    case 'acquireBrainStake':
      return
    case 'deactivateBrain':
      w.uint(b.brain)
      return
    case 'transferBrain':
      w.uint(b.brain).fixed(b.to, 32)
      return
    case 'setBrain':
      w.uint(b.brain).u8(BRAIN_SETTINGS.indexOf(b.setting)).str(b.text).bytes(b.key).big(b.value)
      return
    case 'register':
      w.uint(b.brain).fixed(b.computeKey, 32).u8(b.role === 'validator' ? 1 : 0).big(b.maxFee)
      return
    case 'addStake':
    case 'removeStake':
      w.uint(b.brain).bytes(b.target).big(b.amount)
      return
    case 'propose':
      w.u8(GOVERNABLE.indexOf(b.param)).big(b.value)
      return
    case 'vote':
      w.uint(b.proposal).uint(b.brain).bool(b.approve)
      return
    case 'setWeights':
      if (b.uids.length !== b.weights.length) throw new RangeError('uids and weights differ in length')
      w.uint(b.brain).fixed(b.computeKey, 32).uint(b.uids.length)
      b.uids.forEach((u, i) => w.uint(u).uint(b.weights[i] as number))
      return
    case 'commitForecast':
      w.uint(b.brain).fixed(b.computeKey, 32).uint(b.originHeight).fixed(b.commitment, 32)
      return
    case 'revealForecast':
      w.uint(b.brain).fixed(b.computeKey, 32).uint(b.originHeight).bytes(b.salt).uint(b.values.length)
      for (const v of b.values) {
        if (v < I64_MIN || v > I64_MAX) throw new RangeError('forecast value outside signed 64 bits')
        w.big(zigzag(v))
      }
      return
    case 'escrowOpen':
      w.uint(b.brain).big(b.amount)
      return
    case 'escrowAuthorize':
      w.uint(b.brain).fixed(b.sessionHash, 32).big(b.maxUnits).big(b.maxPrice)
      return
    case 'escrowClose':
    case 'escrowWithdraw':
      w.uint(b.brain)
      return
    case 'escrowSettle':
      w.uint(b.brain).str(b.session).fixed(b.computeKey, 32).uint(b.receipts.length)
      for (const r of b.receipts) w.uint(r.units).fixed(r.request, 32).fixed(r.signature, 64)
      return
    case 'serveMiner':
      if (b.addrs.length > MAX_SERVE_ADDRS) throw new RangeError(`more than ${MAX_SERVE_ADDRS} addresses`)
      w.uint(b.brain).fixed(b.computeKey, 32).str(b.peerId).uint(b.addrs.length)
      for (const a of b.addrs) w.str(a)
      w.str(b.actor).uint(b.issuedAt).fixed(b.computeSig, 64).fixed(b.peerSig, 64)
      return
  }
}

function readBody(r: Reader): TxBody {
  const k = r.u8('kind')
  const kind = TX_KINDS[k]
  if (kind === undefined) throw new DecodeError('kind', `unknown kind ${k}`)
  switch (kind) {
    case 'transfer':
    case 'transferPepe':
      return { kind, to: r.fixed(32, 'to'), amount: r.big('amount') }
    case 'bridgeMint':
      return { kind, to: r.fixed(32, 'to'), amount: r.big('amount'), ref: r.fixed(32, 'ref') }
    case 'acquireBrainBurn':
      return { kind, maxCost: r.big('maxCost') }
    case 'acquireBrainStake':
      return { kind }
    case 'deactivateBrain':
      return { kind, brain: r.uint('brain') }
    case 'transferBrain':
      return { kind, brain: r.uint('brain'), to: r.fixed(32, 'to') }
    case 'setBrain': {
      const brain = r.uint('brain')
      const s = r.u8('setting')
      const setting = BRAIN_SETTINGS[s]
      if (setting === undefined) throw new DecodeError('setting', `unknown setting ${s}`)
      return { kind, brain, setting, text: r.str('text', MAX_TEXT), key: r.bytes('key', 32), value: r.big('value') }
    }
    case 'register': {
      const brain = r.uint('brain')
      const computeKey = r.fixed(32, 'computeKey')
      const role = r.u8('role')
      if (role > 1) throw new DecodeError('role', `unknown role ${role}`)
      return { kind, brain, computeKey, role: role === 1 ? 'validator' : 'miner', maxFee: r.big('maxFee') }
    }
    case 'addStake':
    case 'removeStake':
      return { kind, brain: r.uint('brain'), target: r.bytes('target', 32), amount: r.big('amount') }
    case 'propose': {
      const p = r.u8('param')
      const param = GOVERNABLE[p]
      if (param === undefined) throw new DecodeError('param', `unknown parameter ${p}`)
      return { kind, param, value: r.big('value') }
    }
    case 'vote':
      return { kind, proposal: r.uint('proposal'), brain: r.uint('brain'), approve: r.bool('approve') }
    case 'setWeights': {
      const brain = r.uint('brain')
      const computeKey = r.fixed(32, 'computeKey')
      const n = r.uint('weights')
      if (n > MAX_WEIGHTS) throw new DecodeError('weights', `more than ${MAX_WEIGHTS} entries`)
      const uids: number[] = []
      const weights: number[] = []
      for (let i = 0; i < n; i++) {
        uids.push(r.uint('uid'))
        weights.push(r.uint('weight'))
      }
      return { kind, brain, computeKey, uids, weights }
    }
    case 'commitForecast':
      return { kind, brain: r.uint('brain'), computeKey: r.fixed(32, 'computeKey'), originHeight: r.uint('originHeight'), commitment: r.fixed(32, 'commitment') }
    case 'revealForecast': {
      const brain = r.uint('brain')
      const computeKey = r.fixed(32, 'computeKey')
      const originHeight = r.uint('originHeight')
      const salt = r.bytes('salt', FORECAST_SALT_MAX)
      const n = r.uint('values')
      if (n > MAX_FORECAST_VALUES) throw new DecodeError('values', `more than ${MAX_FORECAST_VALUES} values`)
      const values: bigint[] = []
      for (let i = 0; i < n; i++) {
        const v = unzigzag(r.big('value'))
        if (v < I64_MIN || v > I64_MAX) throw new DecodeError('value', 'outside signed 64 bits')
        values.push(v)
      }
      return { kind, brain, computeKey, originHeight, values, salt }
    }
    case 'escrowOpen':
      return { kind, brain: r.uint('brain'), amount: r.big('amount') }
    case 'escrowAuthorize':
      return { kind, brain: r.uint('brain'), sessionHash: r.fixed(32, 'sessionHash'), maxUnits: r.big('maxUnits'), maxPrice: r.big('maxPrice') }
    case 'escrowClose':
    case 'escrowWithdraw':
      return { kind, brain: r.uint('brain') }
    case 'escrowSettle': {
      const brain = r.uint('brain')
      const session = r.str('session', 64)
      const computeKey = r.fixed(32, 'computeKey')
      const n = r.uint('receipts')
      if (n > MAX_SETTLE_RECEIPTS) throw new DecodeError('receipts', `more than ${MAX_SETTLE_RECEIPTS}`)
      const receipts: SettledReceipt[] = []
      for (let i = 0; i < n; i++) receipts.push({ units: r.uint('units'), request: r.fixed(32, 'request'), signature: r.fixed(64, 'signature') })
      return { kind, brain, session, computeKey, receipts }
    }
    case 'serveMiner': {
      const brain = r.uint('brain')
      const computeKey = r.fixed(32, 'computeKey')
      const peerId = r.str('peerId', MAX_SERVE_TEXT)
      const n = r.uint('addrs')
      if (n > MAX_SERVE_ADDRS) throw new DecodeError('addrs', `more than ${MAX_SERVE_ADDRS}`)
      const addrs: string[] = []
      for (let i = 0; i < n; i++) addrs.push(r.str('addr', MAX_SERVE_TEXT))
      const actor = r.str('actor', MAX_SERVE_TEXT)
      return { kind, brain, computeKey, peerId, addrs, actor, issuedAt: r.uint('issuedAt'), computeSig: r.fixed(64, 'computeSig'), peerSig: r.fixed(64, 'peerSig') }
    }
  }
}

function encodeUnsigned(tx: UnsignedTx): Uint8Array {
  const w = new Writer(160)
  w.fixed(DOMAIN, DOMAIN.length)
  w.u8(TX_VERSION).str(tx.chainId).fixed(tx.from, 32).big(tx.nonce).big(tx.fee)
  writeBody(w, tx.body)
  return w.finish()
}

/** Checks field-level rules the codec alone cannot (lengths of optional keys). Throws MalformedTx. */
function checkFields(tx: UnsignedTx): void {
  const b = tx.body
  if ((b.kind === 'addStake' || b.kind === 'removeStake') && b.target.length !== 0 && b.target.length !== 32)
    throw new MalformedTx({ field: 'target', reason: 'must be empty or a 32-byte compute key' })
  if (b.kind === 'setBrain' && b.key.length !== 0 && b.key.length !== 32)
    throw new MalformedTx({ field: 'key', reason: 'must be empty or 32 bytes' })
  if (b.kind === 'setWeights') {
    if (b.uids.length !== b.weights.length || b.uids.length > MAX_WEIGHTS)
      throw new MalformedTx({ field: 'weights', reason: `uids/weights lengths must match and be ≤ ${MAX_WEIGHTS}` })
    for (let i = 0; i < b.uids.length; i++) {
      if (i > 0 && (b.uids[i] as number) <= (b.uids[i - 1] as number))
        throw new MalformedTx({ field: 'uids', reason: 'must be strictly ascending' })
      const wt = b.weights[i] as number
      if (!Number.isInteger(wt) || wt < 0 || wt > 65_535) throw new MalformedTx({ field: 'weights', reason: 'each weight 0..65535' })
    }
  }
  if (b.kind === 'escrowSettle') {
    if (!/^[0-9a-f]{16,64}$/.test(b.session)) throw new MalformedTx({ field: 'session', reason: '16..64 lower-case hex digits' })
    if (b.receipts.length === 0 || b.receipts.length > MAX_SETTLE_RECEIPTS)
      throw new MalformedTx({ field: 'receipts', reason: `1..${MAX_SETTLE_RECEIPTS} receipts` })
    for (const r of b.receipts) if (!Number.isSafeInteger(r.units) || r.units < 0) throw new MalformedTx({ field: 'units', reason: 'a non-negative integer' })
  }
  if (b.kind === 'revealForecast') {
    if (b.salt.length < FORECAST_SALT_MIN || b.salt.length > FORECAST_SALT_MAX)
      throw new MalformedTx({ field: 'salt', reason: `${FORECAST_SALT_MIN}..${FORECAST_SALT_MAX} bytes` })
    if (b.values.length === 0 || b.values.length > MAX_FORECAST_VALUES)
      throw new MalformedTx({ field: 'values', reason: `1..${MAX_FORECAST_VALUES} values` })
    for (const v of b.values)
      if (typeof v !== 'bigint' || v < I64_MIN || v > I64_MAX) throw new MalformedTx({ field: 'values', reason: 'signed 64-bit integers' })
  }
}

/** Signs and encodes. Throws RangeError on values the codec cannot represent (caller bug). */
export function signTx(tx: UnsignedTx, secretKey: Uint8Array): PreparedTx {
  checkFields(tx)
  const payload = encodeUnsigned(tx)
  const sig = sign(secretKey, payload)
  const bytes = new Uint8Array(payload.length - DOMAIN.length + 64)
  bytes.set(payload.subarray(DOMAIN.length))
  bytes.set(sig, payload.length - DOMAIN.length)
  return { tx: { ...tx, sig }, bytes, payload, hash: sha256(payload) }
}

/** Strict decode of wire bytes; {@link MalformedTx} on any deviation from the canonical encoding. */
export function decodeTx(bytes: Uint8Array): PreparedTx {
  try {
    const r = new Reader(bytes)
    const version = r.u8('version')
    if (version !== TX_VERSION) throw new DecodeError('version', `unsupported version ${version}`)
    const chainId = r.str('chainId', 64)
    const from = r.fixed(32, 'from')
    const nonce = r.big('nonce')
    const fee = r.big('fee')
    const body = readBody(r)
    const unsignedLen = r.offset
    const sig = r.fixed(64, 'sig')
    r.end()
    const tx: SignedTx = { chainId, from, nonce, fee, body, sig }
    checkFields(tx)
    const payload = new Uint8Array(DOMAIN.length + unsignedLen)
    payload.set(DOMAIN)
    payload.set(bytes.subarray(0, unsignedLen), DOMAIN.length)
    return { tx, bytes: new Uint8Array(bytes), payload, hash: sha256(payload) }
  } catch (e) {
    if (e instanceof DecodeError) throw new MalformedTx({ field: e.field, reason: e.reason })
    throw e
  }
}

/** Length of the wire encoding of `tx` once signed (the fee rule's byte count). */
export function encodedLength(tx: UnsignedTx): number {
  return encodeUnsigned(tx).length - DOMAIN.length + 64
}

/** Minimum fee for a tx of `length` wire bytes. */
export function minFee(baseFee: bigint, byteFee: bigint, length: number): bigint {
  return baseFee + byteFee * BigInt(length)
}

/**
 * Fills in the smallest fee the rule accepts (fee's own varint length is part of the size, so iterate to a fixpoint).
 */
export function withMinFee(tx: Omit<UnsignedTx, 'fee'>, baseFee: bigint, byteFee: bigint): UnsignedTx {
  let fee = minFee(baseFee, byteFee, encodedLength({ ...tx, fee: 0n }))
  for (;;) {
    const need = minFee(baseFee, byteFee, encodedLength({ ...tx, fee }))
    if (need <= fee) return { ...tx, fee }
    fee = need
  }
}
