/**
 * Tagged errors of `basedai/model`. Every failure on bad input (a config, a weights file, a token id, sampling or
 * squeeze options) is one of these; tests and callers match on `_tag`.
 */
import { Data } from 'effect'

/** A model config field is missing, of the wrong type, or violates a constraint (e.g. nEmbd % nHead ≠ 0). */
export class InvalidConfig extends Data.TaggedError('InvalidConfig')<{
  readonly field: string
  readonly reason: string
}> {}

/** The safetensors container itself is malformed (header length, header JSON, offsets). */
export class SafetensorsFormatError extends Data.TaggedError('SafetensorsFormatError')<{
  readonly reason: string
  readonly tensor?: string
}> {}

/** A tensor the loader needs is absent from the checkpoint. */
export class MissingTensor extends Data.TaggedError('MissingTensor')<{
  readonly tensor: string
}> {}

/** A tensor's data runs past the end of the file (or its byte range does not match its shape and dtype). */
export class TruncatedTensor extends Data.TaggedError('TruncatedTensor')<{
  readonly tensor: string
  readonly expectedBytes: number
  readonly availableBytes: number
}> {}

/** A tensor has a different shape from the one the config implies. */
export class TensorShapeMismatch extends Data.TaggedError('TensorShapeMismatch')<{
  readonly tensor: string
  readonly expected: readonly number[]
  readonly actual: readonly number[]
}> {}

/** A tensor is stored in a dtype this reader does not decode. */
export class UnsupportedDtype extends Data.TaggedError('UnsupportedDtype')<{
  readonly tensor: string
  readonly dtype: string
}> {}

/** A token id outside [0, vocabSize). */
export class InvalidToken extends Data.TaggedError('InvalidToken')<{
  readonly token: number
  readonly vocabSize: number
}> {}

/** A position would exceed the model's context length nCtx. */
export class ContextOverflow extends Data.TaggedError('ContextOverflow')<{
  readonly position: number
  readonly nCtx: number
}> {}

/** A sampling, generation, head-mask or squeeze option is out of range. */
export class InvalidOption extends Data.TaggedError('InvalidOption')<{
  readonly option: string
  readonly reason: string
}> {}

/** A tokenizer file is malformed. */
export class TokenizerFormatError extends Data.TaggedError('TokenizerFormatError')<{
  readonly reason: string
}> {}

/** A weights file's SHA-256 differs from the one its Brain task names: miners do not serve it, validators do not check it. */
export class WeightsHashMismatch extends Data.TaggedError('WeightsHashMismatch')<{
  readonly file: string
  readonly expected: string
  readonly actual: string
}> {}
