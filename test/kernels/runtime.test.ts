import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { debugFromEnv, GpuRuntime, STORAGE } from '../../kernels/runtime.ts'
import { gpuForTests, need } from './gpu-support.ts'

const gpu = await gpuForTests()
after(() => gpu.rt?.destroy())

describe('DEBUG_GPU switch', () => {
  test('is read from the environment', () => {
    const saved = process.env.DEBUG_GPU
    try {
      for (const [v, want] of [[undefined, false], ['', false], ['0', false], ['false', false], ['1', true], ['yes', true]] as const) {
        if (v === undefined) delete process.env.DEBUG_GPU
        else process.env.DEBUG_GPU = v
        assert.equal(debugFromEnv(), want, String(v))
      }
    } finally {
      if (saved === undefined) delete process.env.DEBUG_GPU
      else process.env.DEBUG_GPU = saved
    }
  })
})

// Under 1 s on lavapipe on this loaded 2-core machine; the limit is far below the runner's 300 s.
describe('GpuRuntime', { skip: gpu.skip, timeout: 30_000 }, () => {
  test('buffers are reused normally, and never in debug mode', () => {
    const rt = need(gpu)
    const a = rt.storage(1000, 'x')
    rt.release(a)
    const before = rt.pool.stats.reused
    const b = rt.storage(1024, 'x') // same size class (1024)
    assert.equal(rt.pool.stats.reused, before + 1)
    assert.equal(b, a)
    rt.release(b)
  })

  test('debug mode: validation errors surface as GpuError naming the call; later calls still work; no reuse', async () => {
    const rt = await GpuRuntime.create({ debug: true, log: () => undefined })
    try {
      assert.equal(rt.debug, true)
      const src = rt.storage(64, 'src', new Uint32Array(16).fill(7))
      const dst = rt.storage(64, 'dst')
      await assert.rejects(
        rt.run('bad_copy', (enc) => {
          enc.copyBufferToBuffer(src, 0, dst, 0, 3) // size not a multiple of 4: a validation error
          return []
        }),
        (e: unknown) => (e as { _tag?: string; kind?: string; op?: string })._tag === 'GpuError' && (e as { kind: string }).kind === 'validation' && (e as { op: string }).op === 'bad_copy',
      )
      const [ok] = await rt.run('good_copy', (enc) => {
        enc.copyBufferToBuffer(src, 0, dst, 0, 64)
        return [{ buffer: dst, bytes: 64 }]
      })
      assert.deepEqual(Array.from(new Uint32Array(ok as ArrayBuffer)), new Array(16).fill(7))
      rt.release(src, dst)
      const again = rt.pool.acquire(64, STORAGE)
      assert.equal(rt.pool.stats.reused, 0, 'DEBUG_GPU disables reuse')
      rt.release(again)
    } finally {
      rt.destroy()
    }
  })

  test('pipelines are compiled once per key', async () => {
    const rt = need(gpu)
    const code = '@group(0) @binding(0) var<storage, read_write> d: array<u32>;\n@compute @workgroup_size(1) fn main() { d[0] = 1u; }'
    const n0 = rt.pipelines.compiled
    const p1 = rt.pipeline({ key: 'test_once', code, entryPoint: 'main' })
    const p2 = rt.pipeline({ key: 'test_once', code, entryPoint: 'main' })
    assert.equal(p1, p2)
    assert.equal(rt.pipelines.compiled, n0 + 1)
    assert.equal(p1.label, 'test_once')
  })
})
