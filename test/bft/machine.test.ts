import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { TendermintMachine, ValidatorSet, type Output, type Value, type Vote } from '../../bft/index.ts'

const block = (id: string): Value => ({ id, data: new Uint8Array() })

function machine(self: string | undefined, set: ValidatorSet, opts: { valid?: (v: Value) => boolean } = {}) {
  return new TendermintMachine({
    self,
    height: 1,
    validators: () => set,
    getValue: (h) => block(`${self}-${h}`),
    valid: (_h, v) => (opts.valid ? opts.valid(v) : true),
  })
}

const votesOf = (outs: readonly Output[]): Vote[] =>
  outs.flatMap((o) => (o.type === 'broadcast' && o.message.type === 'vote' ? [o.message.vote] : []))

describe('validator set', { timeout: 30_000 }, () => {
  test('quorum thresholds are exact: more than 2/3 and more than 1/3 of the power', () => {
    const set = new ValidatorSet([{ id: 'a', power: 3n }, { id: 'b', power: 3n }, { id: 'c', power: 3n }])
    assert.equal(set.isQuorum(6n), false) // exactly 2/3 is not enough
    assert.equal(set.isQuorum(7n), true)
    assert.equal(set.isOneThird(3n), false)
    assert.equal(set.isOneThird(4n), true)
  })

  test('proposers rotate in proportion to stake, the same on every node whatever the input order', () => {
    const a = new ValidatorSet([{ id: 'x', power: 5n }, { id: 'y', power: 3n }, { id: 'z', power: 2n }])
    const b = new ValidatorSet([{ id: 'z', power: 2n }, { id: 'x', power: 5n }, { id: 'y', power: 3n }])
    const count: Record<string, number> = { x: 0, y: 0, z: 0 }
    for (let h = 0; h < 10_000; h++) {
      assert.equal(a.proposer(h, 0), b.proposer(h, 0))
      count[a.proposer(h, 0)]!++
    }
    assert.ok(Math.abs(count.x! - 5000) < 50 && Math.abs(count.y! - 3000) < 50 && Math.abs(count.z! - 2000) < 50, JSON.stringify(count))
    // a new round at the same height asks someone else (unless one validator holds nearly all the stake)
    const eq = new ValidatorSet(['a', 'b', 'c', 'd'].map((id) => ({ id, power: 1n })))
    let moved = 0
    for (let h = 0; h < 100; h++) if (eq.proposer(h, 0) !== eq.proposer(h, 1)) moved++
    assert.ok(moved > 90, `${moved}`)
  })

  test('bad sets are typed errors', () => {
    assert.throws(() => new ValidatorSet([]), { _tag: 'InvalidValidatorSet' })
    assert.throws(() => new ValidatorSet([{ id: 'a', power: 0n }]), { _tag: 'InvalidValidatorSet' })
    assert.throws(() => new ValidatorSet([{ id: 'a', power: 1n }, { id: 'a', power: 2n }]), { _tag: 'InvalidValidatorSet' })
  })
})

