/**
 * The dependency direction of the house (docs/ARCHITECTURE.md), checked over the import graph of the source folders:
 *
 *   protocol ← supervisor ← net           (the runtime: it knows no domain)
 *   protocol ← domains (ledger, consensus, fhe, kernels, model, forecast, bft, gateway, numeric)
 *   runtime + domains ← actors ← cli
 *
 * Every static `import … from`, `export … from`, dynamic `import()` and `new URL('…', import.meta.url)` module
 * reference is resolved (relative paths and `basedai/<x>` self-imports) and must point at the same folder or at a
 * folder its layer may use. The one allowed exception is a documented compatibility alias in a public facade.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const DOMAINS = ['ledger', 'consensus', 'fhe', 'kernels', 'model', 'forecast', 'bft', 'gateway', 'numeric']
const RUNTIME = ['supervisor', 'net']
/** What each top-level folder may import besides itself. */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  protocol: ['numeric'],
  numeric: [],
  supervisor: ['protocol'],
  net: ['protocol', 'supervisor'],
  ...Object.fromEntries(DOMAINS.filter((d) => d !== 'numeric').map((d) => [d, ['protocol', 'numeric', ...DOMAINS]])),
  actors: ['protocol', ...RUNTIME, ...DOMAINS],
  cli: ['protocol', ...RUNTIME, ...DOMAINS, 'actors'],
}
/** Public facades that keep an old export working as a documented alias (file → target file). */
const COMPAT_ALIASES: ReadonlyArray<readonly [string, string]> = [
  ['net/index.ts', 'actors/net.ts'], // basedai/net's netBehaviour: the net role now lives in actors/
]

const PKG_EXPORTS: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).exports

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...sourceFiles(rel))
    else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel)
  }
  return out
}

const SPEC = /(?:\bfrom\s+|\bimport\s*\(\s*|\bnew URL\(\s*|^\s*import\s+)(['"])([^'"]+)\1/gm

export function importsOf(file: string): string[] {
  // Comments may show imports in examples; they are not edges.
  const src = fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  const found: string[] = []
  for (const m of src.matchAll(SPEC)) {
    const spec = m[2]!
    let target: string | undefined
    if (spec.startsWith('.')) target = path.normalize(path.join(path.dirname(file), spec))
    else if (spec.startsWith('basedai/')) {
      const mapped = PKG_EXPORTS['./' + spec.slice('basedai/'.length)]
      if (mapped) target = path.normalize(mapped)
    }
    if (target !== undefined) found.push(target)
  }
  return found
}

const top = (p: string): string => p.split(path.sep)[0]!

function violations(): string[] {
  const bad: string[] = []
  for (const folder of Object.keys(ALLOWED)) {
    if (!fs.existsSync(path.join(ROOT, folder))) continue
    for (const file of sourceFiles(folder)) {
      for (const target of importsOf(file)) {
        const to = top(target)
        if (to === folder || ALLOWED[folder]!.includes(to) || !(to in ALLOWED)) continue
        if (COMPAT_ALIASES.some(([f, t]) => f === file && t === target)) continue
        bad.push(`${file} → ${target} (${folder} may not import ${to})`)
      }
    }
  }
  return bad
}

test('imports point one way: protocol ← runtime / domains ← actors ← cli', () => {
  assert.deepEqual(violations(), [])
})

test('the checker sees a wrong-way import (a planted file fails it)', () => {
  const planted = path.join(ROOT, 'ledger', '__planted_wrong_way.ts')
  fs.writeFileSync(planted, "import type { Behaviour } from '../actors/index.ts'\nexport type X = Behaviour<number>\n")
  try {
    assert.deepEqual(violations(), [`ledger/__planted_wrong_way.ts → actors/index.ts (ledger may not import actors)`])
  } finally {
    fs.rmSync(planted)
  }
})

test('the supervisor runtime imports no domain (also through basedai/<x> self-imports)', () => {
  for (const file of sourceFiles('supervisor')) {
    for (const t of importsOf(file)) assert.ok(['supervisor', 'protocol'].includes(top(t)) || !(top(t) in ALLOWED), `${file} → ${t}`)
  }
})
