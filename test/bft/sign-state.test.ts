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
    // the prevote it signed before the precommit, signed again (a vote lost in the crash): the very same message, allowed
    again.authorize({ height: 5, round: 0, step: 'prevote', value: 'X' })
    assert.throws(() => again.authorize({ height: 5, round: 0, step: 'prevote', value: 'Y' }), { _tag: 'DoubleSignRefused' })
    assert.throws(() => again.authorize({ height: 5, round: 0, step: 'prevote', value: null }), { _tag: 'DoubleSignRefused' })
    assert.throws(() => again.authorize({ height: 5, round: 0, step: 'propose', value: 'X' }), { _tag: 'DoubleSignRefused' }, 'never proposed: refused')
    assert.throws(() => again.authorize({ height: 4, round: 9, step: 'precommit', value: 'X' }), { _tag: 'DoubleSignRefused' })
    again.authorize({ height: 5, round: 1, step: 'propose', value: 'Z' })
    assert.equal(SignState.open(file).lastSigned()?.round, 1)
    // the history holds the last height only: at height 6 the messages of height 5 are refused again
    again.authorize({ height: 6, round: 0, step: 'prevote', value: 'W' })
    const six = SignState.open(file)
    assert.throws(() => six.authorize({ height: 5, round: 0, step: 'prevote', value: 'X' }), { _tag: 'DoubleSignRefused' })
    six.authorize({ height: 6, round: 0, step: 'prevote', value: 'W' })
    // an older file (no history) still opens
    fs.writeFileSync(file, JSON.stringify({ height: 7, round: 0, step: 'prevote', value: null }))
    assert.deepEqual(SignState.open(file).lastSigned(), { height: 7, round: 0, step: 'prevote', value: null })
    fs.writeFileSync(file, JSON.stringify({ height: 7, round: 0, step: 'prevote', value: null, history: [{ height: 7, round: 3, step: 'prevote', value: null }] }))
    assert.throws(() => SignState.open(file), { _tag: 'CorruptSignState' }, 'a history beyond the last step is corrupt')
    assert.equal(fs.statSync(file).mode & 0o777, 0o600)
    fs.writeFileSync(file, '{"height": "x"}')
    assert.throws(() => SignState.open(file), { _tag: 'CorruptSignState' })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