describe('Tendermint machine', { timeout: 30_000 }, () => {
  test('a single validator finalizes its own block at once, height after height', () => {
    const set = new ValidatorSet([{ id: 'a', power: 10n }])
    const m = machine('a', set)
    for (let h = 1; h <= 3; h++) {
      const outs = m.step({ type: 'start' })
      const d = outs.find((o) => o.type === 'decide')
      assert.ok(d && d.type === 'decide')
      assert.equal(d.height, h)
      assert.equal(d.value.id, `a-${h}`)
      assert.equal(d.certificate.precommits.length, 1)
    }
  })

  test('four validators, messages delivered by hand: everyone decides the proposer\'s block with a certificate', () => {
    const ids = ['a', 'b', 'c', 'd']
    const set = new ValidatorSet(ids.map((id) => ({ id, power: 1n })))
    const ms = ids.map((id) => machine(id, set))
    const queue: Output[] = ms.flatMap((m) => m.step({ type: 'start' }))
    const decided = new Map<number, string>()
    for (let i = 0; i < queue.length && i < 10_000; i++) {
      const o = queue[i]!
      if (o.type !== 'broadcast') continue
      for (const [k, m] of ms.entries()) {
        const outs = m.step(o.message.type === 'vote' ? { type: 'vote', vote: o.message.vote } : o.message.type === 'proposal' ? { type: 'proposal', proposal: o.message.proposal } : { type: 'commit', value: o.message.value, certificate: o.message.certificate })
        for (const d of outs) if (d.type === 'decide') decided.set(k, d.value.id)
        queue.push(...outs)
      }
    }
    assert.equal(decided.size, 4)
    assert.equal(new Set(decided.values()).size, 1)
    assert.equal([...decided.values()][0], `${set.proposer(1, 0)}-1`)
  })

  test('an invalid proposal gets a nil prevote; a locked validator prevotes nil for a different block', () => {
    const ids = ['a', 'b', 'c', 'd']
    const set = new ValidatorSet(ids.map((id) => ({ id, power: 1n })))
    const proposer = set.proposer(1, 0)
    const me = ids.find((i) => i !== proposer && i !== set.proposer(1, 1))!
    const m = machine(me, set, { valid: (v) => !v.id.startsWith('BAD') })
    m.step({ type: 'start' })
    const outs = m.step({ type: 'proposal', proposal: { height: 1, round: 0, value: block('BAD'), validRound: -1, from: proposer } })
    assert.deepEqual(votesOf(outs).map((v) => [v.type, v.value]), [['prevote', null]])

    // lock on X in round 0 (> 2/3 prevotes for X), then a round-1 proposal of Y without a proof of lock
    const m2 = machine(me, set)
    m2.step({ type: 'start' })
    m2.step({ type: 'proposal', proposal: { height: 1, round: 0, value: block('X'), validRound: -1, from: proposer } })
    const others = ids.filter((i) => i !== me)
    let pre: Output[] = []
    for (const from of others) pre = pre.concat(m2.step({ type: 'vote', vote: { type: 'prevote', height: 1, round: 0, value: 'X', from } }))
    assert.ok(votesOf(pre).some((v) => v.type === 'precommit' && v.value === 'X'))
    assert.equal(m2.lockedRound, 0)
    m2.step({ type: 'timeout', kind: 'precommit', height: 1, round: 0 })
    assert.equal(m2.round, 1)
    const p1 = set.proposer(1, 1)
    const r1 = m2.step({ type: 'proposal', proposal: { height: 1, round: 1, value: block('Y'), validRound: -1, from: p1 } })
    assert.deepEqual(votesOf(r1).map((v) => [v.type, v.value]), [['prevote', null]])
  })

  test('a proposal from a validator that is not the proposer, and votes from strangers, are rejected with reasons', () => {
    const ids = ['a', 'b', 'c', 'd']
    const set = new ValidatorSet(ids.map((id) => ({ id, power: 1n })))
    const proposer = set.proposer(1, 0)
    const impostor = ids.find((i) => i !== proposer)!
    const m = machine(ids.find((i) => i !== proposer && i !== impostor), set)
    m.step({ type: 'start' })
    const o1 = m.step({ type: 'proposal', proposal: { height: 1, round: 0, value: block('X'), validRound: -1, from: impostor } })
    assert.deepEqual(o1.map((o) => o.type === 'rejected' && o.reason), ['NotProposer'])
    const o2 = m.step({ type: 'vote', vote: { type: 'prevote', height: 1, round: 0, value: 'X', from: 'mallory' } })
    assert.deepEqual(o2.map((o) => o.type === 'rejected' && o.reason), ['UnknownValidator'])
  })

  test('two different votes from one validator for one step are evidence', () => {
    const ids = ['a', 'b', 'c', 'd']
    const set = new ValidatorSet(ids.map((id) => ({ id, power: 1n })))
    const m = machine('a', set)
    m.step({ type: 'start' })
    m.step({ type: 'vote', vote: { type: 'prevote', height: 1, round: 0, value: 'X', from: 'b' } })
    assert.deepEqual(m.step({ type: 'vote', vote: { type: 'prevote', height: 1, round: 0, value: 'X', from: 'b' } }), [])
    const outs = m.step({ type: 'vote', vote: { type: 'prevote', height: 1, round: 0, value: 'Y', from: 'b' } })
    const ev = outs.find((o) => o.type === 'evidence')
    assert.ok(ev && ev.type === 'evidence')
    assert.equal(ev.evidence.validator, 'b')
    assert.deepEqual([ev.evidence.first.value, ev.evidence.second.value], ['X', 'Y'])
  })

  test('catch-up: a commit certificate with > 2/3 of the power decides; a short or forged one is rejected', () => {
    const ids = ['a', 'b', 'c', 'd']
    const set = new ValidatorSet(ids.map((id) => ({ id, power: 1n })))
    const pc = (from: string, value = 'X') => ({ type: 'precommit' as const, height: 1, round: 0, value, from })
    const m = machine(undefined, set) // a follower
    m.step({ type: 'start' })
    const short = m.step({ type: 'commit', value: block('X'), certificate: { height: 1, round: 0, value: 'X', precommits: [pc('a'), pc('b')] } })
    assert.deepEqual(short.map((o) => o.type === 'rejected' && o.reason), ['BadCertificate'])
    const dup = m.step({ type: 'commit', value: block('X'), certificate: { height: 1, round: 0, value: 'X', precommits: [pc('a'), pc('a'), pc('b')] } })
    assert.deepEqual(dup.map((o) => o.type === 'rejected' && o.reason), ['BadCertificate'])
    const wrong = m.step({ type: 'commit', value: block('Y'), certificate: { height: 1, round: 0, value: 'X', precommits: [pc('a'), pc('b'), pc('c')] } })
    assert.deepEqual(wrong.map((o) => o.type === 'rejected' && o.reason), ['ValueMismatch'])
    const ok = m.step({ type: 'commit', value: block('X'), certificate: { height: 1, round: 0, value: 'X', precommits: [pc('a'), pc('b'), pc('c')] } })
    assert.deepEqual(ok.map((o) => o.type), ['decide'])
    assert.equal(m.height, 2)
  })

  test('a node that is behind is answered with the certificates it lacks', () => {
    const set = new ValidatorSet([{ id: 'a', power: 1n }])
    const m = machine('a', set)
    m.step({ type: 'start' })
    m.step({ type: 'start' })
    // (its first lagging message goes to its three successors; the second one is answered by anyone)
    assert.deepEqual(m.step({ type: 'vote', vote: { type: 'prevote', height: 1, round: 0, value: null, from: 'a' } }), [])
    const outs = m.step({ type: 'vote', vote: { type: 'prevote', height: 1, round: 1, value: null, from: 'a' } })
    const sent = outs.filter((o) => o.type === 'send')
    assert.equal(sent.length, 2)
    assert.deepEqual(sent.map((o) => o.type === 'send' && o.message.type === 'commit' && o.message.certificate.height), [1, 2])
  })
})
