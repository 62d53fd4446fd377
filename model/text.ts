/**
 * Text in, text out: `generateText` encodes a prompt, streams tokens from `generate` and yields each new piece of
 * decoded text as soon as it forms complete characters (a token that ends inside a multi-byte UTF-8 character is
 * held back until the character completes). This is what `based generate "prompt"` prints.
 */
import type { GptModel } from './forward.ts'
import { generate, type GenerateOptions } from './sample.ts'
import type { Tokenizer } from './tokenizer.ts'

export function* generateText(model: GptModel, tokenizer: Tokenizer, prompt: string, options: GenerateOptions): Generator<string, void, undefined> {
  const d = new TextStreamDecoder(tokenizer)
  for (const t of generate(model, tokenizer.encode(prompt), options)) {
    const piece = d.push(t)
    if (piece !== '') yield piece
  }
  const rest = d.finish()
  if (rest !== '') yield rest
}

/** Turns generated tokens into text pieces as soon as they form complete characters (sync or async generation). */
export class TextStreamDecoder {
  private readonly tokenizer: Tokenizer
  private readonly out: number[] = []
  private emitted = ''

  constructor(tokenizer: Tokenizer) {
    this.tokenizer = tokenizer
  }

  /** The new text this token completes ('' while it ends inside a multi-byte character). */
  push(token: number): string {
    this.out.push(token)
    const text = this.tokenizer.decode(this.out)
    if (text.endsWith('\uFFFD') || text.length <= this.emitted.length || !text.startsWith(this.emitted)) return ''
    const piece = text.slice(this.emitted.length)
    this.emitted = text
    return piece
  }

  /** Whatever is left at the end (a trailing incomplete character decodes as U+FFFD). */
  finish(): string {
    const final = this.tokenizer.decode(this.out)
    return final.length > this.emitted.length ? final.slice(this.emitted.length) : ''
  }
}
