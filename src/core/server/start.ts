import type {AddressInfo} from 'node:net'
import {codecs} from '../codecs/index.js'
import {Dispatchers} from '../http/dispatchers.js'
import {PoolState} from '../pools/runtime.js'
import {PoolStore} from '../pools/store.js'
import {PoolSync} from '../pools/sync.js'
import type {ProviderType} from '../pools/types.js'
import {claudeCustom, openAICustom} from '../providers/key-providers.js'
import type {ProviderAdapter} from '../providers/types.js'
import type {RequestRecord} from '../proxy/proxy.js'
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
  /** Graceful: stop accepting, drain, save statistics. */
  stop(): Promise<void>
}

export function createAdapters(dispatchers: Dispatchers): Partial<Record<ProviderType, ProviderAdapter>> {
  return {'openai-custom': openAICustom(dispatchers), 'claude-custom': claudeCustom(dispatchers)}
}

export async function startProxy(options: StartOptions): Promise<RunningProxy> {
  const now = options.now ?? Date.now
  const store = new PoolStore(options.poolsFile)
  const state = new PoolState(options.policy, now)
  const sync = new PoolSync(store, state, {flushDelayMs: options.flushDelayMs, pollMs: options.pollMs, onWarning: options.onWarning})
  await sync.start()
  const dispatchers = new Dispatchers(options.timeouts)
  const server = new ProxyServer({
    state,
    adapters: createAdapters(dispatchers),
    codecs,
    apiKey: options.apiKey,
    defaultType: options.defaultType,
    maxAttempts: options.maxAttempts,
    bodyLimitBytes: options.bodyLimitBytes,
    now,
    onRecord: options.onRecord,
    onDropped: options.onDropped,
  })
  let address: AddressInfo
  try {
    address = await server.listen(options.port, options.host)
  } catch (error) {
    await sync.stop()
    throw error
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let stopping: Promise<void> | undefined
  return {
    url: `http://${host}:${address.port}`,
    address,
    state,
    sync,
    store,
    stop: () =>
      (stopping ??= (async () => {
        await server.close(options.shutdownGraceMs)
        await dispatchers.destroy()
        await sync.stop()
      })()),
  }
}
