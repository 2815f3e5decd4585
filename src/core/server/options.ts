import type {ConfigJson} from '../config/config-file.js'
import type {Settings} from '../config/settings.js'
import {UsageError} from '../errors.js'
import {DEFAULT_MONITOR, type MonitorOptions} from '../health/monitor.js'
import {DEFAULT_TIMEOUTS, type Timeouts} from '../http/dispatchers.js'
import {DEFAULT_HEALTH_POLICY, type HealthPolicy} from '../pools/runtime.js'
import {PROVIDER_TYPES, isProviderType, type ProviderType} from '../pools/types.js'
import {isLoopbackHost} from './auth.js'
import {DEFAULT_RESPONSE_LIMIT} from '../proxy/proxy.js'
import {DEFAULT_EVENT_LIMIT} from '../codecs/sse.js'
import {DEFAULT_ERROR_BODY_LIMIT} from '../http/body.js'
import {DEFAULT_BODY_LIMIT} from './server.js'

export interface ServeFlags {
  host?: string
  port?: number
  modelProvider?: string
  apiKey?: string
  healthCheckIntervalSeconds?: number
}

export interface ServeSettings {
  host: string
  port: number
  defaultType: ProviderType | undefined
  apiKey: string | undefined
  maxAttempts: number
  policy: HealthPolicy
  timeouts: Timeouts
  shutdownGraceMs: number
  bodyLimitBytes: number
  responseLimitBytes: number
  errorBodyLimitBytes: number
  streamEventLimitBytes: number
  clientHeadersTimeoutMs: number
  monitor: MonitorOptions
}

/** config.json keys for the pool's behaviour, with their defaults; each is documented in the README. */
export const TUNABLES = {
  RETRY_MAX_ATTEMPTS: 3,
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
  HEALTH_PROBE_INITIAL_SECONDS: DEFAULT_MONITOR.initialDelayMs / 1000,
  HEALTH_PROBE_MAX_SECONDS: DEFAULT_MONITOR.maxDelayMs / 1000,
  HEALTH_CHECK_TIMEOUT_SECONDS: DEFAULT_MONITOR.timeoutMs / 1000,
} as const

function tunable(config: ConfigJson, key: keyof typeof TUNABLES): number {
  const value = config[key]
  if (value === undefined) return TUNABLES[key]
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`config.json: ${key} must be a positive number, not ${JSON.stringify(value)}.`, {code: 'bad_config'})
  }
  return value
}

/** flag → environment → config.json → user settings → default, for everything `serve` needs. */
export function resolveServeSettings(flags: ServeFlags, env: NodeJS.ProcessEnv, config: ConfigJson, settings: Settings): ServeSettings {
  const host = flags.host ?? stringOf(config.HOST) ?? settings.host ?? '127.0.0.1'
  const port = flags.port ?? numberOf(config.SERVER_PORT, 'SERVER_PORT') ?? settings.port ?? 3000
  const apiKey = flags.apiKey ?? (env.AICLIENT_API_KEY || undefined) ?? stringOf(config.REQUIRED_API_KEY) ?? settings.apiKey
  const typeName = flags.modelProvider ?? stringOf(config.MODEL_PROVIDER) ?? settings.modelProvider
  if (typeName !== undefined && !isProviderType(typeName)) {
    throw new UsageError(`Unknown provider type "${typeName}" for the default type. Valid types: ${PROVIDER_TYPES.join(', ')}.`, {code: 'unknown_type'})
  }
  if (!isLoopbackHost(host) && !apiKey) {
    throw new UsageError(`Refusing to listen on ${host} without an API key: anyone who can reach it could spend your accounts.`, {
      code: 'needs_api_key',
      suggestions: ['Set one with --api-key, AICLIENT_API_KEY or REQUIRED_API_KEY in config.json, or listen on 127.0.0.1.'],
    })
  }
  return {
    host,
    port,
    defaultType: typeName as ProviderType | undefined,
    apiKey,
    maxAttempts: Math.max(1, Math.round(tunable(config, 'RETRY_MAX_ATTEMPTS'))),
    policy: {
      errorThreshold: Math.max(1, Math.round(tunable(config, 'ERROR_THRESHOLD'))),
      errorWindowMs: tunable(config, 'ERROR_WINDOW_SECONDS') * 1000,
      defaultCooldownMs: tunable(config, 'DEFAULT_COOLDOWN_SECONDS') * 1000,
      maxCooldownMs: tunable(config, 'MAX_COOLDOWN_SECONDS') * 1000,
    },
    timeouts: {
      connectMs: tunable(config, 'CONNECT_TIMEOUT_SECONDS') * 1000,
      headersMs: tunable(config, 'HEADERS_TIMEOUT_SECONDS') * 1000,
      idleMs: tunable(config, 'STREAM_IDLE_TIMEOUT_SECONDS') * 1000,
    },
    shutdownGraceMs: tunable(config, 'SHUTDOWN_GRACE_SECONDS') * 1000,
    bodyLimitBytes: Math.round(tunable(config, 'REQUEST_BODY_LIMIT_MB') * 1024 * 1024),
    responseLimitBytes: Math.round(tunable(config, 'RESPONSE_BODY_LIMIT_MB') * 1024 * 1024),
    errorBodyLimitBytes: Math.round(tunable(config, 'ERROR_BODY_LIMIT_MB') * 1024 * 1024),
    streamEventLimitBytes: Math.round(tunable(config, 'STREAM_EVENT_LIMIT_MB') * 1024 * 1024),
    clientHeadersTimeoutMs: tunable(config, 'CLIENT_HEADERS_TIMEOUT_SECONDS') * 1000,
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

/** Periodic probes of healthy instances: off unless asked for, because every probe spends quota. */
function healthyInterval(flag: number | undefined, config: ConfigJson): number {
  const value = flag ?? config.HEALTH_CHECK_INTERVAL_SECONDS ?? 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`config.json: HEALTH_CHECK_INTERVAL_SECONDS must be a number of seconds ≥ 0 (0 = off).`, {code: 'bad_config'})
  }
  return value
}

function checkModels(value: unknown): Partial<Record<ProviderType, string>> {
  if (value === undefined) return {}
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('config.json: HEALTH_CHECK_MODELS must map provider types to model names.', {code: 'bad_config'})
  for (const [type, model] of Object.entries(value)) {
    if (!isProviderType(type) || typeof model !== 'string') throw new UsageError(`config.json: HEALTH_CHECK_MODELS.${type} must be a model name for a known provider type.`, {code: 'bad_config'})
  }
  return value as Partial<Record<ProviderType, string>>
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function numberOf(value: unknown, key: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0 || number > 65_535) throw new UsageError(`config.json: ${key} must be a port number.`, {code: 'bad_config'})
  return number
}
