/**
 * The model this repository ships: trained by model/train/train.ts on public-domain CIA World Factbook prose
 * (model/train/corpus/factbook.txt), weights in model/weights/factbook-gpt.safetensors with its byte-level BPE
 * tokenizer (tokenizer.json) and training report (train-report.json). Loaded from the repository, never downloaded.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadGpt2File } from './checkpoint.ts'
import { loadCorpus } from './corpus.ts'
import type { GptModel } from './forward.ts'
import { ByteBpeTokenizer } from './tokenizer.ts'

export const SHIPPED_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'weights')
export const SHIPPED_WEIGHTS = path.join(SHIPPED_DIR, 'factbook-gpt.safetensors')
/** The larger model (`npm run train`, model/train/train.ts --preset large): same corpus, same tokenizer. */
export const SHIPPED_LARGE_DIR = path.join(SHIPPED_DIR, 'large')
export const SHIPPED_LARGE_WEIGHTS = path.join(SHIPPED_LARGE_DIR, 'factbook-gpt.safetensors')

export interface ShippedModel {
  readonly model: GptModel
  readonly tokenizer: ByteBpeTokenizer
}

/** Load the shipped model and tokenizer (throws the loader's typed errors if the files are damaged). */
export function loadShippedModel(): ShippedModel {
  const model = loadGpt2File(SHIPPED_WEIGHTS)
  const tokenizer = ByteBpeTokenizer.fromJSON(JSON.parse(fs.readFileSync(path.join(SHIPPED_DIR, 'tokenizer.json'), 'utf8')))
  return { model, tokenizer }
}

/** Load the larger shipped model (4 layers, d = 128) and its tokenizer, from model/weights/large/. */
export function loadShippedLarge(): ShippedModel {
  const model = loadGpt2File(SHIPPED_LARGE_WEIGHTS)
  const tokenizer = ByteBpeTokenizer.fromJSON(JSON.parse(fs.readFileSync(path.join(SHIPPED_LARGE_DIR, 'tokenizer.json'), 'utf8')))
  return { model, tokenizer }
}

/** The held-out text of the shipped model's corpus split (every 10th country block), as used for its perplexity. */
export function shippedHeldOutText(): string {
  return loadCorpus().heldOut
}
