/**
 * Assertions on typed errors: `assert.rejects(p, rejectedWith(LedgerRejection, 'InsufficientFunds'))` passes only
 * for an instance of that family (so it crossed the boundary as its class) with that literal reason.
 */
export function rejectedWith<E extends { readonly reason: string }>(
  Family: abstract new (...args: never[]) => E,
  reason: E['reason'],
): (e: unknown) => boolean {
  return (e: unknown) => {
    if (!(e instanceof Family)) throw new Error(`expected ${Family.name} ${reason}, got ${describe(e)}`)
    if (e.reason !== reason) throw new Error(`expected ${Family.name} ${reason}, got reason ${e.reason}`)
    return true
  }
}

function describe(e: unknown): string {
  if (typeof e === 'object' && e !== null) return `${(e as { _tag?: string })._tag ?? (e as Error).name}: ${JSON.stringify(e).slice(0, 200)}`
  return String(e)
}
