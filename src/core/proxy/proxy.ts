import {EventEmitter} from 'node:events'
import type {IncomingHttpHeaders, ServerResponse} from 'node:http'
import type {Readable} from 'node:stream'
import {request, type Dispatcher} from 'undici'
import {CodecError} from '../codecs/errors.js'
import {StreamFailure, collectStream} from '../codecs/collect.js'
import type {IRRequest, IRResponse, IRStreamEvent} from '../codecs/ir.js'
import type {Protocol, ProtocolCodec, StreamDecoder, StreamDecoderOptions} from '../codecs/types.js'
import {errorMessage} from '../errors.js'
import {DEFAULT_ERROR_BODY_LIMIT, discard, readLimited, readText} from '../http/body.js'
import {instanceLabel, type LiveInstance, type PoolState} from '../pools/runtime.js'
import type {ProviderType} from '../pools/types.js'
import {TokenError} from '../oauth/errors.js'
import {redact} from '../secrets.js'
import type {AttemptBody, ProviderAdapter, UpstreamCall} from '../providers/types.js'
import {SSE_HEADERS, headerValue, sendError, write} from '../server/respond.js'
import type {RequestTimeouts} from '../http/dispatchers.js'
import {classifyError, classifyStatus, describeOutcome, isCounted, isTimeoutAfterSending, upstreamErrorMessage, type Outcome} from './classify.js'
import {scrubErrorLines, scrubErrorText} from './scrub.js'

export interface ClientCall {
  route: string
  protocol: Protocol
  type: ProviderType
  /** The request body exactly as received. */
  body: Buffer
  json: Record<string, unknown>
  /** The model the upstream should see; differs from the body's when a `type:` prefix was removed. */
  model: string
  modelRewritten: boolean
  stream: boolean
  headers: IncomingHttpHeaders
}

export interface RequestRecord {
  time: number
  route: string
  protocol: Protocol
  type: ProviderType
  instance: string | null
  model: string
  status: number
  ms: number
  attempts: number
  stream: boolean
  error?: string
}

export interface ProxyDeps {
  state: PoolState
  adapters: Partial<Record<ProviderType, ProviderAdapter>>
  codecs: Record<Protocol, ProtocolCodec>
  now: () => number
  maxAttempts: number
  /** Largest non-streamed upstream answer held in memory; larger ones fail the attempt. */
  responseLimitBytes?: number
  /** How long each type's upstream may take to answer and may go quiet mid-answer; the dispatcher's own otherwise. */
  timeouts?: Partial<Record<ProviderType, RequestTimeouts>>
  /** Largest upstream error body read; a longer one is cut off unread and its connection closed. */
  errorBodyLimitBytes?: number
  /** Longest single event of a converted stream; a longer one fails the attempt (DEFAULT_EVENT_LIMIT). */
  streamEventLimitBytes?: number
  onDropped?: (field: string) => void
}

export const DEFAULT_RESPONSE_LIMIT = 64 * 1024 * 1024

type Attempt =
  | {done: true; status: number; error?: string}
  | {done: false; outcome: Outcome; message: string}

/**
 * Serves one client request from the pool: pick an instance, send, and on a retryable failure before the
 * first byte reached the client, try the next (never the same one twice). The request body is converted
 * from the original for every attempt's protocol, or passed through as bytes when the protocols match.
 */
