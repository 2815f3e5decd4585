import {configString, type ConfigJson, type LoadedConfigJson} from '../config/config-file.js'
import {checkModelAliases, type Settings} from '../config/settings.js'
import type {ModelAliases} from '../models/aliases.js'
import {UsageError} from '../errors.js'
import {DEFAULT_MONITOR, type MonitorOptions} from '../health/monitor.js'
import {DEFAULT_TIMEOUTS, type RequestTimeouts, type Timeouts} from '../http/dispatchers.js'
import {DEFAULT_HEALTH_POLICY, type HealthPolicy, type Routing} from '../pools/pool-state.js'
import {isStrategyName, STRATEGY_NAMES} from '../pools/selector.js'
import {DEFAULT_AFFINITY, type AffinityLimits} from '../pools/session-affinity.js'
import {DEFAULT_QUEUE_TIMEOUT_MS} from '../pools/slot-queue.js'
import {PROVIDER_TYPES, isProviderType, type ProviderType} from '../pools/types.js'
import {DEFAULT_RESPONSE_LIMIT} from '../proxy/types.js'
import {
  fallbackChainProblem,
  modelFallbackProblem,
  servedFallbacks,
  unservedWarning,
  type Fallbacks,
} from '../proxy/fallback.js'
import {DEFAULT_EVENT_LIMIT} from '../codecs/sse.js'
import {DEFAULT_ERROR_BODY_LIMIT} from '../http/body.js'
import {exposure} from './exposure.js'
import {requestLogOf, type RequestLogOptions} from '../request-log/request-log.js'
import {DEFAULT_RESPONSE_STORE, type ResponseStoreLimits} from './responses/memory.js'
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_BUFFERED_BODY_LIMIT,
  DEFAULT_MAX_CONNECTIONS,
} from './server.js'

export interface ServeFlags {
  host?: string
  port?: number
  modelProvider?: string
  apiKey?: string
  corsOrigins?: string[]
  healthCheckIntervalSeconds?: number
  allowLocalAdmin?: boolean
  logFile?: string
  logMaxSize?: string
  logBodies?: boolean
}

export interface ServeSettings {
  host: string
  port: number
  defaultType: ProviderType | undefined
  apiKey: string | undefined
  maxAttempts: number
  policy: HealthPolicy
  timeouts: UpstreamTimeouts
  shutdownGraceMs: number
  bodyLimitBytes: number
  responseLimitBytes: number
  errorBodyLimitBytes: number
  streamEventLimitBytes: number
  clientHeadersTimeoutMs: number
  clientBodyTimeoutMs: number
  bufferedBodyLimitBytes: number
  maxConnections: number
  responseStore: ResponseStoreLimits
  corsOrigins: string[]
  monitor: MonitorOptions
  /** MODEL_ALIASES: config.json's, else the user setting's. */
  modelAliases: ModelAliases
  /** ROUTING_STRATEGY, by provider type. */
  routing: Routing
  /** QUEUE_TIMEOUT_SECONDS: how long a request waits for a slot when the type's instances are all full. */
  queueTimeoutMs: number
  /** providerFallbackChain and modelFallbackMapping. */
  fallbacks: Fallbacks
  /** SESSION_AFFINITY's limits; null when it is turned off. */
  sessionAffinity: AffinityLimits | null
  /** METRICS_ENABLED: /metrics and the counting behind it. */
  metricsEnabled: boolean
  /** --allow-local-admin: the management API takes changes without an API key. */
  allowLocalAdmin: boolean
  /** --log-file's; undefined without one. */
  requestLog: RequestLogOptions | undefined
  /** TOKEN_ACCOUNTING: count answers' tokens into the pool file and the daily history (on unless `false`). */
  tokenAccounting: boolean
  /** Settings that were ignored, each a sentence for stderr. */
  warnings: string[]
}

/** The dispatchers' timeouts, and the ones each provider type's chat requests get. */
export interface UpstreamTimeouts extends Timeouts {
  byType: Record<ProviderType, RequestTimeouts>
}

