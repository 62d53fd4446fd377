import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SignState } from '../../bft/index.ts'
import { SLOT_BYTES } from '../../bft/sign-state.ts'

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

test('the two-slot file: a write torn by a crash falls back to the state before it; both slots torn is CorruptSignState; an older JSON file is migrated', { timeout: 30_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sign-slots-'))
  try {
    const file = path.join(dir, 'bft-sign-state.json')
    const s = SignState.open(file)
    s.authorize({ height: 1, round: 0, step: 'prevote', value: 'A' }) // creates the file: slot 0
    s.authorize({ height: 1, round: 0, step: 'precommit', value: 'A' }) // slot 1
    s.authorize({ height: 2, round: 0, step: 'prevote', value: 'B' }) // slot 0
    assert.equal(fs.statSync(file).size, 2 * SLOT_BYTES)
    assert.deepEqual(SignState.open(file).lastSigned(), { height: 2, round: 0, step: 'prevote', value: 'B' })
    // a crash in the middle of writing slot 0 (the newest): its bytes torn; the state before it, in slot 1, is read
    const bytes = fs.readFileSync(file)
    bytes[60] = (bytes[60] ?? 0) ^ 0xff
    fs.writeFileSync(file, bytes)
    const back = SignState.open(file)
    assert.deepEqual(back.lastSigned(), { height: 1, round: 0, step: 'precommit', value: 'A' })
    // and the guard still holds from there: another precommit at (1, 0) is refused, the torn slot is rewritten
    assert.throws(() => back.authorize({ height: 1, round: 0, step: 'precommit', value: 'X' }), { _tag: 'DoubleSignRefused' })
    back.authorize({ height: 2, round: 0, step: 'prevote', value: 'B' })
    assert.deepEqual(SignState.open(file).lastSigned(), { height: 2, round: 0, step: 'prevote', value: 'B' })
    // both slots torn: never a silent reset
    const both = fs.readFileSync(file)
    both[60] = (both[60] ?? 0) ^ 0xff
    both[SLOT_BYTES + 60] = (both[SLOT_BYTES + 60] ?? 0) ^ 0xff
    fs.writeFileSync(file, both)
    assert.throws(() => SignState.open(file), { _tag: 'CorruptSignState' })
    // an older single-JSON file opens, and its first write turns it into the two-slot layout
    fs.writeFileSync(file, JSON.stringify({ height: 9, round: 1, step: 'precommit', value: null }))
    const old = SignState.open(file)
    assert.throws(() => old.authorize({ height: 9, round: 1, step: 'prevote', value: 'Q' }), { _tag: 'DoubleSignRefused' })
    old.authorize({ height: 10, round: 0, step: 'prevote', value: 'R' })
    assert.equal(fs.statSync(file).size, 2 * SLOT_BYTES)
    assert.equal(fs.statSync(file).mode & 0o777, 0o600)
    assert.deepEqual(SignState.open(file).lastSigned(), { height: 10, round: 0, step: 'prevote', value: 'R' })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
