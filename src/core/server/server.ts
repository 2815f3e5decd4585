import {createServer, ServerResponse, type IncomingMessage, type Server} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import type {Protocol, ProtocolCodec} from '../codecs/types.js'
import {errorMessage} from '../errors.js'
import {DEFAULT_ERROR_BODY_LIMIT} from '../http/body.js'
import type {RequestTimeouts} from '../http/dispatchers.js'
import {HttpStatusError} from '../http-status-error.js'
import {ModelAliasResolver, type ModelAliases} from '../models/aliases.js'
import type {PoolState} from '../pools/pool-state.js'
import type {ProviderType} from '../pools/types.js'
import {DEFAULT_RESPONSE_LIMIT, type RequestRecord} from '../proxy/types.js'
import type {ProviderAdapter} from '../providers/types.js'
import {CapturingResponse, type Exchange} from '../request-log/capture.js'
import {redact} from '../secrets.js'
import {checkAccess} from './access.js'
import {KEY_REFUSAL, keyMatches, presentedKey} from './auth.js'
import {BodyReader} from './body.js'
import {ConnectionCap} from './connections.js'
import type {ClientRequest, Handler, HandlerDeps, Reply} from './handler.js'
import {admin} from './handlers/admin.js'
import {chat} from './handlers/chat.js'
import {compact} from './handlers/compact.js'
import {countTokens} from './handlers/count-tokens.js'
import {embeddings} from './handlers/embeddings.js'
import {geminiCountTokens} from './handlers/gemini-count-tokens.js'
import {geminiEmbed} from './handlers/gemini-embed.js'
import {health} from './handlers/health.js'
import {metrics} from './handlers/metrics.js'
import {models} from './handlers/models.js'
import {storedResponse} from './handlers/stored-response.js'
import {sendError, sendJson} from './respond.js'
import {ResponsesSockets} from './responses/websocket.js'
import {unknownType} from './resolve-type.js'
import {ResponseStore, type ResponseStoreLimits} from './responses/memory.js'
import {parsePath, parseTarget, protocolForPath, type Route} from './routes.js'
import type {Fallbacks} from '../proxy/fallback.js'
import type {Management} from '../admin/management.js'
import type {ProxyMetrics} from '../metrics/metrics.js'

/** The route table: one handler per kind of route that `parsePath` recognises. */
const HANDLERS: {readonly [K in Route['kind']]: Handler<K>} = {
  chat,
  count_tokens: countTokens,
  models,
  health,
  compact,
  stored_response: storedResponse,
  embeddings,
  gemini_count_tokens: geminiCountTokens,
  gemini_embed: geminiEmbed,
  metrics,
  admin,
}

/** Routes whose handler needs the request body; the others' bodies are drained unread. */
const TAKES_BODY: ReadonlySet<Route['kind']> = new Set([
  'chat',
  'count_tokens',
  'compact',
  'embeddings',
  'gemini_count_tokens',
])

export interface ServerOptions {
  state: PoolState
  adapters: Partial<Record<ProviderType, ProviderAdapter>>
  codecs: Record<Protocol, ProtocolCodec>
  apiKey?: string
  defaultType?: ProviderType
  maxAttempts?: number
  bodyLimitBytes?: number
  responseLimitBytes?: number
  /** Per provider type: how long its upstreams may take to answer and may go quiet mid-answer. */
  upstreamTimeouts?: Partial<Record<ProviderType, RequestTimeouts>>
  errorBodyLimitBytes?: number
  streamEventLimitBytes?: number
  /** How long a client may take to send its request headers (slowloris protection). */
  headersTimeoutMs?: number
  /** How long a client may take to send its request body once the headers are in. */
  bodyTimeoutMs?: number
  /** Request-body bytes all requests together may hold. */
  bufferedBodyLimitBytes?: number
  /** Open client connections served at once; those past it get a 503. */
  maxConnections?: number
  /** Origins whose web pages may call the server (see access.ts for who else may). */
  corsOrigins?: readonly string[]
  /** How many responses, how much of them and for how long are kept for `previous_response_id`. */
  responseStore?: ResponseStoreLimits
  /** How often WebSocket connections are pinged (a silent one is cut at the next ping). */
  websocketKeepaliveMs?: number
  now?: () => number
  /** Each served request; with `logBodies`, records come with what the client sent and received. */
  onRecord?: (record: RequestRecord, exchange?: Exchange) => void
  logBodies?: boolean
  onDropped?: (field: string) => void
  /** MODEL_ALIASES, by provider type. */
  modelAliases?: ModelAliases
  /** providerFallbackChain and modelFallbackMapping. */
  fallbacks?: Fallbacks
  /** Served at /metrics when given. */
  metrics?: ProxyMetrics
  /** The management API at /aiclient/v1/, when given. */
  admin?: Management
}

