/**
 * Squeeze the shipped model from the command line (also `based squeeze`):
 *
 *   node model/train/squeeze.ts (--budget <head-cost units> | --fraction <0..1> | --theta <nats>) --out squeezed.safetensors
 */
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { squeezeShipped } from '../squeeze-shipped.ts'

const { values } = parseArgs({ options: { budget: { type: 'string' }, fraction: { type: 'string' }, theta: { type: 'string' }, out: { type: 'string' } } })
if (values.out === undefined || [values.budget, values.fraction, values.theta].filter((v) => v !== undefined).length !== 1) {
  process.stderr.write('usage: node model/train/squeeze.ts (--budget N | --fraction F | --theta T) --out file.safetensors\n')
  process.exit(2)
}
const rule =
  values.theta !== undefined ? { theta: Number(values.theta) } : values.budget !== undefined ? { budget: Number(values.budget) } : { fraction: Number(values.fraction) }
const { bytes, report } = squeezeShipped(rule)
fs.writeFileSync(values.out, bytes)
console.log(JSON.stringify({ ...report, out: values.out }, null, 2))
