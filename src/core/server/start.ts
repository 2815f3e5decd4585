import type {AddressInfo} from 'node:net'
import {codecs} from '../codecs/index.js'
import {HealthMonitor} from '../health/monitor.js'
import {Dispatchers} from '../http/dispatchers.js'
import {PoolState} from '../pools/pool-state.js'
import {SessionAffinity} from '../pools/session-affinity.js'
import {PoolStore} from '../pools/store.js'
import {PoolSync} from '../pools/sync.js'
import {createAdapters, type Adapters} from '../providers/index.js'
import {rememberSecrets} from '../secrets.js'
import type {RequestRecord} from '../proxy/types.js'
import {TokenAccounting} from '../usage/accounting.js'
import {historyFileOf} from '../usage/history-file.js'
import type {ServeSettings} from './options.js'
import {ProxyServer} from './server.js'

export interface StartOptions extends ServeSettings {
  poolsFile: string
  now?: () => number
  flushDelayMs?: number
  pollMs?: number
  onRecord?: (record: RequestRecord) => void
  onWarning?: (message: string) => void
  onDropped?: (field: string) => void
}

export interface RunningProxy {
  url: string
  address: AddressInfo
  state: PoolState
  sync: PoolSync
  store: PoolStore
  monitor: HealthMonitor
  adapters: Adapters
  /** Counts answers' tokens; undefined when TOKEN_ACCOUNTING is false. */
  accounting: TokenAccounting | undefined
  startedAt: number
  /** Graceful: stop accepting, drain, save statistics. */
  stop(): Promise<void>
}

export async function startProxy(options: StartOptions): Promise<RunningProxy> {
  const now = options.now ?? Date.now
  // The clients' key is a secret this process holds like any other: no error or log line may show it.
  if (options.apiKey) rememberSecrets('serve --api-key', [options.apiKey])
  const store = new PoolStore(options.poolsFile)
  const affinity = options.sessionAffinity ? new SessionAffinity(options.sessionAffinity, now) : undefined
  const state = new PoolState(options.policy, now, options.routing, affinity, options.queueTimeoutMs)
  const sync = new PoolSync(store, state, {
    flushDelayMs: options.flushDelayMs,
    pollMs: options.pollMs,
    onWarning: options.onWarning,
  })
  await sync.start()
  const accounting = options.tokenAccounting
    ? new TokenAccounting(state, {
        historyFile: historyFileOf(store.file),
        poolFile: store.file,
        now,
        flushDelayMs: options.flushDelayMs,
        onWarning: options.onWarning,
      })
    : undefined
  const onRecord = accounting
    ? (record: RequestRecord) => {
        options.onRecord?.(record)
        accounting.record(record)
      }
    : options.onRecord
  const dispatchers = new Dispatchers(options.timeouts)
  const adapters = createAdapters(dispatchers, store)
  const monitor = new HealthMonitor(state, adapters, options.monitor)
  const server = new ProxyServer({
    state,
    adapters,
    codecs,
    apiKey: options.apiKey,
    defaultType: options.defaultType,
    maxAttempts: options.maxAttempts,
    bodyLimitBytes: options.bodyLimitBytes,
    responseLimitBytes: options.responseLimitBytes,
    upstreamTimeouts: options.timeouts.byType,
    errorBodyLimitBytes: options.errorBodyLimitBytes,
    streamEventLimitBytes: options.streamEventLimitBytes,
    headersTimeoutMs: options.clientHeadersTimeoutMs,
    bodyTimeoutMs: options.clientBodyTimeoutMs,
    bufferedBodyLimitBytes: options.bufferedBodyLimitBytes,
    maxConnections: options.maxConnections,
    responseStore: options.responseStore,
    corsOrigins: options.corsOrigins,
    now,
    onRecord,
    onDropped: options.onDropped,
    modelAliases: options.modelAliases,
    fallbacks: options.fallbacks,
  })
  let address: AddressInfo
  try {
    address = await server.listen(options.port, options.host)
  } catch (error) {
    await accounting?.stop()
    await sync.stop()
    throw error
  }
  monitor.start()
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let stopping: Promise<void> | undefined
  return {
    url: `http://${host}:${address.port}`,
    address,
    state,
    sync,
    store,
    monitor,
    adapters,
    accounting,
    startedAt: now(),
    stop: () =>
      (stopping ??= (async () => {
        await server.close(options.shutdownGraceMs)
        await monitor.stop()
        await dispatchers.destroy()
        await accounting?.stop()
        await sync.stop()
      })()),
  }
}
