/**
 * `serveMiner` (ledger/serve.ts): a registered miner announces the libp2p peer that serves it, with a binding signed
 * by its compute key and by the peer's own ed25519 key; stored with its registration (the metagraph row's `serving`),
 * replaced by a later record, removed with the registration. Every refusal is typed and leaves the state unchanged;
 * every block's supply is audited (the fixture's `block`).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeTx, ed25519KeyOfPeerId, signServe, testKeyPair, toHex, tokens, verifyServeRecord, type KeyPair, type TxBody } from 'basedai/ledger'
import { metagraphOf } from '../../ledger/queries.ts'
import { fixture, run, type Fixture } from './helpers.ts'

const T = { timeout: 60_000 }
const BRAIN = 7
const minerCk = testKeyPair('bob-compute')
const otherCk = testKeyPair('erin-compute')
const validatorCk = testKeyPair('carol-compute')

interface Peer {
  readonly id: string
  /** The ed25519 seed of the peer key (what ledger/keys.ts signs with). */
  readonly seed: Uint8Array
  readonly publicKey: Uint8Array
}

async function peer(): Promise<Peer> {
  const k = await generateKeyPair('Ed25519')
  return { id: peerIdFromPrivateKey(k).toString(), seed: k.raw.subarray(0, 32), publicKey: k.publicKey.raw }
}

function serveBody(f: Fixture, p: Peer, o: { ck?: KeyPair; peerSeed?: Uint8Array; issuedAt?: number; addrs?: string[]; actor?: string; tamper?: (b: TxBody & { kind: 'serveMiner' }) => TxBody } = {}): TxBody {
  const ck = o.ck ?? minerCk
  const binding = {
    chainId: f.ledger.params().chainId, brain: BRAIN, computeKey: ck.publicKey, peerId: p.id,
    addrs: o.addrs ?? [`/ip4/10.213.0.2/tcp/4001/p2p/${p.id}`], actor: o.actor ?? '/root/miners/miner-1', issuedAt: o.issuedAt ?? 1_700_000_000_000,
  }
  const sigs = signServe(binding, ck.secretKey, o.peerSeed ?? p.seed)
  const { chainId: _c, ...rest } = binding
  const body = { kind: 'serveMiner' as const, ...rest, ...sigs }
  return o.tamper ? o.tamper(body) : body
}

/** One tx in its own block: the failure's tag and reason ('' when applied). */
function one(f: Fixture, who: string, body: TxBody): string {
  const r = f.block([f.tx(who, body)], { allowReject: true })
  const e = r.rejected[0]?.error ?? r.failed[0]?.error
  if (!e) return ''
  return 'reason' in e && typeof e.reason === 'string' && e._tag === 'InvalidServeRecord' ? `${e._tag}:${e.reason}` : e._tag
}

function setup(): Fixture {
  const f = fixture({ params: { tempo: 100_000, minerSlots: 2, immunityPeriod: 0 } })
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(10_000) }],
    ['bob', { kind: 'register', brain: BRAIN, computeKey: minerCk.publicKey, role: 'miner', maxFee: tokens(1000) }],
    ['carol', { kind: 'register', brain: BRAIN, computeKey: validatorCk.publicKey, role: 'validator', maxFee: tokens(1000) }],
  )
  return f
}

test('a libp2p ed25519 peer id carries its public key (what the peer signature is checked against)', T, async () => {
  const p = await peer()
  assert.deepEqual(ed25519KeyOfPeerId(p.id), p.publicKey)
  assert.equal(ed25519KeyOfPeerId('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'), undefined, 'an RSA-style (sha256) peer id has no key inside')
  assert.equal(ed25519KeyOfPeerId(p.id.slice(0, -2)), undefined, 'a truncated id')
  assert.equal(ed25519KeyOfPeerId(`1${p.id}`), undefined, 'a leading zero byte more')
  assert.equal(ed25519KeyOfPeerId('not base58 0OIl'), undefined)
})