export const DEFAULT_BODY_LIMIT = 20 * 1024 * 1024
export const DEFAULT_BODY_TIMEOUT_MS = 120_000
export const DEFAULT_BUFFERED_BODY_LIMIT = 100 * 1024 * 1024
export const DEFAULT_MAX_CONNECTIONS = 4096

export class ProxyServer {
  readonly server: Server
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly deps: HandlerDeps
  private readonly bodies: BodyReader
  private readonly connections: ConnectionCap
  private readonly sockets: ResponsesSockets

  constructor(private readonly options: ServerOptions) {
    this.deps = handlerDeps(options)
    const headersTimeout = options.headersTimeoutMs ?? 60_000
    const bodyTimeout = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS
    this.bodies = new BodyReader({
      limitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
      timeoutMs: bodyTimeout,
      totalBytes: options.bufferedBodyLimitBytes ?? DEFAULT_BUFFERED_BODY_LIMIT,
    })
    this.connections = new ConnectionCap(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS)
    // Node checks its timeouts on this interval; a short one makes short timeouts exact.
    const connectionsCheckingInterval = Math.min(
      30_000,
      Math.max(100, Math.floor(Math.min(headersTimeout, bodyTimeout) / 4)),
    )
    // The body timeout answers in the client's protocol; Node's request timeout, just after it, also ends bodies
    // nobody reads (after a 401 or 404) and stands in should the first ever fail.
    const requestTimeout = headersTimeout + bodyTimeout + 1000
    this.server = createServer(
      {
        keepAliveTimeout: 65_000,
        requestTimeout,
        headersTimeout,
        connectionsCheckingInterval,
        ServerResponse: options.logBodies ? CapturingResponse : ServerResponse,
      },
      (req, res) => this.track(this.handle(req, res).catch((error: unknown) => this.internalError(req, res, error))),
    )
    this.server.on('connection', (socket: Socket) => this.connections.admit(socket))
    this.sockets = new ResponsesSockets({
      deps: this.deps,
      memory: this.deps.responses,
      apiKey: options.apiKey,
      corsOrigins: options.corsOrigins ?? [],
      connections: this.connections,
      maxPayload: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
      keepaliveMs: options.websocketKeepaliveMs,
      track: (work) => this.track(work),
    })
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.sockets.upgrade(req, socket, head).catch(() => socket.destroy())
    })
  }

  /** Running work that a graceful close waits for. */
  private track(work: Promise<unknown>): void {
    this.inFlight.add(work)
    void work.finally(() => this.inFlight.delete(work))
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    return this.server.address() as AddressInfo
  }

  /** Stops accepting, lets running requests finish for up to `graceMs`, then cuts what is left. */
  async close(graceMs = 10_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeIdleConnections()
    this.sockets.drain()
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs)
    })
    await Promise.race([Promise.allSettled([...this.inFlight]), grace])
    clearTimeout(timer)
    this.server.closeAllConnections()
    this.sockets.terminate()
    await closed
  }

  /** A defect of ours: still an error the client's SDK can read, and never a secret an exception happened to quote. */
  private internalError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.destroy()
      return
    }
    const protocol = protocolForPath(parseTarget(req.url ?? '/')?.url.pathname ?? '/', req.headers)
    try {
      sendError(res, this.options.codecs[protocol], 500, redact(`Internal error: ${errorMessage(error)}`))
    } catch {
      // The error answer itself failed: the connection is cut rather than the server brought down.
      res.destroy()
    }
  }

  /** The guards every request passes in order (connections, access, CORS, target, route, key), then its handler. */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    /** Answers without reading the body, which is drained so that the connection can be reused. */
    const refuse = (codec: ProtocolCodec, status: number, message: string, headers?: Record<string, string>) => {
      req.resume()
      sendError(res, codec, status, message, headers)
    }
    const target = parseTarget(req.url ?? '/')
    if (!target)
      return refuse(
        this.options.codecs.openai,
        400,
        `The request target ${JSON.stringify(req.url)} is not a valid URL or path.`,
      )
    const {url} = target
    const parsed = parsePath(req.method ?? 'GET', url.pathname)
    const errorProtocol =
      parsed.route?.kind === 'chat' ? parsed.route.protocol : protocolForPath(url.pathname, req.headers)
    const codec = this.options.codecs[errorProtocol]
    if (this.connections.refuses(req.socket)) {
      return refuse(codec, 503, this.connections.refusalMessage, {'retry-after': '1', connection: 'close'})
    }
    // Before any route: a refused page or name must not reach an instance, even with a request that needs no preflight.
    const access = checkAccess(
      {keyRequired: this.options.apiKey !== undefined, corsOrigins: this.options.corsOrigins ?? []},
      req.headers,
      url,
      target.absoluteForm,
    )
    if (!access.allowed) return refuse(codec, 403, access.message)
    for (const [name, value] of Object.entries(access.corsHeaders)) res.setHeader(name, value)
    if (req.method === 'OPTIONS') {
      res.writeHead(204)
      res.end()
      return
    }
    if (parsed.malformedSegment !== undefined)
      return refuse(codec, 400, `The path segment "${parsed.malformedSegment}" has malformed percent-encoding.`)
    // Routes of parts this server was built without are unknown to it.
    const kind = parsed.route?.kind
    const route = (kind === 'metrics' || kind === 'admin') && !this.deps[kind] ? undefined : parsed.route
    if (!route) return this.unknownRoute(req, res, codec, errorProtocol, url.pathname)
    // Health answers monitors, which hold no key.
    if (
      route.kind !== 'health' &&
      this.options.apiKey !== undefined &&
      !keyMatches(presentedKey(req.headers, url.searchParams), this.options.apiKey)
    ) {
      return refuse(codec, 401, KEY_REFUSAL)
    }
    try {
      if (parsed.unknownPrefix !== undefined) throw unknownType(parsed.unknownPrefix, 'path prefix')
      const reply = await this.dispatch(req, {
        route,
        pathname: url.pathname,
        searchParams: url.searchParams,
        typePrefix: parsed.typePrefix,
        headers: req.headers,
        res,
      })
      sendReply(res, reply)
    } catch (error) {
      if (error instanceof HttpStatusError) sendError(res, codec, error.status, error.message, error.headers)
      else throw error
    }
  }

  /**
   * A route this server does not serve, logged like any request. OpenAI's own answer for an unknown path names no
   * `code`: the `model_not_found` its 404 otherwise carries would send clients looking for a model problem.
   */
  private unknownRoute(
    req: IncomingMessage,
    res: ServerResponse,
    codec: ProtocolCodec,
    protocol: Protocol,
    pathname: string,
  ): void {
    req.resume()
    const started = this.deps.now()
    const message = `Unknown route ${req.method} ${pathname}.`
    const body = codec.errorBody(404, message) as {error?: Record<string, unknown>}
    if ((protocol === 'openai' || protocol === 'responses') && body.error) body.error = {...body.error, code: null}
    sendJson(res, 404, body)
    this.withBodies(res, NO_BODY).onRecord?.({
      time: started,
      route: pathname,
      protocol,
      type: null,
      instance: null,
      model: '-',
      status: 404,
      ms: this.deps.now() - started,
      attempts: 0,
      stream: false,
      error: message,
    })
  }

  /** Reads the body the route needs, within the limits, and runs the route's handler. */
  private async dispatch(req: IncomingMessage, request: Omit<ClientRequest, 'body'>): Promise<Reply> {
    const handler = HANDLERS[request.route.kind] as Handler<Route['kind']>
    if (!TAKES_BODY.has(request.route.kind)) {
      req.resume()
      return handler(this.withBodies(request.res, NO_BODY), {...request, body: NO_BODY})
    }
    const {body, release} = await this.bodies.read(req)
    try {
      return await handler(this.withBodies(request.res, body), {...request, body})
    } finally {
      release()
    }
  }

  /**
   * The handlers' deps, whose records carry the bodies of the exchange when they are logged: a record then waits
   * for its answer to be complete, which some handlers send only after recording.
   */
  private withBodies(res: ServerResponse, body: Buffer): HandlerDeps {
    const onRecord = this.options.onRecord
    if (!onRecord || !(res instanceof CapturingResponse)) return this.deps
    return {...this.deps, onRecord: (record) => res.whenEnded(() => onRecord(record, res.exchange(body)))}
  }
}

