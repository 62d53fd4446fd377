/**
 * Miners for the validator's weights-hash check: each is the real miner (actors/miner.ts) whose runtime status
 * announces a weights hash.
 *
 * - honestMiner: announces the hash of the weights it holds (its own state's), computes honestly.
 * - otherWeightsMiner: computes honestly with the shipped weights but announces other weights (OTHER_HASH): the
 *   validator must score it 0 without trusting its answers.
 * - lazyMiner: announces its true hash but answers with another layer's weights (test/support/lazy-miner.ts).
 *
 * The status is the miner's own `status(state)` when it defines one, plus `weightsHash` from its state.
 */
import minerBehaviour from '../../actors/miner.ts'
import lazy from '../support/lazy-miner.ts'
import type { Behaviour, StatusDetail } from '../../actors/index.ts'

export const OTHER_HASH = 'ab'.repeat(32)

function announcing(inner: Behaviour<unknown>, hash: (state: unknown) => string): Behaviour<unknown> {
  return {
    ...inner,
    status: (state, ctx): StatusDetail => ({ ...(inner.status?.(state, ctx) ?? {}), weightsHash: hash(state) }),
  }
}

const held = (state: unknown): string => (state as { weightsHash: string }).weightsHash

export const honestMiner = (): Behaviour<unknown> => announcing(minerBehaviour() as unknown as Behaviour<unknown>, held)
export const otherWeightsMiner = (): Behaviour<unknown> => announcing(minerBehaviour() as unknown as Behaviour<unknown>, () => OTHER_HASH)
export const lazyMiner = (): Behaviour<unknown> => announcing(lazy(), held)
