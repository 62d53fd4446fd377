import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BLOCKS_PER_YEAR, beta, betaRational } from 'basedai/consensus'

const Y = BLOCKS_PER_YEAR

describe('β(t) schedule (§3.4.2)', () => {
  test('3,155,760 blocks a year', () => {
    assert.equal(Y, 3_155_760)
  })
  test('0 up to and including two years', () => {
    assert.equal(beta(0), 0)
    assert.equal(beta(Y), 0)
    assert.equal(beta(2 * Y), 0)
  })
  test('linear from 0 just after two years to 0.9 at exactly four years', () => {
    assert.deepEqual(betaRational(2 * Y + 1), { num: 9n, den: 20n * BigInt(Y) })
    assert.ok(beta(2 * Y + 1) > 0 && beta(2 * Y + 1) < 1e-6)
    assert.ok(Math.abs(beta(3 * Y) - 0.45) < 1e-12)
    assert.ok(Math.abs(beta(4 * Y) - 0.9) < 1e-12)
    // monotone in between
    let prev = 0
    for (let t = 2 * Y; t <= 4 * Y; t += 99_991) {
      const b = beta(t)
      assert.ok(b >= prev)
      prev = b
    }
  })
  test('1 after four years', () => {
    assert.equal(beta(4 * Y + 1), 1)
    assert.equal(beta(40 * Y), 1)
  })
  test('a negative or fractional block is a typed error', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      assert.throws(() => beta(bad), (e: unknown) => (e as { _tag?: string; field?: string })._tag === 'InvalidForecastInput' && (e as { field?: string }).field === 'block')
    }
  })
})
