/**
 * `--weights FILE` checked before anything reads it: a missing file, a directory, an unreadable or empty file is a
 * typed `WeightsUnreadable` naming the path, instead of a raw ENOENT/EISDIR from deep inside the loader.
 */
import fs from 'node:fs'
import path from 'node:path'
import { WeightsUnreadable, errno } from './errors.ts'

/** Returns the absolute path of a readable, non-empty regular file; throws WeightsUnreadable otherwise. */
export function checkWeightsFile(file: string): string {
  const abs = path.resolve(file)
  let st: fs.Stats
  try {
    st = fs.statSync(abs)
  } catch (e) {
    throw new WeightsUnreadable({ path: abs, code: errno(e) })
  }
  if (!st.isFile()) throw new WeightsUnreadable({ path: abs, code: st.isDirectory() ? 'EISDIR' : 'NOT_A_FILE' })
  if (st.size === 0) throw new WeightsUnreadable({ path: abs, code: 'EMPTY' })
  try {
    fs.closeSync(fs.openSync(abs, 'r'))
  } catch (e) {
    throw new WeightsUnreadable({ path: abs, code: errno(e) })
  }
  return abs
}
