import type {LiveInstance, PoolEvent, PoolState} from '../pools/pool-state.js'
import type {ProviderType} from '../pools/types.js'
import type {Adapters} from '../providers/index.js'
import {probeInstance, type ProbeResult} from './probe.js'

export interface MonitorOptions {
  /** First probe after an instance became unhealthy (or, for those unhealthy in the file, after start). */
  initialDelayMs: number
  /** The delay doubles after each failed probe up to this. */
  maxDelayMs: number
  /** Probe healthy instances this often too; 0 turns it off (the default: probes cost quota). */
  healthyIntervalMs: number
  timeoutMs: number
  cheap?: boolean
  defaultModels?: Partial<Record<ProviderType, string>>
}

export const DEFAULT_MONITOR: MonitorOptions = {
  initialDelayMs: 30_000,
  maxDelayMs: 600_000,
  healthyIntervalMs: 0,
  timeoutMs: 15_000,
}

interface Schedule {
  timer: NodeJS.Timeout
  delayMs: number
}

/**
 * Brings unhealthy instances back while `serve` runs: each is probed on its own backoff schedule and returns to
 * rotation on the first success. Disabled instances are never probed.
 */
export class HealthMonitor {
  private readonly schedules = new Map<string, Schedule>()
  private healthyTimer: NodeJS.Timeout | undefined
  private readonly running = new Set<Promise<unknown>>()
  private stopped = false
  private readonly onEvent = (event: PoolEvent) => {
    if (event.type === 'health') this.track(event.instance)
    else if (event.type === 'changed') for (const live of this.state.list()) this.track(live)
  }

  constructor(
    private readonly state: PoolState,
    private readonly adapters: Adapters,
    private readonly options: MonitorOptions = DEFAULT_MONITOR,
  ) {}

  start(): void {
    this.state.on('event', this.onEvent)
    for (const live of this.state.list()) this.track(live)
    if (this.options.healthyIntervalMs > 0) {
      this.healthyTimer = setInterval(() => {
        for (const live of this.state.list()) if (live.healthy && !live.disabled) void this.probe(live)
      }, this.options.healthyIntervalMs)
      this.healthyTimer.unref()
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.state.off('event', this.onEvent)
    for (const schedule of this.schedules.values()) clearTimeout(schedule.timer)
    this.schedules.clear()
    if (this.healthyTimer) clearInterval(this.healthyTimer)
    await Promise.allSettled([...this.running])
  }

  /** Starts a schedule for an instance that needs one, and drops schedules that are no longer needed. */
  private track(live: LiveInstance): void {
    const needsProbes = !live.healthy && !live.disabled && this.adapters[live.config.type] !== undefined
    const existing = this.schedules.get(live.id)
    if (!needsProbes) {
      if (existing) clearTimeout(existing.timer)
      this.schedules.delete(live.id)
      return
    }
    if (!existing) this.schedule(live, this.options.initialDelayMs)
  }

  private schedule(live: LiveInstance, delayMs: number): void {
    if (this.stopped) return
    const timer = setTimeout(() => {
      void this.probe(live).then((result) => {
        if (result && !result.healthy) this.schedule(live, Math.min(delayMs * 2, this.options.maxDelayMs))
        else this.schedules.delete(live.id)
      })
    }, delayMs)
    timer.unref()
    this.schedules.set(live.id, {timer, delayMs})
  }

  private record(live: LiveInstance, result: ProbeResult): void {
    if (result.quota) this.state.quotaRead(live, result.quota)
    this.state.probed(live, result.healthy, result.reason)
    if (result.healthy) return
    if (result.state === 'cooling') {
      // A spent quota whose reset the vendor named rests until then, however far off (next day, next month).
      const named = result.reason === 'quota' && result.retryAfterMs !== null
      this.state.cool(
        live,
        result.retryAfterMs ?? this.state.policy.defaultCooldownMs,
        result.reason ?? 'rate limited',
        !named,
      )
    } else if (live.healthy) this.state.markUnhealthy(live, result.reason ?? 'probe failed')
  }

  /** Probes one instance at once (the board's "check now"), whatever its state; records the result. */
  probeNow(live: LiveInstance): Promise<ProbeResult | undefined> {
    return this.probe(live)
  }

  private probe(live: LiveInstance): Promise<ProbeResult | undefined> {
    const current = this.state.get(live.id)
    const adapter = this.adapters[live.config.type]
    if (!current || current.disabled || !adapter || this.stopped) return Promise.resolve(undefined)
    const work = probeInstance(adapter, current.config, {
      timeoutMs: this.options.timeoutMs,
      cheap: this.options.cheap,
      defaultModels: this.options.defaultModels,
      now: this.state.now,
    }).then((result) => {
      if (!this.stopped) this.record(current, result)
      return result
    })
    this.running.add(work)
    void work.finally(() => this.running.delete(work))
    return work
  }
}
