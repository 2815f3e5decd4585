import {Agent, EnvHttpProxyAgent, ProxyAgent, type Dispatcher} from 'undici'

/** How long an upstream may think: per request, so each provider type can have its own. */
export interface RequestTimeouts {
  /** From the request sent to the answer's headers: a non-streamed answer's headers wait for the whole answer. */
  headersMs: number
  /** Longest gap between two body chunks (a stalled stream, or a reasoning model thinking before its first token). */
  idleMs: number
}

export interface Timeouts extends RequestTimeouts {
  connectMs: number
}

/**
 * Reasoning models can think for minutes before the first byte of a plain answer (or between two stream events), so
 * the defaults match the vendors' own SDKs (10 minutes). Only the connection itself is expected to be quick.
 */
export const DEFAULT_TIMEOUTS: Timeouts = {connectMs: 10_000, headersMs: 600_000, idleMs: 600_000}

/**
 * One dispatcher per outbound route, reused for every request: the environment's proxy settings
 * (HTTPS_PROXY/HTTP_PROXY/NO_PROXY, through undici's EnvHttpProxyAgent) by default, or an instance's own
 * PROXY_URL. Each keeps a keep-alive connection pool per upstream origin.
 */
export class Dispatchers {
  private readonly byProxy = new Map<string, Dispatcher>()

  constructor(
    readonly timeouts: Timeouts = DEFAULT_TIMEOUTS,
    // Streams hold their connection for as long as the model talks: a low cap queues whole streams behind others.
    private readonly connections = 4096,
  ) {}

  get(proxyUrl?: string | null): Dispatcher {
    const key = proxyUrl ?? ''
    let dispatcher = this.byProxy.get(key)
    if (!dispatcher) {
      const options = {
        connect: {timeout: this.timeouts.connectMs},
        headersTimeout: this.timeouts.headersMs,
        bodyTimeout: this.timeouts.idleMs,
        connections: this.connections,
        pipelining: 1,
        keepAliveTimeout: 4_000,
      }
      dispatcher = proxyUrl
        ? new ProxyAgent({uri: proxyUrl, ...options})
        : hasProxyEnv()
          ? new EnvHttpProxyAgent(options)
          : new Agent(options)
      this.byProxy.set(key, dispatcher)
    }
    return dispatcher
  }

  async close(): Promise<void> {
    await Promise.all([...this.byProxy.values()].map((d) => d.close().catch(() => {})))
    this.byProxy.clear()
  }

  /** For shutdown: drop connections of requests that are still running. */
  async destroy(): Promise<void> {
    await Promise.all([...this.byProxy.values()].map((d) => d.destroy().catch(() => {})))
    this.byProxy.clear()
  }
}

function hasProxyEnv(): boolean {
  const env = process.env
  return Boolean(env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy)
}