const NO_BODY = Buffer.alloc(0)

function handlerDeps(options: ServerOptions): HandlerDeps {
  const {state, adapters, codecs, defaultType} = options
  const now = options.now ?? Date.now
  return {
    state,
    adapters,
    codecs,
    defaultType,
    now,
    started: now(),
    proxy: {
      state,
      adapters,
      codecs,
      now,
      maxAttempts: options.maxAttempts ?? 3,
      responseLimitBytes: options.responseLimitBytes,
      timeouts: options.upstreamTimeouts,
      errorBodyLimitBytes: options.errorBodyLimitBytes,
      streamEventLimitBytes: options.streamEventLimitBytes,
      onDropped: options.onDropped,
      modelAliases: new ModelAliasResolver(options.modelAliases),
      fallbacks: options.fallbacks,
    },
    responseLimitBytes: options.responseLimitBytes ?? DEFAULT_RESPONSE_LIMIT,
    errorBodyLimitBytes: options.errorBodyLimitBytes ?? DEFAULT_ERROR_BODY_LIMIT,
    responses: new ResponseStore(options.responseStore, now),
    onRecord: options.onRecord,
    metrics: options.metrics,
    admin: options.admin,
    logBodies: options.logBodies,
  }
}

function sendReply(res: ServerResponse, reply: Reply): void {
  if (reply.kind === 'json') sendJson(res, reply.status, reply.body, reply.headers)
  else if (reply.kind === 'text') {
    res.writeHead(reply.status, reply.headers)
    res.end(reply.text)
  }
}
