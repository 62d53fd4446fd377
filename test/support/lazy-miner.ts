/** A cheating miner for validator tests: it answers EncryptedLinear with another layer's weights (same shapes). */
import minerBehaviour from '../../actors/miner.ts'
import type { Behaviour } from '../../actors/index.ts'

export default (): Behaviour<unknown> => {
  const honest = minerBehaviour() as unknown as Behaviour<unknown>
  return {
    ...honest,
    handle(state, msg, ctx) {
      if (msg._tag === 'EncryptedLinear') return honest.handle(state, { ...msg, layer: msg.layer === 0 ? 1 : 0 }, ctx)
      return honest.handle(state, msg, ctx)
    },
  }
}