/** config.json keys for the pool's behaviour, with their defaults; each is documented in the README. */
export const TUNABLES = {
  RETRY_MAX_ATTEMPTS: 3,
  QUEUE_TIMEOUT_SECONDS: DEFAULT_QUEUE_TIMEOUT_MS / 1000,
  ERROR_THRESHOLD: DEFAULT_HEALTH_POLICY.errorThreshold,
  ERROR_WINDOW_SECONDS: DEFAULT_HEALTH_POLICY.errorWindowMs / 1000,
  DEFAULT_COOLDOWN_SECONDS: DEFAULT_HEALTH_POLICY.defaultCooldownMs / 1000,
  MAX_COOLDOWN_SECONDS: DEFAULT_HEALTH_POLICY.maxCooldownMs / 1000,
  CONNECT_TIMEOUT_SECONDS: DEFAULT_TIMEOUTS.connectMs / 1000,
  HEADERS_TIMEOUT_SECONDS: DEFAULT_TIMEOUTS.headersMs / 1000,
  STREAM_IDLE_TIMEOUT_SECONDS: DEFAULT_TIMEOUTS.idleMs / 1000,
  SHUTDOWN_GRACE_SECONDS: 10,
  REQUEST_BODY_LIMIT_MB: DEFAULT_BODY_LIMIT / 1024 / 1024,
  RESPONSE_BODY_LIMIT_MB: DEFAULT_RESPONSE_LIMIT / 1024 / 1024,
  ERROR_BODY_LIMIT_MB: DEFAULT_ERROR_BODY_LIMIT / 1024 / 1024,
  STREAM_EVENT_LIMIT_MB: DEFAULT_EVENT_LIMIT / 1024 / 1024,
  CLIENT_HEADERS_TIMEOUT_SECONDS: 60,
  CLIENT_BODY_TIMEOUT_SECONDS: DEFAULT_BODY_TIMEOUT_MS / 1000,
  MAX_BUFFERED_BODY_MB: DEFAULT_BUFFERED_BODY_LIMIT / 1024 / 1024,
  MAX_CONNECTIONS: DEFAULT_MAX_CONNECTIONS,
  RESPONSES_STORE_MAX_ENTRIES: DEFAULT_RESPONSE_STORE.maxEntries,
  RESPONSES_STORE_MAX_MB: DEFAULT_RESPONSE_STORE.maxBytes / 1024 / 1024,
  RESPONSES_STORE_TTL_MINUTES: DEFAULT_RESPONSE_STORE.ttlMs / 60_000,
  SESSION_AFFINITY_TTL_MINUTES: DEFAULT_AFFINITY.ttlMs / 60_000,
  SESSION_AFFINITY_MAX_ENTRIES: DEFAULT_AFFINITY.maxEntries,
  HEALTH_PROBE_INITIAL_SECONDS: DEFAULT_MONITOR.initialDelayMs / 1000,
  HEALTH_PROBE_MAX_SECONDS: DEFAULT_MONITOR.maxDelayMs / 1000,
  HEALTH_CHECK_TIMEOUT_SECONDS: DEFAULT_MONITOR.timeoutMs / 1000,
} as const

function tunable(config: ConfigJson, key: keyof typeof TUNABLES): number {
  const value = config[key]
  if (value === undefined) return TUNABLES[key]
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`config.json: ${key} must be a positive number, not ${JSON.stringify(value)}.`, {
      code: 'bad_config',
    })
  }
  return value
}

/**
 * flag → environment → config.json → user settings → default, for everything `serve` needs. What would open the
 * pool to more clients is taken from a config.json only when the user named it (see exposure.ts).
 */
