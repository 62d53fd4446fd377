/**
 * The live observer (actors/control/observer/) in a real browser: Debian's chromium (/usr/bin/chromium) driven by
 * playwright-core, against a running small cluster. The page loads (token once in the URL, then its cookie), lists
 * every actor the /mailboxes endpoint lists, its throughput chart's data and pixels change when a burst of messages
 * is sent, and a `Fault` to the miner shows up as a restart. Skipped only when /usr/bin/chromium is absent.
 * `BASED_OBSERVER_SCREENSHOT=docs/observer.png` keeps the screenshot (otherwise it goes to the temp dir).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Either } from 'effect'
import type { ActorStats } from '../../actors/index.ts'
import { decodeFrame, encodeFrame, PROTOCOL_VERSION, type Message } from '../../protocol/index.ts'
import { until } from '../support/tracker.ts'

const based = new URL('../../cli/based.ts', import.meta.url).pathname
const CHROMIUM = '/usr/bin/chromium'
const BRAIN = '/root/brains/brain-1'
const MINER = '/root/miners/miner-1'

/** What the page exposes as `window.observer` (the subset the test reads). */
interface PageState {
  samples: number
  series: Record<string, Array<{ t: number; depth: number; rate: number }>>
}

/**
 * The browser globals the page functions below use (this project's type-check has no DOM lib). The functions run in
 * the browser: Playwright sends their source, so they reach the globals through `globalThis`, never a closure.
 */
interface PageGlobals {
  readonly observer: PageState
  readonly document: {
    readonly body: { readonly dataset: Record<string, string | undefined> }
    querySelector(selector: string): { readonly textContent: string | null; toDataURL?: () => string } | null
    querySelectorAll(selector: string): ArrayLike<{ readonly textContent: string | null }>
  }
}

