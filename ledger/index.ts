/**
 * `basedai/ledger` — BasedAI's economic state (whitepaper §2.3–2.4, §3.1–3.3, §3.5.2, §3.6) as a deterministic
 * state machine: keys and SS58 addresses, signed transactions with nonces and a fee rule, Brains (burn / stake,
 * 1024 cap, reserved ids), registration with grandfathered fees, staking, emission with halvings, epochs, the
 * 0.5% cap and 70th-percentile validator activity, forecast commit/reveal rounds scored into the validators'
 * incentive (I = R·C + β(t)·Accuracy, ledger/forecast.ts), spending accounts that pay for queries on the miner's
 * signed compute units (§3.5.1, ledger/escrow.ts), GigaBrain governance, blocks with Merkle state roots, and LMDB
 * persistence in K shards with one atomic write transaction per block. See docs/LEDGER.md.
 *
 * @example
 * ```ts
 * import { Ledger, LmdbStore, defaultParams, testKeyPair, signTx, withMinFee, tokens } from 'basedai/ledger'
 * const alice = testKeyPair('alice'), bob = testKeyPair('bob')
 * const params = defaultParams({ chainId: 'dev' })
 * const ledger = Ledger.open({
 *   store: LmdbStore.open({ path: '.data/ledger' }),
 *   genesis: { params, time: Date.now(), accounts: [{ publicKey: alice.publicKey, based: tokens(1000) }] },
 * })
 * const tx = signTx(withMinFee({ chainId: 'dev', from: alice.publicKey, nonce: ledger.nonce(alice.publicKey),
 *   body: { kind: 'transfer', to: bob.publicKey, amount: tokens(5) } }, params.baseFee, params.byteFee), alice.secretKey)
 * const { rejected } = ledger.produceBlock([tx], { time: ledger.nextBlockTime(), proposer: alice.publicKey })
 * ```
 */
export * from './errors.ts'
export { UNIT, parseAmount, formatAmount, tokens } from './units.ts'
export {
  SS58_PREFIX, generateKeyPair, keyPairFromSeed, testKeyPair, sign, verify, sha256, blake2b512, toAddress, fromAddress,
  type KeyPair,
} from './keys.ts'
export { toHex, fromHex, bytesEqual } from './codec.ts'
export { defaultParams, EPOCH_RULES, GOVERNABLE, GOVERNABLE_BOUNDS, type EpochRuleParams, type Params, type GovernableParam } from './params.ts'
export {
  signTx, decodeTx, encodedLength, minFee, withMinFee, TX_KINDS, BRAIN_SETTINGS, MAX_WEIGHTS, MAX_FORECAST_VALUES,
  MAX_SETTLE_RECEIPTS, type TxBody, type TxKind, type UnsignedTx, type SignedTx, type PreparedTx, type Role, type BrainSetting,
  type SettledReceipt,
} from './tx.ts'
export { sessionHash, queryCost, settlementAmount, MAX_OPEN_TABS, OWNER_EARNINGS } from './escrow.ts'
export { MemoryKV, Overlay, type KV, type KVRead } from './kv.ts'
export { K as StateKeys, BRAIN_POOL, type Account, type Brain, type Participant, type Globals, type Proposal, type Escrow, type Tab } from './records.ts'
export { State } from './state.ts'
export { applyTx, executeTx, type BlockContext, type ApplyResult, type ApplyOptions, type TxOutcome } from './apply.ts'
export {
  blockReward, cappedStake, isGigaBrain, equalPerformance, endBlock,
  type EpochHook, type EpochInput, type EpochOutput, type EpochParticipant,
} from './emission.ts'
export { consensusEpochHook, yumaEpochHook } from './consensus-hook.ts'
export { brainCredits, CreditKeys, type CreditEntry } from './credits.ts'
export {
  FORECAST_QUANTILES_PPM, ForecastKeys, forecastEnabled, forecastRound, scoreDelay, forecastRecord, forecastCommitment,
  readCommit, readAccuracySums, realisedSeries, countedBrain, type CommitRecord, type AccuracySums,
} from './forecast.ts'
export { splitProportional, nearestRankPercentile, activeMask } from './math.ts'
export { StateRoot, computeStateRoot, verifyStateProof, BUCKETS, type StateProof } from './merkle.ts'
export { blockHash, encodeBlock, decodeBlock, merkleRoot, type Block, type BlockHeader } from './block.ts'
export { genesisEntries, type GenesisConfig, type GenesisAccount } from './genesis.ts'
export { MemoryStore, LmdbStore, shardOf, type Store, type Head, type LmdbStoreOptions } from './store.ts'
export { Ledger, type LedgerOptions, type Produced, type ProduceOptions, type Rejection, type TxReceipt } from './ledger.ts'
export { devBootstrap, devGenesisAccounts, devKeys, brainIndexOf, DEV_VALIDATOR_STAKE, type DevNetwork } from './dev.ts'
export { auditSupply, type SupplyReport } from './audit.ts'
export {
  checkServe, ed25519KeyOfPeerId, serveSignBytes, signServe, verifyServeRecord, MAX_SERVE_ADDRS, SERVE_MAX_SKEW_MS,
  type ServeBinding, type ServeRecord, type ServeRejection,
} from './serve.ts'
export { SignatureVerifier, verifyTxsAsync } from './verify-pool.ts'
export {
  createWallet, listWallets, unlockWallet, exportWalletSecrets, walletBalance, walletTransfer,
  type WalletInfo, type WalletKeys, type WalletOptions, type Balance, type LedgerReader, type LedgerSigningView,
} from './wallet.ts'
