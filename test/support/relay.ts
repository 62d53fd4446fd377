/**
 * A behaviour that relays each Echo to the actor at `args.target` through `ctx.lookup` and answers with what came
 * back, prefixed with its own id: for the tests of worker-thread actors reaching the rest of their tree.
 */
import { continueWith, failWith, toProtocolError, type Behaviour } from '../../actors/index.ts'

export default (): Behaviour<null> => ({
  accepts: ['Echo'],
  init: () => null,
  async handle(state, msg, ctx) {
    if (msg._tag !== 'Echo') return continueWith(state)
    const target = String(ctx.args.target)
    const ref = ctx.lookup?.(target)
    if (!ref) return failWith(state, toProtocolError(ctx.address, new Error(`no lookup in ${ctx.placement} placement`)))
    try {
      const back = await ref.ask({ _tag: 'Echo', payload: msg.payload }, { timeoutMs: 10_000 })
      const payload = typeof back.payload === 'string' ? `${ctx.address} ← ${back.payload}` : back.payload
      return continueWith(state, { _tag: 'EchoReply', payload })
    } catch (e) {
      return failWith(state, toProtocolError(ctx.address, e))
    }
  },
})
