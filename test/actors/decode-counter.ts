/**
 * A behaviour that reports, in its status, how many message bodies its thread has validated field by field
 * (protocol/codec.ts `codecCounters`): placed in a worker thread, it shows whether frames are validated again there.
 */
import { answerBasic, basicState, BASIC_TAGS, type BasicState } from '../../actors/basic.ts'
import { codecCounters } from '../../protocol/index.ts'
import { continueWith, type Behaviour } from '../../actors/index.ts'

export default (): Behaviour<BasicState> => ({
  accepts: BASIC_TAGS,
  init: basicState,
  status: () => ({ validated: codecCounters.messageBodiesValidated }),
  handle: (state, msg, ctx) => continueWith(state, answerBasic(state, msg, ctx)),
})
