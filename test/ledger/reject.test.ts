/**
 * Every kind of bad transaction is rejected with its typed error and changes nothing (the state copy it was applied
 * to is byte-for-byte unchanged), and the same tx inside a block is dropped by the producer / fails the block.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { signTx, testKeyPair, tokens, withMinFee, type KeyPair } from 'basedai/ledger'
import { EMPTY, expectReject, fixture, run } from './helpers.ts'

test('each bad transaction kind → typed error, no state change', () => {
  const f = fixture({ params: { validatorSlots: 1, minerSlots: 1, immunityPeriod: 1000, maxBrains: 11, reservedBrains: [0, 1, 2, 3, 4, 5, 6] } })
  const k = f.keys as Record<string, KeyPair>
  const ckA = testKeyPair('ck-a').publicKey
  const ckB = testKeyPair('ck-b').publicKey
  run(f,
    ['alice', { kind: 'acquireBrainBurn', maxCost: tokens(1000) }], // #7
    ['bob', { kind: 'acquireBrainStake' }], // #8
    ['alice', { kind: 'register', brain: 7, computeKey: ckA, role: 'validator', maxFee: tokens(100) }],
    ['alice', { kind: 'addStake', brain: 7, target: EMPTY, amount: tokens(10) }],
  )
  const to = k.carol!.publicKey
  // Signature: signed by bob, claims alice.
  const good = f.tx('alice', { kind: 'transfer', to, amount: 1n })
  const forged = signTx({ ...good.tx }, k.bob!.secretKey)
  expectReject(f, forged, 'BadSignature')
  // Flip one payload byte after signing.
  const tampered = { ...good, payload: new Uint8Array(good.payload) }
  tampered.payload[tampered.payload.length - 1] ^= 1
  expectReject(f, tampered, 'BadSignature')
  // Nonce: replay of an old nonce, and a gap.
  expectReject(f, f.tx('alice', { kind: 'transfer', to, amount: 1n }, { nonceOffset: -1n }), 'BadNonce')
  expectReject(f, f.tx('alice', { kind: 'transfer', to, amount: 1n }, { nonceOffset: 1n }), 'BadNonce')
  expectReject(f, f.tx('alice', { kind: 'transfer', to, amount: 1n }, { chainId: 'other' }), 'WrongChain')
  expectReject(f, f.tx('alice', { kind: 'transfer', to, amount: 1n }, { fee: 1n }), 'FeeTooLow')
  // Balance.
  expectReject(f, f.tx('carol', { kind: 'transfer', to, amount: tokens(2_000_000) }), 'InsufficientFunds')
  expectReject(f, f.tx('carol', { kind: 'transferPepe', to, amount: tokens(2_000_000) }), 'InsufficientFunds')
  expectReject(f, f.tx('alice', { kind: 'removeStake', brain: 7, target: EMPTY, amount: tokens(11) }), 'InsufficientFunds')
  // Fee itself unpayable (bridge has 10 BASED): a fee above the balance.
  expectReject(f, f.tx('bridge', { kind: 'transfer', to, amount: 1n }, { fee: tokens(11) }), 'InsufficientFunds')
  // Unknown sender account.
  const ghost = testKeyPair('ghost')
  const p = f.ledger.params()
  expectReject(f, signTx(withMinFee({ chainId: p.chainId, from: ghost.publicKey, nonce: 0n, body: { kind: 'transfer', to, amount: 1n } }, p.baseFee, p.byteFee), ghost.secretKey), 'UnknownAccount')
  // Malformed fields.
  expectReject(f, f.tx('alice', { kind: 'transfer', to, amount: 0n }), 'InvalidAmount')
  expectReject(f, f.tx('alice', { kind: 'setBrain', brain: 7, setting: 'ownerBps', text: '', key: EMPTY, value: 10_001n }), 'MalformedTx')
  expectReject(f, f.tx('alice', { kind: 'setBrain', brain: 7, setting: 'name', text: 'x', key: EMPTY, value: 1n }), 'MalformedTx')
  expectReject(f, f.tx('foundation', { kind: 'propose', param: 'bonusBps', value: 10_001n }), 'MalformedTx')
  // Permissions.
  expectReject(f, f.tx('alice', { kind: 'bridgeMint', to, amount: 5n, ref: new Uint8Array(32) }), 'PermissionDenied')
  expectReject(f, f.tx('bob', { kind: 'setBrain', brain: 7, setting: 'name', text: 'mine', key: EMPTY, value: 0n }), 'PermissionDenied')
  expectReject(f, f.tx('bob', { kind: 'transferBrain', brain: 7, to }), 'PermissionDenied')
  expectReject(f, f.tx('bob', { kind: 'register', brain: 7, computeKey: ckA, role: 'miner', maxFee: tokens(100) }), 'PermissionDenied')
  expectReject(f, f.tx('carol', { kind: 'propose', param: 'bonusBps', value: 5n }), 'PermissionDenied')
  // Unknown Brain / participant / proposal.
  expectReject(f, f.tx('alice', { kind: 'addStake', brain: 99, target: EMPTY, amount: 1n }), 'UnknownBrain')
  expectReject(f, f.tx('alice', { kind: 'register', brain: 9, computeKey: ckB, role: 'miner', maxFee: tokens(100) }), 'UnknownBrain')
  expectReject(f, f.tx('alice', { kind: 'addStake', brain: 7, target: ckB, amount: 1n }), 'UnknownParticipant')
  expectReject(f, f.tx('alice', { kind: 'vote', proposal: 0, brain: 7, approve: true }), 'UnknownProposal')
  // Brain rules.
  expectReject(f, f.tx('alice', { kind: 'acquireBrainBurn', maxCost: tokens(1199) }), 'BurnPriceAboveMax')
  expectReject(f, f.tx('bob', { kind: 'transferBrain', brain: 8, to }), 'BrainNotTransferable')
  expectReject(f, f.tx('alice', { kind: 'deactivateBrain', brain: 7 }), 'NotDeactivatable')
  expectReject(f, f.tx('bob', { kind: 'deactivateBrain', brain: 8 }), 'StillLocked')
  expectReject(f, f.tx('foundation', { kind: 'transferBrain', brain: 0, to }), 'ReservedBrain')
  expectReject(f, f.tx('foundation', { kind: 'deactivateBrain', brain: 3 }), 'ReservedBrain')
  // Registration.
  expectReject(f, f.tx('alice', { kind: 'register', brain: 7, computeKey: ckA, role: 'validator', maxFee: tokens(100) }), 'AlreadyRegistered')
  expectReject(f, f.tx('carol', { kind: 'register', brain: 7, computeKey: ckB, role: 'validator', maxFee: tokens(100) }), 'SlotsFull')
  expectReject(f, f.tx('carol', { kind: 'register', brain: 7, computeKey: ckB, role: 'miner', maxFee: tokens(99) }), 'RegistrationFeeAboveMax')
  // Governance.
  run(f, ['foundation', { kind: 'propose', param: 'bonusBps', value: 500n }])
  expectReject(f, f.tx('bob', { kind: 'vote', proposal: 0, brain: 8, approve: true }), 'NotGigaBrain')
  run(f, ['alice', { kind: 'vote', proposal: 0, brain: 7, approve: false }])
  expectReject(f, f.tx('alice', { kind: 'vote', proposal: 0, brain: 7, approve: true }), 'AlreadyVoted')
  // Bridge replay of a mint reference.
  const ref = new Uint8Array(32).fill(7)
  run(f, ['bridge', { kind: 'bridgeMint', to, amount: 5n, ref }])
  expectReject(f, f.tx('bridge', { kind: 'bridgeMint', to, amount: 5n, ref }), 'DuplicateMint')
  // Supply bound: a mint that would push Pepecoin past 2^128−1 is malformed, not a crash.
  expectReject(f, f.tx('bridge', { kind: 'bridgeMint', to, amount: (1n << 128n) - 1n, ref: new Uint8Array(32).fill(9) }), 'MalformedTx')
  // Cap: maxBrains 11 → non-reserved ids 7..10 (7, 8 taken); take 9 and 10, then the cap bites.
  run(f, ['carol', { kind: 'acquireBrainStake' }], ['dave', { kind: 'acquireBrainStake' }])
  expectReject(f, f.tx('alice', { kind: 'acquireBrainBurn', maxCost: tokens(10_000) }), 'BrainCapReached')
})

test('a producer drops rejected txs and reports their typed errors', () => {
  const f = fixture()
  const to = f.keys.carol!.publicKey
  const ok = f.tx('alice', { kind: 'transfer', to, amount: 5n })
  const replay = f.tx('alice', { kind: 'transfer', to, amount: 5n }) // same nonce as `ok`
  const before = f.based('carol')
  const r = f.block([ok, replay], { allowReject: true })
  assert.equal(r.included, 1)
  assert.deepEqual(r.rejected.map((x) => [x.index, x.error._tag]), [[1, 'BadNonce']])
  assert.equal(f.based('carol'), before + 5n)
})
