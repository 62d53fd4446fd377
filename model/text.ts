/**
 * Text in, text out: `generateText` encodes a prompt, streams tokens from `generate` and yields each new piece of
 * decoded text as soon as it forms complete characters (a token that ends inside a multi-byte UTF-8 character is
 * held back until the character completes). This is what `based generate "prompt"` prints.
 */
import type { GptModel } from './forward.ts'
import { generate, type GenerateOptions } from './sample.ts'
import type { Tokenizer } from './tokenizer.ts'

export function* generateText(model: GptModel, tokenizer: Tokenizer, prompt: string, options: GenerateOptions): Generator<string, void, undefined> {
  const out: number[] = []
  let emitted = ''
  for (const t of generate(model, tokenizer.encode(prompt), options)) {
    out.push(t)
    const text = tokenizer.decode(out)
    if (text.endsWith('\uFFFD')) continue
    if (text.length > emitted.length && text.startsWith(emitted)) {
      yield text.slice(emitted.length)
      emitted = text
    }
  }
  const final = tokenizer.decode(out)
  if (final.length > emitted.length) yield final.slice(emitted.length)
}