test('observer page in chromium: every actor listed, chart moves under a burst, a Fault shows as a restart', { skip: fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install chromium; .ci/install-system.sh installs it)` }, async (t) => {
  const { chromium } = await import('playwright-core')
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-observer-'))
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'based-observer-chromium-'))
  const node = spawn(process.execPath, [based, 'cluster', 'up', '--brains', '1', '--miners', '1', '--validators', '0', '--no-net', '--block-ms', '500', '--control-port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  node.stdout.on('data', (d: Buffer) => (out += d.toString()))
  node.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => node.on('exit', (code) => resolve(code)))
  let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined
  try {
    await until(() => out.includes('control: http://') || node.exitCode !== null, 90_000, 'cluster up')
    assert.ok(out.includes('control: http://'), `${out}\n${err}`)
    const url = (JSON.parse(fs.readFileSync(path.join(dataDir, 'control.json'), 'utf8')) as { url: string }).url
    const token = fs.readFileSync(path.join(dataDir, 'control.cookie'), 'utf8')
    const auth = { authorization: `Bearer ${token}` }
    const send = async (to: string, body: Message, tell = false): Promise<ReturnType<typeof decodeFrame>> => {
      const frame = tell ? encodeFrame({ _tag: 'Tell', v: PROTOCOL_VERSION, to, body }) : encodeFrame({ _tag: 'Ask', v: PROTOCOL_VERSION, to, id: 1, body })
      const res = await fetch(`${url}/ask?to=${encodeURIComponent(to)}`, { method: 'POST', body: frame, headers: auth })
      return decodeFrame(new Uint8Array(await res.arrayBuffer()))
    }

    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 860 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    const page = context.pages()[0] ?? (await context.newPage())
    const pageErrors: string[] = []
    page.on('pageerror', (e) => pageErrors.push(e.message))
    await page.goto(`${url}/observer?token=${token}`)
    assert.equal(new URL(page.url()).search, '', 'the token leaves the address bar (303 to /observer)')
    await page.waitForFunction(() => Number((globalThis as unknown as PageGlobals).document.body.dataset.samples ?? 0) >= 2, undefined, { timeout: 30_000 })
    assert.equal(await page.textContent('#conn'), 'live')

    // Every actor of the cluster, in the table and in the tree.
    const rows = (await (await fetch(`${url}/mailboxes`, { headers: auth })).json()) as ActorStats[]
    const expected = rows.map((r) => r.address).sort()
    assert.ok(expected.includes(BRAIN) && expected.includes(MINER) && expected.includes('/root/ledger/writer'), expected.join(' '))
    const listed = (await page.$$eval('#actors tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-address') ?? ''))).sort()
    assert.deepEqual(listed, expected)
    const inTree = await page.$$eval('#tree li', (lis) => lis.map((li) => li.getAttribute('data-address') ?? ''))
    for (const a of expected) assert.ok(inTree.includes(a), `${a} in the tree`)

    // The chart moves: a burst of Probe tells and Echo asks to the Brain.
    const series = (): Promise<PageState['series']> => page.evaluate(() => (globalThis as unknown as PageGlobals).observer.series)
    const pixels = (canvas: string): Promise<string> => page.evaluate((sel) => (globalThis as unknown as PageGlobals).document.querySelector(sel)?.toDataURL?.() ?? '', canvas)
    const before = (await series())[BRAIN] ?? []
    assert.ok(before.every((p) => p.rate < 50), `quiet before the burst: ${JSON.stringify(before.slice(-3))}`)
    const pixelsBefore = await pixels('#rate-chart')
    const processedBefore = rows.find((r) => r.address === BRAIN)?.processed ?? 0
    const started = Date.now()
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({ length: 150 }, (_, i) => send(BRAIN, { _tag: 'Probe', sender: 'observer-test', seq: round * 150 + i }, true)))
      await Promise.all(Array.from({ length: 50 }, (_, i) => send(BRAIN, { _tag: 'Echo', payload: `burst ${round}/${i}` })))
    }
    const burstMs = Date.now() - started
    await page.waitForFunction(
      (brain) => (globalThis as unknown as PageGlobals).observer.series[brain]?.some((p) => p.rate >= 20) ?? false,
      BRAIN,
      { timeout: 15_000 },
    )
    const after = (await series())[BRAIN] ?? []
    const peak = Math.max(...after.map((p) => p.rate))
    const peakDepth = Math.max(...after.map((p) => p.depth))
    const pixelsAfter = await pixels('#rate-chart')
    assert.ok(pixelsBefore.startsWith('data:image/png'))
    assert.notEqual(pixelsAfter, pixelsBefore, 'the throughput chart was redrawn with the burst')
    // Every message of the burst is counted in the table (within a few samples).
    const cell = `#actors tr[data-address="${BRAIN}"] td.processed`
    await page
      .waitForFunction(([sel, want]) => Number((globalThis as unknown as PageGlobals).document.querySelector(sel)?.textContent ?? 0) >= want, [cell, processedBefore + 800] as const, { timeout: 10_000 })
      .catch(async () => assert.fail(`processed ${processedBefore} → ${await page.textContent(cell)}`))
    const legend = await page.textContent('#legend')
    assert.ok(legend?.includes(BRAIN), `legend: ${legend}`)

    // A Fault to the miner: its worker thread exits and its supervisor restarts it. Main-thread actors drain each
    // message before the control endpoint reads the next request, so their mailboxes stay near 0; the Probe tells sent
    // while the miner restarts queue up: the depth chart moves, then the restart shows.
    const depthPixelsBefore = await pixels('#depth-chart')
    // The backlog lasts as long as the restart; a sample (every 500 ms) can miss a very quick one: up to 3 faults
    // (the miners' supervisor allows 5 restarts in 5 s).
    let faults = 0
    for (; faults < 3; faults++) {
      const fault = await send(MINER, { _tag: 'Fault', mode: 'exit' }, true)
      assert.ok(Either.isRight(fault) && fault.right._tag === 'Reply', 'the fault is delivered')
      await Promise.all(Array.from({ length: 600 }, (_, i) => send(MINER, { _tag: 'Probe', sender: 'observer-test', seq: faults * 600 + i }, true)))
      const seen = await page
        .waitForFunction((miner) => (globalThis as unknown as PageGlobals).observer.series[miner]?.some((p) => p.depth > 0) ?? false, MINER, { timeout: 5_000 })
        .then(() => true, () => false)
      if (seen) break
      await page.waitForFunction((miner) => (globalThis as unknown as PageGlobals).observer.series[miner]?.at(-1)?.depth === 0, MINER, { timeout: 10_000 })
    }
    assert.ok(faults < 3, 'the depth chart saw the miner backlog during one of 3 restarts')
    const minerDepth = Math.max(...((await series())[MINER] ?? []).map((p) => p.depth))
    assert.notEqual(await pixels('#depth-chart'), depthPixelsBefore, 'the depth chart was redrawn with the backlog')
    await page.waitForSelector(`#actors tr[data-address="${MINER}"].restarted`, { timeout: 30_000 })
    assert.ok(Number(await page.textContent(`#actors tr[data-address="${MINER}"] td.restarts`)) >= 1)
    await page.waitForFunction((want) => Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll('#events li')).some((li) => li.textContent?.includes(want)), `restarted ${MINER}`, { timeout: 10_000 })
    assert.match((await page.textContent(`#actors tr[data-address="${MINER}"] td.decision`)) ?? '', /restarted by \/root\/miners/)

    // Chain head from the ledger; peers say why they are absent (--no-net); the metagraph section is filled.
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelector('#chain dt') !== null, undefined, { timeout: 10_000 })
    assert.match((await page.textContent('#chain')) ?? '', /height\d+/)
    assert.match((await page.textContent('#peers')) ?? '', /no net actor/)
    const metagraphs = (await page.textContent('#metagraphs')) ?? ''
    assert.ok(metagraphs.length > 0 && !metagraphs.includes('not asked yet'), metagraphs)
    assert.deepEqual(pageErrors, [])

    const shot = process.env.BASED_OBSERVER_SCREENSHOT ?? path.join(dataDir, 'observer.png')
    await page.screenshot({ path: shot, fullPage: false })
    assert.ok(fs.statSync(shot).size > 10_000)
    t.diagnostic(`burst of 800 messages in ${burstMs} ms; page saw peak ${peak.toFixed(0)} msg/s, brain peak depth ${peakDepth}; miner backlog during its restart ${minerDepth} (fault ${faults + 1}); screenshot ${shot}`)
  } finally {
    await context?.close()
    node.kill('SIGINT')
    await exited
    fs.rmSync(dataDir, { recursive: true, force: true })
    fs.rmSync(profile, { recursive: true, force: true })
  }
})