export async function proxyRequest(deps: ProxyDeps, call: ClientCall, res: ServerResponse): Promise<RequestRecord> {
  const started = deps.now()
  const clientCodec = deps.codecs[call.protocol]
  const adapter = deps.adapters[call.type]
  const record = (status: number, instance: LiveInstance | null, attempts: number, error?: string): RequestRecord => ({
    time: started,
    route: call.route,
    protocol: call.protocol,
    type: call.type,
    instance: instance ? instanceLabel(instance) : null,
    model: call.model,
    status,
    ms: deps.now() - started,
    attempts,
    stream: call.stream,
    // The record is what the log and the board show: whatever the error quotes, no secret goes with it.
    ...(error === undefined ? {} : {error: redact(error)}),
  })
  if (!adapter) {
    sendError(res, clientCodec, 501, `Provider type ${call.type} is not supported by this server.`)
    return record(501, null, 0)
  }

  let bodies: BodySource
  try {
    bodies = bodySource(call, adapter, deps)
  } catch (error) {
    const status = error instanceof CodecError ? error.status : 400
    sendError(res, clientCodec, status, errorMessage(error))
    return record(status, null, 0, errorMessage(error))
  }

  const abort = new ClientGone()
  const onClose = () => {
    if (!res.writableFinished) abort.abort()
  }
  res.on('close', onClose)
  const tried = new Set<string>()
  let lastFailure: string | undefined
  let last: LiveInstance | null = null
  try {
    while (tried.size < deps.maxAttempts) {
      const lease = deps.state.acquire(call.type, tried)
      if (!lease) break
      const {live} = lease
      tried.add(live.id)
      last = live
      const upstreams: Readable[] = []
      let attempt: Attempt
      try {
        attempt = await attemptInstance({deps, call, adapter, live, bodies, res, signal: abort, upstreams})
      } catch (error) {
        // A conversion the target cannot carry: the client's request is at fault, whichever instance serves it.
        if (!(error instanceof CodecError)) throw error
        sendError(res, clientCodec, error.status, error.message)
        attempt = {done: true, status: error.status, error: error.message}
      } finally {
        // Whatever happened, an upstream answer not read to its end is closed now, not left generating.
        for (const body of upstreams) discard(body)
        deps.state.release(lease)
      }
      if (attempt.done) return record(attempt.status, live, tried.size, attempt.error)
      if (abort.aborted) return record(499, live, tried.size, 'client closed the connection')
      if (isTimeoutAfterSending(attempt.outcome)) return answerTimeout(deps, call, clientCodec, res, live, attempt.outcome.phase, (status, error) => record(status, live, tried.size, error))
      lastFailure = `${instanceLabel(live)}: ${attempt.message}`
    }
    return answerUnavailable(deps, call, clientCodec, res, tried, lastFailure, (status, error) => record(status, last, tried.size, error))
  } finally {
    res.off('close', onClose)
  }
}

/** Where each attempt's upstream body comes from: shared by all attempts, or built per instance by the adapter. */
type BodySource = (live: LiveInstance) => Promise<{body: string | Buffer; createStreamDecoder?: AttemptBody['createStreamDecoder']}>

function bodySource(call: ClientCall, adapter: ProviderAdapter, deps: ProxyDeps): BodySource {
  let ir: IRRequest | undefined
  const decode = (): IRRequest => {
    if (!ir) {
      ir = deps.codecs[call.protocol].decodeRequest(call.json, {model: call.model, stream: call.stream, onDropped: deps.onDropped})
      ir.model = call.model
    }
    return ir
  }
  if (adapter.encodeBody) {
    const encode = adapter.encodeBody.bind(adapter)
    // Decode up front so a malformed request is a 400 before any instance is chosen.
    if (call.protocol !== adapter.protocol) decode()
    const input = {clientProtocol: call.protocol, clientJson: call.json, ir: decode, model: call.model, stream: call.stream}
    return (live) => encode(live.config, input)
  }
  let body: string | Buffer
  if (call.protocol === adapter.protocol) body = call.modelRewritten ? JSON.stringify({...call.json, model: call.model}) : call.body
  else body = JSON.stringify(deps.codecs[adapter.protocol].encodeRequest(decode(), {onDropped: deps.onDropped}))
  const shared = {body}
  return async () => shared
}

/**
 * Fires when the client hangs up, and aborts the upstream request with it. undici takes an EventEmitter as its
 * signal; that costs a fraction of an AbortController, which every request would otherwise create.
 */
