/**
 * The forecasting Enforcer on a live chain (issue 15): the ledger actor producing blocks on its timer, and two
 * validator actors of one Brain — one forecasting (its ForecastStep timer reads the realised series, commits inside
 * the commit window, reveals inside the reveal window), one with forecasting off. Short rounds (10 blocks, windows of
 * 2 blocks, τ = 3) and a year of 5 blocks, so every round scored here is at β(t) > 0.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ValidatorRejection } from '../../protocol/index.ts'
import { rejectedWith } from '../support/rejection.ts'
import { ActorSystem } from '../../supervisor/index.ts'
import { LmdbStore, auditSupply, devKeys, signTx, toAddress, toHex, withMinFee } from '../../ledger/index.ts'
import { forecastWindows } from '../../actors/validator.ts'
import type { ForecastSeries } from '../../protocol/index.ts'

const url = (p: string): string => new URL(p, import.meta.url).href
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const QS = [0.1, 0.5, 0.9]

test('forecastWindows: the baseline chosen on validation forecasts a seasonal series; a short history falls back to its quantiles', () => {
  const season = [3, 0, 5, 1, 4, 2]
  const ys = Array.from({ length: 60 }, (_, i) => season[i % 6] as number)
  const f = forecastWindows(ys, 4, 3, QS)
  assert.equal(f.name, 'seasonal naive (s = 24)', 'the perfect season wins on validation')
  // 4 windows ahead of the 60 seen, the last 3 kept: windows 61, 62, 63 of the season, values 0, 5, 1
  assert.deepEqual(f.values, [0n, 0n, 0n, 5n, 5n, 5n, 1n, 1n, 1n])
  const short = forecastWindows([2, 4, 6], 3, 3, QS)
  assert.match(short.name, /^empirical quantiles of 3 windows$/)
  // P10, P50, P90 of {2, 4, 6} (linear interpolation: 2.4, 4, 5.6), rounded, for every window
  assert.deepEqual(short.values, [2n, 4n, 6n, 2n, 4n, 6n, 2n, 4n, 6n])
  assert.deepEqual(forecastWindows([], 2, 2, QS).values, [0n, 0n, 0n, 0n, 0n, 0n])
})

test('live chain: a forecasting validator commits, reveals and scores above the validator that does not forecast (worst); supply conserved', { timeout: 90_000 }, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'based-forecast-live-'))
  const params = {
    tempo: 1000, forecastPeriod: 10, forecastBlocksPerStep: 2, forecastHorizon: 3, forecastCommitLead: 5, forecastRevealWindow: 4, forecastBlocksPerYear: 5,
  }
  const sys = await ActorSystem.start({
    kind: 'supervisor',
    id: 'root',
    children: [
      { kind: 'actor', id: 'ledger', behaviour: { module: url('../../actors/ledger-shard.ts') }, args: { dataDir, shards: 2, blockTimeMs: 250, dev: { brains: 1, miners: 1, validators: 2 }, params } },
      { kind: 'actor', id: 'validator-1', behaviour: { module: url('../../actors/validator.ts') }, args: { dev: 1, brain: 1, ledger: '/root/ledger', challengeMs: 0, forecastMs: 80 } },
      { kind: 'actor', id: 'validator-2', behaviour: { module: url('../../actors/validator.ts') }, args: { dev: 2, brain: 1, ledger: '/root/ledger', challengeMs: 0, forecastMs: 80, forecast: false } },
      // no ledger key (args.dev): its forecast steps fail, typed and counted, and it keeps running
      { kind: 'actor', id: 'validator-3', behaviour: { module: url('../../actors/validator.ts') }, args: { brain: 1, ledger: '/root/ledger', challengeMs: 0, forecastMs: 0 } },
    ],
  })
  let stopped = false
  t.after(async () => {
    stopped = true
    await sys.shutdown()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })
  const ledger = sys.ref('/root/ledger')
  const v1 = sys.ref('/root/validator-1')
  const v2 = sys.ref('/root/validator-2')
  const [brain] = (await ledger.ask({ _tag: 'GetBrains' })).ids
  assert.equal(typeof brain, 'number')
  const ck1 = toHex(devKeys.validatorCompute(1).publicKey)
  const ck2 = toHex(devKeys.validatorCompute(2).publicKey)

  // Brain traffic (the realised series): the owner renames the Brain 0, 1 or 2 times per step.
  const owner = devKeys.owner()
  const traffic = (async () => {
    for (let i = 0; !stopped; i++) {
      for (let k = 0; k < i % 3 && !stopped; k++) {
        const head = await ledger.ask({ _tag: 'GetHead' })
        const acct = await ledger.ask({ _tag: 'GetAccount', address: toAddress(owner.publicKey) })
        const tx = signTx(withMinFee({ chainId: head.chainId, from: owner.publicKey, nonce: BigInt(acct.nextNonce), body: {
          kind: 'setBrain', brain: brain as number, setting: 'name', text: `n${i}.${k}`, key: new Uint8Array(0), value: 0n,
        } }, BigInt(head.baseFee), BigInt(head.byteFee)), owner.secretKey)
        await ledger.ask({ _tag: 'SubmitTx', tx: tx.bytes })
      }
      await sleep(250)
    }
  })().catch((e: unknown) => {
    if (!stopped) throw e
  })

  let sawReveal = false
  let baselineFrom: { forecaster: string; rounds: number } | undefined
  /** Scored rounds → validator-1's accuracy sum then (Q40): the differences are its per-round Accuracy. */
  const perRound = new Map<number, bigint>([[0, 0n]])
  let last: typeof ForecastSeries.Type | undefined
  const deadline = Date.now() + 70_000
  while (Date.now() < deadline) {
    last = await ledger.ask({ _tag: 'GetForecastSeries', brain: brain as number })
    if (last.commits.some((c) => c.computeKey === ck1 && c.revealed)) sawReveal = true
    const mine = last.accuracy?.sums.find((s) => s.computeKey === ck1)
    if (last.accuracy && !perRound.has(last.accuracy.rounds)) perRound.set(last.accuracy.rounds, BigInt(mine?.sumQ40 ?? '0'))
    // Until a round was forecast from a long enough history that a baseline was chosen on validation, and scored.
    if (!baselineFrom) {
      const f = String((await v1.ask({ _tag: 'GetStatus' })).detail.forecaster ?? '')
      if (/^(seasonal naive|consensus)/.test(f)) baselineFrom = { forecaster: f, rounds: last.accuracy?.rounds ?? 0 }
    }
    if (sawReveal && mine && BigInt(mine.sumQ40) > 0n && baselineFrom && (last.accuracy?.rounds ?? 0) > baselineFrom.rounds + 1) break
    await sleep(60)
  }
  stopped = true
  await traffic
  assert.ok(last)
  t.diagnostic(`height ${last.height}, accuracy ${JSON.stringify(last.accuracy)}, baseline from round #${baselineFrom?.rounds} (${baselineFrom?.forecaster})`)
  const rounds = [...perRound.keys()].sort((a, b) => a - b)
  t.diagnostic(`validator-1 Accuracy per scored round: ${rounds.slice(1).map((r, i) => (r === (rounds[i] as number) + 1
    ? (Number((perRound.get(r) as bigint) - (perRound.get(rounds[i] as number) as bigint)) / 2 ** 40).toFixed(3) : '?')).join(', ')}`)
  assert.ok(sawReveal, 'the ledger held validator-1\'s revealed forecast')
  assert.ok(baselineFrom, 'a baseline forecaster was chosen once the history was long enough')
  const acc = last.accuracy
  assert.ok(acc && acc.rounds >= 1, 'a round was scored')
  // the rounds scored since the forecaster changed include one forecast by the chosen baseline (committed ≥ 1 round later)
  assert.ok(acc && baselineFrom && acc.rounds >= baselineFrom.rounds + 2)
  const a1 = BigInt(acc.sums.find((s) => s.computeKey === ck1)?.sumQ40 ?? '0')
  const a2 = BigInt(acc.sums.find((s) => s.computeKey === ck2)?.sumQ40 ?? '0')
  assert.ok(a1 > 0n, `validator-1 scored above the worst: ${a1}`)
  assert.equal(a2, 0n, 'validator-2 (forecasting off) scores the worst')
  assert.ok(last.height > 2 * params.forecastBlocksPerYear, 'scored at β(t) > 0')

  const s1 = (await v1.ask({ _tag: 'GetStatus' })).detail
  const s2 = (await v2.ask({ _tag: 'GetStatus' })).detail
  t.diagnostic(`validator-1 status ${JSON.stringify(s1)}`)
  assert.equal(s1.forecasting, true)
  assert.ok(Number(s1.forecastCommits) >= 1 && Number(s1.forecastReveals) >= 1)
  assert.equal(typeof s1.forecaster, 'string')
  assert.equal(s2.forecasting, false)
  assert.equal(s2.forecastCommits, 0)
  assert.equal((await v2.ask({ _tag: 'ForecastStep' })).action, 'off')

  const v3 = sys.ref('/root/validator-3')
  for (let i = 0; i < 2; i++)
    await assert.rejects(v3.ask({ _tag: 'ForecastStep' }), rejectedWith(ValidatorRejection, 'NotConfigured'))
  const s3 = (await v3.ask({ _tag: 'GetStatus' })).detail
  assert.equal(s3.forecastFailures, 2, 'failures are counted in the status')
  assert.match(String(s3.forecastLastError), /^NotConfigured: /)
  assert.equal((await v3.ask({ _tag: 'Ping' }))._tag, 'Pong', 'and the validator keeps running')

  await sys.shutdown()
  const store = LmdbStore.open({ path: path.join(dataDir, 'ledger'), shards: 2 })
  try {
    assert.ok(auditSupply(store).ok, 'supply conserved through the forecast transactions and fees')
  } finally {
    await store.close()
  }
})
