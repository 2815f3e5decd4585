import type {Quota} from '../quota/types.js'
import type {LiveInstance} from './live-instance.js'
import type {OwnedField} from './pending-changes.js'

export interface HealthPolicy {
  /** Counted errors within `errorWindowMs` that make an instance unhealthy. */
  errorThreshold: number
  errorWindowMs: number
  /** Cooldown after a 429 without a usable Retry-After. */
  defaultCooldownMs: number
  maxCooldownMs: number
  /**
   * A half-open trial not released by then is presumed lost, and another request may take one. Leases are
   * released in a `finally`, so this only guards against a caller that forgets; default 5 minutes.
   */
  trialTimeoutMs?: number
}

export const DEFAULT_HEALTH_POLICY: HealthPolicy = {
  errorThreshold: 3,
  errorWindowMs: 60_000,
  defaultCooldownMs: 30_000,
  maxCooldownMs: 30 * 60_000,
}

/**
 * Everything that moves an instance's health, as data. Each change carries the time it happened, so applying the
 * same changes in the same order gives the same state anywhere: a shared store can publish them as they are.
 */
export type HealthChange =
  | {type: 'succeeded'; at: number; latencyMs: number}
  /** A counted failure (5xx, timeout, network): enough of them within the window make the instance unhealthy. */
  | {type: 'failed'; at: number; reason: string}
  | {type: 'unhealthy'; reason: string}
  | {type: 'healthy'}
  /** A rest; `capped` false for a quota whose reset time the upstream named (next day, next month). */
  | {type: 'cooled'; at: number; durationMs: number; reason: string; capped: boolean}
  /** A probe's verdict while serving: success brings the instance back, failure is only noted. */
  | {type: 'probed'; at: number; healthy: boolean}
  /** What a probe learnt of the instance's quota; a spent one comes with its own `cooled`. */
  | {type: 'quota'; quota: Quota}
  /** Edits made to the file by someone else (`pool disable`, `pool reset`, a hand edit). */
  | {type: 'disabled'; disabled: boolean}
  | {type: 'edited-health'; healthy: boolean; reason: string | null}
  | {type: 'edited-cooldown'; until: number}

/** What a change did, for the caller to write back and announce. */
export interface HealthEffect {
  /** Owned fields the change set, to be written to the file. */
  fields: OwnedField[]
  usage: number
  errors: number
  /** The instance's state or its reason changed. */
  health: boolean
  /** There is something to write. */
  dirty: boolean
}

const LATENCY_SAMPLES = 64

/** Applies one change to an instance. The only place its health, cooldown, error window and trial move. */
export function applyHealth(live: LiveInstance, change: HealthChange, policy: HealthPolicy): HealthEffect {
  switch (change.type) {
    case 'succeeded':
      return succeeded(live, change.at, change.latencyMs)
    case 'failed':
      return failed(live, change.at, change.reason, policy)
    case 'unhealthy':
      return unhealthy(live, change.reason, effect())
    case 'healthy':
      return healthy(live, effect())
    case 'cooled': {
      const ms = Math.max(change.durationMs, 0)
      return cooldown(
        live,
        change.at + (change.capped ? Math.min(ms, policy.maxCooldownMs) : ms),
        change.reason,
        effect({dirty: true}),
      )
    }
    case 'probed': {
      live.lastHealthCheckTime = new Date(change.at).toISOString()
      const noted = effect({fields: ['lastHealthCheckTime'], dirty: !change.healthy})
      return change.healthy ? healthy(live, noted) : noted
    }
    case 'quota':
      live.quota = change.quota
      return effect({fields: ['quota'], dirty: true})
    case 'disabled':
      // Disabled or enabled by the user: a trial that was running ends with the change.
      if (live.disabled !== change.disabled) live.trial = null
      live.disabled = change.disabled
      return effect()
    case 'edited-health':
      return editedHealth(live, change.healthy, change.reason)
    case 'edited-cooldown':
      live.cooldownUntil = change.until
      live.trial = null
      return effect({health: true})
  }
}

function effect(overrides: Partial<HealthEffect> = {}): HealthEffect {
  return {fields: [], usage: 0, errors: 0, health: false, dirty: false, ...overrides}
}

function succeeded(live: LiveInstance, at: number, latencyMs: number): HealthEffect {
  live.usageCount++
  live.lastUsedAt = at
  live.recentErrors = []
  live.latencies.push(latencyMs)
  if (live.latencies.length > LATENCY_SAMPLES) live.latencies.shift()
  const done = effect({fields: ['lastUsed'], usage: 1, dirty: true})
  // The half-open trial went through: full traffic again.
  return live.trial ? cooldown(live, 0, null, done) : done
}

function failed(live: LiveInstance, at: number, reason: string, policy: HealthPolicy): HealthEffect {
  live.errorCount++
  live.lastErrorTime = new Date(at).toISOString()
  live.recentErrors = live.recentErrors.filter((t) => at - t < policy.errorWindowMs)
  live.recentErrors.push(at)
  const counted = effect({fields: ['lastErrorTime'], errors: 1, dirty: true})
  return live.recentErrors.length >= policy.errorThreshold && live.healthy ? unhealthy(live, reason, counted) : counted
}

function unhealthy(live: LiveInstance, reason: string, so: HealthEffect): HealthEffect {
  live.healthy = false
  live.reason = reason
  return {...so, fields: [...so.fields, 'isHealthy', 'lastErrorReason'], health: true, dirty: true}
}

function healthy(live: LiveInstance, so: HealthEffect): HealthEffect {
  if (live.healthy && live.cooldownUntil === 0) return so
  live.healthy = true
  live.reason = null
  live.recentErrors = []
  live.cooldownUntil = 0
  live.trial = null
  return {...so, fields: [...so.fields, 'isHealthy', 'lastErrorReason', 'cooldownUntil'], health: true, dirty: true}
}

/** A trial belongs to one half-open period: a new cooldown, or none, ends it. */
function cooldown(live: LiveInstance, until: number, reason: string | null, so: HealthEffect): HealthEffect {
  live.trial = null
  live.cooldownUntil = until
  live.cooldownReason = reason
  return {...so, fields: [...so.fields, 'cooldownUntil'], health: true}
}

function editedHealth(live: LiveInstance, isHealthy: boolean, reason: string | null): HealthEffect {
  live.healthy = isHealthy
  live.reason = reason
  if (isHealthy) {
    live.recentErrors = []
    live.cooldownUntil = 0
    live.trial = null
  }
  return effect({health: true})
}