class ClientGone extends EventEmitter {
  aborted = false

  abort(): void {
    if (this.aborted) return
    this.aborted = true
    this.emit('abort')
  }
}

/** Everything one attempt on one instance works with. */
interface AttemptContext {
  deps: ProxyDeps
  call: ClientCall
  adapter: ProviderAdapter
  live: LiveInstance
  bodies: BodySource
  res: ServerResponse
  signal: ClientGone
  /** Every upstream body this attempt opened, closed when the attempt ends. */
  upstreams: Readable[]
}

/** One instance: send, and after a 401 from an OAuth upstream refresh the token and send once more. */
async function attemptInstance(ctx: AttemptContext): Promise<Attempt> {
  const {adapter, live, signal} = ctx
  const attempt = await attemptOnce(ctx, Boolean(adapter.refresh))
  if (attempt.done || attempt.outcome.kind !== 'auth' || !adapter.refresh || signal.aborted) return attempt
  try {
    await adapter.refresh(live.config)
  } catch (error) {
    return tokenFailure(ctx.deps, live, error)
  }
  return attemptOnce(ctx, false)
}

/** A token that cannot be had: a gone login takes the instance out until a re-login; a token server hiccup counts. */
function tokenFailure(deps: ProxyDeps, live: LiveInstance, error: unknown): Attempt {
  if (error instanceof TokenError && error.kind === 'relogin_needed') {
    deps.state.markUnhealthy(live, error.message)
    return {done: false, outcome: {kind: 'auth'}, message: error.message}
  }
  return fail(deps, live, {kind: 'network', code: 'TOKEN_REFRESH'}, errorMessage(error))
}

async function attemptOnce(ctx: AttemptContext, mayRefresh: boolean): Promise<Attempt> {
  const {deps, call, adapter, live, bodies, res, signal} = ctx
  const sentAt = deps.now()
  let upstream: UpstreamCall
  let attemptBody: Awaited<ReturnType<BodySource>>
  try {
    upstream = await adapter.prepare(live.config, {stream: call.stream || Boolean(adapter.alwaysStreams), model: call.model, clientProtocol: call.protocol, clientHeaders: call.headers})
    attemptBody = await bodies(live)
  } catch (error) {
    if (error instanceof CodecError) throw error
    return tokenFailure(deps, live, error)
  }
  let response: Dispatcher.ResponseData
  try {
    const limits = deps.timeouts?.[call.type]
    const options = {method: 'POST' as const, headers: upstream.headers, body: attemptBody.body, signal, headersTimeout: limits?.headersMs, bodyTimeout: limits?.idleMs}
    response =
      upstream.origin && upstream.path
        ? await upstream.dispatcher.request({...options, origin: upstream.origin, path: upstream.path})
        : await request(upstream.url, {...options, dispatcher: upstream.dispatcher})
  } catch (error) {
    if (signal.aborted) return CLIENT_GONE
    return fail(deps, live, classifyError(error), errorMessage(error))
  }
  ctx.upstreams.push(response.body)
  if (response.statusCode < 400) {
    const latency = deps.now() - sentAt
    const options = decoderOptions(deps)
    const decoder = () =>
      scrubbingErrors(attemptBody.createStreamDecoder?.(options) ?? adapter.createStreamDecoder?.(options) ?? deps.codecs[adapter.protocol].createStreamDecoder(options))
    if (call.stream) return relayStream(ctx, response, latency, decoder)
    return adapter.alwaysStreams ? relayCollected(ctx, response, latency, decoder()) : relayJson(ctx, response, latency)
  }
  const text = await errorBody(deps, response)
  const outcome = adapter.classify?.(response.statusCode, response.headers, text, deps.now()) ?? classifyStatus(response.statusCode, response.headers, deps.now())
  if (outcome.kind === 'client_fault' || outcome.kind === 'success') return relayClientFault(deps, call, adapter, response, redact(text), res)
  // A 401 the adapter can cure by refreshing is not held against the instance yet.
  if (outcome.kind === 'auth' && mayRefresh) return {done: false, outcome, message: redact(`${response.statusCode} ${errorDetail(text)}`.trim())}
  return fail(deps, live, outcome, `${response.statusCode} ${errorDetail(text)}`.trim())
}

