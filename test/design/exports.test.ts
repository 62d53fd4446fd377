/**
 * The package exports (`basedai/supervisor`, `protocol`, `actors`, `ledger`, `consensus`, `kernels`, `fhe`, `model`,
 * `net`, `bft`, `forecast`) are a public API: every name they exported before the issue-10 refactor (commit a71267d,
 * recorded in public-exports.json) is still exported — as the same thing or as a documented alias.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'

const before = JSON.parse(fs.readFileSync(new URL('./public-exports.json', import.meta.url), 'utf8')) as Record<string, string[]>

for (const [entry, names] of Object.entries(before)) {
  test(`basedai/${entry} still exports its ${names.length} names`, async () => {
    const mod = (await import(`basedai/${entry}`)) as Record<string, unknown>
    const missing = names.filter((n) => !(n in mod))
    assert.deepEqual(missing, [], `basedai/${entry} lost exports`)
    for (const n of names) assert.notEqual(mod[n], undefined, `basedai/${entry}.${n} is undefined`)
  })
}
