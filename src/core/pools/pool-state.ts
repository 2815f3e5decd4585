import {applyHealth, DEFAULT_HEALTH_POLICY, type HealthChange, type HealthPolicy} from './instance-health.js'
import {closeLease, openLease} from './leases.js'
import {createLive, stateOf, type InstanceStateName, type Lease, type LiveInstance} from './live-instance.js'
import {PendingChanges, type ChangeSet} from './pending-changes.js'
import {InstanceRegistry} from './registry.js'
import type {SessionAffinity} from './session-affinity.js'
import {
  Cursors,
  sidePick,
  STRATEGIES,
  STRATEGY_NAMES,
  unavailability,
  type StrategyName,
  type Unavailability,
} from './selector.js'
import {DEFAULT_QUEUE_TIMEOUT_MS, SlotQueue, type Departure, type Ticket} from './slot-queue.js'
import type {Quota} from '../quota/types.js'
import type {PoolInstance, ProviderType} from './types.js'
import {addTotals, addUsage} from '../usage/totals.js'
import type {TokenUsage} from '../usage/tokens.js'

export {DEFAULT_HEALTH_POLICY, type HealthPolicy} from './instance-health.js'
export {instanceLabel, type InstanceStateName, type Lease, type LiveInstance} from './live-instance.js'
export type {ChangeSet, OwnedField} from './pending-changes.js'
export type {PoolEvent, PoolEvents} from './registry.js'

/** ROUTING_STRATEGY resolved per type; a type not named goes round-robin. */
export type Routing = Partial<Record<ProviderType, StrategyName>>

/**
 * The in-memory truth while `serve` runs, composed of its parts: the registry of instances and their events, the
 * selection strategy with its cursors, the leases that own half-open trials, the health transitions, and the ledger
 * of changes the persister writes back.
 *
 * Reads (`list`, `stateOf`, selection) look at the local view only. Every write goes through `apply` as a
 * `HealthChange` that carries its own time, and trials are claimed in `openLease`: a store shared by several
 * nodes replaces those two steps (publish the change, claim the trial atomically) and nothing else.
 */
export class PoolState extends InstanceRegistry {
  private readonly cursors = new Cursors()
  private readonly ledger = new PendingChanges()
  private readonly queue = new SlotQueue()

  constructor(
    readonly policy: HealthPolicy = DEFAULT_HEALTH_POLICY,
    readonly now: () => number = Date.now,
    private routing: Routing = {},
    /** Sticky sessions; without it every request is routed on its own. */
    readonly affinity?: SessionAffinity,
    /** QUEUE_TIMEOUT_SECONDS: how long a request waits for a full type's slot before it is turned away. */
    readonly queueTimeoutMs: number = DEFAULT_QUEUE_TIMEOUT_MS,
  ) {
    super()
  }

  /** The strategy that picks among the type's instances; round-robin unless configured. */
  strategyOf(type: ProviderType): StrategyName {
    return this.routing[type] ?? 'round-robin'
  }

  /** The strategy after the type's current one, in use until `serve` stops; config.json is not touched. */
  cycleStrategy(type: ProviderType): StrategyName {
    const next = STRATEGY_NAMES[(STRATEGY_NAMES.indexOf(this.strategyOf(type)) + 1) % STRATEGY_NAMES.length]!
    this.routing = {...this.routing, [type]: next}
    return next
  }

  /** Merges a fresh read of the file; outside edits are adopted, counters we have not written yet are kept. */
  sync(instances: PoolInstance[]): void {
    this.replace(instances, {
      create: (config) => {
        this.ledger.open(config)
        return createLive(config)
      },
      adopt: (live, config) => this.adopt(live, config),
      removed: (id) => {
        this.ledger.forget(id)
        this.affinity?.forgetInstance(id)
      },
    })
  }

  private adopt(live: LiveInstance, config: PoolInstance): void {
    live.config = config
    this.apply(live, {type: 'disabled', disabled: config.isDisabled})
    // Counters on disk plus what we have not written yet; an outside reset to 0 is respected.
    const unwritten = this.ledger.unwritten(live.id)
    live.usageCount = config.usageCount + unwritten.usage
    live.errorCount = config.errorCount + unwritten.errors
    live.tokens = {...config.tokens}
    addTotals(live.tokens, unwritten.tokens)
    if (this.ledger.healthEditedOutside(live, config)) {
      this.apply(live, {type: 'edited-health', healthy: config.isHealthy, reason: config.lastErrorReason})
    }
    const until = this.ledger.cooldownEditedOutside(live, config)
    if (until !== undefined) this.apply(live, {type: 'edited-cooldown', until})
  }

  stateOf(live: LiveInstance, now = this.now()): InstanceStateName {
    return stateOf(live, now)
  }

  /**
   * Takes the next usable instance of the type for a request, skipping those already tried for it. An instance
   * whose cooldown has just ended gets one trial request; the others pass it by until that one answers. The lease
   * must be released when the request is done with the instance, whatever happened. `prefer` names an instance to
   * take first when it is usable; `session` is a key made with `sessionOf`, whose bound instance goes first within
   * the tier the strategy chooses from. With `model`, only instances that serve it are considered.
   */
  acquire(
    type: ProviderType,
    exclude: ReadonlySet<string>,
    {prefer, session, model}: {prefer?: string; session?: string; model?: string} = {},
  ): Lease | undefined {
    const now = this.now()
    const sticky = session === undefined ? undefined : this.affinity?.get(session)
    const selection = STRATEGIES[this.strategyOf(type)]({
      candidates: this.list(type),
      exclude,
      now,
      ...this.cursors.at(type),
      ...(prefer !== undefined && {prefer}),
      ...(sticky !== undefined && {sticky}),
      ...(model !== undefined && {model}),
    })
    if (!selection) return undefined
    this.cursors.picked(type, selection)
    return openLease(selection, now, this.policy.trialTimeoutMs)
  }