function fail(deps: ProxyDeps, live: LiveInstance, outcome: Outcome, upstreamMessage: string): Attempt {
  const message = redact(upstreamMessage)
  // Adapters quote the upstream's error body in their reasons, which go on to the log, the board and the pool file.
  const reason = 'reason' in outcome && outcome.reason !== undefined ? redact(outcome.reason) : undefined
  switch (outcome.kind) {
    case 'rate_limited':
      deps.state.cool(live, outcome.retryAfterMs ?? deps.state.policy.defaultCooldownMs, reason ?? 'rate limited')
      break
    case 'quota':
      deps.state.cool(live, outcome.retryAfterMs ?? deps.state.policy.maxCooldownMs, reason ?? 'quota exhausted', outcome.retryAfterMs === null)
      break
    case 'auth':
      deps.state.markUnhealthy(live, reason ?? 'auth')
      break
    default:
      if (isCounted(outcome)) deps.state.failed(live, describeOutcome(outcome))
  }
  return {done: false, outcome, message: `${describeOutcome(outcome)}${message ? ` (${message})` : ''}`}
}

function decoderOptions(deps: ProxyDeps): StreamDecoderOptions {
  return {onDropped: deps.onDropped, maxEventLength: deps.streamEventLimitBytes}
}

const CLIENT_GONE: Attempt = {done: true, status: 499, error: 'client closed the connection'}

/** An upstream error body, read up to the limit; '' when it was longer (then it is not read on) or broke off. */
async function errorBody(deps: ProxyDeps, response: Dispatcher.ResponseData): Promise<string> {
  const read = await readText(response.body, deps.errorBodyLimitBytes ?? DEFAULT_ERROR_BODY_LIMIT).catch(() => undefined)
  return read?.complete ? read.text : ''
}

const ERROR_DETAIL_LIMIT = 300

/** A short, secret-free hint from an upstream error body, for the log and the final error message. */
function errorDetail(text: string): string {
  return (upstreamErrorMessage(text) ?? '').slice(0, ERROR_DETAIL_LIMIT)
}

const RELAYED_HEADERS = ['content-type', 'retry-after', 'x-request-id', 'request-id']

function relayClientFault(
  deps: ProxyDeps,
  call: ClientCall,
  adapter: ProviderAdapter,
  response: Dispatcher.ResponseData,
  text: string,
  res: ServerResponse,
): Attempt {
  const status = response.statusCode
  // An empty body (or one too long to read) is not worth relaying: the client gets an error in its own shape.
  if (call.protocol === adapter.protocol && adapter.passthrough && text !== '') {
    const headers: Record<string, string> = {'content-length': String(Buffer.byteLength(text))}
    for (const name of RELAYED_HEADERS) {
      const value = response.headers[name]
      if (typeof value === 'string') headers[name] = value
    }
    res.writeHead(status, headers)
    res.end(text)
    return {done: true, status}
  }
  const detail = errorDetail(text)
  sendError(res, deps.codecs[call.protocol], status, detail || `The upstream rejected the request (${status}).`)
  return {done: true, status, error: detail}
}

function decodeUpstream(deps: ProxyDeps, adapter: ProviderAdapter, body: unknown): IRResponse {
  return adapter.decodeResponse ? adapter.decodeResponse(body) : deps.codecs[adapter.protocol].decodeResponse(body, {onDropped: deps.onDropped})
}

function sendJsonAnswer(res: ServerResponse, live: LiveInstance, out: string | Buffer): void {
  res.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(out), 'x-aiclient-instance': headerValue(instanceLabel(live))})
  res.end(out)
}

