/**
 * Restart intensity as a pure sliding window (OTP's add_restart): keep the restart times that fall within the last
 * `periodMs`, add this one, and allow it while the count is at most `intensity`. With OTP's defaults (1 in 5 s) a
 * second restart within 5 s of the first makes the supervisor give up.
 */
export interface IntensityFlags {
  readonly intensity: number
  readonly periodMs: number
}

export type IntensityVerdict = { readonly verdict: 'restart' | 'give_up'; readonly times: readonly number[] }

export function addRestart(times: readonly number[], now: number, flags: IntensityFlags): IntensityVerdict {
  const recent = times.filter((t) => now - t < flags.periodMs)
  recent.push(now)
  return { verdict: recent.length > flags.intensity ? 'give_up' : 'restart', times: recent }
}
