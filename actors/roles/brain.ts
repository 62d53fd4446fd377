/**
 * The brain actor. This first cut answers the basic requests (roles/basic.ts) and reports its configuration in
 * GetStatus; its real behaviour lands with its issue.
 */
import { basicBehaviour } from './basic.ts'

export default () =>
  basicBehaviour('brain', ({ args }) => {
    const out: Record<string, string | number | boolean> = {}
    for (const [k, v] of Object.entries(args)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v
    return out
  })
