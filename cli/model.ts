/**
 * `based generate` and `based squeeze`: the model from the command line.
 *
 *   based generate "prompt" [--tokens N] [--temperature T] [--top-k K] [--seed S] [--weights file] [--int8]
 *   based generate "prompt" --encrypted [--miner /root/miners/miner-1]   (on a running cluster)
 *   based squeeze (--budget N | --fraction F | --theta T) --out file.safetensors
 *
 * `generate` streams tokens as they come from the shipped model (or a squeezed/GPT-2 checkpoint given with
 * --weights, tokenized with the shipped tokenizer or GPT-2's for a GPT-2 vocabulary).
 */
import fs from 'node:fs'
import path from 'node:path'
import { EncryptedSession, settleComputeUnits } from '../gateway/index.ts'
import { formatAmount, unlockWallet } from '../ledger/index.ts'
import { LEDGER_ADDRESS, passphrase } from './wallet.ts'
import { SHIPPED_MODEL_ID } from '../actors/roles/miner.ts'
import { DEFAULT_CLUSTER } from './cluster.ts'
import { findControl } from './control.ts'
import { askControl } from './control-client.ts'
import { InvalidArgumentError, type Command } from 'commander'
import {
  generateText,
  int8Linear,
  loadGpt2File,
  loadGpt2Tokenizer,
  loadShippedModel,
  squeezeShipped,
  type ShippedSqueezeRule,
  type ActivationQuant,
  type Tokenizer,
} from '../model/index.ts'

function num(name: string, min: number, max: number, integer = false) {
  return (v: string): number => {
    const n = Number(v)
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isSafeInteger(n))) {
      throw new InvalidArgumentError(`${name} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}`)
    }
    return n
  }
}

