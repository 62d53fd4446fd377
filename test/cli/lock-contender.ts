/**
 * Test helper (not a test): one contender of the data-dir lock race in test/cli/datadir-lock.test.ts.
 *   node lock-contender.ts <workDir> <rounds> <contenders>
 * For each round r it waits for `<workDir>/go-<r>`, tries to take the lock of `<workDir>/d-<r>`, writes
 * `<workDir>/res-<r>-<pid>` ("won" or the error's _tag and holder pid), and if it won holds the lock until every
 * contender has answered for that round, then releases it.
 */
import fs from 'node:fs'
import path from 'node:path'
import { acquireDataDirLock } from '../../supervisor/datadir-lock.ts'

const [work = '', roundsArg = '0', contendersArg = '0'] = process.argv.slice(2)
const rounds = Number(roundsArg)
const contenders = Number(contendersArg)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const answered = (r: number): number => fs.readdirSync(work).filter((f) => f.startsWith(`res-${r}-`)).length

for (let r = 0; r < rounds; r++) {
  while (!fs.existsSync(path.join(work, `go-${r}`))) await sleep(2)
  let result: string
  let release: (() => void) | undefined
  try {
    const lock = acquireDataDirLock(path.join(work, `d-${r}`))
    result = 'won'
    release = () => lock.release()
  } catch (e) {
    const t = e as { _tag?: string; pid?: number }
    result = `${t._tag ?? 'untyped'} ${t.pid ?? ''}`
  }
  // Written aside, then renamed: the parent never reads a half-written answer.
  fs.writeFileSync(path.join(work, `tmp-${r}-${process.pid}`), result)
  fs.renameSync(path.join(work, `tmp-${r}-${process.pid}`), path.join(work, `res-${r}-${process.pid}`))
  if (release) {
    while (answered(r) < contenders) await sleep(2)
    release()
  }
}
