import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {request, type Dispatcher} from 'undici'
import type {Protocol, ProtocolCodec} from '../codecs/types.js'
import {errorMessage} from '../errors.js'
import {DEFAULT_ERROR_BODY_LIMIT, discard, readLimited, readText} from '../http/body.js'
import type {PoolState} from '../pools/runtime.js'
import {PROVIDER_TYPES, isProviderType, type ProviderType} from '../pools/types.js'
import {FALLBACK_MODELS} from '../providers/models.js'
import type {ProviderAdapter} from '../providers/types.js'
import {CodecError} from '../codecs/errors.js'
import {estimateInputTokens} from '../proxy/estimate.js'
import {DEFAULT_RESPONSE_LIMIT, proxyRequest, type RequestRecord} from '../proxy/proxy.js'
import {keyMatches, presentedKey} from './auth.js'
import {sendError, sendJson} from './respond.js'
import {parsePath, protocolForPath, type Route} from './routes.js'

export interface ServerOptions {
  state: PoolState
  adapters: Partial<Record<ProviderType, ProviderAdapter>>
  codecs: Record<Protocol, ProtocolCodec>
  apiKey?: string
  defaultType?: ProviderType
  maxAttempts?: number
  bodyLimitBytes?: number
  responseLimitBytes?: number
  errorBodyLimitBytes?: number
  streamEventLimitBytes?: number
  /** How long a client may take to send its request headers (slowloris protection). */
  headersTimeoutMs?: number
  now?: () => number
  onRecord?: (record: RequestRecord) => void
  onDropped?: (field: string) => void
}

const CORS_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers':
    'authorization, content-type, x-api-key, anthropic-version, anthropic-beta, x-goog-api-key, model-provider, x-stainless-os, x-stainless-lang, x-stainless-package-version, x-stainless-runtime, x-stainless-runtime-version, x-stainless-arch, x-stainless-retry-count, x-stainless-timeout, anthropic-dangerous-direct-browser-access',
  'access-control-max-age': '86400',
}

const CORS_ENTRIES = Object.entries(CORS_HEADERS)

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export const DEFAULT_BODY_LIMIT = 20 * 1024 * 1024

export class ProxyServer {
  readonly server: Server
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly started: number
  private readonly now: () => number

  constructor(private readonly options: ServerOptions) {
    this.now = options.now ?? Date.now
    this.started = this.now()
    const headersTimeout = options.headersTimeoutMs ?? 60_000
    // Node checks its timeouts on this interval; a short one makes short timeouts exact.
    const connectionsCheckingInterval = Math.min(30_000, Math.max(100, Math.floor(headersTimeout / 4)))
    this.server = createServer({keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout, connectionsCheckingInterval}, (req, res) => {
      const work = this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, {error: {message: `Internal error: ${errorMessage(error)}`}})
        else res.destroy()
      })
      this.inFlight.add(work)
      void work.finally(() => this.inFlight.delete(work))
    })
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Only browsers need CORS, and they always send an Origin.
    if (req.headers.origin !== undefined) for (const [name, value] of CORS_ENTRIES) res.setHeader(name, value)
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (req.method === 'OPTIONS') {
      res.writeHead(204)
      res.end()
      return
    }
    const parsed = parsePath(req.method ?? 'GET', url.pathname)
    const errorProtocol = parsed.route?.kind === 'chat' ? parsed.route.protocol : protocolForPath(url.pathname)
    const codec = this.options.codecs[errorProtocol]
    if (!parsed.route) {
      req.resume()
      sendError(res, codec, 404, `Unknown route ${req.method} ${url.pathname}.`)
      return
    }
    if (parsed.route.kind === 'health') {
      req.resume()
      sendJson(res, 200, this.health())
      return
    }
    if (this.options.apiKey !== undefined && !keyMatches(presentedKey(req.headers, url.searchParams), this.options.apiKey)) {
      req.resume()
      sendError(res, codec, 401, 'Invalid or missing API key. Send it as Authorization: Bearer, x-api-key, x-goog-api-key or ?key=.')
      return
    }
    try {
      if (parsed.unknownPrefix !== undefined) throw unknownType(parsed.unknownPrefix, 'path prefix')
      if (parsed.route.kind === 'models') {
        req.resume()
        await this.models(req, res, parsed.route, parsed.typePrefix)
        return
      }
      const body = await readBody(req, this.options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT)
      await this.chat(req, res, url.pathname, parsed.route, parsed.typePrefix, body)
    } catch (error) {
      if (error instanceof HttpError) sendError(res, codec, error.status, error.message)
      else throw error
    }
  }

  private async chat(req: IncomingMessage, res: ServerResponse, pathname: string, route: Route, typePrefix: ProviderType | undefined, body: Buffer): Promise<void> {
    const json = parseJsonBody(body)
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
        stream: route.stream ?? json.stream === true,
        headers: req.headers,
      },
      res,
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
    if (adapter?.countTokensCall && live) {
      let response: Dispatcher.ResponseData | undefined
      try {
        const call = await adapter.countTokensCall(live.config, {stream: false, model, clientProtocol: 'anthropic', clientHeaders: req.headers})
        const upstreamBody = model === json.model ? body : JSON.stringify({...json, model})
        response = await request(call.url, {method: 'POST', headers: call.headers, body: upstreamBody, dispatcher: call.dispatcher, signal: AbortSignal.timeout(30_000)})
        const answer = await readText(response.body, this.options.errorBodyLimitBytes ?? DEFAULT_ERROR_BODY_LIMIT)
        if (response.statusCode === 200 && answer.complete) {
          res.writeHead(200, {'content-type': 'application/json', 'x-aiclient-token-count': 'upstream'})
          res.end(answer.text)
          return
        }
      } catch {
        // Counting is advisory: fall through to the estimate rather than fail the client.
      } finally {
        if (response) discard(response.body)
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
    if (adapter?.modelsCall && adapter.modelIds && live) {
      let response: Dispatcher.ResponseData | undefined
      try {
        const call = await adapter.modelsCall(live.config)
        response = await request(call.url, {method: 'GET', headers: call.headers, dispatcher: call.dispatcher, signal: AbortSignal.timeout(10_000)})
        if (response.statusCode === 200) {
          const bytes = await readLimited(response.body, this.options.responseLimitBytes ?? DEFAULT_RESPONSE_LIMIT)
          const ids = bytes ? adapter.modelIds(JSON.parse(bytes.toString('utf8'))) : []
          if (ids.length > 0) return ids
        } else {
          await response.body.dump()
        }
      } catch {
        // The list is a convenience: an upstream without one still serves chat.
      } finally {
        if (response) discard(response.body)
      }
    }
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

function unknownType(name: string, where: string): HttpError {
  return new HttpError(400, `Unknown provider type "${name}" in the ${where}. Valid types: ${PROVIDER_TYPES.join(', ')}.`)
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    req.resume()
    return Promise.reject(new HttpError(413, `The request body is larger than the limit of ${limit} bytes.`))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.resume()
        reject(new HttpError(413, `The request body is larger than the limit of ${limit} bytes.`))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks, size)))
    req.on('error', reject)
  })
}