export function registerModelCommands(program: Command): void {
  program
    .command('generate <prompt>')
    .description('generate text from a prompt, streaming tokens as they come (the shipped model unless --weights)')
    .option('--tokens <n>', 'new tokens', num('--tokens', 1, 4096, true), 60)
    .option('--temperature <t>', '0 = greedy', num('--temperature', 0, 10), 0.8)
    .option('--top-k <k>', '0 = all tokens', num('--top-k', 0, 1 << 20, true), 40)
    .option('--seed <s>', 'sampling seed', num('--seed', 0, 2 ** 32 - 1, true), 1)
    .option('--weights <file>', 'a safetensors checkpoint (GPT-2 layout)')
    .option('--int8', 'int8 weights and activations (CPU int8 path)')
    .option('--squeeze-activations', 'quantize activations by the whitepaper\'s §5.1 dynamic quantization (σ-adaptive scale, 256 levels) instead of absmax (with --int8 or --encrypted)')
    .option('--encrypted', 'encrypted inference on a miner of the running cluster: every dense product is sent as BFV ciphertexts; the key stays here')
    .option('--brain <address>', 'with --encrypted: the Brain that assigns a miner (least-loaded: no prompt embedding is sent)', '/root/brains/brain-1')
    .option('--miner <address>', 'with --encrypted: use this miner instead of asking the Brain')
    .option('--pay <wallet>', 'with --encrypted: pay the miner\'s registered owner for the compute units used, from this wallet')
    .option('--control <url>', 'with --encrypted: control URL of the cluster')
    .option('--data-dir <dir>', 'with --encrypted: data directory of the cluster', DEFAULT_CLUSTER.dataDir)
    .action(async (prompt: string, o: { tokens: number; temperature: number; topK: number; seed: number; weights?: string; int8?: boolean; squeezeActivations?: boolean; encrypted?: boolean; brain: string; miner?: string; pay?: string; control?: string; dataDir: string }) => {
      const activations: ActivationQuant = o.squeezeActivations ? { levels: 256, threshold: 0.1, alpha: 0.5 } : 'absmax'
      if (o.encrypted) {
        if (o.weights) throw new InvalidArgumentError('--encrypted runs the Brain model the miner serves (the shipped model); --weights does not apply')
        const base = findControl(path.resolve(o.dataDir), o.control)
        const { model, tokenizer } = loadShippedModel()
        const miner = o.miner ?? (await askControl(base, o.brain, { _tag: 'Route' })).miner
        const session = new EncryptedSession({ model, modelId: SHIPPED_MODEL_ID, activations, ask: (m) => askControl(base, miner, m, 120_000) })
        process.stderr.write(`encrypted session: BFV ${session.preset} (N = ${session.ctx.n}, 128-bit), key held by this process; miner ${miner}${o.miner ? '' : ` (assigned by ${o.brain})`}\n`)
        process.stdout.write(prompt)
        for await (const piece of session.generateText(tokenizer, prompt, { maxNewTokens: o.tokens, temperature: o.temperature, topK: o.topK, seed: o.seed })) {
          process.stdout.write(piece)
        }
        const s = session.stats
        process.stdout.write('\n')
        process.stderr.write(`${s.products} encrypted products (${s.computeUnits} compute units), ${(s.bytesUp / 1e6).toFixed(1)} MB up, ${(s.bytesDown / 1e6).toFixed(1)} MB down, miner ${s.minerMs.toFixed(0)} ms\n`)
        if (o.pay) {
          const computeKey = (await askControl(base, miner, { _tag: 'GetStatus' })).detail.computeKey
          if (typeof computeKey !== 'string') throw new InvalidArgumentError(`${miner} reports no ledger registration to pay`)
          const keys = unlockWallet(path.resolve(o.dataDir), o.pay, await passphrase('passphrase: '))
          const paid = await settleComputeUnits((m) => askControl(base, LEDGER_ADDRESS, m), keys.personal, computeKey, s.computeUnits)
          process.stderr.write(`paid ${formatAmount(paid.amount)} $BASED for ${paid.units} compute units to ${paid.to} (tx ${paid.tx.slice(0, 16)}…)\n`)
        }
        return
      }
      const shipped = loadShippedModel()
      let model = shipped.model
      let tokenizer: Tokenizer = shipped.tokenizer
      if (o.weights) {
        model = loadGpt2File(o.weights)
        if (model.config.vocabSize !== shipped.model.config.vocabSize) tokenizer = await loadGpt2Tokenizer()
      }
      process.stdout.write(prompt)
      const opts = {
        maxNewTokens: o.tokens,
        temperature: o.temperature,
        topK: o.topK,
        seed: o.seed,
        ...(o.int8 || o.squeezeActivations ? { forward: { linear: int8Linear(activations) } } : {}),
      }
      for (const piece of generateText(model, tokenizer, prompt, opts)) process.stdout.write(piece)
      process.stdout.write('\n')
    })

  program
    .command('squeeze')
    .description('Cerberus Squeezing of the shipped model: prune attention heads by significance under a budget; writes the model and prints its report')
    .option('--budget <units>', 'keep the most significant heads whose summed cost fits (head-cost units)', num('--budget', 0, Number.MAX_SAFE_INTEGER))
    .option('--fraction <f>', 'budget as a fraction of the full model’s head cost', num('--fraction', 0, 1))
    .option('--theta <nats>', 'prune heads whose significance (loss increase when masked) is ≤ θ', num('--theta', 0, 1e9))
    .requiredOption('--out <file>', 'output safetensors file')
    .action((o: { budget?: number; fraction?: number; theta?: number; out: string }) => {
      const given = [o.budget, o.fraction, o.theta].filter((v) => v !== undefined).length
      if (given !== 1) throw new InvalidArgumentError('give exactly one of --budget, --fraction, --theta')
      const rule: ShippedSqueezeRule =
        o.theta !== undefined ? { theta: o.theta } : o.budget !== undefined ? { budget: o.budget } : { fraction: o.fraction as number }
      console.error('measuring head significance on calibration text…')
      const { bytes, report } = squeezeShipped(rule)
      fs.writeFileSync(o.out, bytes)
      const { significance: _s, ...summary } = report
      console.log(JSON.stringify({ ...summary, out: o.out }, null, 2))
    })
}