  /**
   * The affinity key of a client's session for a type and model; undefined when sticky sessions are off, in which
   * case the client's key is not even looked for.
   */
  sessionOf(type: ProviderType, model: string, clientKey: () => string | undefined): string | undefined {
    const key = this.affinity && clientKey()
    return key === undefined ? undefined : `${type}\0${model}\0${key}`
  }

  /**
   * The instance answered the session's request. An unbound session is bound to it; a bound one keeps its instance,
   * so that one served elsewhere while its instance cooled or was busy returns there once it is back. Only an
   * instance turning unhealthy, disabled or removed frees its sessions.
   */
  served(session: string, live: LiveInstance): void {
    if (this.affinity && this.affinity.get(session) === undefined) this.affinity.bind(session, live.id)
  }

  release(lease: Lease): void {
    if (lease.released) return
    closeLease(lease)
    this.queue.freed(lease.live.config.type)
  }

  /**
   * A place in the type's line for a slot, first come first served; the line holds as many requests as the type's
   * instances' `queueLimit` add up to, and each waits at most `queueTimeoutMs`. The ticket must be left when done.
   */
  joinLine(type: ProviderType, departure: Departure): Ticket | 'full' | 'gone' {
    const bound = this.list(type).reduce((sum, live) => sum + live.config.queueLimit, 0)
    return this.queue.join(type, bound, this.queueTimeoutMs, departure)
  }

  /** Requests of the type waiting for a slot now. */
  waiting(type: ProviderType): number {
    return this.queue.waiting(type)
  }

  /** An instance for a side request (a model list, a token count) that records no outcome and takes no trial. */
  pick(type: ProviderType): LiveInstance | undefined {
    return sidePick({candidates: this.list(type), now: this.now(), cursor: this.cursors.at(type).cursor})
  }

  /** Why nothing could be selected: the earliest cooldown end when every candidate is only cooling. */
  unavailability(type: ProviderType, exclude: ReadonlySet<string>, model?: string): Unavailability {
    return unavailability(this.list(type), exclude, this.now(), model)
  }

  succeeded(live: LiveInstance, latencyMs: number): void {
    this.apply(live, {type: 'succeeded', at: this.now(), latencyMs})
  }

  /** A counted failure (5xx, timeout, network): enough within the window make the instance unhealthy. */
  failed(live: LiveInstance, reason: string): void {
    this.apply(live, {type: 'failed', at: this.now(), reason})
  }

  markUnhealthy(live: LiveInstance, reason: string): void {
    this.apply(live, {type: 'unhealthy', reason})
  }

  markHealthy(live: LiveInstance): void {
    this.apply(live, {type: 'healthy'})
  }

  /** Rests an instance; `capped` false for a quota whose reset time the upstream named (next day, next month). */
  cool(live: LiveInstance, durationMs: number, reason: string, capped = true): void {
    this.apply(live, {type: 'cooled', at: this.now(), durationMs, reason, capped})
  }

  /** A probe's verdict while serving: success brings the instance back, failure is only noted. */
  probed(live: LiveInstance, healthy: boolean, reason: string | null): void {
    this.emit('event', {type: 'probe', instance: live, healthy, reason})
    this.apply(live, {type: 'probed', at: this.now(), healthy})
  }

  /**
   * Adds an answer's tokens to its instance's totals and to what the file has not got yet; an instance no longer in
   * the pool (removed while the request ran) has nothing to add them to.
   */
  countTokens(instanceId: string, usage: TokenUsage): void {
    const live = this.get(instanceId)
    if (!live) return
    addUsage(live.tokens, usage)
    this.ledger.countTokens(instanceId, usage)
    this.emit('dirty')
  }

  /** Keeps what a probe learnt of the instance's quota, for the board and the pool file. */
  quotaRead(live: LiveInstance, quota: Quota): void {
    this.apply(live, {type: 'quota', quota})
  }

  /** Takes the unwritten changes, for the persister; they are given back with `restore` if the write fails. */
  drain(): ChangeSet {
    return this.ledger.drain((id) => this.get(id))
  }

  restore(changes: ChangeSet): void {
    this.ledger.restore(changes)
  }

  /** After a successful write: the file now says what we wrote, so a later difference is someone else's edit. */
  committed(changes: ChangeSet): void {
    this.ledger.committed(changes)
  }

  /** The one place the state is written: the change, then its entry in the ledger, then the events. */
  private apply(live: LiveInstance, change: HealthChange): void {
    const wasDisabled = live.disabled
    const effect = applyHealth(live, change, this.policy)
    this.ledger.record(live.id, effect)
    // Disabling is not a health event; the board reads it from the file. Both free the instance's sessions.
    if (live.disabled && !wasDisabled) this.affinity?.forgetInstance(live.id)
    if (effect.health) {
      const state = stateOf(live, this.now())
      if (state === 'unhealthy') this.affinity?.forgetInstance(live.id)
      this.emit('event', {
        type: 'health',
        instance: live,
        state,
        reason: state === 'cooling' ? live.cooldownReason : live.reason,
      })
    }
    if (effect.dirty) this.emit('dirty')
  }
}
