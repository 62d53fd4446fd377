import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SignState } from '../../bft/index.ts'

test('a validator never signs two different messages for one step, even after a restart', { timeout: 30_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sign-state-'))
  try {
    const file = path.join(dir, 'priv_validator_state.json')
    const s = SignState.open(file)
    s.authorize({ height: 5, round: 0, step: 'prevote', value: 'X' })
    s.authorize({ height: 5, round: 0, step: 'precommit', value: 'X' })
    // "crash": a new process reads the file
    const again = SignState.open(file)
    assert.deepEqual(again.lastSigned(), { height: 5, round: 0, step: 'precommit', value: 'X' })
    again.authorize({ height: 5, round: 0, step: 'precommit', value: 'X' }) // the same message again: allowed
    assert.throws(() => again.authorize({ height: 5, round: 0, step: 'precommit', value: 'Y' }), { _tag: 'DoubleSignRefused' })
    assert.throws(() => again.authorize({ height: 5, round: 0, step: 'precommit', value: null }), { _tag: 'DoubleSignRefused' })
    assert.throws(() => again.authorize({ height: 5, round: 0, step: 'prevote', value: 'X' }), { _tag: 'DoubleSignRefused' })
    assert.throws(() => again.authorize({ height: 4, round: 9, step: 'precommit', value: 'X' }), { _tag: 'DoubleSignRefused' })
    again.authorize({ height: 5, round: 1, step: 'propose', value: 'Z' })
    assert.equal(SignState.open(file).lastSigned()?.round, 1)
    assert.equal(fs.statSync(file).mode & 0o777, 0o600)
    fs.writeFileSync(file, '{"height": "x"}')
    assert.throws(() => SignState.open(file), { _tag: 'CorruptSignState' })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