async function relayJson(ctx: AttemptContext, response: Dispatcher.ResponseData, latency: number): Promise<Attempt> {
  const {deps, call, adapter, live, res} = ctx
  const read = await readAnswer(response, deps.responseLimitBytes ?? DEFAULT_RESPONSE_LIMIT)
  if ('problem' in read) return fail(deps, live, read.outcome ?? {kind: 'server', status: 502}, read.problem)
  let out: Buffer | string = read.bytes
  if (call.protocol !== adapter.protocol || !adapter.passthrough) {
    try {
      out =
        call.protocol === adapter.protocol && adapter.sameProtocol
          ? JSON.stringify(adapter.sameProtocol.json(read.json))
          : JSON.stringify(deps.codecs[call.protocol].encodeResponse(decodeUpstream(deps, adapter, read.json), {onDropped: deps.onDropped}))
    } catch (error) {
      if (error instanceof CodecError) throw error
      return fail(deps, live, {kind: 'server', status: 502}, `unreadable response: ${errorMessage(error)}`)
    }
  }
  sendJsonAnswer(res, live, out)
  deps.state.succeeded(live, latency)
  return {done: true, status: 200}
}

type Answer = {bytes: Buffer; json: unknown} | {problem: string; outcome?: Outcome}

/**
 * Reads a successful plain answer and makes sure it is one: JSON, within the size limit, and not an error
 * object dressed as a 200 (some OpenAI-compatible servers do that). Anything else fails over.
 */
async function readAnswer(response: Dispatcher.ResponseData, limit: number): Promise<Answer> {
  const type = String(response.headers['content-type'] ?? '')
  if (type !== '' && !/json/i.test(type)) {
    await response.body.dump().catch(() => {})
    return {problem: `answer of type ${type.split(';')[0]} instead of JSON`}
  }
  const declared = Number(response.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    response.body.destroy()
    return {problem: `answer larger than ${limit} bytes`}
  }
  let bytes: Buffer
  try {
    // A declared length within the limit can be read in one go; only unbounded answers are counted as they come.
    const read = Number.isFinite(declared) ? Buffer.from(await response.body.arrayBuffer()) : await readLimited(response.body, limit)
    if (!read) return {problem: `answer larger than ${limit} bytes`}
    bytes = read
  } catch (error) {
    return {problem: errorMessage(error), outcome: classifyError(error)}
  }
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch {
    return {problem: 'answer is not valid JSON'}
  }
  if (isErrorObject(json)) return {problem: `error in a 200 answer: ${errorDetail(bytes.toString('utf8')) || 'no message'}`}
  return {bytes, json}
}

function isErrorObject(json: unknown): boolean {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return false
  const record = json as Record<string, unknown>
  return 'error' in record && record.error !== null && !('choices' in record) && !('content' in record) && !('candidates' in record) && !('response' in record)
}

/**
 * A plain answer for the client from an upstream that only streams: the whole stream, folded, within the size
 * limit of plain answers. Reading stops at the upstream's first error.
 */
async function relayCollected(ctx: AttemptContext, response: Dispatcher.ResponseData, latency: number, decoder: StreamDecoder): Promise<Attempt> {
  const {deps, call, live, res} = ctx
  const limit = deps.responseLimitBytes ?? DEFAULT_RESPONSE_LIMIT
  const events: IRStreamEvent[] = []
  let size = 0
  try {
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length
      if (size > limit) return fail(deps, live, {kind: 'server', status: 502}, `answer larger than ${limit} bytes`)
      const batch = decoder.push(chunk as Buffer)
      events.push(...batch)
      if (batch.some((event) => event.type === 'error')) break
    }
    events.push(...decoder.end())
  } catch (error) {
    return fail(deps, live, classifyError(error), errorMessage(error))
  }
  let answer: IRResponse
  try {
    answer = collectStream(events, call.model)
  } catch (error) {
    const status = error instanceof StreamFailure ? error.status : 502
    if (status === 429) return fail(deps, live, {kind: 'rate_limited', retryAfterMs: null}, errorMessage(error))
    if (status < 500) {
      sendError(res, deps.codecs[call.protocol], status, errorMessage(error))
      return {done: true, status, error: errorMessage(error)}
    }
    return fail(deps, live, {kind: 'server', status}, errorMessage(error))
  }
  sendJsonAnswer(res, live, JSON.stringify(deps.codecs[call.protocol].encodeResponse(answer, {onDropped: deps.onDropped})))
  deps.state.succeeded(live, latency)
  return {done: true, status: 200}
}

