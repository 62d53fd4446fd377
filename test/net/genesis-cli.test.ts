/**
 * `based validator-key`, `based genesis` and `based cluster up --genesis` from the command line: a genesis file names
 * the keys it was given, refuses to overwrite one (every node must keep the same file) or to name nobody, and a data
 * dir created from one genesis refuses to start from another.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const BASED = new URL('../../cli/based.ts', import.meta.url).pathname
const based = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [BASED, ...args], { encoding: 'utf8', timeout: 60_000 })

test('validator-key, genesis and cluster up --genesis: the file names the keys; typed refusals', { timeout: 180_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'genesis-cli-'))
  try {
    const key = based('validator-key', '--data-dir', path.join(dir, 'a'))
    assert.equal(key.status, 0, key.stderr)
    const hex = key.stdout.trim()
    assert.match(hex, /^[0-9a-f]{64}$/)
    assert.equal(based('validator-key', '--data-dir', path.join(dir, 'a')).stdout.trim(), hex, 'the key is kept')
    assert.equal(fs.statSync(path.join(dir, 'a', 'validator-key')).mode & 0o777, 0o600)

    const g1 = path.join(dir, 'g1.json')
    const ok = based('genesis', '--validator', `${hex}:5`, '--chain-id', 'cli-test', '--block-ms', '100', '--out', g1)
    assert.equal(ok.status, 0, ok.stderr)
    const spec = JSON.parse(fs.readFileSync(g1, 'utf8')) as { chainId: string; validators: Array<{ publicKey: string; power: string }> }
    assert.equal(spec.chainId, 'cli-test')
    assert.deepEqual(spec.validators, [{ publicKey: hex, power: '5' }])

    const again = based('genesis', '--validator', hex, '--out', g1)
    assert.notEqual(again.status, 0)
    assert.match(again.stderr, /GenesisRefused/)
    const nobody = based('genesis', '--out', path.join(dir, 'g0.json'))
    assert.notEqual(nobody.status, 0)
    assert.match(nobody.stderr, /GenesisRefused/)

    // a one-validator network node starts from the file…
    const up = based('cluster', 'up', '--genesis', g1, '--data-dir', path.join(dir, 'a'), '--control-port', '0', '--no-net', '--once')
    assert.equal(up.status, 0, up.stderr)
    assert.match(up.stdout, new RegExp(`bft: validator ${hex}`))
    assert.match(up.stdout, /chain cli-test/)
    // …and its data dir refuses another genesis
    const g2 = path.join(dir, 'g2.json')
    assert.equal(based('genesis', '--validator', hex, '--chain-id', 'cli-other', '--out', g2).status, 0)
    const other = based('cluster', 'up', '--genesis', g2, '--data-dir', path.join(dir, 'a'), '--control-port', '0', '--no-net', '--once')
    assert.notEqual(other.status, 0)
    assert.match(`${other.stdout}${other.stderr}`, /CorruptState|different genesis/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
