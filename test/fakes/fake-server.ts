// Shared machinery of the loopback fake upstreams. Each protocol module supplies a ProtocolAdapter (routing,
// validation, wire rendering); this module owns the HTTP server, request records, scripting and the
// protocol-independent reply model. Stream events are SSE text or binary frames (Kiro's AWS event-stream); an
// adapter may regroup them into socket writes and add behaviours of its own (damaged frames). Deliberately independent of the codecs in src/core: the fakes are their oracle.
import {createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {poll} from '../helpers/poll.js'

export type Protocol = 'openai' | 'responses' | 'anthropic' | 'gemini' | 'kiro'

export type StopReason = 'end' | 'max_tokens' | 'tool' | 'stop_sequence'

export interface ToolCallSpec {
  /** Defaults to a deterministic protocol-style id (`call_…`, `toolu_…`); Gemini sends an id only when given */
  id?: string
  name: string
  arguments: Record<string, unknown>
}

/**
 * Token counts in OpenAI terms: `input` includes `cached` (cache reads) and `cacheWrite`, `output` includes
 * `reasoning`. Each protocol renders its own split (Anthropic input_tokens excludes cache reads and writes, Gemini
 * candidatesTokenCount excludes thoughts); protocols without cache writes (OpenAI chat, Gemini) leave them out.
 */
export interface UsageSpec {
  input?: number
  output?: number
  cached?: number
  cacheWrite?: number
  reasoning?: number
}

export interface ReplySpec {
  text?: string
  /** Anthropic thinking block, OpenAI-compatible `reasoning_content`, Gemini `thought: true` part */
  thinking?: {text: string; signature: string}
  toolCalls?: ToolCallSpec[]
  /** Defaults to 'tool' when there are tool calls, else 'end' */
  stopReason?: StopReason
  usage?: UsageSpec
  /** Code points per streamed text/thinking/arguments delta; default 8 */
  chunkSize?: number
}

export type Behaviour =
  /** Answer normally; without `reply` the fake's echo default is used */
  | {kind: 'reply'; reply?: ReplySpec}
  /** Error response; body defaults to the protocol's error shape; retryAfter (seconds) becomes the protocol's own hint */
  | {
      kind: 'status'
      status: number
      body?: unknown
      headers?: Record<string, string>
      retryAfter?: number
      message?: string
    }
  /** Never answer; the socket is released when the client gives up or the fake is closed */
  | {kind: 'hang'}
  /** Reset the connection (RST) before any response byte */
  | {kind: 'destroy'}
  /** Send headers and `afterEvents` stream events (unary: half the body), then drop the connection */
  | {kind: 'cut'; afterEvents: number; reply?: ReplySpec}
  /** Send `afterEvents` stream events, then the protocol's in-stream error and end cleanly (unary: an error status) */
  | {kind: 'stream-error'; afterEvents: number; status?: number; message?: string; reply?: ReplySpec}
  | {kind: 'delay'; ms: number; then: Behaviour}
  /** Exactly these bytes, e.g. an HTML error page, invalid JSON or a 200 carrying an error body */
  | {kind: 'raw'; status: number; headers?: Record<string, string>; body: string | Uint8Array}
  /** 200 and the headers at once, the answer `ms` later: a model thinking before its first token */
  | {kind: 'late-body'; ms: number; reply?: ReplySpec}
  /**
   * Headers (default 200, text/event-stream), `prefix`, then `bytes` bytes of `x` without a line break, written
   * only as fast as the reader takes them: an endless SSE line, a huge error body. `written` on the record counts
   * the bytes the socket accepted
   */
  | {kind: 'flood'; bytes: number; status?: number; headers?: Record<string, string>; prefix?: string}

export type Outcome =
  | 'pending' // still open (including hung)
  | 'completed' // 2xx fully written
  | 'error' // non-2xx fully written
  | 'aborted' // the client closed first
  | 'destroyed' // the fake dropped it (destroy, cut, close())

/** A scripted behaviour: the shared ones, or an adapter's own kinds on top */
export interface BehaviourBase {
  kind: string
  reply?: ReplySpec
}

export interface RecordedRequest<B extends BehaviourBase = BehaviourBase> {
  /** 0-based position in `requests` */
  n: number
  method: string
  /** Pathname only: Gemini's `?key=` stays out of it */
  path: string
  query: Record<string, string>
  headers: IncomingHttpHeaders
  /** Parsed JSON body; undefined when empty or not JSON */
  body: any // any: tests poke at arbitrary wire JSON
  rawBody: string
  /** Endpoint name, e.g. 'chat.completions', 'messages', 'count_tokens', 'generateContent', 'models'; '' when unknown */
  route: string
  model?: string
  stream: boolean
  /** The credential the client presented, whichever header or query form it used */
  key?: string
  status?: number
  behaviour?: B
  outcome: Outcome
  /** Body bytes a `flood` got onto the socket */
  written?: number
}

export interface FakeScript<B extends BehaviourBase = Behaviour> {
  /** Consumed first, one entry per model call (chat/messages/generateContent); auxiliary routes never consume it */
  queue: B[]
  /**
   * Consulted when the queue is empty; `n` counts model calls from 0; `conversation` is the request as the echo
   * default sees it (its `toolResults` tell a tool round trip's second leg); undefined falls through to `fallback`
   */
  handler?: (req: RecordedRequest<B>, n: number, conversation: Conversation) => B | undefined
  fallback: B
  /** Behaviour for auxiliary routes (model list, token counting); default: answer normally */
  aux?: (req: RecordedRequest<B>) => B | undefined
}

export interface FakeOptions<B extends BehaviourBase = Behaviour> {
  /** Shown in default replies so tests can tell instances apart */
  name?: string
  /** Accepted keys; when absent any key (or none) is accepted */
  keys?: string[]
  /** Served by the model list; when given, other models are rejected the way the real API does */
  models?: string[]
  /** Default reply calls the first offered tool (unless the last message is a tool result) */
  callToolsWhenOffered?: boolean
  /** Pause between stream events */
  paceMs?: number
  /** Write an SSE `: keep-alive` comment before every event */
  keepAliveComments?: boolean
  /** SSE line ending; default '\n' (Gemini: '\r\n') */
  eol?: '\n' | '\r\n'
  script?: Partial<FakeScript<B>>
}

export interface FakeUpstream<B extends BehaviourBase = Behaviour> {
  readonly name: string
  readonly protocol: Protocol
  /** Origin, e.g. http://127.0.0.1:PORT */
  readonly url: string
  /** What a pool instance stores: OpenAI `${url}/v1`, Anthropic and Gemini the origin */
  readonly baseUrl: string
  readonly port: number
  readonly requests: RecordedRequest<B>[]
  /** All requests received */
  readonly count: number
  /** Requests answered 2xx in full */
  readonly completed: number
  /** Requests whose client closed the connection before the fake finished writing */
  readonly aborted: number
  readonly script: FakeScript<B>
  /** Append behaviours to the script queue */
  enqueue(...behaviours: B[]): void
  /** Requests that hit a given route */
  calls(route?: string): RecordedRequest<B>[]
  /** Polls until `predicate` holds, e.g. `fake.waitFor(() => fake.aborted === 1)` */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>
  /** Clears records and counters, and puts the script back to what `opts.script` set up */
  reset(): void
  /** Ends every socket, hung ones included */
  close(): Promise<void>
}

// ---- reply model shared by the adapters ----

export interface OfferedTool {
  name: string
  schema?: unknown
}

/** What the echo default needs from a request, extracted per protocol */
export interface Conversation {
  lastUserText: string
  /** Set when the last message carries tool results */
  toolResults?: string[]
  tools: OfferedTool[]
  inputTokens: number
}

export interface ResolvedReply {
  text: string
  thinking?: {text: string; signature: string}
  toolCalls: ToolCallSpec[]
  stopReason: StopReason
  usage: Required<UsageSpec>
  chunkSize: number
}

export function estimateTokens(value: unknown): number {
  const s = typeof value === 'string' ? value : JSON.stringify(value ?? '')
  return Math.max(1, Math.ceil(s.length / 4))
}

/** Splits by code points so surrogate pairs (emoji) never straddle two deltas */
export function splitCodePoints(text: string, size: number): string[] {
  const points = Array.from(text)
  const out: string[] = []
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(''))
  return out
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Arguments that satisfy a JSON Schema (or Gemini's OpenAPI subset) well enough for a tool round trip */
export function plausibleArgs(schema: unknown): Record<string, unknown> {
  const value = plausibleValue(schema, 'value')
  return isRecord(value) ? value : {}
}

function plausibleValue(schema: unknown, key: string): unknown {
  if (!isRecord(schema)) return `fake-${key}`
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0]
  if ('const' in schema) return schema.const
  const types = Array.isArray(schema.type) ? schema.type : [schema.type]
  const type = String(types.find((t) => t !== 'null' && t !== 'NULL') ?? (isRecord(schema.properties) ? 'object' : ''))
  switch (type.toLowerCase()) {
    case 'object': {
      const props = isRecord(schema.properties) ? schema.properties : {}
      const keys = Array.isArray(schema.required) ? schema.required.map(String) : Object.keys(props)
      return Object.fromEntries(keys.map((k) => [k, plausibleValue(props[k], k)]))
    }
    case 'array':
      return [plausibleValue(schema.items, key)]
    case 'integer':
    case 'number':
      return 1
    case 'boolean':
      return true
    default: {
      const alt = Array.isArray(schema.anyOf)
        ? schema.anyOf[0]
        : Array.isArray(schema.oneOf)
          ? schema.oneOf[0]
          : undefined
      return alt === undefined ? `fake-${key}` : plausibleValue(alt, key)
    }
  }
}

function echoReply(conv: Conversation, name: string, callTools: boolean): ReplySpec {
  if (conv.toolResults) return {text: `${name}: tool result: ${conv.toolResults.join(' | ')}`}
  const tool = conv.tools[0]
  if (callTools && tool) return {toolCalls: [{name: tool.name, arguments: plausibleArgs(tool.schema)}]}
  return {text: `${name}: ${conv.lastUserText}`}
}

export function resolveReply(
  spec: ReplySpec | undefined,
  conv: Conversation,
  opts: Pick<FakeOptions, 'callToolsWhenOffered'>,
  name: string,
): ResolvedReply {
  const r = spec ?? echoReply(conv, name, opts.callToolsWhenOffered === true)
  const text = r.text ?? ''
  const toolCalls = r.toolCalls ?? []
  const reasoning = r.usage?.reasoning ?? (r.thinking ? estimateTokens(r.thinking.text) : 0)
  const visible = text + toolCalls.map((c) => c.name + JSON.stringify(c.arguments)).join('')
  return {
    text,
    thinking: r.thinking,
    toolCalls,
    stopReason: r.stopReason ?? (toolCalls.length > 0 ? 'tool' : 'end'),
    usage: {
      input: r.usage?.input ?? conv.inputTokens,
      output: r.usage?.output ?? estimateTokens(visible) + reasoning,
      cached: r.usage?.cached ?? 0,
      cacheWrite: r.usage?.cacheWrite ?? 0,
      reasoning,
    },
    chunkSize: Math.max(1, r.chunkSize ?? 8),
  }
}

/**
 * A script handler for one tool round trip: `call` while the request carries no tool result, then `final`
 * (which sees the results, e.g. to echo them). Any protocol: each adapter finds its own tool results.
 */
export function toolRoundTrip(
  call: ToolCallSpec,
  final: (toolResults: string[]) => ReplySpec = () => ({text: 'Done.'}),
): NonNullable<FakeScript['handler']> {
  return (_req, _n, conversation) => ({
    kind: 'reply',
    reply: conversation.toolResults ? final(conversation.toolResults) : {toolCalls: [call]},
  })
}

export function sseFrame(data: unknown, eol: string, event?: string): string {
  const json = typeof data === 'string' ? data : JSON.stringify(data)
  return `${event === undefined ? '' : `event: ${event}${eol}`}data: ${json}${eol}${eol}`
}

// ---- adapter contract ----

export interface Route {
  name: string
  /** A model call: consumes the script queue and renders ReplySpecs */
  generate: boolean
  stream: boolean
  model?: string
}

export interface ErrorReply {
  status: number
  body: unknown
  headers?: Record<string, string>
}

export interface ErrorOptions {
  message?: string
  retryAfter?: number
}

/** One stream event as written: SSE text, or a binary frame */
export type Chunk = string | Uint8Array

/** What an adapter's own behaviour sends after the stream headers, and whether the stream then ends or drops */
export interface StreamPlan {
  chunks: Chunk[]
  end: 'end' | 'cut'
}

export interface ProtocolAdapter<B extends BehaviourBase = Behaviour> {
  readonly protocol: Protocol
  /** Status of the in-stream error when a stream-error behaviour hits a unary request */
  readonly midStreamStatus: number
  baseUrl(origin: string): string
  route(req: RecordedRequest): Route | undefined
  /** The credential presented, in any accepted form */
  credential(req: RecordedRequest): string | undefined
  /** Auth and mandatory-header checks; runs before body validation */
  authenticate(req: RecordedRequest): ErrorReply | undefined
  /** Body validation; `req.body` is undefined when the JSON did not parse */
  validate(req: RecordedRequest): ErrorReply | undefined
  error(req: RecordedRequest, status: number, opts?: ErrorOptions): ErrorReply
  notFound(req: RecordedRequest): ErrorReply
  conversation(req: RecordedRequest): Conversation
  unary(req: RecordedRequest, reply: ResolvedReply): unknown
  /** Fully framed stream events */
  events(req: RecordedRequest, reply: ResolvedReply): Chunk[]
  /** Frames that report an error after `written` events and close the stream */
  streamError(req: RecordedRequest, error: ErrorReply, written: number): Chunk[]
  streamContentType?(req: RecordedRequest): string
  /** Socket writes for a run of events; default one write per event (Kiro cuts its frames at arbitrary bytes) */
  writes?(events: Chunk[]): Chunk[]
  /** Behaviours of this protocol's own on a model call, given the reply's events */
  custom?(behaviour: B, events: Chunk[]): StreamPlan
  aux(req: RecordedRequest): unknown
  /** Extra headers on every protocol response (request ids) */
  headers(req: RecordedRequest): Record<string, string>
  /** Forgets state the adapter keeps between requests (an account onboarded meanwhile); called by `reset()` */
  reset?(): void
}

export type AdapterFactory<B extends BehaviourBase = Behaviour> = (ctx: {
  name: string
  options: FakeOptions<B>
  eol: string
}) => ProtocolAdapter<B>

// ---- the server ----

const SHARED_KINDS = new Set<string>([
  'reply',
  'status',
  'hang',
  'destroy',
  'cut',
  'stream-error',
  'delay',
  'raw',
  'late-body',
  'flood',
])

function isShared(b: BehaviourBase): b is Behaviour {
  return SHARED_KINDS.has(b.kind)
}

interface Exchange<B extends BehaviourBase> {
  rec: RecordedRequest<B>
  res: ServerResponse
  route?: Route
  /** The fake itself dropped the connection, so closing is not a client abort */
  selfClosed: boolean
  closed: Promise<void>
}

const SSE_HEADERS = {'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive'}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function freshScript<B extends BehaviourBase>(initial?: Partial<FakeScript<B>>): FakeScript<B> {
  return {
    queue: [...(initial?.queue ?? [])],
    handler: initial?.handler,
    fallback: initial?.fallback ?? ({kind: 'reply'} as B),
    aux: initial?.aux,
  }
}

class FakeServer<B extends BehaviourBase> implements FakeUpstream<B> {
  readonly requests: RecordedRequest<B>[] = []
  readonly script: FakeScript<B>
  url = ''
  baseUrl = ''
  port = 0
  private counters = {count: 0, completed: 0, aborted: 0, generations: 0}
  private closing = false
  private readonly server = createServer((req, res) => void this.handle(req, res))

  constructor(
    readonly name: string,
    private readonly adapter: ProtocolAdapter<B>,
    private readonly options: FakeOptions<B>,
  ) {
    this.script = freshScript(options.script)
    // Clients that keep idle sockets must not hold a test process open for long
    this.server.keepAliveTimeout = 1000
  }

  get protocol(): Protocol {
    return this.adapter.protocol
  }

  get count(): number {
    return this.counters.count
  }

  get completed(): number {
    return this.counters.completed
  }

  get aborted(): number {
    return this.counters.aborted
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, '127.0.0.1', () => resolve())
    })
    this.port = (this.server.address() as AddressInfo).port
    this.url = `http://127.0.0.1:${this.port}`
    this.baseUrl = this.adapter.baseUrl(this.url)
    return this
  }

  enqueue(...behaviours: B[]): void {
    this.script.queue.push(...behaviours)
  }

  calls(route?: string): RecordedRequest<B>[] {
    return route === undefined ? [...this.requests] : this.requests.filter((r) => r.route === route)
  }

  async waitFor(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
    await poll(predicate, {
      timeoutMs,
      intervalMs: 5,
      failure: () => `${this.name}: condition not met within ${timeoutMs} ms`,
    })
  }

  reset(): void {
    this.requests.length = 0
    this.counters = {count: 0, completed: 0, aborted: 0, generations: 0}
    // In place, so references tests took to `script` stay live
    Object.assign(this.script, freshScript(this.options.script))
    this.adapter.reset?.()
  }

  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    for (const rec of this.requests) if (rec.outcome === 'pending') rec.outcome = 'destroyed'
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closed
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const rec: RecordedRequest<B> = {
      n: this.requests.length,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: undefined,
      rawBody: '',
      route: '',
      stream: false,
      outcome: 'pending',
    }
    this.requests.push(rec)
    this.counters.count++
    let onClosed = (): void => {}
    const x: Exchange<B> = {rec, res, selfClosed: false, closed: new Promise((r) => (onClosed = r))}
    res.on('finish', () => {
      rec.status = res.statusCode
      if (x.selfClosed) return
      const ok = res.statusCode >= 200 && res.statusCode < 300
      rec.outcome = ok ? 'completed' : 'error'
      if (ok) this.counters.completed++
    })
    res.on('close', () => {
      onClosed()
      if (res.writableFinished || x.selfClosed) return
      if (this.closing) {
        rec.outcome = 'destroyed'
      } else {
        rec.outcome = 'aborted'
        this.counters.aborted++
      }
    })

    try {
      rec.rawBody = await readBody(req)
      if (rec.rawBody !== '') {
        try {
          rec.body = JSON.parse(rec.rawBody)
        } catch {
          rec.body = undefined
        }
      }
      rec.key = this.adapter.credential(rec)
      const route = this.adapter.route(rec)
      if (!route) return this.sendError(x, this.adapter.notFound(rec))
      x.route = route
      rec.route = route.name
      rec.stream = route.stream
      rec.model = route.model
      const rejection = this.adapter.authenticate(rec) ?? this.adapter.validate(rec)
      if (rejection) return this.sendError(x, rejection)
      const behaviour = route.generate
        ? (this.script.queue.shift() ??
          this.script.handler?.(rec, this.counters.generations, this.adapter.conversation(rec)) ??
          this.script.fallback)
        : (this.script.aux?.(rec) ?? ({kind: 'reply'} as B))
      if (route.generate) this.counters.generations++
      rec.behaviour = behaviour
      await this.run(behaviour, x)
    } catch (err) {
      if (res.headersSent || res.destroyed) return
      console.error(`${this.name}: fake failed`, err)
      res.writeHead(500, {'content-type': 'text/plain'})
      res.end(`fake ${this.name} crashed: ${String(err)}`)
    }
  }

  private alive(x: Exchange<B>): boolean {
    return !x.res.destroyed && !this.closing
  }

  private async run(behaviour: B | Behaviour, x: Exchange<B>): Promise<void> {
    const route = x.route
    if (!route || !this.alive(x)) return
    if (!isShared(behaviour)) return this.runCustom(behaviour, x)
    const b: Behaviour = behaviour
    switch (b.kind) {
      case 'delay':
        await this.wait(x, b.ms)
        return this.run(b.then, x)
      case 'hang':
        return
      case 'destroy':
        this.markDropped(x)
        x.res.socket?.resetAndDestroy()
        return
      case 'raw':
        x.res.writeHead(b.status, b.headers ?? {})
        x.res.end(b.body)
        return
      case 'flood':
        return this.flood(x, b)
      case 'late-body': {
        if (!route.generate) return this.run({kind: 'reply', reply: b.reply}, x)
        const reply = resolveReply(b.reply, this.adapter.conversation(x.rec), this.options, this.name)
        if (route.stream) return this.stream(x, this.adapter.events(x.rec, reply), 'end', b.ms)
        const bytes = Buffer.from(JSON.stringify(this.adapter.unary(x.rec, reply)), 'utf8')
        x.res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(bytes.length),
          ...this.adapter.headers(x.rec),
        })
        x.res.flushHeaders()
        await this.wait(x, b.ms)
        if (this.alive(x)) x.res.end(bytes)
        return
      }
      case 'status': {
        const base = this.adapter.error(x.rec, b.status, {message: b.message, retryAfter: b.retryAfter})
        const body = b.body === undefined ? base.body : b.body
        return this.sendError(x, {status: b.status, body, headers: {...base.headers, ...b.headers}})
      }
      case 'reply':
      case 'cut':
      case 'stream-error': {
        if (!route.generate) return this.sendBody(x, 200, this.adapter.aux(x.rec), b.kind === 'cut')
        const reply = resolveReply(b.reply, this.adapter.conversation(x.rec), this.options, this.name)
        if (!route.stream) {
          if (b.kind === 'stream-error') {
            return this.sendError(
              x,
              this.adapter.error(x.rec, b.status ?? this.adapter.midStreamStatus, {message: b.message}),
            )
          }
          return this.sendBody(x, 200, this.adapter.unary(x.rec, reply), b.kind === 'cut')
        }
        const events = this.adapter.events(x.rec, reply)
        if (b.kind === 'reply') return this.stream(x, events)
        const head = events.slice(0, b.afterEvents)
        if (b.kind === 'cut') return this.stream(x, head, 'cut')
        const error = this.adapter.error(x.rec, b.status ?? this.adapter.midStreamStatus, {message: b.message})
        return this.stream(x, [...head, ...this.adapter.streamError(x.rec, error, head.length)])
      }
    }
  }

  /** An adapter's own behaviour, which shapes the reply's stream */
  private runCustom(b: B, x: Exchange<B>): Promise<void> {
    if (!this.adapter.custom) throw new Error(`${this.name}: unknown behaviour ${b.kind}`)
    const reply = resolveReply(b.reply, this.adapter.conversation(x.rec), this.options, this.name)
    const plan = this.adapter.custom(b, this.adapter.events(x.rec, reply))
    return this.stream(x, plan.chunks, plan.end)
  }

  private sendError(x: Exchange<B>, e: ErrorReply): void {
    this.sendBody(x, e.status, e.body, false, e.headers)
  }

  private sendBody(
    x: Exchange<B>,
    status: number,
    body: unknown,
    cut: boolean,
    headers: Record<string, string> = {},
  ): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    const bytes = Buffer.from(text, 'utf8')
    x.res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(bytes.length),
      ...this.adapter.headers(x.rec),
      ...headers,
    })
    if (!cut) {
      x.res.end(bytes)
      return
    }
    x.res.write(bytes.subarray(0, Math.floor(bytes.length / 2)))
    this.drop(x)
  }

  private async stream(x: Exchange<B>, events: Chunk[], end: 'end' | 'cut' = 'end', thinkMs = 0): Promise<void> {
    const contentType = this.adapter.streamContentType?.(x.rec) ?? SSE_HEADERS['content-type']
    x.res.writeHead(200, {...SSE_HEADERS, 'content-type': contentType, ...this.adapter.headers(x.rec)})
    // Real upstreams commit to 200 before the first token; clients see headers even when nothing follows
    x.res.flushHeaders()
    if (thinkMs > 0) await this.wait(x, thinkMs)
    const eol = this.options.eol ?? '\n'
    for (const [i, chunk] of (this.adapter.writes?.(events) ?? events).entries()) {
      if (i > 0 && this.options.paceMs) await this.wait(x, this.options.paceMs)
      if (this.options.keepAliveComments) await this.write(x, `: keep-alive${eol}${eol}`)
      if (!this.alive(x)) return
      await this.write(x, chunk)
    }
    if (!this.alive(x)) return
    if (end === 'cut') this.drop(x)
    else x.res.end()
  }

  private async flood(x: Exchange<B>, b: Extract<Behaviour, {kind: 'flood'}>): Promise<void> {
    x.res.writeHead(b.status ?? 200, {'content-type': SSE_HEADERS['content-type'], ...b.headers})
    x.res.flushHeaders()
    x.rec.written = 0
    if (b.prefix) await this.write(x, b.prefix)
    const block = 'x'.repeat(64 * 1024)
    for (let left = b.bytes; left > 0 && this.alive(x); left -= block.length) {
      const piece = left < block.length ? block.slice(0, left) : block
      const accepted = new Promise<void>((resolve) =>
        x.res.write(piece, (error) => {
          if (!error) x.rec.written! += piece.length
          resolve()
        }),
      )
      await Promise.race([accepted, x.closed])
    }
    if (this.alive(x)) x.res.end()
  }

  /** Resolves once the chunk reached the socket, so a later drop cannot swallow it */
  private write(x: Exchange<B>, chunk: Chunk): Promise<void> {
    if (!this.alive(x)) return Promise.resolve()
    return Promise.race([new Promise<void>((resolve) => x.res.write(chunk, () => resolve())), x.closed])
  }

  private wait(x: Exchange<B>, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const elapsed = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))
    return Promise.race([elapsed, x.closed]).finally(() => clearTimeout(timer))
  }

  private markDropped(x: Exchange<B>): void {
    x.selfClosed = true
    x.rec.outcome = 'destroyed'
    x.rec.status = x.res.headersSent ? x.res.statusCode : undefined
  }

  /** Flushes what was written, then closes without finishing the HTTP message (premature EOF) */
  private drop(x: Exchange<B>): void {
    this.markDropped(x)
    const socket = x.res.socket
    socket?.end(() => socket.destroy())
  }
}

export async function startFake<B extends BehaviourBase = Behaviour>(
  defaults: {name: string; eol?: '\n' | '\r\n'},
  options: FakeOptions<B>,
  factory: AdapterFactory<B>,
): Promise<FakeUpstream<B>> {
  const eol = options.eol ?? defaults.eol ?? '\n'
  const name = options.name ?? defaults.name
  const resolved = {...options, eol}
  return new FakeServer(name, factory({name, options: resolved, eol}), resolved).listen()
}

// ---- small helpers for the adapters ----

export function header(req: RecordedRequest, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

export function bearer(req: RecordedRequest): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(header(req, 'authorization') ?? '')
  return m?.[1]?.trim()
}

export function textOf(content: unknown, partType = 'text'): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content
    .filter((p): p is {text: string} => isRecord(p) && p.type === partType && typeof p.text === 'string')
    .map((p) => p.text)
    .join('')
}

export function requestTag(req: RecordedRequest): string {
  return `fake${String(req.n).padStart(4, '0')}`
}
