/** A worker-placeable behaviour whose handler takes `args.delayMs` per message (default 2 ms): for backpressure tests. */
import { continueWith, type Behaviour } from '../../actors/index.ts'
import { basicBehaviour, type BasicState } from '../../actors/basic.ts'

export default (): Behaviour<BasicState> => {
  const basic = basicBehaviour()
  return {
    ...basic,
    async handle(state, msg, ctx) {
      const ms = typeof ctx.args.delayMs === 'number' ? ctx.args.delayMs : 2
      await new Promise((r) => setTimeout(r, ms))
      const out = await basic.handle(state, msg, ctx)
      return out._tag === 'Continue' ? continueWith(out.state, out.reply) : out
    },
  }
}
