import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ActorSystem } from '../../supervisor/index.ts'
import { brainRole, shippedTask } from '../../actors/brain.ts'
import { validatorRole } from '../../actors/validator.ts'
import { ValidatorRejection } from '../../protocol/index.ts'
import { rejectedWith } from '../support/rejection.ts'
import { OTHER_HASH } from './announcing-miners.ts'

const miners = new URL('./announcing-miners.ts', import.meta.url).href
const miner = (id: string, exp: string): { kind: 'actor'; id: string; behaviour: { module: string; export: string }; placement: 'worker' } => ({
  kind: 'actor',
  id,
  behaviour: { module: miners, export: exp },
  placement: 'worker',
})

// The test takes 10–18 s on this loaded 2-core machine; its limit is ~3× that, far below the runner's 300 s, and t.after
// shuts the system down even when the test times out (a finally would wait for the hung ask).
test('a validator catches a miner that runs the wrong weights or announces other weights, and passes an honest one', { timeout: 60_000 }, async (t) => {
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      miner('honest', 'honestMiner'),
      miner('lazy', 'lazyMiner'),
      miner('other', 'otherWeightsMiner'),
      brainRole.create('brain'),
      validatorRole.create('validator', { miners: ['/root/honest', '/root/lazy', '/root/other'], challengeMs: 0, brainActor: '/root/brain' }),
    ],
  })
  t.after(() => sys.shutdown())
  try {
    const v = sys.ref('/root/validator')
    for (let i = 0; i < 3; i++) {
      const ok = await v.ask({ _tag: 'ChallengeMiner', miner: '/root/honest' }, { timeoutMs: 120_000 })
      assert.deepEqual([ok.correct, ok.reason], [true, 'ok'])
      const bad = await v.ask({ _tag: 'ChallengeMiner', miner: '/root/lazy' }, { timeoutMs: 120_000 })
      assert.deepEqual([bad.correct, bad.reason], [false, 'wrong result'])
    }
    // A miner whose answers would be right but which announces other weights than the Brain's scores 0 at once.
    const before = (await sys.ref('/root/other').ask({ _tag: 'GetStatus' })).detail.encryptedProducts
    const other = await v.ask({ _tag: 'ChallengeMiner', miner: '/root/other' }, { timeoutMs: 120_000 })
    assert.deepEqual([other.correct, other.reason], [false, 'WeightsHashMismatch'])
    const after = await sys.ref('/root/other').ask({ _tag: 'GetStatus' })
    assert.equal(after.detail.weightsHash, OTHER_HASH)
    assert.equal(after.detail.encryptedProducts, before, 'it was not sent any work')
    // An actor that is not a miner answers with a typed error: a failed challenge, named.
    const notMiner = await v.ask({ _tag: 'ChallengeMiner', miner: '/root/brain' }, { timeoutMs: 60_000 })
    assert.deepEqual([notMiner.correct, notMiner.reason], [false, 'UnsupportedMessage'])
    await assert.rejects(v.ask({ _tag: 'ChallengeMiner', miner: '/root/nobody' }), rejectedWith(ValidatorRejection, 'UnknownMiner'))
    const scores = Object.fromEntries((await v.ask({ _tag: 'GetScores' })).miners.map((m) => [m.miner, m]))
    assert.equal(scores['/root/honest']?.correct, 3)
    assert.ok(Math.abs((scores['/root/honest']?.score ?? 0) - (1 - 0.8 ** 3)) < 1e-12)
    assert.equal(scores['/root/lazy']?.correct, 0)
    assert.equal(scores['/root/lazy']?.score, 0)
    assert.equal(scores['/root/other']?.score, 0)
    assert.deepEqual([scores['/root/honest']?.weightsHashOk, scores['/root/other']?.weightsHashOk], [true, false])
    // The validator's status shows the Brain's hash (read with GetTask) and the miner that does not hold it.
    const status = (await v.ask({ _tag: 'GetStatus' })).detail
    assert.equal(status.brainWeightsHash, shippedTask().weightsHash)
    assert.equal(status.weightsMismatches, 1)
    assert.equal(status.mismatchedMiners, '/root/other')
  } finally {
    await sys.shutdown()
  }
})

test('a validator whose model is not its Brain\'s refuses to judge (ModelMismatch); an unreachable Brain is BrainUnavailable; bad args name the field', { timeout: 60_000 }, async (t) => {
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      miner('honest', 'honestMiner'),
      // this Brain serves other weights than the shipped model every actor here holds
      brainRole.create('brain', { weightsHash: OTHER_HASH }),
      validatorRole.create('validator', { miners: ['/root/honest'], challengeMs: 0, brainActor: '/root/brain' }),
      validatorRole.create('unbound', { miners: ['/root/honest'], challengeMs: 0, brainActor: '/root/no-brain' }),
    ],
  })
  t.after(() => sys.shutdown())
  const task = await sys.ref('/root/brain').ask({ _tag: 'GetTask' })
  assert.deepEqual([task.modelId, task.weightsHash], [shippedTask().modelId, OTHER_HASH])
  assert.equal((await sys.ref('/root/brain').ask({ _tag: 'GetStatus' })).detail.weightsHash, OTHER_HASH)
  const v = sys.ref('/root/validator')
  await assert.rejects(v.ask({ _tag: 'ChallengeMiner', miner: '/root/honest' }), rejectedWith(ValidatorRejection, 'ModelMismatch'))
  assert.equal((await v.ask({ _tag: 'GetStatus' })).detail.brainWeightsHash, OTHER_HASH)
  await assert.rejects(sys.ref('/root/unbound').ask({ _tag: 'ChallengeMiner', miner: '/root/honest' }), rejectedWith(ValidatorRejection, 'BrainUnavailable'))
  // bad arguments are refused before anything starts, naming the field
  assert.throws(() => validatorRole.create('v', { challengeMs: -1 }), (e: unknown) => (e as { _tag?: string; field?: string })._tag === 'InvalidArgs' && (e as { field: string }).field === 'challengeMs')
  assert.throws(() => brainRole.create('b', { weightsHash: 'not-hex' }), (e: unknown) => (e as { field?: string }).field === 'weightsHash')
})
