/**
 * Crash ordering without luck: the store's fault-injection seam (ledger/store.ts `FaultPlan`) fails the commit of one
 * block at each of its write points in turn, by throwing in this process (the same sweep with SIGKILL in a child: crash-kill.test.ts), and every reopened store must hold exactly the previous
 * block or exactly the new one: its state entries equal one of the two states computed independently in memory, the
 * state root recomputed from the stored entries equals the head's, the supply audit passes and `Ledger.open` accepts
 * it. With one LMDB transaction per block, every point up to the end of the transaction leaves the previous block
 * and only the point after it leaves the new one.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { Ledger, LmdbStore } from 'basedai/ledger'
import { FAULT_ENV, parseFaultPlan, type FaultPlan } from '../../ledger/store.ts'
import { genesis } from './workload.ts'
import { EXP, H, assertExactly, produce, tmpdir } from './crash-expect.ts'

test('fault plans: parsed from BASEDAI_STORE_FAULT; malformed ones are InvalidFaultPlan', () => {
  assert.deepEqual(parseFaultPlan('kill@13:0'), { mode: 'kill', height: 13, point: 0 })
  assert.deepEqual(parseFaultPlan('throw@0:27'), { mode: 'throw', height: 0, point: 27 })
  for (const bad of ['', 'kill', 'kill@13', 'kill@:1', 'stop@1:2', 'kill@-1:2', 'kill@1:2:3', ' kill@1:2', 'kill@1.5:2'])
    assert.throws(() => parseFaultPlan(bad), (e: { _tag: string }) => e._tag === 'InvalidFaultPlan', bad)
  const dir = tmpdir()
  const saved = process.env[FAULT_ENV]
  try {
    process.env[FAULT_ENV] = 'kill@x'
    assert.throws(() => LmdbStore.open({ path: dir }), (e: { _tag: string }) => e._tag === 'InvalidFaultPlan')
    const bad: FaultPlan = { mode: 'throw', height: -1, point: 0 }
    assert.throws(() => LmdbStore.open({ path: dir, fault: bad }), (e: { _tag: string }) => e._tag === 'InvalidFaultPlan')
  } finally {
    if (saved === undefined) delete process.env[FAULT_ENV]
    else process.env[FAULT_ENV] = saved
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('fault injection, throw: a commit failing at any write point leaves exactly the previous block; after the transaction, exactly the new one', async () => {
  assert.ok(EXP.writes > 10, `block ${H} makes ${EXP.writes} writes`)
  const points = EXP.writes + 2
  for (let point = 0; point < points; point++) {
    const dir = tmpdir()
    const store = LmdbStore.open({ path: dir, shards: 4, fault: { height: H, point, mode: 'throw' } })
    const ledger = Ledger.open({ store, genesis: genesis() })
    produce(ledger, H - 1)
    assert.throws(() => produce(ledger, H), (e: { _tag: string; point: number }) => e._tag === 'InjectedFault' && e.point === point, `point ${point}`)
    // In the same process, before reopening: the store's own view is the block it holds.
    assert.equal(store.head()!.height, point <= EXP.writes ? H - 1 : H, `point ${point}`)
    await store.close()
    const [want, other] = point <= EXP.writes ? [EXP.prev, EXP.next] : [EXP.next, EXP.prev]
    await assertExactly(dir, want, other, `throw at point ${point} of ${points}`)
    fs.rmSync(dir, { recursive: true, force: true })
  }
  // One past the last point: no fault fires and the block commits (so the sweep above covered every point).
  const dir = tmpdir()
  const store = LmdbStore.open({ path: dir, shards: 4, fault: { height: H, point: points, mode: 'throw' } })
  produce(Ledger.open({ store, genesis: genesis() }), H)
  await store.close()
  await assertExactly(dir, EXP.next, EXP.prev, `no fault at point ${points}`)
  fs.rmSync(dir, { recursive: true, force: true })
})

