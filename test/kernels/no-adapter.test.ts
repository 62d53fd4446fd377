/**
 * Behaviour without an adapter, checked in child processes whose Vulkan loader finds no driver
 * (VK_ICD_FILENAMES points nowhere): the service falls back loudly, GPU suites skip loudly — and fail under CI=true.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

function run(args: string[], env: Record<string, string | undefined>): { status: number | null; out: string } {
  const base: Record<string, string | undefined> = { ...process.env, NODE_TEST_CONTEXT: undefined, VK_ICD_FILENAMES: '/nonexistent-icd.json', ...env }
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k]
  // Each child takes under 10 s here (loaded 2-core machine); one that hangs is killed at 60 s, so the test ends. (A
  // node:test timeout cannot stop a synchronous test: spawnSync's own is the bound.)
  const r = spawnSync(process.execPath, args, { cwd: root, env: base as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` }
}

describe('without a WebGPU adapter', () => {
  test('KernelService falls back to the reference path, flagged slow, and logs the fix', () => {
    const script =
      "import { KernelService } from './kernels/service.ts'; const s = await KernelService.create(); " +
      "const f = await s.nttForward(new Uint32Array(1024).fill(1), 1024, [2147352577]); " +
      "console.log(JSON.stringify({ backend: s.backend, slow: s.slow, label: s.label, ok: f.length === 1024 })); s.destroy()"
    const r = run(['--input-type=module', '-e', script], { CI: undefined })
    assert.equal(r.status, 0, r.out)
    assert.match(r.out, /"backend":"reference","slow":true/)
    assert.match(r.out, /"ok":true/)
    assert.match(r.out, /falling back to the TypeScript reference path \(SLOW\)/)
    assert.match(r.out, /bookworm-backports/)
  })

  test('GPU suites skip loudly outside CI and fail under CI=true', () => {
    const file = 'test/kernels/squeeze.test.ts'
    const local = run(['--test', file], { CI: undefined })
    assert.equal(local.status, 0, local.out)
    assert.match(local.out, /# SKIP GPU TESTS SKIPPED — no WebGPU adapter/)
    assert.match(local.out, /# fail 0/)
    const ci = run(['--test', file], { CI: 'true' })
    assert.notEqual(ci.status, 0, 'CI=true without an adapter must fail')
    assert.match(ci.out, /no WebGPU adapter/)
  })
})
