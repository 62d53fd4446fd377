/**
 * A canonical text of an epoch's output, exact for every value: numbers by their shortest round-trip form (-0 and
 * NaN kept apart), bigints, typed and plain arrays, and objects by sorted keys. Its SHA-256 is what the refactor test
 * pins (test/consensus/refactor.test.ts).
 */
import { createHash } from 'node:crypto'

export function canonical(x: unknown): string {
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x)
  if (typeof x === 'bigint') return `${x}n`
  if (typeof x === 'string') return JSON.stringify(x)
  if (typeof x === 'boolean' || x === null || x === undefined) return String(x)
  if (ArrayBuffer.isView(x)) return `${x.constructor.name}[${Array.from(x as unknown as ArrayLike<number | bigint>, canonical).join(',')}]`
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`
  if (typeof x === 'object') {
    const o = x as Record<string, unknown>
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`
  }
  throw new Error(`cannot fingerprint a ${typeof x}`)
}

export function fingerprint(x: unknown): string {
  return createHash('sha256').update(canonical(x)).digest('hex').slice(0, 32)
}
