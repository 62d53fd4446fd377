/**
 * The dev network's bootstrap: deterministic, PUBLIC test keys (never use them for value) for a Brain owner, each
 * miner and each validator of the embedded cluster, funded at genesis, and one setup block that acquires the
 * Brains by burn and registers the miners and validators on them (validators with stake, so they hold permits).
 * With it, validators' weights reach the Yuma epoch and emission reaches miners by score, end to end, on one
 * machine. Key names: `dev-brain-owner`; `dev-miner-<i>` (personal) and `dev-miner-<i>-compute`; likewise
 * `dev-validator-<i>`. Miner i and validator i serve the i-th Brain acquired modulo the Brain count, as the cluster
 * wires them.
 */
import { testKeyPair, type KeyPair } from './keys.ts'
import type { GenesisAccount } from './genesis.ts'
import type { Ledger } from './ledger.ts'
import { signTx, withMinFee, type PreparedTx, type TxBody } from './tx.ts'
import { tokens } from './units.ts'

export interface DevNetwork {
  readonly brains: number
  readonly miners: number
  readonly validators: number
}

export const devKeys = {
  owner: (): KeyPair => testKeyPair('dev-brain-owner'),
  miner: (i: number): KeyPair => testKeyPair(`dev-miner-${i}`),
  minerCompute: (i: number): KeyPair => testKeyPair(`dev-miner-${i}-compute`),
  validator: (i: number): KeyPair => testKeyPair(`dev-validator-${i}`),
  validatorCompute: (i: number): KeyPair => testKeyPair(`dev-validator-${i}-compute`),
}

/** Stake each dev validator puts on itself. */
export const DEV_VALIDATOR_STAKE = tokens(1000)

export function devGenesisAccounts(dev: DevNetwork): GenesisAccount[] {
  const out: GenesisAccount[] = [{ publicKey: devKeys.owner().publicKey, based: tokens(1000), pepe: tokens(1000 * (dev.brains + 10)) }]
  for (let i = 1; i <= dev.miners; i++) out.push({ publicKey: devKeys.miner(i).publicKey, based: tokens(200) })
  for (let i = 1; i <= dev.validators; i++) out.push({ publicKey: devKeys.validator(i).publicKey, based: tokens(2000) })
  return out
}

/** 1-based cluster index of the Brain that miner/validator i serves. */
export const brainIndexOf = (i: number, brains: number): number => ((i - 1) % Math.max(1, brains)) + 1

/** Acquires `dev.brains` Brains (one block), then registers and stakes everyone on them (a second block). */
export function devBootstrap(ledger: Ledger, dev: DevNetwork): number[] {
  const p = ledger.params()
  const sign = (key: KeyPair, nonce: bigint, body: TxBody): PreparedTx =>
    signTx(withMinFee({ chainId: p.chainId, from: key.publicKey, nonce, body }, p.baseFee, p.byteFee), key.secretKey)
  const owner = devKeys.owner()
  const first: PreparedTx[] = []
  for (let b = 0; b < dev.brains; b++) first.push(sign(owner, BigInt(b), { kind: 'acquireBrainBurn', maxCost: tokens(1_000_000) }))
  const proposer = owner.publicKey
  const r1 = ledger.produceBlock(first, { time: ledger.nextBlockTime(), proposer })
  const bad1 = [...r1.rejected, ...r1.failed]
  if (bad1.length > 0) throw new Error(`dev bootstrap: Brain acquisition rejected: ${String(bad1[0]?.error._tag)}`)
  const ids = [...ledger.globals().brains]
  const second: PreparedTx[] = []
  for (let i = 1; i <= dev.miners; i++) {
    const brain = ids[brainIndexOf(i, dev.brains) - 1] as number
    second.push(sign(devKeys.miner(i), 0n, { kind: 'register', brain, computeKey: devKeys.minerCompute(i).publicKey, role: 'miner', maxFee: tokens(1000) }))
  }
  for (let i = 1; i <= dev.validators; i++) {
    const brain = ids[brainIndexOf(i, dev.brains) - 1] as number
    const ck = devKeys.validatorCompute(i).publicKey
    second.push(sign(devKeys.validator(i), 0n, { kind: 'register', brain, computeKey: ck, role: 'validator', maxFee: tokens(1000) }))
    second.push(sign(devKeys.validator(i), 1n, { kind: 'addStake', brain, target: ck, amount: DEV_VALIDATOR_STAKE }))
  }
  const r2 = ledger.produceBlock(second, { time: ledger.nextBlockTime(), proposer })
  const bad2 = [...r2.rejected, ...r2.failed]
  if (bad2.length > 0) throw new Error(`dev bootstrap: registration rejected: ${String(bad2[0]?.error._tag)}`)
  return ids
}
