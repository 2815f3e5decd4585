import type {TokenTotals} from '../usage/totals.js'
import {latestQuota, storedQuota, type Quota} from '../quota/types.js'
import type {PoolInstance} from './types.js'

export type InstanceStateName = 'healthy' | 'cooling' | 'unhealthy' | 'disabled'

/** The half-open trial an instance is running: owned by one lease, presumed lost after `until`. */
export interface Trial {
  readonly until: number
}

/**
 * One request's hold on an instance, from `acquire` to `release`: counted in flight, and the owner of the
 * instance's half-open trial when it took one. Only the owner's release ends a trial.
 */
export interface Lease {
  readonly live: LiveInstance
  readonly trial: Trial | null
  released: boolean
}

/** An instance as `serve` holds it: the file's entry plus what serving has learnt about it since. */
export interface LiveInstance {
  readonly id: string
  config: PoolInstance
  healthy: boolean
  disabled: boolean
  reason: string | null
  cooldownUntil: number
  cooldownReason: string | null
  inFlight: number
  usageCount: number
  errorCount: number
  /** The file's token totals plus what this process has counted since. */
  tokens: TokenTotals
  /** Milliseconds; turned into the file's ISO string only when written, not on every request. */
  lastUsedAt: number | null
  lastErrorTime: string | null
  lastHealthCheckTime: string | null
  /** Timestamps of recent counted errors, for the sliding window. */
  recentErrors: number[]
  latencies: number[]
  /** A half-open trial request is running: the cooldown ended and this one request tests the water. */
  trial: Trial | null
  /** The quota as the health monitor last read it; the file's may be newer (`pool check` writes it too). */
  quota: Quota | null
}

export function createLive(config: PoolInstance): LiveInstance {
  return {
    id: config.id,
    config,
    healthy: config.isHealthy,
    disabled: config.isDisabled,
    reason: config.lastErrorReason,
    cooldownUntil: parseTime(config.raw.cooldownUntil),
    cooldownReason: null,
    inFlight: 0,
    usageCount: config.usageCount,
    errorCount: config.errorCount,
    tokens: {...config.tokens},
    lastUsedAt: config.lastUsed === null ? null : Date.parse(config.lastUsed),
    lastErrorTime: config.lastErrorTime,
    lastHealthCheckTime: config.lastHealthCheckTime,
    recentErrors: [],
    latencies: [],
    trial: null,
    quota: storedQuota(config.raw.quota),
  }
}

/** The latest quota reading of an instance: serve's own, or a newer one `pool check` wrote to the file. */
export function quotaOf(live: LiveInstance): Quota | null {
  return latestQuota(live.quota, storedQuota(live.config.raw.quota))
}

/** How logs, errors and the board name an instance: its name, else the start of its uuid. */
export function instanceLabel(live: LiveInstance): string {
  return live.config.name ?? live.config.uuid.slice(0, 8)
}

/** The one reading of an instance's state, for `serve` (from memory) and `pool list` (from the file). */
export function stateOf(
  status: {disabled: boolean; healthy: boolean; cooldownUntil: number},
  now: number,
): InstanceStateName {
  if (status.disabled) return 'disabled'
  if (!status.healthy) return 'unhealthy'
  if (status.cooldownUntil > now) return 'cooling'
  return 'healthy'
}

/** The state a person reads in `pool list`; `cooldownUntil` is persisted by `serve` so the CLI can show it too. */
export function persistedState(instance: PoolInstance, now: number): InstanceStateName {
  return stateOf(
    {disabled: instance.isDisabled, healthy: instance.isHealthy, cooldownUntil: parseTime(instance.raw.cooldownUntil)},
    now,
  )
}

export function trialRunning(live: LiveInstance, now: number): boolean {
  return live.trial !== null && live.trial.until > now
}

/** A time the file holds as an ISO string, in milliseconds; 0 for none or one that does not parse. */
export function parseTime(value: unknown): number {
  if (typeof value !== 'string') return 0
  const time = Date.parse(value)
  return Number.isNaN(time) ? 0 : time
}
