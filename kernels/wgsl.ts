/**
 * WGSL sources: each kernel's .wgsl file sits beside its host code and is read once (fs, at first use) and
 * memoized; `#include "<relative path>"` lines are expanded from files relative to the including one.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const sources = new Map<string, string>()

function expand(file: string, seen: Set<string>): string {
  if (seen.has(file)) return ''
  seen.add(file)
  const text = fs.readFileSync(file, 'utf8')
  return text.replace(/^#include "([^"]+)"\s*$/gm, (_m, rel: string) => expand(path.resolve(path.dirname(file), rel), seen))
}

/** The WGSL text of `rel` resolved against `base` (pass `import.meta.url`), includes expanded, memoized. */
export function loadWgsl(base: string, rel: string): string {
  const file = path.resolve(path.dirname(fileURLToPath(base)), rel)
  let src = sources.get(file)
  if (src === undefined) {
    src = expand(file, new Set())
    sources.set(file, src)
  }
  return src
}
