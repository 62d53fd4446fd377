import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { alignUp, chunkRows, divCeil, grid2d, nttButterflies, planNtt, planNttRegisters } from '../../kernels/dispatch.ts'
import { sizeClass } from '../../kernels/buffers.ts'
import { gpuSkipDecision } from '../../kernels/service.ts'
import { adapterLabel } from '../../kernels/device.ts'

describe('dispatch math (pure)', () => {
  test('divCeil / alignUp', () => {
    assert.equal(divCeil(0, 4), 0)
    assert.equal(divCeil(1, 4), 1)
    assert.equal(divCeil(8, 4), 2)
    assert.equal(divCeil(9, 4), 3)
    assert.equal(alignUp(13, 4), 16)
    assert.throws(() => divCeil(1, 0), { _tag: 'InvalidInput' })
  })

  test('grid2d covers the count within the per-dimension limit', () => {
    assert.deepEqual(grid2d(0), { x: 0, y: 0, launched: 0 })
    assert.deepEqual(grid2d(100), { x: 100, y: 1, launched: 100 })
    const g = grid2d(70000)
    assert.equal(g.x, 65535)
    assert.equal(g.y, 2)
    assert.ok(g.launched >= 70000)
    const s = grid2d(8, 3)
    assert.deepEqual([s.x, s.y, s.launched], [3, 3, 9])
    assert.throws(() => grid2d(10, 3), { _tag: 'InvalidInput', reason: 'too_large' })
    assert.throws(() => grid2d(-1), { _tag: 'InvalidInput' })
  })

  test('chunkRows keeps groups whole and respects the binding limit', () => {
    assert.deepEqual(chunkRows(10, 1024, 4096 * 4), [[0, 4], [4, 4], [8, 2]])
    assert.deepEqual(chunkRows(9, 1024, 4096 * 4, 3), [[0, 3], [3, 3], [6, 3]])
    assert.deepEqual(chunkRows(4, 16, 1 << 20), [[0, 4]])
    assert.throws(() => chunkRows(4, 1024, 4096 * 2, 3), { _tag: 'InvalidInput', reason: 'too_large' })
  })

  test('planNtt: global stages while span ≥ tile, then one local pass (forward); mirrored for inverse', () => {
    assert.deepEqual(planNtt(4096, 4096, 'forward'), [{ kind: 'local', tile: 4096 }])
    assert.deepEqual(planNtt(1024, 4096, 'inverse'), [{ kind: 'local', tile: 1024 }])
    assert.deepEqual(planNtt(16384, 4096, 'forward'), [
      { kind: 'global', m: 1, span: 8192 },
      { kind: 'global', m: 2, span: 4096 },
      { kind: 'local', tile: 4096 },
    ])
    assert.deepEqual(planNtt(16384, 4096, 'inverse'), [
      { kind: 'local', tile: 4096 },
      { kind: 'global', m: 2, span: 4096 },
      { kind: 'global', m: 1, span: 8192 },
    ])
    assert.equal(planNtt(65536, 2048, 'forward').length, 6)
    assert.throws(() => planNtt(1000, 64, 'forward'), { _tag: 'InvalidInput' })
    assert.equal(nttButterflies(4096, 2), 2048 * 12 * 2)
  })

  test('planNttRegisters groups stages four at a time', () => {
    assert.deepEqual(planNttRegisters(4096, 4, 'forward'), [
      { kind: 'regs', span: 256, stages: 4 },
      { kind: 'regs', span: 16, stages: 4 },
      { kind: 'regs', span: 1, stages: 4 },
    ])
    assert.deepEqual(planNttRegisters(8192, 4, 'forward'), [
      { kind: 'regs', span: 512, stages: 4 },
      { kind: 'regs', span: 32, stages: 4 },
      { kind: 'regs', span: 2, stages: 4 },
      { kind: 'regs', span: 1, stages: 1 },
    ])
    assert.deepEqual(planNttRegisters(8192, 4, 'inverse'), [
      { kind: 'regs', span: 1, stages: 4 },
      { kind: 'regs', span: 16, stages: 4 },
      { kind: 'regs', span: 256, stages: 4 },
      { kind: 'regs', span: 4096, stages: 1 },
    ])
    assert.deepEqual(planNttRegisters(2, 4, 'forward'), [{ kind: 'regs', span: 1, stages: 1 }])
    assert.throws(() => planNttRegisters(16, 5, 'forward'), { _tag: 'InvalidInput' })
  })

  test('buffer size classes: 16-byte minimum, powers of two', () => {
    assert.equal(sizeClass(1), 16)
    assert.equal(sizeClass(17), 32)
    assert.equal(sizeClass(4096), 4096)
    assert.equal(sizeClass(4097), 8192)
  })

  test('GPU test policy: CI=true fails, elsewhere skips loudly with the fix', () => {
    const e = new Error('no WebGPU adapter')
    assert.equal(gpuSkipDecision({ CI: 'true' }, e).fail, true)
    const local = gpuSkipDecision({}, e)
    assert.equal(local.fail, false)
    assert.match(local.message, /bookworm-backports/)
  })

  test('adapter label names vendor, architecture and description', () => {
    assert.equal(adapterLabel(null), 'no WebGPU adapter (TypeScript reference path, slow)')
    assert.equal(
      adapterLabel({ vendor: 'mesa', architecture: 'llvm', device: '', description: 'llvmpipe', software: true }),
      'mesa llvm — llvmpipe [software]',
    )
  })
})