export function resolveServeSettings(
  flags: ServeFlags,
  env: NodeJS.ProcessEnv,
  configJson: LoadedConfigJson,
  settings: Settings,
): ServeSettings {
  const config = configJson.values
  const {host, apiKey, corsOrigins, warnings} = exposure(flags, env, configJson, settings)
  const port = flags.port ?? numberOf(config.SERVER_PORT, 'SERVER_PORT') ?? settings.port ?? 3000
  const typeName = flags.modelProvider ?? configString(config.MODEL_PROVIDER) ?? settings.modelProvider
  if (typeName !== undefined && !isProviderType(typeName)) {
    throw new UsageError(
      `Unknown provider type "${typeName}" for the default type. Valid types: ${PROVIDER_TYPES.join(', ')}.`,
      {code: 'unknown_type'},
    )
  }
  return {
    host,
    port,
    defaultType: typeName as ProviderType | undefined,
    apiKey,
    maxAttempts: Math.max(1, Math.round(tunable(config, 'RETRY_MAX_ATTEMPTS'))),
    queueTimeoutMs: tunable(config, 'QUEUE_TIMEOUT_SECONDS') * 1000,
    policy: {
      errorThreshold: Math.max(1, Math.round(tunable(config, 'ERROR_THRESHOLD'))),
      errorWindowMs: tunable(config, 'ERROR_WINDOW_SECONDS') * 1000,
      defaultCooldownMs: tunable(config, 'DEFAULT_COOLDOWN_SECONDS') * 1000,
      maxCooldownMs: tunable(config, 'MAX_COOLDOWN_SECONDS') * 1000,
    },
    timeouts: upstreamTimeouts(config),
    shutdownGraceMs: tunable(config, 'SHUTDOWN_GRACE_SECONDS') * 1000,
    bodyLimitBytes: Math.round(tunable(config, 'REQUEST_BODY_LIMIT_MB') * 1024 * 1024),
    responseLimitBytes: Math.round(tunable(config, 'RESPONSE_BODY_LIMIT_MB') * 1024 * 1024),
    errorBodyLimitBytes: Math.round(tunable(config, 'ERROR_BODY_LIMIT_MB') * 1024 * 1024),
    streamEventLimitBytes: Math.round(tunable(config, 'STREAM_EVENT_LIMIT_MB') * 1024 * 1024),
    clientHeadersTimeoutMs: tunable(config, 'CLIENT_HEADERS_TIMEOUT_SECONDS') * 1000,
    clientBodyTimeoutMs: tunable(config, 'CLIENT_BODY_TIMEOUT_SECONDS') * 1000,
    bufferedBodyLimitBytes: Math.round(tunable(config, 'MAX_BUFFERED_BODY_MB') * 1024 * 1024),
    maxConnections: Math.max(1, Math.round(tunable(config, 'MAX_CONNECTIONS'))),
    responseStore: {
      maxEntries: Math.max(1, Math.round(tunable(config, 'RESPONSES_STORE_MAX_ENTRIES'))),
      maxBytes: Math.round(tunable(config, 'RESPONSES_STORE_MAX_MB') * 1024 * 1024),
      ttlMs: tunable(config, 'RESPONSES_STORE_TTL_MINUTES') * 60_000,
    },
    corsOrigins,
    warnings,
    modelAliases: modelAliasesOf(config, settings),
    routing: routingOf(config.ROUTING_STRATEGY),
    fallbacks: fallbacksOf(config, warnings),
    sessionAffinity: sessionAffinityOf(config),
    metricsEnabled: switchOf(config, 'METRICS_ENABLED'),
    allowLocalAdmin: flags.allowLocalAdmin ?? false,
    requestLog: requestLogOf(flags, warnings),
    tokenAccounting: switchOf(config, 'TOKEN_ACCOUNTING'),
    monitor: {
      initialDelayMs: tunable(config, 'HEALTH_PROBE_INITIAL_SECONDS') * 1000,
      maxDelayMs: tunable(config, 'HEALTH_PROBE_MAX_SECONDS') * 1000,
      timeoutMs: tunable(config, 'HEALTH_CHECK_TIMEOUT_SECONDS') * 1000,
      healthyIntervalMs: healthyInterval(flags.healthCheckIntervalSeconds, config) * 1000,
      cheap: config.HEALTH_CHECK_CHEAP === true,
      defaultModels: checkModels(config.HEALTH_CHECK_MODELS),
    },
  }
}

