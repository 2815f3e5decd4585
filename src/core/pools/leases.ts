import type {Lease, LiveInstance} from './live-instance.js'
import type {Selection} from './selector.js'

export const DEFAULT_TRIAL_TIMEOUT_MS = 5 * 60_000

/**
 * Takes the selected instance for one request: counted in flight and, when it is half-open, the owner of its one
 * trial until the lease is released, a new cooldown starts, or `trialTimeoutMs` passes. Claiming a trial is the
 * one step of selection that a shared store must make atomic.
 */
export function openLease(selection: Selection, now: number, trialTimeoutMs = DEFAULT_TRIAL_TIMEOUT_MS): Lease {
  const {live} = selection
  const trial = selection.halfOpen ? {until: now + trialTimeoutMs} : null
  if (trial) live.trial = trial
  live.inFlight++
  return {live, trial, released: false}
}

/** Ends a request's hold on its instance; a trial it owned is over. Safe to call twice. */
export function closeLease(lease: Lease): void {
  if (lease.released) return
  lease.released = true
  const live: LiveInstance = lease.live
  live.inFlight = Math.max(0, live.inFlight - 1)
  if (lease.trial && live.trial === lease.trial) live.trial = null
}
