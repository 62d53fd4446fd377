// comlink 4.4.2 ships its Node adapter as dist/esm/node-adapter.mjs with a declaration named node-adapter.d.ts, which
// TypeScript (NodeNext) does not pair with an .mjs file; this declares the same signature for that path.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink'
  export interface NodeEndpoint {
    postMessage(message: unknown, transfer?: readonly unknown[]): void
    on(type: string, listener: (value: unknown) => void): void
    off(type: string, listener: (value: unknown) => void): void
    start?: () => void
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint
}