async function relayStream(ctx: AttemptContext, response: Dispatcher.ResponseData, latency: number, decoder: () => StreamDecoder): Promise<Attempt> {
  const {deps, call, adapter, live, res, signal} = ctx
  const clientCodec = deps.codecs[call.protocol]
  const transform = streamTransform(deps, call, adapter, decoder)
  const chunks = response.body[Symbol.asyncIterator]()
  const type = String(response.headers['content-type'] ?? '')
  if (/text\/html/i.test(type) || (/json/i.test(type) && !adapter.alwaysStreams)) {
    // A stream was asked for and a document came back: an error page, or an error object with status 200.
    const text = await errorBody(deps, response)
    return fail(deps, live, {kind: 'server', status: 502}, `answer of type ${type.split(';')[0]} instead of a stream${errorDetail(text) ? `: ${errorDetail(text)}` : ''}`)
  }
  // Reads up to the next piece for the client; null once the upstream has ended. Failures here are the upstream's;
  // a failure to answer the client is ours and propagates.
  let ended = false
  const next = async (): Promise<StreamOutput | null> => {
    if (ended) return null
    const chunk = await chunks.next()
    if (!chunk.done) return transform.push(chunk.value)
    ended = true
    return transform.end()
  }
  // Headers wait for the first bytes for the client, so a stream that breaks before anything could be relayed (a
  // reset, an over-long first event) can still fail over.
  const start = () => {
    if (!res.headersSent) res.writeHead(200, {...SSE_HEADERS, 'x-aiclient-instance': headerValue(instanceLabel(live))})
  }
  let failure: string | undefined
  let out: StreamOutput | null
  // After an error the upstream reported, nothing more is read: its connection is closed with the attempt.
  do {
    try {
      out = await next()
    } catch (error) {
      if (signal.aborted) return CLIENT_GONE
      if (!res.headersSent) return fail(deps, live, classifyError(error), errorMessage(error))
      failure = `stream interrupted: ${errorMessage(error)}`
      const outcome = classifyError(error)
      deps.state.failed(live, describeOutcome(outcome))
      if (!res.destroyed) res.end(clientCodec.streamErrorEvent(redact(`Upstream stream failed: ${errorMessage(error)}`), 502))
      return {done: true, status: 200, error: failure}
    }
    if (out && out.text.length > 0) {
      start()
      await write(res, out.text)
    }
    failure ??= out?.error
  } while (out && !out.error)
  start()
  res.end()
  if (failure) deps.state.failed(live, 'error in stream')
  else deps.state.succeeded(live, latency)
  return failure ? {done: true, status: 200, error: failure} : {done: true, status: 200}
}

interface StreamOutput {
  text: string | Buffer
  error?: string
}

interface StreamTransform {
  push(chunk: Buffer): StreamOutput
  end(): StreamOutput
}