test('inspect mailboxes --watch: full-screen view redrawn in place, screen restored on stop, unreachable node retried', async () => {
  const { TERM, renderWatchFrame, watchMailboxes } = await import('../../cli/inspect.ts')
  const { ControlUnreachable, NoRunningNode } = await import('../../cli/errors.ts')
  const row: ActorStats = {
    address: '/root/miners/miner-1', role: 'miner', placement: 'worker', state: 'running', mailboxDepth: 3, mailboxCapacity: 1024, processed: 7,
    errors: 1, restarts: 1, lastExit: 'error: injected fault: throw', decision: 'restarted', decidedBy: '/root/miners', dropped: 0, recent: [{ tag: 'Fault', at: Date.now() }],
  }
  const frame = renderWatchFrame('A'.repeat(100) + '\nshort', 'status', 40, 10)
  assert.ok(frame.startsWith(TERM.home) && frame.endsWith(TERM.clearBelow))
  for (const line of frame.slice(TERM.home.length, -TERM.clearBelow.length).split('\n')) {
    assert.ok(line.endsWith(TERM.clearLine), 'every line clears what the previous frame left')
    assert.ok(line.length - TERM.clearLine.length <= 40, `cut to the width: ${line.length}`)
  }
  assert.match(renderWatchFrame(Array.from({ length: 30 }, (_, i) => `row ${i}`).join('\n'), 's', 40, 10), /more rows/)

  const written: string[] = []
  const out = { isTTY: true, columns: 160, rows: 30, write: (s: string) => written.push(s) > 0 } as unknown as NodeJS.WriteStream
  const stop = new AbortController()
  let calls = 0
  await watchMailboxes({
    url: 'http://127.0.0.1:1', everyMs: 5, out, signal: stop.signal,
    fetchRows: async () => {
      calls += 1
      if (calls === 2) throw new ControlUnreachable({ url: 'http://127.0.0.1:1/mailboxes', reason: 'ECONNREFUSED' })
      if (calls === 4) stop.abort()
      return [row]
    },
  })
  assert.equal(written[0], TERM.enterAlt + TERM.hideCursor)
  assert.equal(written.at(-1), TERM.showCursor + TERM.leaveAlt)
  const frames = written.slice(1, -1)
  assert.ok(frames.length >= 3 && frames.every((f) => f.startsWith(TERM.home)), 'each frame redraws from the cursor home')
  assert.match(frames[0] ?? '', /restarted by \/root\/miners/, 'the decision column')
  assert.match(frames[1] ?? '', /UNREACHABLE \(ECONNREFUSED\), retrying/)

  // Any other failure restores the screen and is thrown.
  written.length = 0
  await assert.rejects(
    watchMailboxes({ url: 'u', everyMs: 5, out, fetchRows: () => Promise.reject(new NoRunningNode({ dataDir: '/d', reason: 'no-control-file', hint: 'h' })) }),
    (e: unknown) => e instanceof NoRunningNode,
  )
  assert.equal(written.at(-1), TERM.showCursor + TERM.leaveAlt)
})
