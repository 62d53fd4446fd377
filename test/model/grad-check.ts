/**
 * Central finite differences against an analytic gradient: `trials` random elements of every tensor of the model,
 * each nudged by ±h and the reference forward's loss (evaluate) re-measured. Shared by the backprop and wasm-kernel
 * gradient tests.
 */
import assert from 'node:assert/strict'
import { evaluate, mulberry32, namedTensors, type GptModel, type GptWeights } from 'basedai/model'

/** Asserts every sampled element's gradient within 2e-3 + 5% of the numeric one; returns how many were checked. */
export function checkFiniteDifferences(m: GptModel, batch: readonly (readonly number[])[], grad: GptWeights, seed: number, trials: number): number {
  const params = namedTensors(m.config, m.weights)
  const grads = namedTensors(m.config, grad)
  const rand = mulberry32(seed)
  let checked = 0
  params.forEach((p, t) => {
    for (let trial = 0; trial < trials; trial++) {
      const i = Math.floor(rand() * p.data.length)
      const orig = p.data[i] as number
      const h = 1e-2
      p.data[i] = orig + h
      const up = evaluate(m, batch).loss
      p.data[i] = orig - h
      const down = evaluate(m, batch).loss
      p.data[i] = orig
      const numeric = (up - down) / (2 * h)
      const analytic = grads[t]!.data[i] as number
      assert.ok(Math.abs(numeric - analytic) <= 2e-3 + 0.05 * Math.abs(numeric), `${p.name}[${i}]: analytic ${analytic} numeric ${numeric}`)
      checked++
    }
  })
  return checked
}
