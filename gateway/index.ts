/**
 * gateway — the client-facing side of the network: today, encrypted inference sessions (the user's key, the
 * model's non-linear steps and sampling stay here; every dense product runs encrypted on a miner), each product's
 * signed compute receipt checked (`ReceiptRejected` otherwise), and payment on those receipts from a spending account
 * (`authorizeSession`, `settleReceipts`).
 *
 * @example
 * ```ts
 * import { EncryptedSession } from './gateway/index.ts'
 * const { model, tokenizer } = loadShippedModel()
 * const session = new EncryptedSession({ model, modelId: 'factbook-gpt', ask: (m) => minerRef.ask(m) })
 * for await (const piece of session.generateText(tokenizer, 'The economy of', { maxNewTokens: 20 })) process.stdout.write(piece)
 * ```
 */
export { EncryptedSession, isMinerGone, type AskMiner, type EncryptedSessionInit, type MinerRoute, type ProductStats } from './encrypted.ts'
export { inThreadCrypto, workerCrypto, type ClientCrypto, type ClientCryptoApi, type EncryptedProduct } from './client-crypto.ts'
export { authorizeSession, minerBrain, minerBrains, settleReceipts, type LedgerAsk, type Settlement } from './settle.ts'
export { ReceiptRejected, RerouteExhausted, ReplyMismatch } from './errors.ts'
