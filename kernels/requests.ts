/**
 * `handleKernelRequest`: the kernel worker's dispatcher from a `KernelRequest` (kernels/messages.ts) to its
 * `KernelReply`, kept free of actor-runtime imports so any holder of a `KernelService` can serve the messages.
 */
import { InvalidInput } from './errors.ts'
import { bytesOf, f32Of, i8Of, u32Of, type KernelReply, type KernelRequest } from './messages.ts'
import type { BfvKeysHandle, KernelService, KvCacheHandle } from './service.ts'

/** Runs one kernel request on `svc`. Throws InvalidInput / InvalidNttParams for bad input, GpuError on device errors. */
export async function handleKernelRequest(
  svc: KernelService,
  msg: KernelRequest,
  caches: Map<number, KvCacheHandle> = new Map(),
  bfvKeys: Map<number, BfvKeysHandle> = new Map(),
): Promise<KernelReply> {
  switch (msg._tag) {
    case 'KernelInfo':
      return { _tag: 'KernelInfoReply', backend: svc.backend, adapter: svc.label, slow: svc.slow }
    case 'KernelNtt': {
      const data = u32Of('data', msg.data)
      const out = msg.direction === 'forward' ? await svc.nttForward(data, msg.n, msg.primes) : await svc.nttInverse(data, msg.n, msg.primes)
      return { _tag: 'KernelWords', data: bytesOf(out) }
    }
    case 'KernelPointwise':
      return { _tag: 'KernelWords', data: bytesOf(await svc.pointwise(msg.op, u32Of('a', msg.a), u32Of('b', msg.b), msg.n, msg.primes)) }
    case 'KernelPolyMul':
      return { _tag: 'KernelWords', data: bytesOf(await svc.polyMul(u32Of('a', msg.a), u32Of('b', msg.b), msg.n, msg.primes)) }
    case 'KernelBaseConvert':
      return { _tag: 'KernelWords', data: bytesOf(await svc.baseConvert(u32Of('data', msg.data), msg.n, msg.from, msg.to)) }
    case 'KernelMatmul': {
      const r = await svc.matmulInt8(
        { a: i8Of(msg.a), aScale: f32Of('aScale', msg.aScale), m: msg.m, k: msg.k },
        {
          w: i8Of(msg.w),
          wScale: f32Of('wScale', msg.wScale),
          n: msg.n,
          k: msg.k,
          ...(msg.bias ? { bias: f32Of('bias', msg.bias) } : {}),
        },
      )
      return { _tag: 'KernelMatmulReply', acc: bytesOf(r.acc), y: bytesOf(r.y) }
    }
    case 'KernelKvCreate': {
      const h = await svc.createKvCache({ heads: msg.heads, headDim: msg.headDim, capacity: msg.capacity })
      caches.set(h.id, h)
      return { _tag: 'KernelKvCreated', cache: h.id }
    }
    case 'KernelAttention': {
      const h = caches.get(msg.cache)
      if (!h) throw new InvalidInput({ op: 'KernelAttention', reason: 'bad_argument', message: `unknown KV cache ${msg.cache}` })
      const r = await svc.attentionStep(h, {
        tokens: msg.tokens,
        q: i8Of(msg.q),
        qScale: f32Of('qScale', msg.qScale),
        k: i8Of(msg.k),
        kScale: f32Of('kScale', msg.kScale),
        v: i8Of(msg.v),
        vScale: f32Of('vScale', msg.vScale),
        ...(msg.headMask ? { headMask: msg.headMask } : {}),
        ...(msg.withScores !== undefined ? { withScores: msg.withScores } : {}),
      })
      return {
        _tag: 'KernelAttentionReply',
        out: bytesOf(r.out),
        scores: bytesOf(r.scores),
        probs: bytesOf(r.probs),
        work: bytesOf(r.work),
        activeHeads: [...r.activeHeads],
        keys: r.keys,
      }
    }
    case 'KernelKvRelease': {
      const h = caches.get(msg.cache)
      caches.delete(msg.cache)
      if (h) await svc.releaseKvCache(h)
      return { _tag: 'KernelAck' }
    }
    case 'KernelSqueeze': {
      const r = await svc.squeeze(f32Of('x', msg.x), msg.rows, msg.cols, {
        ...(msg.levels !== undefined ? { levels: msg.levels } : {}),
        ...(msg.threshold !== undefined ? { threshold: msg.threshold } : {}),
        ...(msg.alpha !== undefined ? { alpha: msg.alpha } : {}),
      })
      return { _tag: 'KernelSqueezeReply', levels: r.levels, codes: bytesOf(r.codes), values: bytesOf(r.values), stats: bytesOf(r.stats) }
    }
    case 'KernelBfvKeys': {
      const h = await svc.uploadBfvKeys(msg.n, msg.q, u32Of('keys', msg.keys))
      bfvKeys.set(h.id, h)
      return { _tag: 'KernelBfvKeysReply', keys: h.id }
    }
    case 'KernelBfvMulRelin': {
      const h = bfvKeys.get(msg.keys)
      if (!h) throw new InvalidInput({ op: 'KernelBfvMulRelin', reason: 'bad_argument', message: `unknown BFV keys handle ${msg.keys}` })
      if (h.n !== msg.n || h.q.length !== msg.q.length || h.q.some((q, i) => q !== msg.q[i])) {
        throw new InvalidInput({ op: 'KernelBfvMulRelin', reason: 'bad_argument', message: `keys ${msg.keys} were uploaded for n = ${h.n}, q = [${h.q.join(', ')}]` })
      }
      const out = await svc.bfvMulRelin({ n: msg.n, q: msg.q, p: msg.p, t: msg.t }, u32Of('ops', msg.ops), h)
      return { _tag: 'KernelWords', data: bytesOf(out) }
    }
    case 'KernelBfvKeysRelease': {
      const h = bfvKeys.get(msg.keys)
      bfvKeys.delete(msg.keys)
      if (h) await svc.releaseBfvKeys(h)
      return { _tag: 'KernelAck' }
    }
  }
}

