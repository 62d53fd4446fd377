/**
 * The control endpoint's auth token (issue 11): `<data-dir>/control.cookie`, 64 hex characters, mode 0600, written
 * at start and removed at a clean stop; every request needs it (Bearer header, or the observer's cookie set by
 * `/observer?token=`); the CLI reads it from the data dir; another local user (here: uid 65534, when the test runs as
 * root) cannot read it and cannot drive the node.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { until } from '../support/tracker.ts'

const based = new URL('../../cli/based.ts', import.meta.url).pathname

interface Run {
  code: number | null
  out: string
  err: string
}

function run(args: string[], opts: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [based, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('exit', (code) => resolve({ code, out, err }))
  })
}

test('control endpoint: token in a 0600 cookie file; no token / wrong token → 401, right → 200; CLI reads it; other users cannot', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-auth-'))
  const child = spawn(process.execPath, [based, 'cluster', 'up', '--brains', '1', '--miners', '1', '--validators', '0', '--no-net', '--block-ms', '500', '--control-port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const cookieFile = path.join(dataDir, 'control.cookie')
  try {
    await until(() => out.includes('control: http://') || child.exitCode !== null, 90_000, 'cluster up')
    assert.ok(out.includes('control: http://'), `${out}\n${err}`)
    const url = (JSON.parse(fs.readFileSync(path.join(dataDir, 'control.json'), 'utf8')) as { url: string }).url
    const st = fs.statSync(cookieFile)
    assert.equal(st.mode & 0o777, 0o600, `mode ${(st.mode & 0o777).toString(8)}`)
    const token = fs.readFileSync(cookieFile, 'utf8')
    assert.match(token, /^[0-9a-f]{64}$/)
    assert.deepEqual(fs.readdirSync(dataDir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left')

    const none = await fetch(`${url}/mailboxes`)
    assert.equal(none.status, 401)
    const noneBody = (await none.json()) as { error: string; reason: string }
    assert.deepEqual([noneBody.error, noneBody.reason], ['Unauthorized', 'missing-token'])
    const wrongToken = token.replace(/^./, (c) => (c === '0' ? '1' : '0'))
    const wrong = await fetch(`${url}/mailboxes`, { headers: { authorization: `Bearer ${wrongToken}` } })
    assert.equal(wrong.status, 401)
    assert.equal(((await wrong.json()) as { reason: string }).reason, 'wrong-token')
    const short = await fetch(`${url}/tree`, { headers: { authorization: 'Bearer abc' } })
    assert.equal(short.status, 401)
    const right = await fetch(`${url}/mailboxes`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(right.status, 200)
    assert.ok(((await right.json()) as unknown[]).length > 3)
    // Every route is guarded, asks and child starts included; the query token works only for the page.
    assert.equal((await fetch(`${url}/ask?to=/root/control`, { method: 'POST', body: new Uint8Array([1, 2]) })).status, 401)
    assert.equal((await fetch(`${url}/children`, { method: 'POST', body: '{}' })).status, 401)
    // A large body without the token: the 401 reaches the client (the body is read and dropped), no reset.
    const big = await fetch(`${url}/ask?to=/root/control`, { method: 'POST', body: new Uint8Array(10 * 1024 * 1024) })
    assert.equal(big.status, 401)
    assert.equal(((await big.json()) as { error: string }).error, 'Unauthorized')
    assert.equal((await fetch(`${url}/observer`)).status, 401)
    assert.equal((await fetch(`${url}/events`, { headers: { accept: 'text/event-stream' } })).status, 401)
    assert.equal((await fetch(`${url}/mailboxes?token=${token}`)).status, 401)

    // The browser page: ?token= once → an HttpOnly SameSite=Strict cookie and a redirect to the clean URL.
    assert.equal((await fetch(`${url}/observer?token=${wrongToken}`, { redirect: 'manual' })).status, 401)
    const login = await fetch(`${url}/observer?token=${token}`, { redirect: 'manual' })
    assert.equal(login.status, 303)
    assert.equal(login.headers.get('location'), '/observer')
    const setCookie = login.headers.get('set-cookie') ?? ''
    assert.match(setCookie, /HttpOnly/)
    assert.match(setCookie, /SameSite=Strict/)
    const cookie = setCookie.split(';')[0] ?? ''
    assert.equal((await fetch(`${url}/observer`, { headers: { cookie } })).status, 200)
    assert.equal((await fetch(`${url}/mailboxes`, { headers: { cookie } })).status, 200)
    assert.equal((await fetch(`${url}/mailboxes`, { headers: { cookie: cookie.replace(token, wrongToken) } })).status, 401)

    // The CLI reads the cookie from the data dir.
    const inspect = await run(['inspect', 'mailboxes', '--data-dir', dataDir])
    assert.equal(inspect.code, 0, inspect.err)
    assert.match(inspect.out, /\/root\/ledger\/writer/)
    const ask = await run(['ask', '/root/ledger/writer', '{"_tag":"GetHead"}', '--data-dir', dataDir])
    assert.equal(ask.code, 0, ask.err)
    assert.match(ask.out, /"_tag": "HeadInfo"/)
    // --control without a data dir that holds this node's cookie: refused, as one typed line.
    const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-auth-empty-'))
    const refused = await run(['inspect', 'tree', '--control', url, '--data-dir', emptyDir])
    fs.rmSync(emptyDir, { recursive: true, force: true })
    assert.equal(refused.code, 1)
    assert.match(refused.err, /^based: ControlUnauthorized \{.*"reason":"missing-token"/m)
    const viaEnv = await run(['inspect', 'tree', '--control', url], { env: { ...process.env, BASED_CONTROL_TOKEN: token } })
    assert.equal(viaEnv.code, 0, viaEnv.err)

    // Another local user: can find the node (control.json is not secret) but cannot read the token.
    if (process.getuid?.() === 0) {
      fs.chmodSync(dataDir, 0o755)
      const other = await run(['inspect', 'mailboxes', '--data-dir', dataDir], { uid: 65534, gid: 65534, env: { PATH: process.env.PATH ?? '', HOME: '/tmp' } })
      assert.equal(other.code, 1, other.out)
      assert.match(other.err, /^based: ControlCookieUnreadable \{.*"code":"EACCES"/m)
      const otherExplicit = await run(['inspect', 'mailboxes', '--control', url, '--data-dir', dataDir], { uid: 65534, gid: 65534, env: { PATH: process.env.PATH ?? '', HOME: '/tmp' } })
      assert.equal(otherExplicit.code, 1, otherExplicit.out)
      assert.match(otherExplicit.err, /^based: ControlCookieUnreadable/m)
    } else {
      t.diagnostic('another-user check not run: it needs root (to run a child as uid 65534)')
    }
  } finally {
    child.kill('SIGINT')
    await exited
  }
  assert.ok(!fs.existsSync(cookieFile), 'control.cookie removed on a clean stop')
  assert.ok(!fs.existsSync(path.join(dataDir, 'control.json')), 'control.json removed on a clean stop')
  fs.rmSync(dataDir, { recursive: true, force: true })
})