/** A config.json switch that is on unless `false`. */
function switchOf(config: ConfigJson, key: 'SESSION_AFFINITY' | 'TOKEN_ACCOUNTING' | 'METRICS_ENABLED'): boolean {
  const value = config[key]
  if (value !== undefined && typeof value !== 'boolean') {
    throw new UsageError(`config.json: ${key} must be true or false, not ${JSON.stringify(value)}.`, {
      code: 'bad_config',
    })
  }
  return value !== false
}

/** SESSION_AFFINITY is on unless `false`; its limits are tunables. */
function sessionAffinityOf(config: ConfigJson): AffinityLimits | null {
  if (!switchOf(config, 'SESSION_AFFINITY')) return null
  return {
    ttlMs: tunable(config, 'SESSION_AFFINITY_TTL_MINUTES') * 60_000,
    maxEntries: Math.max(1, Math.round(tunable(config, 'SESSION_AFFINITY_MAX_ENTRIES'))),
  }
}

/** The per-type timeout keys: seconds for every type, or an object of them by type with an optional `default`. */
type PerTypeKey = 'HEADERS_TIMEOUT_SECONDS' | 'STREAM_IDLE_TIMEOUT_SECONDS'

export function upstreamTimeouts(config: ConfigJson): UpstreamTimeouts {
  const headers = secondsPerType(config, 'HEADERS_TIMEOUT_SECONDS')
  const idle = secondsPerType(config, 'STREAM_IDLE_TIMEOUT_SECONDS')
  const byType = Object.fromEntries(
    PROVIDER_TYPES.map((type) => [type, {headersMs: headers[type] * 1000, idleMs: idle[type] * 1000}]),
  ) as Record<ProviderType, RequestTimeouts>
  const all = Object.values(byType)
  return {
    connectMs: tunable(config, 'CONNECT_TIMEOUT_SECONDS') * 1000,
    // Requests that bring no timeouts of their own (model lists, probes, token refreshes) have shorter deadlines anyway.
    headersMs: Math.max(...all.map((t) => t.headersMs)),
    idleMs: Math.max(...all.map((t) => t.idleMs)),
    byType,
  }
}

function secondsPerType(config: ConfigJson, key: PerTypeKey): Record<ProviderType, number> {
  const value = config[key]
  const hint = `a positive number of seconds for every provider type, or an object of them by type (with an optional "default")`
  if (value === undefined || typeof value === 'number') {
    const seconds = tunable(config, key)
    return Object.fromEntries(PROVIDER_TYPES.map((type) => [type, seconds])) as Record<ProviderType, number>
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`config.json: ${key} must be ${hint}, not ${JSON.stringify(value)}.`, {code: 'bad_config'})
  const byType = byProviderType(key, value as Record<string, unknown>, (at, seconds) => {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
      throw new UsageError(`config.json: ${at} must be a positive number of seconds, not ${JSON.stringify(seconds)}.`, {
        code: 'bad_config',
      })
    }
    return seconds
  })
  return Object.fromEntries(PROVIDER_TYPES.map((type) => [type, byType[type] ?? TUNABLES[key]])) as Record<
    ProviderType,
    number
  >
}

/** Periodic probes of healthy instances: off unless asked for, because every probe spends quota. */
function healthyInterval(flag: number | undefined, config: ConfigJson): number {
  const value = flag ?? config.HEALTH_CHECK_INTERVAL_SECONDS ?? 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`config.json: HEALTH_CHECK_INTERVAL_SECONDS must be a number of seconds ≥ 0 (0 = off).`, {
      code: 'bad_config',
    })
  }
  return value
}

