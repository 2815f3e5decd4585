import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import type {Protocol, ProtocolCodec} from '../codecs/types.js'
import {errorMessage} from '../errors.js'
import {DEFAULT_ERROR_BODY_LIMIT} from '../http/body.js'
import type {RequestTimeouts} from '../http/dispatchers.js'
import type {PoolState} from '../pools/runtime.js'
import {PROVIDER_TYPES, isProviderType, type ProviderType} from '../pools/types.js'
import {redact} from '../secrets.js'
import {FALLBACK_MODELS} from '../providers/models.js'
import {countTokensUpstream, listModels} from '../providers/side-calls.js'
import type {ProviderAdapter} from '../providers/types.js'
import {CodecError} from '../codecs/errors.js'
import {estimateInputTokens} from '../proxy/estimate.js'
import {proxyRequest} from '../proxy/proxy.js'
import {DEFAULT_RESPONSE_LIMIT, type RequestRecord} from '../proxy/types.js'
import {responseSink} from '../http/client-sink.js'
import {checkAccess} from './access.js'
import {keyMatches, presentedKey} from './auth.js'
import {BodyReader} from './body.js'
import {ConnectionCap} from './connections.js'
import {HttpError} from './http-error.js'
import {sendError, sendJson} from './respond.js'
import {parsePath, parseTarget, protocolForPath, type Route} from './routes.js'

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
  now?: () => number
  onRecord?: (record: RequestRecord) => void
  onDropped?: (field: string) => void
}

export const DEFAULT_BODY_LIMIT = 20 * 1024 * 1024
export const DEFAULT_BODY_TIMEOUT_MS = 120_000
export const DEFAULT_BUFFERED_BODY_LIMIT = 100 * 1024 * 1024
export const DEFAULT_MAX_CONNECTIONS = 4096

export class ProxyServer {
  readonly server: Server
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly started: number
  private readonly now: () => number
  private readonly bodies: BodyReader
  private readonly connections: ConnectionCap