test('serveMiner: stored with the registration, both signatures verified, replaced by a later record, removed with the registration', T, async () => {
  const f = setup()
  const p = await peer()
  const body = serveBody(f, p)
  // canonical encoding: decode(encode) is the same transaction
  const tx = f.tx('bob', body)
  assert.deepEqual(decodeTx(tx.bytes).tx.body, body)
  const before = f.based('bob')
  assert.equal(one(f, 'bob', body), '')
  assert.ok(f.based('bob') < before, 'the fee was paid')
  const row = metagraphOf(f.ledger, BRAIN)?.rows.find((r) => r.role === 'miner')
  assert.ok(row?.serving, 'the metagraph row says where the miner serves')
  assert.equal(row.serving.peerId, p.id)
  assert.deepEqual(row.serving.addrs, [`/ip4/10.213.0.2/tcp/4001/p2p/${p.id}`])
  assert.equal(row.serving.actor, '/root/miners/miner-1')
  assert.equal(row.serving.servedAt, f.ledger.head().height)
  const stored = { ...row.serving, computeSig: Buffer.from(row.serving.computeSig, 'hex'), peerSig: Buffer.from(row.serving.peerSig, 'hex') }
  assert.ok(verifyServeRecord(f.ledger.params().chainId, BRAIN, toHex(minerCk.publicKey), stored), 'any reader can re-verify the stored record')
  assert.ok(!verifyServeRecord('another-chain', BRAIN, toHex(minerCk.publicKey), stored), 'the record is bound to its chain')
  assert.equal(metagraphOf(f.ledger, BRAIN)?.rows.find((r) => r.role === 'validator')?.serving, undefined)

  // the same record again is stale; a later one (another peer: the miner moved) replaces it
  assert.equal(one(f, 'bob', body), 'InvalidServeRecord:stale')
  const q = await peer()
  assert.equal(one(f, 'bob', serveBody(f, q, { issuedAt: 1_700_000_000_500, addrs: [`/ip4/198.18.0.2/tcp/4001/p2p/${q.id}`, '/dns4/miner.example/tcp/4001'] })), '')
  assert.equal(metagraphOf(f.ledger, BRAIN)?.rows.find((r) => r.role === 'miner')?.serving?.peerId, q.id)

  // two more miners on a Brain with two miner slots and no immunity: the third replaces bob (score 0, oldest), and
  // bob's record goes with its registration
  run(f, ['dave', { kind: 'register', brain: BRAIN, computeKey: otherCk.publicKey, role: 'miner', maxFee: tokens(1000) }])
  run(f, ['alice', { kind: 'register', brain: BRAIN, computeKey: testKeyPair('alice-compute').publicKey, role: 'miner', maxFee: tokens(1000) }])
  const miners = metagraphOf(f.ledger, BRAIN)?.rows.filter((r) => r.role === 'miner') ?? []
  assert.equal(miners.length, 2)
  assert.ok(!miners.some((r) => r.uid === row.uid), 'bob was replaced')
  assert.ok(miners.every((r) => r.serving === undefined), 'the replaced miner\'s record is gone; the others announced none')
  assert.equal(f.store.kv.map.has(`m:${BRAIN}:${toHex(minerCk.publicKey)}`), false)
})

test('serveMiner refusals are typed and leave the state unchanged', T, async () => {
  const f = setup()
  const p = await peer()
  const other = await peer()
  const cases: Array<[string, string, TxBody]> = [
    ['unregistered compute key', 'UnknownParticipant', serveBody(f, p, { ck: otherCk })],
    ['a validator, not a miner', 'UnknownParticipant', serveBody(f, p, { ck: validatorCk })],
    ['signed by the compute key of another miner', 'InvalidServeRecord:bad_compute_signature', serveBody(f, p, { tamper: (b) => ({ ...b, computeSig: signServe({ chainId: f.ledger.params().chainId, ...b }, otherCk.secretKey, p.seed).computeSig }) })],
    ['another peer\'s id, signed by this peer\'s key (a peer speaking for another)', 'InvalidServeRecord:bad_peer_signature', serveBody(f, other, { peerSeed: p.seed })],
    ['an address changed after signing', 'InvalidServeRecord:bad_compute_signature', serveBody(f, p, { tamper: (b) => ({ ...b, addrs: ['/ip4/10.213.0.9/tcp/4001'] }) })],
    ['an address of another peer', 'InvalidServeRecord:bad_address', serveBody(f, p, { addrs: [`/ip4/10.213.0.2/tcp/4001/p2p/${other.id}`] })],
    ['not a multiaddr', 'InvalidServeRecord:bad_address', serveBody(f, p, { addrs: ['10.213.0.2:4001'] })],
    ['a bad actor address', 'InvalidServeRecord:bad_actor', serveBody(f, p, { actor: 'miner-1' })],
    ['a peer id without a key inside', 'InvalidServeRecord:bad_peer_id', serveBody(f, { ...p, id: 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N' }, { addrs: [] })],
    ['issued far in the future', 'InvalidServeRecord:from_future', serveBody(f, p, { issuedAt: f.ledger.nextBlockTime() + 3_600_000 })],
    ['an unknown Brain', 'UnknownBrain', serveBody(f, p, { tamper: (b) => ({ ...b, brain: 99 }) })],
  ]
  for (const [what, tag, body] of cases) {
    const root = f.ledger.head().stateRoot
    const r = f.block([f.tx('bob', body)], { allowReject: true })
    const e = r.failed[0]?.error
    assert.ok(e, `${what}: refused`)
    const got = e._tag === 'InvalidServeRecord' ? `${e._tag}:${e.reason}` : e._tag
    assert.equal(got, tag, what)
    assert.notEqual(f.ledger.head().stateRoot, root)
    assert.equal(metagraphOf(f.ledger, BRAIN)?.rows.find((x) => x.role === 'miner')?.serving, undefined, `${what}: nothing stored`)
  }
  // only the personal key that registered the miner may announce it
  assert.equal(one(f, 'carol', serveBody(f, p)), 'PermissionDenied')
  assert.equal(one(f, 'bob', serveBody(f, p)), '', 'the well-formed record is accepted')
})
