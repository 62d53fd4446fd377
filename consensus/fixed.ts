/**
 * Exact integer arithmetic for the consensus epoch.
 *
 * Every consensus quantity is a non-negative integer; fractions in [0, 1] are fixed point: Q52 for weights and
 * consensus ({@link WEIGHT_BITS}), Q40 for bonds, incentive, dividends and Credits ({@link FRAC_BITS}). Integers are
 * carried in float64 slots only while they are below 2^53, where every IEEE-754 operation on them is exact, or in
 * BigInt beyond that. Where a float64 division appears ({@link mulDivFloor}, {@link divExactFloor}, {@link divFloor})
 * it is only a first guess: the returned integer is the exact floor of the rational, confirmed with an exact
 * remainder or an error-free product (Dekker/Veltkamp) whenever the guess could be off. The result is therefore the
 * value any arbitrary-precision implementation computes, on every engine, machine and thread; no transcendental
 * `Math` function is used anywhere in consensus state.
 */

/** Fractional bits of bonds, incentive, dividends, stake share and Credits (Q40). */
export const FRAC_BITS = 40
/** 1.0 in Q40. */
export const ONE = 1_099_511_627_776 // 2^40
/** Fractional bits of weights, consensus and clipped weights (Q52: the most a float64 integer holds exactly). */
export const WEIGHT_BITS = 52
/** 1.0 in Q52. */
export const WEIGHT_ONE = 4_503_599_627_370_496 // 2^52

// Exact powers of two for every exponent a float64 can hold, built by repeated exact doubling / halving (not `**`,
// whose accuracy ECMAScript leaves to the implementation).
const POW2_MIN = -1074
const POW2_MAX = 1023
const pow2Table = new Float64Array(POW2_MAX - POW2_MIN + 1)
{
  let p = 1
  for (let k = 0; k <= POW2_MAX; k++) {
    pow2Table[k - POW2_MIN] = p
    p *= 2
  }
  p = 1
  for (let k = 0; k >= POW2_MIN; k--) {
    pow2Table[k - POW2_MIN] = p
    p /= 2
  }
}

/** 2^k exactly, for integer k in [−1074, 1023]. */
export function pow2(k: number): number {
  if (!Number.isInteger(k) || k < POW2_MIN || k > POW2_MAX) throw new RangeError(`pow2: exponent ${k} out of range`)
  return pow2Table[k - POW2_MIN] as number
}

const view = new DataView(new ArrayBuffer(8))

/** floor(log2(x)) exactly, for finite x > 0 (read from the IEEE-754 exponent field). */
export function exponentOf(x: number): number {
  view.setFloat64(0, x)
  const biased = (view.getUint16(0) >>> 4) & 0x7ff
  if (biased !== 0) return biased - 1023
  // Subnormal: scale into the normal range exactly.
  return exponentOf(x * pow2(64)) - 64
}

/** A finite float64 as an exact dyadic rational `mant · 2^exp` (mant ≥ 0 an integer). */
export function toDyadic(x: number): { mant: bigint; exp: number } {
  if (x === 0) return { mant: 0n, exp: 0 }
  view.setFloat64(0, x)
  const hi = view.getUint32(0)
  const lo = view.getUint32(4)
  const biased = (hi >>> 20) & 0x7ff
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  let exp: number
  if (biased === 0) {
    exp = -1074
  } else {
    mant |= 1n << 52n
    exp = biased - 1075
  }
  while (mant > 0n && (mant & 1n) === 0n) {
    mant >>= 1n
    exp += 1
  }
  return { mant, exp }
}

/**
 * Exact integers proportional to a vector of non-negative finite float64 values: `ints[i] = values[i] · 2^shift`,
 * with `shift` chosen so that every entry is an integer (the smallest such power of two).
 */
export function dyadicVector(values: ArrayLike<number>): bigint[] {
  const parts: { mant: bigint; exp: number }[] = []
  let emin = Infinity
  for (let i = 0; i < values.length; i++) {
    const d = toDyadic(values[i] as number)
    parts.push(d)
    if (d.mant !== 0n && d.exp < emin) emin = d.exp
  }
  if (emin === Infinity) return parts.map(() => 0n)
  return parts.map((d) => (d.mant === 0n ? 0n : d.mant << BigInt(d.exp - emin)))
}

