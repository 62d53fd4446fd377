/**
 * The few WebAssembly JS-API members this package uses, typed locally: the project's `lib` (ES2023, no DOM) does not
 * declare the `WebAssembly` global, although every engine it runs on (Node ≥ 22) has it.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
export interface WasmModule {
  readonly __wasmModule?: never
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>
}
export interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => WasmModule
  readonly Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance
  validate(bytes: Uint8Array): boolean
}

/** The engine's WebAssembly namespace, or undefined where there is none. */
export const wasmApi: WasmApi | undefined = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly
