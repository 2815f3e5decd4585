import {EventEmitter} from 'node:events'
import type {InstanceStateName} from './state.js'
import type {PoolInstance, ProviderType} from './types.js'

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

const DEFAULT_TRIAL_TIMEOUT_MS = 5 * 60_000

/** The half-open trial an instance is running: owned by one lease, presumed lost after `until`. */
interface Trial {
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

/** Fields `serve` owns and writes back; everything else in the file belongs to the user and the CLI. */
export type OwnedField = 'isHealthy' | 'lastErrorReason' | 'cooldownUntil' | 'lastUsed' | 'lastErrorTime' | 'lastHealthCheckTime'

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
  /** Milliseconds; turned into the file's ISO string only when written, not on every request. */
  lastUsedAt: number | null
  lastErrorTime: string | null
  lastHealthCheckTime: string | null
  /** Timestamps of recent counted errors, for the sliding window. */
  recentErrors: number[]
  latencies: number[]
  /** A half-open trial request is running: the cooldown ended and this one request tests the water. */
  trial: Trial | null
  /** Counter increments not yet written to the file, and the owned fields changed since the last write. */
  pending: {usage: number; errors: number; fields: Set<OwnedField>}
  /** The file's isHealthy and cooldownUntil as last seen, to tell an outside `pool reset` from our own writes. */
  diskHealthy: boolean
  diskCooldown: number
}

/** How logs, errors and the board name an instance: its name, else the start of its uuid. */
export function instanceLabel(live: LiveInstance): string {
  return live.config.name ?? live.config.uuid.slice(0, 8)
}

export type PoolEvent =
  | {type: 'health'; instance: LiveInstance; state: InstanceStateName; reason: string | null}
  | {type: 'changed'}
  | {type: 'probe'; instance: LiveInstance; healthy: boolean; reason: string | null}

const LATENCY_SAMPLES = 64

/**
 * The in-memory truth while `serve` runs. Outcomes update it synchronously; `changes` tells the persister
 * something needs writing; `events` feed logs and the board. Selection is round-robin with a cursor per type.
 */
export class PoolState extends EventEmitter {
  private readonly byId = new Map<string, LiveInstance>()
  private readonly byType = new Map<ProviderType, LiveInstance[]>()
  private readonly cursors = new Map<ProviderType, number>()

  constructor(
    readonly policy: HealthPolicy = DEFAULT_HEALTH_POLICY,
    readonly now: () => number = Date.now,
  ) {
    super()
  }

  /**
   * Merges a fresh read of the file: new instances appear, removed ones go, outside edits are adopted. Instances are
   * matched by id, which tells apart entries that share a uuid (see PoolInstance.id): each is served on its own.
   */
  sync(instances: PoolInstance[]): void {
    const seen = new Set<string>()
    const lists = new Map<ProviderType, LiveInstance[]>()
    for (const config of instances) {
      const id = config.id
      seen.add(id)
      const live = this.byId.get(id) ?? this.create(id, config)
      this.adopt(live, config)
      this.byId.set(id, live)
      lists.set(config.type, [...(lists.get(config.type) ?? []), live])
    }
    for (const id of [...this.byId.keys()]) if (!seen.has(id)) this.byId.delete(id)
    this.byType.clear()
    for (const [type, list] of lists) this.byType.set(type, list)
    this.emit('event', {type: 'changed'} satisfies PoolEvent)
  }

  private create(id: string, config: PoolInstance): LiveInstance {
    return {
      id,
      config,
      healthy: config.isHealthy,
      disabled: config.isDisabled,
      reason: config.lastErrorReason,
      cooldownUntil: parseTime(config.raw.cooldownUntil),
      cooldownReason: null,
      inFlight: 0,
      usageCount: config.usageCount,
      errorCount: config.errorCount,
      lastUsedAt: config.lastUsed === null ? null : Date.parse(config.lastUsed),
      lastErrorTime: config.lastErrorTime,
      lastHealthCheckTime: config.lastHealthCheckTime,
      recentErrors: [],
      latencies: [],
      trial: null,
      pending: {usage: 0, errors: 0, fields: new Set()},
      diskHealthy: config.isHealthy,
      diskCooldown: parseTime(config.raw.cooldownUntil),
    }
  }

