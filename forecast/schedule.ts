/**
 * The block schedule of one forecast round, a pure function of its parameters, for the ledger to enforce:
 *
 *   commit window  [origin − commitLead, origin)      forecasts are hashed before the first forecast window starts
 *   reveal window  [origin, origin + revealWindow)    opened only after every commitment is final
 *   scoring height max(reveal close, origin + horizon·blocksPerStep)   once every forecast window is realised
 *
 * A commitment after `origin` would be made while the forecast windows are already being realised, and a reveal
 * before `origin` could be copied by a late committer: both are refused ({@link OutOfRoundWindow}).
 */
import { InvalidForecastRecord, OutOfRoundWindow } from './errors.ts'

export interface RoundScheduleInput {
  readonly originHeight: number
  readonly blocksPerStep: number
  readonly horizon: number
  /** Blocks before the origin during which commitments are accepted. */
  readonly commitLead: number
  /** Blocks from the origin during which reveals are accepted. */
  readonly revealWindow: number
}

export interface RoundSchedule {
  readonly commitFrom: number
  readonly commitUntil: number
  readonly revealFrom: number
  readonly revealUntil: number
  /** First height at which the round can be scored. */
  readonly scoreAt: number
}

export type RoundPhase = 'pending' | 'commit' | 'reveal' | 'realising' | 'scorable'

export function roundSchedule(r: RoundScheduleInput): RoundSchedule {
  for (const [field, v, min] of [['originHeight', r.originHeight, 0], ['blocksPerStep', r.blocksPerStep, 1],
    ['horizon', r.horizon, 1], ['commitLead', r.commitLead, 1], ['revealWindow', r.revealWindow, 1]] as const) {
    if (!Number.isSafeInteger(v) || v < min) throw new InvalidForecastRecord({ field, reason: `must be an integer ≥ ${min}` })
  }
  const realisedAt = r.originHeight + r.horizon * r.blocksPerStep
  if (!Number.isSafeInteger(realisedAt + r.revealWindow)) throw new InvalidForecastRecord({ field: 'horizon', reason: 'round ends beyond 2^53' })
  return {
    commitFrom: Math.max(0, r.originHeight - r.commitLead),
    commitUntil: r.originHeight,
    revealFrom: r.originHeight,
    revealUntil: r.originHeight + r.revealWindow,
    scoreAt: Math.max(r.originHeight + r.revealWindow, realisedAt),
  }
}

/** Where a height falls in the round. */
export function roundPhase(s: RoundSchedule, height: number): RoundPhase {
  if (height < s.commitFrom) return 'pending'
  if (height < s.commitUntil) return 'commit'
  if (height < s.revealUntil) return 'reveal'
  return height < s.scoreAt ? 'realising' : 'scorable'
}

/** Throws {@link OutOfRoundWindow} unless `height` is inside the window of `action`. */
export function checkRoundWindow(s: RoundSchedule, action: 'commit' | 'reveal', height: number): void {
  const [from, until] = action === 'commit' ? [s.commitFrom, s.commitUntil] : [s.revealFrom, s.revealUntil]
  if (!Number.isSafeInteger(height) || height < from || height >= until) {
    throw new OutOfRoundWindow({ action, height, from, until })
  }
}
