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
import type {Exchange} from '../request-log/capture.js'
import {openRequestLog} from '../request-log/request-log.js'
import type {RequestRecord} from '../proxy/types.js'
import {TokenAccounting} from '../usage/accounting.js'
import {historyFileOf} from '../usage/history-file.js'
import type {ServeSettings} from './options.js'
import {ProxyServer} from './server.js'
import {ProxyMetrics} from '../metrics/metrics.js'
import {management} from '../admin/management.js'

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
  // Opened first: a log file that cannot be written stops the start before anything else runs.
  const requestLog = options.requestLog && (await openRequestLog(options.requestLog, options.onWarning))
  const store = new PoolStore(options.poolsFile)
  const affinity = options.sessionAffinity ? new SessionAffinity(options.sessionAffinity, now) : undefined
  const state = new PoolState(options.policy, now, options.routing, affinity, options.queueTimeoutMs)
  const sync = new PoolSync(store, state, {
    flushDelayMs: options.flushDelayMs,
    pollMs: options.pollMs,
    onWarning: options.onWarning,
  })
  try {
    await sync.start()
  } catch (error) {
    await requestLog?.close()
    throw error
  }
  const accounting = options.tokenAccounting
    ? new TokenAccounting(state, {
        historyFile: historyFileOf(store.file),
        poolFile: store.file,
        now,
        flushDelayMs: options.flushDelayMs,
        onWarning: options.onWarning,
      })
    : undefined
  const dispatchers = new Dispatchers(options.timeouts)
  const adapters = createAdapters(dispatchers, store)
  const monitor = new HealthMonitor(state, adapters, options.monitor)
  const startedAt = now()
  // Off, nothing is counted per request and nothing collects: the benchmark compares the two.
  const metrics = options.metricsEnabled ? new ProxyMetrics({state, adapters, now}) : undefined
  // The records' consumers, metrics first, then the caller's; the server calls one function per request.
  const consumers: RecordConsumer[] = []
  if (metrics) consumers.push((record) => metrics.record(record))
  if (options.onRecord) consumers.push(options.onRecord)
  if (accounting) consumers.push((record) => accounting.record(record))
  if (requestLog) consumers.push((record, exchange) => requestLog.write(record, exchange))
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
    onRecord: fanOut(consumers),
    logBodies: options.requestLog?.bodies,
    metrics,
    admin: management({state, store, sync, adapters, startedAt, now, metrics}, options),
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
    await requestLog?.close()
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
    startedAt,
    stop: () =>
      (stopping ??= (async () => {
        await server.close(options.shutdownGraceMs)
        await monitor.stop()
        await dispatchers.destroy()
        await accounting?.stop()
        await sync.stop()
        await requestLog?.close()
      })()),
  }
}

type RecordConsumer = (record: RequestRecord, exchange?: Exchange) => void

/** One consumer as it is, several one after another, none when nobody listens. */
function fanOut(consumers: RecordConsumer[]): RecordConsumer | undefined {
  if (consumers.length <= 1) return consumers[0]
  return (record, exchange) => {
    for (const consume of consumers) consume(record, exchange)
  }
}
