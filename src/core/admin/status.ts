import type {ProxyMetrics} from '../metrics/metrics.js'
import {zeroTokens} from '../metrics/tally.js'
import {summariseStatus, type TokenSummary} from '../oauth/token-summary.js'
import {median} from '../pools/latency.js'
import {quotaOf} from '../pools/live-instance.js'
import {instanceLabel, type InstanceStateName, type LiveInstance, type PoolState} from '../pools/pool-state.js'
import type {Quota} from '../quota/types.js'
import type {StrategyName} from '../pools/selector.js'
import type {ProviderType} from '../pools/types.js'
import type {Adapters} from '../providers/index.js'
import type {TokenKind} from '../usage/tokens.js'
import {totalOf, type TokenTotals} from '../usage/totals.js'

export interface StatusSources {
  state: PoolState
  adapters: Adapters
  startedAt: number
  now: () => number
  /** Absent when METRICS_ENABLED is false: the counts since start are then not kept. */
  metrics?: ProxyMetrics
}

export interface InstanceStatusJson {
  id: string
  type: ProviderType
  uuid: string
  name: string | null
  /** How logs and the board name it: the name, else the start of the uuid. */
  label: string
  state: InstanceStateName
  /** Why it is unhealthy (auth, server, …) or cooling (a rate limit, a quota until a reset time). */
  reason: string | null
  cooldownUntil: string | null
  inFlight: number
  /** Conversations bound to it (sticky sessions). */
  sessions: number
  limits: {concurrency: number; queue: number}
  priority: number
  weight: number
  /** The pool file's counters: answers served and errors counted. */
  requests: number
  errors: number
  p50Ms: number | null
  lastUsed: string | null
  lastErrorTime: string | null
  lastHealthCheckTime: string | null
  /** OAuth types: the access token's state and expiry, once serve has read the credential file. */
  token: TokenSummary | null
  /** Tokens its answers used since serve started, by kind; null when metrics are off. */
  usage: Record<TokenKind, number> | null
  /** All the tokens it used: the pool file's totals plus this run's not yet written (see TokenTotals). */
  tokens: TokenTotals & {total: number}
  /** What its vendor last said is left of its quota (pool check or serve's probes); null when none said. */
  quota: Quota | null
}

export interface StatusJson {
  startedAt: string
  uptimeSeconds: number
  /** Requests answered since start, by status class; null when metrics are off. */
  requests: Record<string, number> | null
  types: Record<string, {strategy: StrategyName; instances: number; healthy: number; waiting: number}>
  sessions: number
  instances: InstanceStatusJson[]
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** What the status board shows, as data: the pool's instances in file order, grouped by type. */
export function statusOf({state, adapters, startedAt, now, metrics}: StatusSources): StatusJson {
  const at = now()
  const sessions = state.affinity?.counts()
  const totals = metrics?.totals()
  const types: StatusJson['types'] = {}
  const instances: InstanceStatusJson[] = []
  for (const type of state.types()) {
    const list = state.list(type)
    const rows = list.map((live) => instanceStatus(live, state.stateOf(live, at), at))
    types[type] = {
      strategy: state.strategyOf(type),
      instances: list.length,
      healthy: rows.filter((row) => row.state === 'healthy').length,
      waiting: state.waiting(type),
    }
    instances.push(...rows)
  }
  return {
    startedAt: new Date(startedAt).toISOString(),
    uptimeSeconds: Math.round((at - startedAt) / 1000),
    requests: totals?.requests ?? null,
    types,
    sessions: [...(sessions?.values() ?? [])].reduce((sum, n) => sum + n, 0),
    instances,
  }

  function instanceStatus(live: LiveInstance, current: InstanceStateName, at: number): InstanceStatusJson {
    const {config} = live
    const token = adapters[config.type]?.tokenStatus?.(config)
    return {
      id: live.id,
      type: config.type,
      uuid: config.uuid,
      name: config.name,
      label: instanceLabel(live),
      state: current,
      reason: current === 'cooling' ? live.cooldownReason : current === 'unhealthy' ? live.reason : null,
      cooldownUntil: live.cooldownUntil > at ? iso(live.cooldownUntil) : null,
      inFlight: live.inFlight,
      sessions: sessions?.get(live.id) ?? 0,
      limits: {concurrency: config.concurrencyLimit, queue: config.queueLimit},
      priority: config.priority,
      weight: config.weight,
      requests: live.usageCount,
      errors: live.errorCount,
      p50Ms: median(live.latencies),
      lastUsed: iso(live.lastUsedAt),
      lastErrorTime: live.lastErrorTime,
      lastHealthCheckTime: live.lastHealthCheckTime,
      token: token ? summariseStatus(token) : null,
      usage: totals ? (totals.tokens.get(live.id) ?? zeroTokens()) : null,
      tokens: {...live.tokens, total: totalOf(live.tokens)},
      quota: quotaOf(live),
    }
  }
}
