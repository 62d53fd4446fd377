/**
 * Amounts. Both $BASED and bridged Pepecoin are integers in a smallest unit of 10^-9 (like subtensor's rao):
 * `1 BASED = 1_000_000_000n`. Nothing in the ledger uses floating point.
 */
export const UNIT = 1_000_000_000n
const DECIMALS = 9

/** `"1.5"` → 1_500_000_000n. Throws RangeError on anything but a non-negative decimal with ≤ 9 fraction digits. */
export function parseAmount(text: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text.trim())
  if (!m) throw new RangeError(`not an amount: ${JSON.stringify(text)}`)
  const whole = BigInt(m[1] as string)
  const frac = (m[2] ?? '').padEnd(DECIMALS, '0')
  return whole * UNIT + BigInt(frac)
}

/** 1_500_000_000n → `"1.5"`; exact (no rounding). */
export function formatAmount(units: bigint): string {
  const neg = units < 0n
  const a = neg ? -units : units
  const whole = a / UNIT
  const frac = (a % UNIT).toString().padStart(DECIMALS, '0').replace(/0+$/, '')
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`
}

/** Whole tokens to units. */
export function tokens(n: number | bigint): bigint {
  return BigInt(n) * UNIT
}