function checkModels(value: unknown): Partial<Record<ProviderType, string>> {
  if (value === undefined) return {}
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError('config.json: HEALTH_CHECK_MODELS must map provider types to model names.', {
      code: 'bad_config',
    })
  for (const [type, model] of Object.entries(value)) {
    if (!isProviderType(type) || typeof model !== 'string')
      throw new UsageError(`config.json: HEALTH_CHECK_MODELS.${type} must be a model name for a known provider type.`, {
        code: 'bad_config',
      })
  }
  return value as Partial<Record<ProviderType, string>>
}

/**
 * ROUTING_STRATEGY: one strategy for every type, or an object of them by type with an optional "default" (the same
 * shape as the per-type timeouts). Types it does not reach stay round-robin.
 */
export function routingOf(value: unknown): Routing {
  if (value === undefined) return {}
  const names = STRATEGY_NAMES.join(', ')
  const check = (at: string, name: unknown) => {
    if (!isStrategyName(name))
      throw new UsageError(`config.json: ${at} must be one of ${names}, not ${JSON.stringify(name)}.`, {
        code: 'bad_config',
      })
    return name
  }
  if (typeof value === 'string') {
    const name = check('ROUTING_STRATEGY', value)
    return Object.fromEntries(PROVIDER_TYPES.map((type) => [type, name]))
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(
      `config.json: ROUTING_STRATEGY must be a strategy (${names}) or an object of them by provider type, not ${JSON.stringify(value)}.`,
      {code: 'bad_config'},
    )
  return byProviderType('ROUTING_STRATEGY', value as Record<string, unknown>, check)
}

/**
 * A config.json object of values by provider type with an optional "default": each value checked, and spread over
 * the types it reaches (a type neither names nor the default reaches is left out).
 */
function byProviderType<T>(
  key: string,
  table: Record<string, unknown>,
  check: (at: string, value: unknown) => T,
): Partial<Record<ProviderType, T>> {
  for (const [name, value] of Object.entries(table)) {
    if (name !== 'default' && !isProviderType(name))
      throw new UsageError(
        `config.json: ${key} names an unknown provider type "${name}". Valid keys: default, ${PROVIDER_TYPES.join(', ')}.`,
        {code: 'bad_config'},
      )
    check(`${key}.${name}`, value)
  }
  const byType: Partial<Record<ProviderType, T>> = {}
  for (const type of PROVIDER_TYPES) {
    const value = table[type] ?? table.default
    if (value !== undefined) byType[type] = value as T
  }
  return byType
}

/** AIClient-2-API's keys, spelt as it spells them (camelCase, unlike the other keys of config.json). */
export function fallbacksOf(config: ConfigJson, warnings: string[]): Fallbacks {
  const checked = <T>(key: string, value: unknown, problem: (value: unknown) => string | undefined): T | undefined => {
    if (value === undefined) return undefined
    const found = problem(value)
    if (found !== undefined)
      throw new UsageError(`config.json: ${key}${/^[.[]/.test(found) ? '' : ' '}${found}.`, {code: 'bad_config'})
    return value as T
  }
  const {fallbacks, unknown} = servedFallbacks(
    checked('providerFallbackChain', config.providerFallbackChain, fallbackChainProblem) ?? {},
    checked('modelFallbackMapping', config.modelFallbackMapping, modelFallbackProblem) ?? {},
  )
  if (unknown.length > 0) warnings.push(unservedWarning(unknown))
  return fallbacks
}

/** A whole layer's value wins: config.json's MODEL_ALIASES replaces the user setting, it is not merged with it. */
function modelAliasesOf(config: ConfigJson, settings: Settings): ModelAliases {
  if (config.MODEL_ALIASES !== undefined)
    return checkModelAliases(config.MODEL_ALIASES, 'config.json: MODEL_ALIASES', 'bad_config')
  // A hand-edited settings file is checked as `config set` would have.
  if (settings.modelAliases !== undefined)
    return checkModelAliases(settings.modelAliases, 'user setting modelAliases', 'bad_config')
  return {}
}

function numberOf(value: unknown, key: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0 || number > 65_535)
    throw new UsageError(`config.json: ${key} must be a port number.`, {code: 'bad_config'})
  return number
}
