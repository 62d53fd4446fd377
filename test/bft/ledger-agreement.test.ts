/**
 * The ledger side of block agreement: a block proposed without being committed, validated and applied on another
 * node (state root checked), committed with its commit certificate; the validator set in the genesis state; chain
 * spec files; signed votes and certificates.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Ledger, MemoryStore, LmdbStore, auditSupply, decodeBlock, defaultParams, encodeBlock, signTx, testKeyPair, tokens, toHex, withMinFee, type GenesisConfig } from 'basedai/ledger'
import { encodeEvidence, evidenceRoot } from '../../ledger/block.ts'
import { ValidatorSet, type Vote } from '../../bft/index.ts'
import {
  decodeCertificate, decodeWire, encodeCertificate, encodeWire, signProposal, signVote, verifyCertificate, verifyProposal, verifyVote,
  InvalidCertificate, MalformedBftMessage,
} from '../../bft/wire.ts'
import { InvalidChainSpec, makeChainSpec, parseChainSpec } from '../../bft/chain-spec.ts'

const CHAIN = 'agree-test'
const alice = testKeyPair('alice')
const bob = testKeyPair('bob')
const vals = [1, 2, 3, 4].map((i) => testKeyPair(`validator-${i}`))
const genesis: GenesisConfig = {
  params: defaultParams({ chainId: CHAIN, blockTimeMs: 100 }),
  time: 1_700_000_000_000,
  accounts: [{ publicKey: alice.publicKey, based: tokens(1000) }],
}
const validators = vals.map((k, i) => ({ publicKey: k.publicKey, power: BigInt(i + 1) }))

function transfer(nonce: bigint, amount: bigint): ReturnType<typeof signTx> {
  const p = genesis.params
  return signTx(withMinFee({ chainId: CHAIN, from: alice.publicKey, nonce, body: { kind: 'transfer', to: bob.publicKey, amount } }, p.baseFee, p.byteFee), alice.secretKey)
}

test('propose without committing, validate and apply elsewhere, commit with a certificate', () => {
  const a = Ledger.open({ store: new MemoryStore(), genesis, validators })
  const b = Ledger.open({ store: new MemoryStore(), genesis, validators })
  assert.deepEqual(a.head().hash, b.head().hash, 'one genesis, one hash')
  // the validator set is in the state (and in the genesis root)
  assert.deepEqual(a.validators().map((v) => [toHex(v.publicKey), v.power]).sort(), validators.map((v) => [toHex(v.publicKey), v.power]).sort())
  const other = Ledger.open({ store: new MemoryStore(), genesis, validators: validators.slice(1) })
  assert.notDeepEqual(other.head().hash, a.head().hash, 'the validator set is part of genesis')

  const before = a.head()
  const p = a.proposeBlock([transfer(0n, tokens(5)), transfer(0n, tokens(1))], { time: a.nextBlockTime(), proposer: vals[0]!.publicKey })
  assert.equal(p.included, 1)
  assert.equal(p.rejected.length, 1, 'the replayed nonce is dropped from the proposal')
  assert.deepEqual(a.head(), before, 'proposing commits nothing')
  assert.deepEqual(a.stateRoot(), before.stateRoot, 'and leaves the incremental root alone')
  assert.equal(a.account(bob.publicKey), undefined)

  // another node validates it (executes and checks roots) without committing, then commits with a certificate
  const v = b.validateBlock(p.block)
  assert.deepEqual(v.hash, p.hash)
  assert.equal(b.head().height, 0)
  const cert = new Uint8Array([9, 9, 9])
  b.commitBlock(v, cert)
  a.commitBlock(p, cert)
  assert.deepEqual(a.head(), b.head())
  assert.deepEqual(a.certificate(1), cert)
  assert.equal(b.account(bob.publicKey)?.based, tokens(5))
  for (const l of [a, b]) assert.equal(auditSupply(l.store).ok, true)

  // a prepared block no longer extending the head is refused
  assert.throws(() => a.commitBlock(p), (e: unknown) => (e as { _tag: string })._tag === 'InvalidBlock')

  // a block with a wrong state root is refused, nothing changes
  const p2 = a.proposeBlock([transfer(1n, tokens(2))], { time: a.nextBlockTime(), proposer: vals[1]!.publicKey })
  const forged = { ...p2.block, header: { ...p2.block.header, stateRoot: new Uint8Array(32).fill(7) } }
  const head = b.head()
  assert.throws(() => b.validateBlock(forged), (e: unknown) => (e as { _tag: string; reason: string })._tag === 'InvalidBlock' && (e as { reason: string }).reason === 'state root')
  assert.deepEqual(b.head(), head)
  // the single-node paths still work and store no certificate
  b.applyBlock(p2.block)
  assert.equal(b.certificate(2), undefined)
  assert.equal(b.account(bob.publicKey)?.based, tokens(7))
})

test('the certificate is stored atomically with its block in LMDB and survives a reopen', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bft-ledger-'))
  try {
    let store = LmdbStore.open({ path: dir })
    let l = Ledger.open({ store, genesis, validators })
    const p = l.proposeBlock([transfer(0n, tokens(3))], { time: l.nextBlockTime(), proposer: vals[2]!.publicKey })
    l.commitBlock(p, new Uint8Array([1, 2, 3, 4]))
    await store.close()
    store = LmdbStore.open({ path: dir })
    l = Ledger.open({ store, genesis, validators })
    assert.equal(l.head().height, 1)
    assert.deepEqual([...(l.certificate(1) ?? [])], [1, 2, 3, 4])
    assert.equal(l.validators().length, 4)
    await store.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('signed votes and proposals, certificates checked signature by signature and by power', () => {
  const set = new ValidatorSet(validators.map((v) => ({ id: toHex(v.publicKey), power: v.power })))
  const value = toHex(new Uint8Array(32).fill(5))
  const precommit = (i: number): Vote => ({ type: 'precommit', height: 3, round: 1, value, from: toHex(vals[i]!.publicKey) })
  const signed = [1, 2, 3].map((i) => signVote(CHAIN, precommit(i), vals[i]!.secretKey))
  assert.ok(signed.every((s) => verifyVote(CHAIN, s)))
  assert.equal(verifyVote('other-chain', signed[0]!), false, 'a vote cannot be replayed on another chain')
  assert.equal(verifyVote(CHAIN, { ...signed[0]!, vote: { ...signed[0]!.vote, round: 2 } }), false)

  // powers 2 + 3 + 4 = 9 of 10: a quorum
  const cert = { certificate: { height: 3, round: 1, value, precommits: signed.map((s) => s.vote) }, signatures: signed.map((s) => s.signature) }
  const back = decodeCertificate(encodeCertificate(cert))
  assert.deepEqual(back, cert)
  verifyCertificate(CHAIN, back, set)
  const bad = (c: typeof cert): boolean => {
    try {
      verifyCertificate(CHAIN, c, set)
      return false
    } catch (e) {
      return e instanceof InvalidCertificate
    }
  }
  // 2 + 4 = 6 of 10: not more than 2/3
  assert.ok(bad({ certificate: { ...cert.certificate, precommits: [cert.certificate.precommits[0]!, cert.certificate.precommits[2]!] }, signatures: [cert.signatures[0]!, cert.signatures[2]!] }))
  const flipped = cert.signatures.map((s) => s.slice())
  flipped[1]![0] = flipped[1]![0]! ^ 1
  assert.ok(bad({ ...cert, signatures: flipped }), 'one bad signature spoils it')
  assert.ok(bad({ certificate: { ...cert.certificate, precommits: [...cert.certificate.precommits, cert.certificate.precommits[0]!] }, signatures: [...cert.signatures, cert.signatures[0]!] }), 'a signer counted twice')
  const stranger = testKeyPair('stranger')
  const sv = signVote(CHAIN, { ...precommit(1), from: toHex(stranger.publicKey) }, stranger.secretKey)
  assert.ok(bad({ certificate: { ...cert.certificate, precommits: [...cert.certificate.precommits, sv.vote] }, signatures: [...cert.signatures, sv.signature] }), 'a signer outside the set')

  const prop = signProposal(CHAIN, { height: 3, round: 1, validRound: 0, value: { id: value, data: new Uint8Array([1, 2]) }, from: toHex(vals[0]!.publicKey) }, vals[0]!.secretKey)
  assert.ok(verifyProposal(CHAIN, prop))
  const wire = decodeWire(encodeWire({ type: 'proposal', signed: prop }))
  assert.equal(wire.type, 'proposal')
  if (wire.type === 'proposal') assert.ok(verifyProposal(CHAIN, wire.signed))
  const wv = decodeWire(encodeWire({ type: 'vote', signed: signed[0]! }))
  assert.deepEqual(wv, { type: 'vote', signed: signed[0] })
  assert.throws(() => decodeWire(new Uint8Array([7, 1, 2])), MalformedBftMessage)
  assert.throws(() => decodeWire(encodeWire({ type: 'vote', signed: signed[0]! }).subarray(0, 20)), MalformedBftMessage)
})

test('chain spec: round trip, typed errors', () => {
  const spec = makeChainSpec({ chainId: 'c1', blockTimeMs: 500, validators, accounts: [{ publicKey: alice.publicKey, based: tokens(10) }], time: 5 })
  const chain = parseChainSpec(JSON.parse(JSON.stringify(spec)))
  assert.equal(chain.genesis.params.chainId, 'c1')
  assert.equal(chain.genesis.params.blockTimeMs, 500)
  assert.equal(chain.validators.length, 4)
  assert.equal(chain.genesis.accounts[0]?.based, tokens(10))
  const field = (raw: unknown): string => {
    try {
      parseChainSpec(raw)
      return 'accepted'
    } catch (e) {
      assert.ok(e instanceof InvalidChainSpec)
      return e.field
    }
  }
  assert.equal(field({ ...spec, validators: [] }), 'validators')
  assert.equal(field({ ...spec, validators: [{ publicKey: 'zz', power: '1' }] }), 'validators.0.publicKey')
  assert.equal(field({ ...spec, accounts: [{ address: 'nope' }] }), 'accounts.0.address')
  assert.equal(field({ ...spec, extra: 1 }), 'extra')
  // params: any subset of the overridable integers (the file's doc example names one), the rest default
  const tempo = parseChainSpec({ ...JSON.parse(JSON.stringify(spec)), params: { tempo: 360 } })
  assert.equal(tempo.genesis.params.tempo, 360)
  assert.equal(tempo.genesis.params.forecastPeriod, defaultParams({}).forecastPeriod)
  assert.equal(field({ ...spec, params: { tempo: 'x' } }), 'params.tempo')
  assert.equal(field({ ...spec, params: { notAParam: 1 } }), 'params.notAParam')
})

test('the slash per offence height is the chain parameter doubleSignSlashBps (genesis value here: 25%)', () => {
  const g: GenesisConfig = { ...genesis, params: defaultParams({ chainId: CHAIN, blockTimeMs: 100, doubleSignSlashBps: 2500 }) }
  const thousand = vals.map((k) => ({ publicKey: k.publicKey, power: 1000n }))
  const a = Ledger.open({ store: new MemoryStore(), genesis: g, validators: thousand })
  assert.equal(a.params().doubleSignSlashBps, 2500, 'stored with the genesis params')
  a.commitBlock(a.proposeBlock([], { time: a.nextBlockTime(), proposer: vals[0]!.publicKey }))
  const who = vals[2]!
  const x = new Uint8Array(32).fill(7)
  const sig = (value: Uint8Array | null): Uint8Array => signVote(CHAIN, { type: 'precommit', height: 1, round: 0, value: value ? toHex(value) : null, from: toHex(who.publicKey) }, who.secretKey).signature
  const ev = encodeEvidence({ validator: who.publicKey, height: 1, round: 0, type: 'precommit', first: { value: x, signature: sig(x) }, second: { value: null, signature: sig(null) } })
  a.commitBlock(a.proposeBlock([], { time: a.nextBlockTime(), proposer: vals[0]!.publicKey, evidence: [ev] }))
  assert.equal(a.validators().find((v) => toHex(v.publicKey) === toHex(who.publicKey))?.power, 750n, '1000 − 25%')
  // the params' encoding keeps the value across a reopen of the same store
  assert.equal(Ledger.open({ store: a.store, genesis: g, validators: thousand }).params().doubleSignSlashBps, 2500)
})

test('double-sign evidence in a block slashes the validator once; bad or repeated evidence is left out or refused', () => {
  const a = Ledger.open({ store: new MemoryStore(), genesis, validators })
  const b = Ledger.open({ store: new MemoryStore(), genesis, validators })
  const step = (l: Ledger, p: ReturnType<Ledger['proposeBlock']>): void => void l.commitBlock(p)
  const p1 = a.proposeBlock([], { time: a.nextBlockTime(), proposer: vals[0]!.publicKey })
  step(a, p1)
  b.applyBlock(p1.block)
  // validator 2 (power 2) prevoted two different blocks at height 1, round 0
  const x = new Uint8Array(32).fill(1)
  const y = new Uint8Array(32).fill(2)
  const who = vals[1]!
  const sig = (value: Uint8Array | null): Uint8Array => signVote(CHAIN, { type: 'prevote', height: 1, round: 0, value: value ? toHex(value) : null, from: toHex(who.publicKey) }, who.secretKey).signature
  const ev = encodeEvidence({ validator: who.publicKey, height: 1, round: 0, type: 'prevote', first: { value: x, signature: sig(x) }, second: { value: null, signature: sig(null) } })
  const forgedSig = encodeEvidence({ validator: who.publicKey, height: 1, round: 0, type: 'prevote', first: { value: x, signature: sig(x) }, second: { value: y, signature: sig(x) } })
  const same = encodeEvidence({ validator: who.publicKey, height: 1, round: 0, type: 'prevote', first: { value: x, signature: sig(x) }, second: { value: x, signature: sig(x) } })
  const p2 = a.proposeBlock([], { time: a.nextBlockTime(), proposer: vals[0]!.publicKey, evidence: [forgedSig, same, ev] })
  assert.equal(p2.block.evidence?.length, 1, 'only the valid item is included')
  assert.ok(p2.block.header.evidenceRoot)
  // it travels and applies on another node to the same root
  const again = decodeBlock(encodeBlock(p2.block))
  assert.deepEqual(encodeBlock(again), encodeBlock(p2.block))
  assert.equal(again.evidence?.length, 1)
  b.applyBlock(again)
  step(a, p2)
  assert.equal(toHex(a.head().hash), toHex(b.head().hash))
  assert.equal(toHex(a.head().stateRoot), toHex(b.head().stateRoot))
  const power = (l: Ledger): bigint | undefined => l.validators().find((v) => toHex(v.publicKey) === toHex(who.publicKey))?.power
  // 10% of 2 rounds down to 0: at least one unit goes, so 2 → 1
  assert.equal(power(a), 1n)
  assert.equal(power(b), 1n)
  // once per validator and height: a proposal leaves the repeat out, a block carrying it is invalid
  const p3 = a.proposeBlock([], { time: a.nextBlockTime(), proposer: vals[0]!.publicKey, evidence: [ev] })
  assert.equal(p3.block.evidence, undefined)
  const withRepeat = { ...p3.block, evidence: [ev], header: { ...p3.block.header, evidenceRoot: evidenceRoot([ev]) } }
  assert.throws(() => b.validateBlock(withRepeat), (e: unknown) => (e as { _tag: string; reason: string })._tag === 'InvalidBlock' && /already slashed/.test((e as { reason: string }).reason))
  // an evidence list that does not match the header's root is refused
  const wrongRoot = { ...p3.block, evidence: [forgedSig], header: { ...p3.block.header, evidenceRoot: evidenceRoot([ev]) } }
  assert.throws(() => b.validateBlock(wrongRoot), (e: unknown) => (e as { reason: string }).reason === 'evidence root')
  for (const l of [a, b]) assert.equal(auditSupply(l.store).ok, true)
  // a block without evidence encodes exactly as before: no root, no trailing bytes
  assert.equal(p1.block.header.evidenceRoot, undefined)
  assert.equal(encodeBlock(p1.block).length, encodeBlock({ header: p1.block.header, txs: [] }).length)
})