function streamTransform(deps: ProxyDeps, call: ClientCall, adapter: ProviderAdapter, createDecoder: () => StreamDecoder): StreamTransform {
  if (call.protocol === adapter.protocol) {
    if (adapter.passthrough) {
      const lines = scrubErrorLines()
      return {push: (chunk) => ({text: lines.push(chunk)}), end: () => ({text: lines.end()})}
    }
    if (adapter.sameProtocol) {
      // The reshaped text is whole events, so each piece can be checked on its own.
      const reshape = adapter.sameProtocol.stream(decoderOptions(deps))
      return {push: (chunk) => ({text: scrubErrorText(reshape.push(chunk))}), end: () => ({text: scrubErrorText(reshape.end())})}
    }
  }
  const decoder = createDecoder()
  const encoder = deps.codecs[call.protocol].createStreamEncoder({
    model: call.model,
    includeUsage: Boolean((call.json.stream_options as {include_usage?: unknown} | undefined)?.include_usage),
    onDropped: deps.onDropped,
  })
  const convert = (events: IRStreamEvent[], finish: boolean) => {
    const error = events.find((e) => e.type === 'error')
    let text = encoder.encode(events)
    if (finish) text += encoder.finish()
    return error && error.type === 'error' ? {text, error: error.message} : {text}
  }
  return {push: (chunk) => convert(decoder.push(chunk), false), end: () => convert(decoder.end(), true)}
}

/** Upstream error events quote the upstream, which may quote the key: scrubbed before they are encoded or logged. */
function scrubbingErrors(decoder: StreamDecoder): StreamDecoder {
  const scrub = (events: IRStreamEvent[]): IRStreamEvent[] => {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!
      if (event.type === 'error') events[i] = {...event, message: redact(event.message)}
    }
    return events
  }
  return {push: (chunk) => scrub(decoder.push(chunk)), end: () => scrub(decoder.end())}
}

/**
 * The upstream took the request and then ran out of time: it may still be generating (and billing) the answer, so
 * sending it elsewhere could pay for it twice. The client gets a timeout in its protocol, with the SDKs' own
 * `x-should-retry: false` so that they do not resend it either.
 */
function answerTimeout(
  deps: ProxyDeps,
  call: ClientCall,
  codec: ProtocolCodec,
  res: ServerResponse,
  live: LiveInstance,
  phase: 'headers' | 'body',
  record: (status: number, error?: string) => RequestRecord,
): RequestRecord {
  const limits = deps.timeouts?.[call.type]
  const waited = phase === 'body' ? limits?.idleMs : limits?.headersMs
  const within = waited === undefined ? '' : ` for ${waited / 1000} s`
  const what = phase === 'body' ? `went quiet${within} in the middle of its answer` : `sent no answer${within}`
  const message = `The upstream (${instanceLabel(live)}) ${what}. The request was not resent, as the upstream may still be working on it.`
  sendError(res, codec, 504, message, {'x-should-retry': 'false'})
  return record(504, message)
}

function answerUnavailable(
  deps: ProxyDeps,
  call: ClientCall,
  codec: ProtocolCodec,
  res: ServerResponse,
  tried: ReadonlySet<string>,
  lastFailure: string | undefined,
  record: (status: number, error?: string) => RequestRecord,
): RequestRecord {
  const {coolingUntil, counts} = deps.state.unavailability(call.type, new Set())
  const total = counts.healthy + counts.cooling + counts.unhealthy + counts.disabled
  if (counts.healthy === 0 && coolingUntil !== null) {
    const seconds = Math.max(1, Math.ceil((coolingUntil - deps.now()) / 1000))
    const message = `All ${call.type} instances are cooling down after rate limits; retry in ${seconds}s.`
    sendError(res, codec, 429, message, {'retry-after': String(seconds)})
    return record(429, message)
  }
  if (lastFailure) {
    const message = `${tried.size === 1 ? 'The only attempt' : `All ${tried.size} attempts`} failed; last: ${lastFailure}.`
    sendError(res, codec, 502, message)
    return record(502, message)
  }
  const message =
    total === 0
      ? `No ${call.type} instances are configured. Add one with \`aiclient pool add ${call.type}\`.`
      : `No usable ${call.type} instance: ${counts.unhealthy} unhealthy, ${counts.disabled} disabled.`
  sendError(res, codec, 503, message)
  return record(503, message)
}
