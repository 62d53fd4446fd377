/**
 * GPU test policy: with CI=true a missing adapter FAILS the GPU suites (never a silent skip); elsewhere they skip with
 * a loud message naming the fix. One runtime per test file, destroyed after the file.
 */
import { GpuRuntime } from '../../kernels/runtime.ts'
import { gpuSkipDecision } from '../../kernels/service.ts'

export interface GpuForTests {
  readonly rt: GpuRuntime | undefined
  /** A skip reason for describe()/test() options, or false when the GPU is there. */
  readonly skip: string | false
}

export async function gpuForTests(): Promise<GpuForTests> {
  try {
    const rt = await GpuRuntime.create({ log: () => undefined })
    return { rt, skip: false }
  } catch (e) {
    const decision = gpuSkipDecision(process.env, e)
    if (decision.fail) throw e
    process.stderr.write(`\n!!! ${decision.message}\n\n`)
    return { rt: undefined, skip: decision.message }
  }
}

/** The runtime, asserted present (inside a describe that is skipped without it). */
export function need(g: GpuForTests): GpuRuntime {
  if (!g.rt) throw new Error('GPU runtime missing inside a GPU suite')
  return g.rt
}