  private adopt(live: LiveInstance, config: PoolInstance): void {
    live.config = config
    // Disabled or enabled by the user: a trial that was running ends with the change.
    if (live.disabled !== config.isDisabled) live.trial = null
    live.disabled = config.isDisabled
    // Counters on disk plus what we have not written yet; an outside reset to 0 is respected.
    live.usageCount = config.usageCount + live.pending.usage
    live.errorCount = config.errorCount + live.pending.errors
    const outsideEdit = config.isHealthy !== live.diskHealthy && !live.pending.fields.has('isHealthy')
    if (outsideEdit && config.isHealthy !== live.healthy) {
      live.healthy = config.isHealthy
      live.reason = config.lastErrorReason
      if (config.isHealthy) {
        live.recentErrors = []
        live.cooldownUntil = 0
        live.trial = null
      }
      this.emitHealth(live)
    }
    live.diskHealthy = config.isHealthy
    // A cooldown changed on disk by someone else (`pool reset` clears it) replaces ours, and ends any trial.
    const diskCooldown = parseTime(config.raw.cooldownUntil)
    if (diskCooldown !== live.diskCooldown && diskCooldown !== live.cooldownUntil && !live.pending.fields.has('cooldownUntil')) {
      live.cooldownUntil = diskCooldown
      live.trial = null
      this.emitHealth(live)
    }
    live.diskCooldown = diskCooldown
  }

  list(type?: ProviderType): LiveInstance[] {
    return type ? (this.byType.get(type) ?? []) : [...this.byId.values()]
  }

  types(): ProviderType[] {
    return [...this.byType.keys()].filter((type) => (this.byType.get(type)?.length ?? 0) > 0)
  }

  get(id: string): LiveInstance | undefined {
    return this.byId.get(id)
  }

  stateOf(live: LiveInstance, now = this.now()): InstanceStateName {
    if (live.disabled) return 'disabled'
    if (!live.healthy) return 'unhealthy'
    if (live.cooldownUntil > now) return 'cooling'
    return 'healthy'
  }

  /**
   * Takes the next usable instance of the type in round-robin order for a request, skipping those already tried
   * for it. An instance whose cooldown has just ended gets one trial request; the others pass it by until that one
   * answers. The lease must be released when the request is done with the instance, whatever happened.
   */
  acquire(type: ProviderType, exclude: ReadonlySet<string>): Lease | undefined {
    const list = this.byType.get(type)
    if (!list || list.length === 0) return undefined
    const now = this.now()
    const start = (this.cursors.get(type) ?? 0) % list.length
    for (let step = 0; step < list.length; step++) {
      const index = (start + step) % list.length
      const live = list[index]!
      if (exclude.has(live.id) || this.stateOf(live, now) !== 'healthy') continue
      const halfOpen = live.cooldownUntil !== 0
      if (halfOpen && this.trialRunning(live, now)) continue
      const trial = halfOpen ? {until: now + (this.policy.trialTimeoutMs ?? DEFAULT_TRIAL_TIMEOUT_MS)} : null
      if (trial) live.trial = trial
      this.cursors.set(type, index + 1)
      live.inFlight++
      return {live, trial, released: false}
    }
    return undefined
  }

  /** Ends a request's hold on its instance; a trial it owned is over. Safe to call twice. */
  release(lease: Lease): void {
    if (lease.released) return
    lease.released = true
    const {live} = lease
    live.inFlight = Math.max(0, live.inFlight - 1)
    if (lease.trial && live.trial === lease.trial) live.trial = null
  }

  /**
   * An instance for a side request (a model list, a token count) that records no outcome: usable and not being
   * tried out, never the subject of a trial, and not counted in flight.
   */
  pick(type: ProviderType): LiveInstance | undefined {
    const list = this.byType.get(type) ?? []
    const now = this.now()
    const start = this.cursors.get(type) ?? 0
    for (let step = 0; step < list.length; step++) {
      const live = list[(start + step) % list.length]!
      if (this.stateOf(live, now) === 'healthy' && !this.trialRunning(live, now)) return live
    }
    return undefined
  }

  private trialRunning(live: LiveInstance, now: number): boolean {
    return live.trial !== null && live.trial.until > now
  }

  /** Why nothing could be selected: the earliest cooldown end when every candidate is only cooling. */
  unavailability(type: ProviderType, exclude: ReadonlySet<string>): {coolingUntil: number | null; counts: Record<InstanceStateName, number>} {
    const now = this.now()
    const counts: Record<InstanceStateName, number> = {healthy: 0, cooling: 0, unhealthy: 0, disabled: 0}
    let coolingUntil: number | null = null
    for (const live of this.byType.get(type) ?? []) {
      if (exclude.has(live.id)) continue
      const state = this.stateOf(live, now)
      counts[state]++
      if (state === 'cooling') coolingUntil = Math.min(coolingUntil ?? Infinity, live.cooldownUntil)
    }
    return {coolingUntil, counts}
  }

  succeeded(live: LiveInstance, latencyMs: number): void {
    live.usageCount++
    live.pending.usage++
    live.lastUsedAt = this.now()
    live.pending.fields.add('lastUsed')
    live.recentErrors = []
    live.latencies.push(latencyMs)
    if (live.latencies.length > LATENCY_SAMPLES) live.latencies.shift()
    // The half-open trial went through: full traffic again.
    if (live.trial) this.setCooldown(live, 0, null)
    this.changed()
  }

