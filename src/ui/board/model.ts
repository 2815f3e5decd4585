import {median} from '../../core/pools/latency.js'
import {quotaOf, type InstanceStateName} from '../../core/pools/live-instance.js'
import {instanceLabel, type LiveInstance, type PoolState} from '../../core/pools/pool-state.js'
import type {StrategyName} from '../../core/pools/selector.js'
import type {ProviderType} from '../../core/pools/types.js'
import type {RequestRecord} from '../../core/proxy/types.js'
import {totalOf} from '../../core/usage/totals.js'
import type {Quota} from '../../core/quota/types.js'

export interface InstanceRowData {
  id: string
  type: ProviderType
  name: string
  state: InstanceStateName
  /** "cooling 12s", "unhealthy: auth", … */
  stateText: string
  inFlight: number
  /** Sessions bound to the instance (sticky sessions). */
  sessions: number
  /** The instance's concurrencyLimit; 0 is none. */
  concurrencyLimit: number
  priority: number
  weight: number
  /** How the instance's type picks among its instances. */
  strategy: StrategyName
  requests: number
  errors: number
  /** Tokens its answers used (all input and output), the pool file's count and this run's. */
  tokens: number
  /** Tokens per second of its answers over the last few seconds. */
  tokensPerSecond: number
  /** Errors as a share of all outcomes, 0–1; null before the first outcome. */
  errorRate: number | null
  p50Ms: number | null
  lastUsed: string | null
  /** For OAuth types: when the access token expires (or why refreshing fails). */
  token: string | null
  /** What the vendor last reported of the quota. */
  quota: Quota | null
}

export interface BoardData {
  url: string
  startedAt: number
  now: number
  requestsPerSecond: number
  tokensPerSecond: number
  total: number
  failed: number
  rows: InstanceRowData[]
  recent: RequestRecord[]
  message: string | null
}

function stateText(state: InstanceStateName, live: LiveInstance, now: number): string {
  if (state === 'cooling') return `cooling ${Math.max(1, Math.ceil((live.cooldownUntil - now) / 1000))}s`
  if (state === 'unhealthy') return live.reason ? `unhealthy: ${live.reason}` : 'unhealthy'
  return state
}

export type TokenInfo = (live: LiveInstance) => string | null

/** Rows for the board, in pool-file order, grouped by type in the order types first appear. */
export function buildRows(
  state: PoolState,
  now: number,
  tokenInfo: TokenInfo = () => null,
  tokenRates: ReadonlyMap<string, number> = new Map(),
): InstanceRowData[] {
  const sessions = state.affinity?.counts()
  return state.types().flatMap((type) =>
    state.list(type).map((live) => {
      const s = state.stateOf(live, now)
      const outcomes = live.usageCount + live.errorCount
      return {
        id: live.id,
        type,
        name: instanceLabel(live),
        state: s,
        stateText: stateText(s, live, now),
        inFlight: live.inFlight,
        sessions: sessions?.get(live.id) ?? 0,
        concurrencyLimit: live.config.concurrencyLimit,
        priority: live.config.priority,
        weight: live.config.weight,
        strategy: state.strategyOf(type),
        requests: live.usageCount,
        errors: live.errorCount,
        tokens: totalOf(live.tokens),
        tokensPerSecond: tokenRates.get(live.id) ?? 0,
        errorRate: outcomes === 0 ? null : live.errorCount / outcomes,
        p50Ms: median(live.latencies),
        lastUsed: live.lastUsedAt === null ? null : new Date(live.lastUsedAt).toISOString(),
        token: tokenInfo(live),
        quota: quotaOf(live),
      }
    }),
  )
}