  constructor(private readonly options: ServerOptions) {
    this.now = options.now ?? Date.now
    this.started = this.now()
    const headersTimeout = options.headersTimeoutMs ?? 60_000
    const bodyTimeout = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS
    this.bodies = new BodyReader({
      limitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
      timeoutMs: bodyTimeout,
      totalBytes: options.bufferedBodyLimitBytes ?? DEFAULT_BUFFERED_BODY_LIMIT,
    })
    this.connections = new ConnectionCap(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS)
    // Node checks its timeouts on this interval; a short one makes short timeouts exact.
    const connectionsCheckingInterval = Math.min(30_000, Math.max(100, Math.floor(Math.min(headersTimeout, bodyTimeout) / 4)))
    // The body timeout answers in the client's protocol; Node's request timeout, just after it, also ends bodies
    // nobody reads (after a 401 or 404) and stands in should the first ever fail.
    const requestTimeout = headersTimeout + bodyTimeout + 1000
    this.server = createServer({keepAliveTimeout: 65_000, requestTimeout, headersTimeout, connectionsCheckingInterval}, (req, res) => {
      const work = this.handle(req, res).catch((error: unknown) => this.internalError(req, res, error))
      this.inFlight.add(work)
      void work.finally(() => this.inFlight.delete(work))
    })
    this.server.on('connection', (socket: Socket) => this.connections.admit(socket))
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
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs)
    })
    await Promise.race([Promise.allSettled([...this.inFlight]), grace])
    clearTimeout(timer)
    this.server.closeAllConnections()
    await closed
  }

  /** A defect of ours: still an error the client's SDK can read, and never a secret an exception happened to quote. */
  private internalError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.destroy()
      return
    }
    const protocol = protocolForPath(parseTarget(req.url ?? '/')?.url.pathname ?? '/')
    sendError(res, this.options.codecs[protocol], 500, redact(`Internal error: ${errorMessage(error)}`))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    /** Answers without reading the body, which is drained so that the connection can be reused. */
    const refuse = (codec: ProtocolCodec, status: number, message: string, headers?: Record<string, string>) => {
      req.resume()
      sendError(res, codec, status, message, headers)
    }
    const target = parseTarget(req.url ?? '/')
    if (!target) return refuse(this.options.codecs.openai, 400, `The request target ${JSON.stringify(req.url)} is not a valid URL or path.`)
    const {url} = target
    const parsed = parsePath(req.method ?? 'GET', url.pathname)
    const errorProtocol = parsed.route?.kind === 'chat' ? parsed.route.protocol : protocolForPath(url.pathname)
    const codec = this.options.codecs[errorProtocol]
    if (this.connections.refuses(req.socket)) {
      return refuse(codec, 503, `The server has too many open connections (limit ${this.connections.limit}). Try again in a moment.`, {'retry-after': '1', connection: 'close'})
    }
    // Before any route: a refused page or name must not reach an instance, even with a request that needs no preflight.
    const access = checkAccess({keyRequired: this.options.apiKey !== undefined, corsOrigins: this.options.corsOrigins ?? []}, req.headers, url, target.absoluteForm)
    if (!access.allowed) return refuse(codec, 403, access.message)
    for (const [name, value] of Object.entries(access.corsHeaders)) res.setHeader(name, value)
    if (req.method === 'OPTIONS') {
      res.writeHead(204)
      res.end()
      return
    }
    if (parsed.malformedSegment !== undefined) return refuse(codec, 400, `The path segment "${parsed.malformedSegment}" has malformed percent-encoding.`)
    if (!parsed.route) return refuse(codec, 404, `Unknown route ${req.method} ${url.pathname}.`)
    if (parsed.route.kind === 'health') {
      req.resume()
      sendJson(res, 200, this.health())
      return
    }
    if (this.options.apiKey !== undefined && !keyMatches(presentedKey(req.headers, url.searchParams), this.options.apiKey)) {
      return refuse(codec, 401, 'Invalid or missing API key. Send it as Authorization: Bearer, x-api-key, x-goog-api-key or ?key=.')
    }
    try {
      if (parsed.unknownPrefix !== undefined) throw unknownType(parsed.unknownPrefix, 'path prefix')
      if (parsed.route.kind === 'models') {
        req.resume()
        await this.models(req, res, parsed.route, parsed.typePrefix)
        return
      }
      const {body, release} = await this.bodies.read(req)
      try {
        await this.chat(req, res, url.pathname, parsed.route, parsed.typePrefix, body)
      } finally {
        release()
      }
    } catch (error) {
      if (error instanceof HttpError) sendError(res, codec, error.status, error.message, error.headers)
      else throw error
    }
  }

  private async chat(req: IncomingMessage, res: ServerResponse, pathname: string, route: Route, typePrefix: ProviderType | undefined, body: Buffer): Promise<void> {
    const json = parseJsonBody(body)
    // Passed through as sent, a "stream" we read one way and a lenient upstream another breaks the answer.
    const stream = route.kind === 'chat' && route.stream !== undefined ? route.stream : streamFlag(json)
    if (route.kind === 'count_tokens') return this.countTokens(req, res, typePrefix, body, json)
    if (route.kind !== 'chat') throw new HttpError(404, 'Unknown route.')
    const rawModel = route.model ?? json.model
    if (typeof rawModel !== 'string' || rawModel === '') throw new HttpError(400, 'The request has no "model".')
    const {type, model} = this.resolveType(req, typePrefix, rawModel)
    const record = await proxyRequest(
      {
        state: this.options.state,
        adapters: this.options.adapters,
        codecs: this.options.codecs,
        now: this.now,
        maxAttempts: this.options.maxAttempts ?? 3,
        responseLimitBytes: this.options.responseLimitBytes,
        timeouts: this.options.upstreamTimeouts,
        errorBodyLimitBytes: this.options.errorBodyLimitBytes,
        streamEventLimitBytes: this.options.streamEventLimitBytes,
        onDropped: this.options.onDropped,
      },
      {
        route: route.protocol === 'gemini' ? `/v1beta/models/…:${route.stream ? 'streamGenerateContent' : 'generateContent'}` : pathname,
        protocol: route.protocol,
        type,
        body,
        json,
        model,
        modelRewritten: route.protocol !== 'gemini' && model !== rawModel,
        stream,
        headers: req.headers,
      },
      responseSink(res),
    )
    this.options.onRecord?.(record)
  }

  /**
   * Anthropic's count_tokens: asked of an upstream that can count (claude-custom), otherwise estimated from the
   * request (characters / 4). The `x-aiclient-token-count` header says which.
   */
  private async countTokens(req: IncomingMessage, res: ServerResponse, typePrefix: ProviderType | undefined, body: Buffer, json: Record<string, unknown>): Promise<void> {
    if (typeof json.model !== 'string' || json.model === '') throw new HttpError(400, 'The request has no "model".')
    const {type, model} = this.resolveType(req, typePrefix, json.model)
    const adapter = this.options.adapters[type]
    // A side request records no outcome, so it never takes an instance's half-open trial.
    const live = this.options.state.pick(type)
    if (adapter && live) {
      const upstreamBody = model === json.model ? body : JSON.stringify({...json, model})
      const ctx = {stream: false, model, clientProtocol: 'anthropic' as const, clientHeaders: req.headers}
      const limits = {timeoutMs: 30_000, limitBytes: this.options.errorBodyLimitBytes ?? DEFAULT_ERROR_BODY_LIMIT}
      // Counting is advisory: without an upstream count, the estimate answers rather than fail the client.
      const counted = await countTokensUpstream(adapter, live.config, ctx, upstreamBody, limits)
      if (counted !== undefined) {
        res.writeHead(200, {'content-type': 'application/json', 'x-aiclient-token-count': 'upstream'})
        res.end(counted)
        return
      }
    }
    let ir
    try {
      ir = this.options.codecs.anthropic.decodeRequest(json)
    } catch (error) {
      throw new HttpError(error instanceof CodecError ? error.status : 400, errorMessage(error))
    }
    sendJson(res, 200, {input_tokens: estimateInputTokens(ir)}, {'x-aiclient-token-count': 'estimate'})
  }

  /** Path prefix → Model-Provider header → `TYPE:` model prefix → configured default → the only configured type. */
  private resolveType(req: IncomingMessage, typePrefix: ProviderType | undefined, rawModel: string): {type: ProviderType; model: string} {
    const colon = rawModel.indexOf(':')
    const modelPrefix = colon > 0 ? rawModel.slice(0, colon) : undefined
    const stripped = modelPrefix !== undefined && isProviderType(modelPrefix) ? rawModel.slice(colon + 1) : rawModel
    if (typePrefix) return {type: typePrefix, model: stripped}
    const header = req.headers['model-provider']
    if (typeof header === 'string' && header !== '') {
      if (!isProviderType(header)) throw unknownType(header, 'Model-Provider header')
      return {type: header, model: stripped}
    }
    if (modelPrefix !== undefined && isProviderType(modelPrefix)) return {type: modelPrefix, model: stripped}
    if (this.options.defaultType) return {type: this.options.defaultType, model: rawModel}
    const types = this.options.state.types()
    if (types.length === 1) return {type: types[0]!, model: rawModel}
    if (types.length === 0) throw new HttpError(503, 'The pool has no instances. Add one with `aiclient pool add`.')
    throw new HttpError(
      400,
      `Several provider types are configured (${types.join(', ')}) and no default is set. Choose one with a path prefix (/claude-custom/v1/messages), a Model-Provider header, a "type:" prefix on the model (claude-custom:claude-sonnet-4-5), or a default (--model-provider / MODEL_PROVIDER).`,
    )
  }

  private async models(req: IncomingMessage, res: ServerResponse, route: Route & {kind: 'models'}, typePrefix: ProviderType | undefined): Promise<void> {
    const protocol: Protocol = route.protocol !== 'auto' ? route.protocol : req.headers['anthropic-version'] || req.headers['x-api-key'] ? 'anthropic' : 'openai'
    const header = req.headers['model-provider']
    if (typeof header === 'string' && header !== '' && !isProviderType(header)) throw unknownType(header, 'Model-Provider header')
    const chosen = typePrefix ?? (typeof header === 'string' && isProviderType(header) ? header : this.options.defaultType)
    const types = chosen ? [chosen] : this.options.state.types()
    const lists = await Promise.all(types.map(async (type) => (await this.modelsOf(type)).map((id) => (chosen || types.length === 1 ? id : `${type}:${id}`))))
    sendJson(res, 200, this.options.codecs[protocol].modelList(lists.flat()))
  }

  /** Asks one healthy instance of the type; falls back to the built-in list when none answers. */
  private async modelsOf(type: ProviderType): Promise<string[]> {
    const adapter = this.options.adapters[type]
    // A side request records no outcome, so it never takes an instance's half-open trial.
    const live = this.options.state.pick(type)
    const limits = {timeoutMs: 10_000, limitBytes: this.options.responseLimitBytes ?? DEFAULT_RESPONSE_LIMIT}
    // The list is a convenience: an upstream without one still serves chat.
    const ids = adapter && live ? await listModels(adapter, live.config, limits) : undefined
    if (ids) return ids
    return FALLBACK_MODELS[type]
  }

  private health(): unknown {
    const types: Record<string, {healthy: number; total: number}> = {}
    for (const type of this.options.state.types()) {
      const list = this.options.state.list(type)
      types[type] = {healthy: list.filter((live) => this.options.state.stateOf(live) === 'healthy').length, total: list.length}
    }
    return {status: 'ok', uptimeSeconds: Math.round((this.now() - this.started) / 1000), types}
  }
}

function parseJsonBody(body: Buffer): Record<string, unknown> {
  let json: unknown
  try {
    json = JSON.parse(body.toString('utf8'))
  } catch (error) {
    throw new HttpError(400, `The request body is not valid JSON: ${errorMessage(error)}`)
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new HttpError(400, 'The request body must be a JSON object.')
  return json as Record<string, unknown>
}

/** The request's `stream`: a boolean, or absent (`null` too, as OpenAI documents it). */
function streamFlag(json: Record<string, unknown>): boolean {
  const value = json.stream
  if (value === undefined || value === null) return false
  if (typeof value !== 'boolean') throw new HttpError(400, `"stream" must be true or false, not ${JSON.stringify(value)}.`)
  return value
}

function unknownType(name: string, where: string): HttpError {
  return new HttpError(400, `Unknown provider type "${name}" in the ${where}. Valid types: ${PROVIDER_TYPES.join(', ')}.`)
}