  /** A counted failure (5xx, timeout, network): three within the window make the instance unhealthy. */
  failed(live: LiveInstance, reason: string): void {
    const now = this.now()
    live.errorCount++
    live.pending.errors++
    live.lastErrorTime = new Date(now).toISOString()
    live.pending.fields.add('lastErrorTime')
    live.recentErrors = live.recentErrors.filter((t) => now - t < this.policy.errorWindowMs)
    live.recentErrors.push(now)
    if (live.recentErrors.length >= this.policy.errorThreshold && live.healthy) this.markUnhealthy(live, reason)
    this.changed()
  }

  markUnhealthy(live: LiveInstance, reason: string): void {
    live.healthy = false
    live.reason = reason
    live.pending.fields.add('isHealthy').add('lastErrorReason')
    this.emitHealth(live)
    this.changed()
  }

  markHealthy(live: LiveInstance): void {
    if (live.healthy && live.cooldownUntil === 0) return
    live.healthy = true
    live.reason = null
    live.recentErrors = []
    live.cooldownUntil = 0
    live.trial = null
    live.pending.fields.add('isHealthy').add('lastErrorReason').add('cooldownUntil')
    this.emitHealth(live)
    this.changed()
  }

  /** Rests an instance; `capped` false for a quota whose reset time the upstream named (next day, next month). */
  cool(live: LiveInstance, durationMs: number, reason: string, capped = true): void {
    const ms = capped ? Math.min(Math.max(durationMs, 0), this.policy.maxCooldownMs) : Math.max(durationMs, 0)
    this.setCooldown(live, this.now() + ms, reason)
    this.changed()
  }

  /** A probe's verdict while serving: success brings the instance back, failure is only noted. */
  probed(live: LiveInstance, healthy: boolean, reason: string | null): void {
    live.lastHealthCheckTime = new Date(this.now()).toISOString()
    live.pending.fields.add('lastHealthCheckTime')
    this.emit('event', {type: 'probe', instance: live, healthy, reason} satisfies PoolEvent)
    if (healthy) this.markHealthy(live)
    else this.changed()
  }

  /** A trial belongs to one half-open period: a new cooldown, or none, ends it. */
  private setCooldown(live: LiveInstance, until: number, reason: string | null): void {
    live.trial = null
    live.cooldownUntil = until
    live.cooldownReason = reason
    live.pending.fields.add('cooldownUntil')
    this.emitHealth(live)
  }

  private emitHealth(live: LiveInstance): void {
    const state = this.stateOf(live)
    this.emit('event', {type: 'health', instance: live, state, reason: state === 'cooling' ? live.cooldownReason : live.reason} satisfies PoolEvent)
  }

  private changed(): void {
    this.emit('dirty')
  }

  /** Takes the unwritten changes, for the persister; they are given back with `restore` if the write fails. */
  drain(): Map<string, {usage: number; errors: number; fields: Partial<Record<OwnedField, unknown>>}> {
    const out = new Map<string, {usage: number; errors: number; fields: Partial<Record<OwnedField, unknown>>}>()
    for (const live of this.byId.values()) {
      const {pending} = live
      if (pending.usage === 0 && pending.errors === 0 && pending.fields.size === 0) continue
      const fields: Partial<Record<OwnedField, unknown>> = {}
      for (const field of pending.fields) fields[field] = this.ownedValue(live, field)
      out.set(live.id, {usage: pending.usage, errors: pending.errors, fields})
      live.pending = {usage: 0, errors: 0, fields: new Set()}
    }
    return out
  }

  /** After a successful write: the file now says what we wrote, so a later difference is someone else's edit. */
  committed(changes: ReturnType<PoolState['drain']>): void {
    for (const [id, change] of changes) {
      const live = this.byId.get(id)
      if (!live) continue
      if (typeof change.fields.isHealthy === 'boolean') live.diskHealthy = change.fields.isHealthy
      if ('cooldownUntil' in change.fields) live.diskCooldown = parseTime(change.fields.cooldownUntil)
    }
  }

  restore(changes: ReturnType<PoolState['drain']>): void {
    for (const [id, change] of changes) {
      const live = this.byId.get(id)
      if (!live) continue
      live.pending.usage += change.usage
      live.pending.errors += change.errors
      for (const field of Object.keys(change.fields) as OwnedField[]) live.pending.fields.add(field)
    }
  }

  private ownedValue(live: LiveInstance, field: OwnedField): unknown {
    switch (field) {
      case 'isHealthy':
        return live.healthy
      case 'lastErrorReason':
        return live.reason
      case 'cooldownUntil':
        return live.cooldownUntil > 0 ? new Date(live.cooldownUntil).toISOString() : null
      case 'lastUsed':
        return live.lastUsedAt === null ? null : new Date(live.lastUsedAt).toISOString()
      case 'lastErrorTime':
        return live.lastErrorTime
      case 'lastHealthCheckTime':
        return live.lastHealthCheckTime
    }
  }
}

function parseTime(value: unknown): number {
  if (typeof value !== 'string') return 0
  const time = Date.parse(value)
  return Number.isNaN(time) ? 0 : time
}
