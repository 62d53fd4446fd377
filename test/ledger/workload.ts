/**
 * Deterministic workload shared by the crash test's child process and its clean replay: a genesis and, for any
 * ledger state, the transactions of the next block (a function of height and state only).
 */
import {
  Ledger, defaultParams, signTx, testKeyPair, tokens, withMinFee, type GenesisConfig, type KeyPair, type PreparedTx,
} from 'basedai/ledger'

export const N_ACCOUNTS = 24
export const keys: KeyPair[] = Array.from({ length: N_ACCOUNTS }, (_, i) => testKeyPair(`crash-${i}`))

export function genesis(): GenesisConfig {
  return {
    params: defaultParams({ chainId: 'crash', tempo: 5, reservedBrains: [0, 1, 2, 3, 4, 5, 6, 47] }),
    time: 1_700_000_000_000,
    accounts: keys.map((k) => ({ publicKey: k.publicKey, based: tokens(100_000), pepe: tokens(50_000) })),
  }
}

/** Transactions for the block after the ledger's head: transfers, Brain purchases, stakes across shards. */
export function nextTxs(ledger: Ledger, perBlock = 40): PreparedTx[] {
  const h = ledger.head().height + 1
  const p = ledger.params()
  const out: PreparedTx[] = []
  const nonces = new Map<number, bigint>()
  const brains = ledger.globals().brains
  for (let i = 0; i < perBlock; i++) {
    const from = (h * 7 + i * 5) % N_ACCOUNTS
    const to = (h * 3 + i * 11 + 1) % N_ACCOUNTS
    const nonce = nonces.get(from) ?? ledger.nonce(keys[from]!.publicKey)
    nonces.set(from, nonce + 1n)
    const sel = (h + i) % 10
    const body =
      sel === 0 && i === 0 && brains.length < 30
        ? ({ kind: 'acquireBrainBurn', maxCost: tokens(100_000) } as const)
        : sel < 3 && brains.length > 0
          ? ({ kind: 'addStake', brain: brains[(h + i) % brains.length]!, target: new Uint8Array(0), amount: tokens(1 + (i % 5)) } as const)
          : ({ kind: 'transfer', to: keys[to]!.publicKey, amount: BigInt(1_000_000 + h * 1000 + i) } as const)
    out.push(signTx(withMinFee({ chainId: p.chainId, from: keys[from]!.publicKey, nonce, body }, p.baseFee, p.byteFee), keys[from]!.secretKey))
  }
  return out
}

export const PROPOSER = testKeyPair('crash-proposer').publicKey