/** Bit length of a non-negative BigInt (0 for 0). */
export function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length
}

/** ceil(log2(n)) for n ≥ 1. */
export function ceilLog2(n: number): number {
  let k = 0
  let p = 1
  while (p < n) {
    k++
    p *= 2
  }
  return k
}

const SPLITTER = 134217729 // 2^27 + 1, Veltkamp's splitter for float64

/** The exact error of a float64 product: a·b = p + e exactly, where p = fl(a·b) (Dekker's TwoProduct). */
function productError(a: number, b: number, p: number): number {
  let t = SPLITTER * a
  const ah = t - (t - a)
  const al = a - ah
  t = SPLITTER * b
  const bh = t - (t - b)
  const bl = b - bh
  return ah * bh - p + ah * bl + al * bh + al * bl
}

const NEAR_LO = 1 / 64
const NEAR_HI = 1 - 1 / 64

/** The exact decision for {@link mulDivFloor} when the float64 guess y lies within 1/64 of an integer. */
function mulDivFloorNear(a: number, b: number, c: number, p: number, y: number): number {
  const k = Math.round(y)
  if (k === 0) return 0
  const e = productError(a, b, p)
  const p2 = k * c
  const e2 = productError(k, c, p2)
  // All four terms are integers; p − p2 is exact (Sterbenz) and every partial sum is far below 2^53.
  const diff = p - p2 + (e - e2)
  return diff >= 0 ? k : k - 1
}

/**
 * floor(a·b / c), exactly, for non-negative integers a, b, c carried as float64 (c > 0, c < 2^53, a·b < 2^100, and
 * a quotient below 2^42). The float64 quotient y is within 2^-9 of the true one, so its floor is the answer unless
 * y lies within 1/64 of an integer k; then the sign of a·b − k·c is decided exactly from error-free products.
 */
export function mulDivFloor(a: number, b: number, c: number): number {
  const p = a * b
  const y = p / c
  const f = Math.floor(y)
  const d = y - f
  if (d > NEAR_LO && d < NEAR_HI) return f
  if (p === 0) return 0
  return mulDivFloorNear(a, b, c, p, y)
}

/**
 * floor(a / c), exactly, for a non-negative integer a held exactly in a float64 (any magnitude, e.g. q·2^52) and an
 * integer 0 < c < 2^53, with a quotient below 2^53. The correctly rounded quotient y is within half an ulp of the
 * true one, so when y is not an integer its floor is the answer; when it is an integer k, the sign of a − k·c is
 * decided exactly with an error-free product.
 */
export function divExactFloor(a: number, c: number): number {
  const y = a / c
  const f = Math.floor(y)
  if (f !== y || f === 0) return f
  const p2 = f * c
  const e2 = productError(f, c, p2)
  // a − p2 is exact (Sterbenz); it and e2 are integers below 2^53 in magnitude, so their difference is exact.
  return a - p2 - e2 >= 0 ? f : f - 1
}

/** floor(a / c) for non-negative integers below 2^53 (c > 0), exactly. */
export function divFloor(a: number, c: number): number {
  let q = Math.floor(a / c)
  let r = a - q * c
  while (r < 0) {
    q -= 1
    r += c
  }
  while (r >= c) {
    q += 1
    r -= c
  }
  return q
}

/** Q40 fraction num/den (num ≤ den) as a float64-carried integer; 0 when den is 0. */
export function fracQ40(num: bigint, den: bigint): number {
  if (den === 0n) return 0
  return Number((num << BigInt(FRAC_BITS)) / den)
}

/** Q52 fraction num/den (num ≤ den) as a float64-carried integer; 0 when den is 0. */
export function fracQ52(num: bigint, den: bigint): number {
  if (den === 0n) return 0
  return Number((num << BigInt(WEIGHT_BITS)) / den)
}
