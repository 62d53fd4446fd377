import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { createProgress, resolveMode, type ProgressStream } from '../../cli/progress.ts'

function sink(isTTY: boolean): ProgressStream & { out: string[] } {
  const out: string[] = []
  return { out, isTTY, columns: 100, write: (c: string) => { out.push(c); return true } }
}

describe('cli/progress', () => {
  test('auto mode: a bar on a terminal, lines otherwise', () => {
    assert.equal(resolveMode('auto', sink(false)), 'lines')
    const prevTerm = process.env.TERM
    process.env.TERM = 'xterm'
    try {
      assert.equal(resolveMode('auto', sink(true)), 'bar')
    } finally {
      if (prevTerm === undefined) delete process.env.TERM
      else process.env.TERM = prevTerm
    }
    assert.equal(resolveMode('none', sink(true)), 'none')
  })

  test('lines: a first line, throttled updates, always the last', () => {
    const s = sink(false)
    let t = 0
    const p = createProgress({ label: 'keys', total: 10, stream: s, throttleMs: 1000, now: () => t })
    assert.equal(p.mode, 'lines')
    assert.deepEqual(s.out, ['keys … 0/10 (0%)\n'])
    for (let i = 1; i <= 10; i++) {
      t += 300 // 300 ms per unit: a line at most every 1000 ms
      p.update(i, `part ${i}`)
    }
    p.stop()
    p.stop()
    // t = 1200 (i = 4), 2400 (i = 8), then the end (i = 10), once
    assert.deepEqual(s.out, [
      'keys … 0/10 (0%)\n',
      'keys … 4/10 (40%) part 4\n',
      'keys … 8/10 (80%) part 8\n',
      'keys … 10/10 (100%) part 10\n',
    ])
    assert.ok(s.out.every((l) => !l.includes('\u001b')), 'no escape codes in lines mode')
  })

  test('lines: stop prints the last state when it was throttled away; updates after stop are ignored', () => {
    const s = sink(false)
    let t = 0
    const p = createProgress({ label: 'suite', total: 3, stream: s, throttleMs: 1000, now: () => t })
    p.increment('a')
    t += 10
    p.callback(2, 5) // total changes to 5
    p.stop()
    p.update(5)
    assert.deepEqual(s.out, ['suite … 0/3 (0%)\n', 'suite … 2/5 (40%) a\n'])
  })

  test('bar: on a terminal, cli-progress draws in place with escape codes and ends on the total', () => {
    const s = sink(true)
    const p = createProgress({ label: 'weights', total: 4, stream: s, mode: 'bar' })
    assert.equal(p.mode, 'bar')
    for (let i = 1; i <= 4; i++) p.increment(`layer ${i}`)
    p.stop()
    const all = s.out.join('')
    assert.ok(all.includes('\u001b['), 'redraws with cursor control')
    assert.match(all, /weights \|.*\| 4\/4 100%/)
    assert.ok(!all.includes('…'), 'no plain lines on a terminal')
  })

  test('none: writes nothing', () => {
    const s = sink(true)
    const p = createProgress({ label: 'x', total: 5, stream: s, mode: 'none' })
    p.update(1)
    p.increment()
    p.callback(5, 5)
    p.stop()
    assert.deepEqual(s.out, [])
  })

  test('bad counts are clamped, never NaN', () => {
    const s = sink(false)
    const p = createProgress({ label: 'y', total: Number.NaN, stream: s, throttleMs: 0 })
    p.update(-3)
    p.update(7)
    p.stop()
    assert.ok(s.out.every((l) => /^y … \d+\/\d+ \(\d+%\)\n$/.test(l)), s.out.join(''))
  })
})

describe('progress hooks of the encrypted path', () => {
  test('relinearization keys report each key part; the keys are the same with or without the hook', async () => {
    const { createFheContext, createKeyGenerator, presets, seededRandom } = await import('../../fhe/index.ts')
    const ctx = createFheContext(presets.bfv4096Linear)
    const calls: [number, number][] = []
    const withHook = createKeyGenerator(ctx, seededRandom('progress')).createRelinKeys((d, t) => calls.push([d, t]))
    const without = createKeyGenerator(ctx, seededRandom('progress')).createRelinKeys()
    assert.deepEqual(calls, Array.from({ length: ctx.levels }, (_, i) => [i + 1, ctx.levels]))
    assert.deepEqual(withHook.b.map((p) => Array.from(p.data)), without.b.map((p) => Array.from(p.data)))
  })

  test('EncryptedSession: key generation in 2 parts, then each dense matrix once on its first product', { timeout: 60_000 }, async (t) => {
    const { ActorSystem } = await import('../../supervisor/index.ts')
    const { EncryptedSession } = await import('../../gateway/index.ts')
    const { generateAsync, loadShippedModel } = await import('../../model/index.ts')
    const sys = await ActorSystem.start({
      kind: 'supervisor',
      id: 'root',
      children: [{ kind: 'actor', id: 'miner-1', behaviour: { module: new URL('../../actors/miner.ts', import.meta.url).href }, placement: 'worker', mailbox: { capacity: 64 } }],
    })
    t.after(() => sys.shutdown())
    const ref = sys.ref('/root/miner-1')
    const { model, tokenizer } = loadShippedModel()
    const keys: [number, number][] = []
    const weights: string[] = []
    const session = new EncryptedSession({
      model, modelId: 'factbook-gpt', ask: (m) => ref.ask(m, { timeoutMs: 120_000 }),
      onKeyProgress: (d, n) => keys.push([d, n]),
      onWeightProgress: (d, n, site) => weights.push(`${d}/${n} ${site.layer}:${site.name}`),
    })
    assert.deepEqual(keys, [[1, 2], [2, 2]])
    assert.deepEqual(weights, [])
    const out: number[] = []
    for await (const tok of generateAsync(model, tokenizer.encode('The economy of'), { maxNewTokens: 3, temperature: 0, linear: session.linear })) out.push(tok)
    assert.equal(out.length, 3)
    const n = 4 * model.config.nLayer
    assert.ok(session.stats.products >= 2 * n, 'more than one forward pass ran')
    const expected: string[] = []
    for (let layer = 0; layer < model.config.nLayer; layer++) for (const name of ['attn', 'proj', 'fc', 'fcProj']) expected.push(`${layer}:${name}`)
    assert.deepEqual(weights, expected.map((s, i) => `${i + 1}/${n} ${s}`), 'once per matrix, in forward order, only on first use')
  })
})
