/**
 * A chain's genesis file: what every node of one network must start from, byte for byte (the genesis block's hash
 * covers its state root, so two nodes with different files cannot agree on anything).
 *
 * ```json
 * { "chainId": "basedai-local", "time": 1767225600000, "blockTimeMs": 1000,
 *   "validators": [{ "publicKey": "<64 hex>", "power": "1000" }],
 *   "accounts": [{ "address": "5F…", "based": "1000000000000", "pepe": "0" }],
 *   "params": { "tempo": 360 } }
 * ```
 * Amounts and powers are decimal strings of smallest units; `params` overrides integer parameters of
 * ledger/params.ts `defaultParams` (only the integer ones listed in {@link PARAM_OVERRIDES}). `parseChainSpec` gives
 * the ledger's genesis config and the validator set, or {@link InvalidChainSpec} naming the field.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Data, Either, ParseResult, Schema } from 'effect'
import { fromHex, toHex } from '../ledger/codec.ts'
import { fromAddress, generateKeyPair, keyPairFromSeed, toAddress, type KeyPair } from '../ledger/keys.ts'
import { defaultParams, type Params } from '../ledger/params.ts'
import type { GenesisConfig } from '../ledger/genesis.ts'
import type { ChainValidator } from '../ledger/ledger.ts'

export class InvalidChainSpec extends Data.TaggedError('InvalidChainSpec')<{ readonly field: string; readonly reason: string }> {}

export const PARAM_OVERRIDES = [
  'tempo', 'forecastPeriod', 'forecastBlocksPerStep', 'forecastHorizon', 'forecastCommitLead', 'forecastRevealWindow', 'forecastBlocksPerYear',
  'doubleSignSlashBps',
] as const

const Units = Schema.String.pipe(Schema.pattern(/^[0-9]{1,40}$/))
const Hex32 = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))
const Int = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

export const ChainSpecSchema = Schema.Struct({
  chainId: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64)),
  time: Int,
  blockTimeMs: Schema.Number.pipe(Schema.int(), Schema.greaterThanOrEqualTo(50)),
  validators: Schema.Array(Schema.Struct({ publicKey: Hex32, power: Units })).pipe(Schema.minItems(1)),
  accounts: Schema.Array(Schema.Struct({ address: Schema.String, based: Schema.optional(Units), pepe: Schema.optional(Units) })),
  params: Schema.optional(Schema.partialWith(Schema.Record({ key: Schema.Literal(...PARAM_OVERRIDES), value: Int }), { exact: true })),
})
export type ChainSpec = typeof ChainSpecSchema.Type

export interface Chain {
  readonly spec: ChainSpec
  readonly genesis: GenesisConfig
  readonly validators: readonly ChainValidator[]
}

export function parseChainSpec(raw: unknown): Chain {
  const d = Schema.decodeUnknownEither(ChainSpecSchema, { onExcessProperty: 'error' })(raw)
  if (Either.isLeft(d)) {
    const issue = ParseResult.ArrayFormatter.formatErrorSync(d.left)[0]
    throw new InvalidChainSpec({ field: (issue?.path ?? []).map(String).join('.') || '(file)', reason: issue?.message ?? 'invalid' })
  }
  const spec = d.right
  const accounts = spec.accounts.map((a, i) => {
    let publicKey: Uint8Array
    try {
      publicKey = fromAddress(a.address)
    } catch {
      throw new InvalidChainSpec({ field: `accounts.${i}.address`, reason: 'not an SS58 address' })
    }
    return { publicKey, based: BigInt(a.based ?? '0'), pepe: BigInt(a.pepe ?? '0') }
  })
  const overrides: Partial<Record<keyof Params, number>> = { ...spec.params }
  const genesis: GenesisConfig = {
    params: defaultParams({ ...(overrides as Partial<Params>), chainId: spec.chainId, blockTimeMs: spec.blockTimeMs }),
    time: spec.time,
    accounts,
  }
  const validators = spec.validators.map((v) => ({ publicKey: fromHex(v.publicKey), power: BigInt(v.power) }))
  return { spec, genesis, validators }
}

export function readChainSpec(file: string): Chain {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new InvalidChainSpec({ field: '(file)', reason: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` })
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new InvalidChainSpec({ field: '(file)', reason: `${file} is not JSON` })
  }
  return parseChainSpec(raw)
}

/** A chain spec with the given validators (public keys) and funded accounts; `time` defaults to now. */
export function makeChainSpec(o: {
  chainId: string; blockTimeMs: number; validators: ReadonlyArray<{ publicKey: Uint8Array; power: bigint }>
  accounts?: ReadonlyArray<{ publicKey: Uint8Array; based?: bigint; pepe?: bigint }>; time?: number; params?: ChainSpec['params']
}): ChainSpec {
  return {
    chainId: o.chainId, time: o.time ?? Date.now(), blockTimeMs: o.blockTimeMs,
    validators: o.validators.map((v) => ({ publicKey: toHex(v.publicKey), power: v.power.toString() })),
    accounts: (o.accounts ?? []).map((a) => ({ address: toAddress(a.publicKey), based: (a.based ?? 0n).toString(), pepe: (a.pepe ?? 0n).toString() })),
    ...(o.params ? { params: o.params } : {}),
  }
}

/**
 * A node's validator key: a 32-byte ed25519 seed in `<dataDir>/validator-key` (hex, mode 0600), created on first
 * use. Its public key is what a genesis file names; keep the file secret (and backed up with `bft-sign-state.json`:
 * restoring a key without its sign state is how a validator double-signs).
 */
export function loadOrCreateValidatorKey(dataDir: string): KeyPair {
  const file = path.join(dataDir, 'validator-key')
  if (fs.existsSync(file)) {
    const hex = fs.readFileSync(file, 'utf8').trim()
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new InvalidChainSpec({ field: file, reason: 'validator key file is not 64 hex digits' })
    return keyPairFromSeed(fromHex(hex))
  }
  const key = generateKeyPair()
  fs.mkdirSync(dataDir, { recursive: true })
  fs.writeFileSync(file, `${toHex(key.secretKey)}\n`, { mode: 0o600 })
  return key
}
