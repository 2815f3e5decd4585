// Fake Kiro / CodeWhisperer streaming upstream (reference §7): both URL styles, the §7.2 body rules, Kiro error
// bodies, and answers as genuine AWS event-stream frames written in arbitrary byte slices (also inside a UTF-8
// character). It reuses the reply model of fake-server.ts but runs its own small HTTP server: the shared one
// writes stream events as strings, which cannot carry binary frames cut at any byte. Frames come from the
// codec's encodeFrame, whose bytes the codec tests pin to the reference's worked example.
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import {seededRandom} from './random.js'
import type {AddressInfo} from 'node:net'

import type {KiroFrame} from '../../src/core/codecs/kiro/eventstream.js'
import {encodeFrame} from './kiro-frames.js'
import {
  bearer,
  estimateTokens,
  header,
  isRecord,
  requestTag,
  resolveReply,
  splitCodePoints,
  type Behaviour,
  type Conversation,
  type ErrorReply,
  type FakeOptions,
  type FakeUpstream,
  type RecordedRequest,
  type ReplySpec,
  type ResolvedReply,
  type StopReason,
} from './fake-server.js'

export type FramePart = 'prelude-crc' | 'headers' | 'payload' | 'message-crc'

export type KiroBehaviour =
  | Exclude<Behaviour, {kind: 'delay'} | {kind: 'flood'}>
  | {kind: 'delay'; ms: number; then: KiroBehaviour}
  /** Send every frame, but damage one byte of frame `afterFrames` so its CRC no longer matches */
  | {kind: 'corrupt'; afterFrames: number; part?: FramePart; reply?: ReplySpec}
  /** Send `afterFrames` frames and half of the next, then drop the connection */
  | {kind: 'truncate'; afterFrames: number; reply?: ReplySpec}

export interface KiroScript {
  queue: KiroBehaviour[]
  handler?: (req: KiroRecordedRequest, n: number) => KiroBehaviour | undefined
  fallback: KiroBehaviour
}

export interface KiroRecordedRequest extends Omit<RecordedRequest, 'behaviour'> {
  behaviour?: KiroBehaviour
}

/** FakeUpstream with Kiro's extra behaviours; `baseUrl` is the origin, as KIRO_BASE_URL stores it */
export interface KiroFakeUpstream extends Omit<FakeUpstream, 'protocol' | 'requests' | 'script' | 'enqueue' | 'calls'> {
  readonly protocol: 'kiro'
  readonly requests: KiroRecordedRequest[]
  readonly script: KiroScript
  enqueue(...behaviours: KiroBehaviour[]): void
  calls(route?: string): KiroRecordedRequest[]
}

export interface KiroFakeOptions extends Omit<FakeOptions, 'keys' | 'eol' | 'keepAliveComments' | 'script'> {
  /** Accepted bearer tokens; when absent any bearer token is accepted, but one is still required */
  tokens?: string[]
  /** Answer to a missing or unknown token: 403 AccessDeniedException as Kiro does, or 401 */
  authStatus?: 401 | 403
  /** Write sizes: fixed, taken in turn from a list, or seeded random in 1..max (64); default one write per frame */
  splitBytes?: number | number[] | {seed: number; max?: number}
  /** Thinking as `<thinking>` text, as Kiro sends it (default), or as reasoningContentEvent frames with a signature */
  thinkingAs?: 'tags' | 'events'
  /** End with a metadataEvent carrying exact token usage and the stop reason */
  metadata?: boolean
  /** Send every content event twice, as Kiro sometimes does */
  duplicateContent?: boolean
  script?: Partial<KiroScript>
}

export const KIRO_ROUTE = 'generateAssistantResponse'
const RPC_TARGET = 'AmazonCodeWhispererStreamingService.GenerateAssistantResponse'
const PLACEHOLDER_TOOL = 'no_tool_available'
const IMAGE_FORMATS = ['png', 'jpeg', 'gif', 'webp']
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/

const STOP: Record<StopReason, string> = {
  end: 'END_TURN',
  tool: 'TOOL_USE',
  max_tokens: 'MAX_TOKENS',
  stop_sequence: 'END_TURN',
}

// Bodies are {message, reason}; the texts of 402, 403 and 429 are [inf] (reference §7.5), override them as needed
const ERRORS: Record<number, [type: string, message: string, reason: string | null]> = {
  400: ['ValidationException', 'Improperly formed request.', null],
  401: ['UnauthorizedException', 'The bearer token included in the request is invalid.', null],
  402: ['ServiceQuotaExceededException', 'You have reached the limit for this month.', 'MONTHLY_REQUEST_COUNT'],
  403: ['AccessDeniedException', 'Your User ID temporarily is suspended.', 'TEMPORARILY_SUSPENDED'],
  429: ['ThrottlingException', 'Too many requests, please wait before trying again.', null],
  500: ['InternalServerException', 'Encountered an unexpected error when processing the request, please try again.', null],
}

export interface KiroErrorBody {
  message: string
  reason: string | null
}

/** A Kiro error answer for a status: body `{message, reason}` and the `x-amzn-errortype` header */
export function kiroError(status: number, overrides: Partial<KiroErrorBody> = {}): ErrorReply & {body: KiroErrorBody} {
  const fallback = status >= 500 ? 'InternalServerException' : 'ValidationException'
  const [type, message, reason] = ERRORS[status] ?? [fallback, `HTTP ${status}`, null]
  return {status, body: {message, reason, ...overrides}, headers: {'x-amzn-errortype': type}}
}

function exceptionType(status: number): string {
  if (status === 429) return 'throttlingException'
  if (status === 400) return 'validationException'
  return 'internalServerException'
}

// ---- §7.2 body rules: the first violation, or undefined ----

type Json = Record<string, unknown>

/** Kiro rejects nulls and empty arrays or objects anywhere outside free-form JSON (schemas, tool inputs) */
function emptyOrNull(value: unknown, path: string): string | undefined {
  if (value === null) return `${path} is null`
  if (Array.isArray(value)) {
    if (value.length === 0) return `${path} is an empty array`
    for (const [i, item] of value.entries()) {
      const problem = emptyOrNull(item, `${path}[${i}]`)
      if (problem) return problem
    }
  } else if (isRecord(value)) {
    if (Object.keys(value).length === 0) return `${path} is an empty object`
    for (const [key, item] of Object.entries(value)) {
      if (key === 'json' || key === 'input') continue
      const problem = emptyOrNull(item, `${path}.${key}`)
      if (problem) return problem
    }
  }
  return undefined
}

const nonEmptyString = (v: unknown): boolean => typeof v === 'string' && v !== ''
const records = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isRecord) : [])
const contextOf = (m: unknown): Json =>
  isRecord(m) && isRecord(m.userInputMessageContext) ? m.userInputMessageContext : {}

function userProblem(m: unknown, at: string): string | undefined {
  if (!isRecord(m)) return `${at} is not a userInputMessage`
  if (!nonEmptyString(m.content)) return `${at}.content is empty`
  if (!nonEmptyString(m.modelId) || !nonEmptyString(m.origin)) return `${at} lacks modelId or origin`
  for (const image of records(m.images)) {
    const source = isRecord(image.source) ? image.source : {}
    if (!IMAGE_FORMATS.includes(String(image.format)) || typeof source.bytes !== 'string') {
      return `${at}.images: bad image`
    }
  }
  const context = contextOf(m)
  const ids = new Set<string>()
  for (const r of records(context.toolResults)) {
    if (typeof r.toolUseId !== 'string' || ids.has(r.toolUseId)) return `${at}: missing or repeated toolUseId`
    ids.add(r.toolUseId)
    if (r.status !== 'success' && r.status !== 'error') return `${at}: tool result status ${String(r.status)}`
    if (!Array.isArray(r.content) || records(r.content).some(c => typeof c.text !== 'string')) {
      return `${at}: tool result content`
    }
  }
  for (const t of records(context.tools)) {
    const spec = isRecord(t.toolSpecification) ? t.toolSpecification : {}
    if (typeof spec.name !== 'string' || !TOOL_NAME.test(spec.name)) return `${at}: tool name ${String(spec.name)}`
    const description = spec.description
    if (typeof description !== 'string' || description === '' || description.length > 10240) {
      return `${at}: tool ${spec.name} description`
    }
    if (!isRecord(spec.inputSchema) || !isRecord(spec.inputSchema.json)) return `${at}: tool ${spec.name} schema`
  }
  return undefined
}

function assistantProblem(m: unknown, at: string): string | undefined {
  if (!isRecord(m) || typeof m.content !== 'string') return `${at} is not an assistantResponseMessage`
  const uses = records(m.toolUses)
  if (m.content === '' && uses.length === 0) return `${at}.content is empty`
  for (const u of uses) {
    if (typeof u.toolUseId !== 'string' || typeof u.name !== 'string' || !isRecord(u.input)) return `${at}: bad toolUse`
  }
  return undefined
}

/** The first §7.2 rule a request body breaks, or undefined */
export function kiroBodyProblem(body: unknown): string | undefined {
  if (!isRecord(body) || !isRecord(body.conversationState)) return 'no conversationState'
  const state = body.conversationState
  const shape = emptyOrNull(body, 'body')
  if (shape) return shape
  if (!nonEmptyString(state.conversationId) || !nonEmptyString(state.chatTriggerType)) {
    return 'conversationId or chatTriggerType missing'
  }
  if (body.profileArn !== undefined && typeof body.profileArn !== 'string') return 'profileArn is not a string'
  const current = isRecord(state.currentMessage) ? state.currentMessage.userInputMessage : undefined
  const currentProblem = userProblem(current, 'currentMessage')
  if (currentProblem) return currentProblem
  if (state.history !== undefined && !Array.isArray(state.history)) return 'history is not an array'
  const history: unknown[] = state.history ?? []
  let toolTraffic = records(contextOf(current).toolResults).length > 0
  for (const [i, entry] of history.entries()) {
    const at = `history[${i}]`
    const expected = i % 2 === 0 ? 'userInputMessage' : 'assistantResponseMessage'
    const keys = isRecord(entry) ? Object.keys(entry) : []
    if (keys.length !== 1 || keys[0] !== expected) return `${at} should be a ${expected} (user first, alternating)`
    const message = isRecord(entry) ? entry[expected] : undefined
    const problem = expected === 'userInputMessage' ? userProblem(message, at) : assistantProblem(message, at)
    if (problem) return problem
    const uses = isRecord(message) ? records(message.toolUses) : []
    toolTraffic ||= records(contextOf(message).toolResults).length > 0 || uses.length > 0
  }
  if (history.length % 2 !== 0) return 'history does not end with an assistantResponseMessage'
  if (toolTraffic && records(contextOf(current).tools).length === 0) return 'tool uses or results without tools'
  return undefined
}

// ---- reply rendering ----

function conversation(body: any): Conversation {
  const state = body.conversationState
  const current = state.currentMessage.userInputMessage
  const context: Json = current.userInputMessageContext ?? {}
  const results = records(context.toolResults).map(r => records(r.content).map(c => String(c.text)).join(''))
  const tools = records(context.tools)
    .map(t => (isRecord(t.toolSpecification) ? t.toolSpecification : {}))
    .filter(spec => spec.name !== PLACEHOLDER_TOOL)
    .map(spec => ({name: String(spec.name), schema: isRecord(spec.inputSchema) ? spec.inputSchema.json : undefined}))
  return {
    lastUserText: String(current.content),
    toolResults: results.length > 0 ? results : undefined,
    tools,
    inputTokens: estimateTokens(state),
  }
}

/** The decoder drops a content event equal to the one before (Kiro's duplicates), so real text never repeats a piece */
function contentPieces(text: string, size: number): string[] {
  const pieces: string[] = []
  for (const piece of splitCodePoints(text, size)) {
    if (pieces.at(-1) === piece) pieces[pieces.length - 1] += piece
    else pieces.push(piece)
  }
  return pieces
}

function renderFrames(x: Exchange, r: ResolvedReply, opts: KiroFakeOptions): Uint8Array[] {
  const frames: Uint8Array[] = []
  const event = (eventType: string, payload: Json): void => {
    frames.push(encodeFrame({messageType: 'event', eventType, payload}))
  }
  const content = (text: string): void => {
    for (const piece of contentPieces(text, r.chunkSize)) {
      event('assistantResponseEvent', {content: piece})
      if (opts.duplicateContent) event('assistantResponseEvent', {content: piece})
    }
  }
  if (r.thinking && opts.thinkingAs === 'events') {
    for (const piece of splitCodePoints(r.thinking.text, r.chunkSize)) event('reasoningContentEvent', {text: piece})
    event('reasoningContentEvent', {signature: r.thinking.signature})
  }
  content(r.thinking && opts.thinkingAs !== 'events' ? `<thinking>${r.thinking.text}</thinking>\n\n${r.text}` : r.text)
  for (const [i, call] of r.toolCalls.entries()) {
    const toolUseId = call.id ?? `tooluse_${x.tag}_${i}`
    for (const input of splitCodePoints(JSON.stringify(call.arguments), r.chunkSize)) {
      event('toolUseEvent', {name: call.name, toolUseId, input})
    }
    event('toolUseEvent', {name: call.name, toolUseId, stop: true})
  }
  const u = r.usage
  const window = /opus/i.test(x.rec.model ?? '') ? 1_000_000 : 200_000
  event('meteringEvent', {unit: 'credit', unitPlural: 'credits', usage: 0.01})
  event('contextUsageEvent', {contextUsagePercentage: ((u.input + u.output) / window) * 100})
  if (opts.metadata) {
    const tokenUsage = {
      uncachedInputTokens: u.input - u.cached,
      outputTokens: u.output,
      totalTokens: u.input + u.output,
      cacheReadInputTokens: u.cached,
      cacheWriteInputTokens: 0,
    }
    event('metadataEvent', {tokenUsage, stopReason: STOP[r.stopReason]})
  }
  return frames
}

/** Flips one byte inside the chosen part of a frame, which its CRCs then no longer match */
function corrupt(frame: Uint8Array, part: FramePart): Uint8Array {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const headersEnd = 12 + view.getUint32(4)
  const offset = {'prelude-crc': 8, headers: 13, payload: headersEnd, 'message-crc': frame.length - 1}[part]
  const damaged = Uint8Array.from(frame)
  damaged[offset] = (damaged[offset] ?? 0) ^ 0x01
  return damaged
}

type Split = NonNullable<KiroFakeOptions['splitBytes']>

function writeSizes(split: Split): () => number {
  if (typeof split === 'number') return () => split
  if (Array.isArray(split)) {
    let i = 0
    return () => split[i++ % split.length] ?? 1
  }
  const random = seededRandom(split.seed)
  const max = split.max ?? 64
  return () => 1 + Math.floor(random() * max)
}

/** The writes for a run of frames: one per frame, or the joined bytes cut by `splitBytes` */
export function splitWrites(frames: Uint8Array[], split: Split | undefined): Uint8Array[] {
  if (split === undefined) return frames
  const bytes = Buffer.concat(frames)
  const next = writeSizes(split)
  const out: Uint8Array[] = []
  for (let at = 0; at < bytes.length; ) {
    const size = Math.max(1, next())
    out.push(bytes.subarray(at, at + size))
    at += size
  }
  return out
}

// ---- the server ----

interface Exchange {
  rec: KiroRecordedRequest
  /** requestTag of the request: ids and x-amzn-requestid */
  tag: string
  res: ServerResponse
  /** The fake itself dropped the connection, so closing is not a client abort */
  selfClosed: boolean
  closed: Promise<void>
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

class KiroFake implements KiroFakeUpstream {
  readonly protocol = 'kiro'
  readonly requests: KiroRecordedRequest[] = []
  readonly script: KiroScript
  url = ''
  baseUrl = ''
  port = 0
  private counters = {count: 0, completed: 0, aborted: 0, generations: 0}
  private closing = false
  private readonly server = createServer((req, res) => void this.handle(req, res))

  constructor(
    readonly name: string,
    private readonly options: KiroFakeOptions,
  ) {
    this.script = this.freshScript()
    this.server.keepAliveTimeout = 1000
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
    this.baseUrl = this.url
    return this
  }

  enqueue(...behaviours: KiroBehaviour[]): void {
    this.script.queue.push(...behaviours)
  }

  calls(route?: string): KiroRecordedRequest[] {
    return route === undefined ? [...this.requests] : this.requests.filter(r => r.route === route)
  }

  async waitFor(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`${this.name}: condition not met within ${timeoutMs} ms`)
      await new Promise(r => setTimeout(r, 5))
    }
  }

  reset(): void {
    this.requests.length = 0
    this.counters = {count: 0, completed: 0, aborted: 0, generations: 0}
    Object.assign(this.script, this.freshScript())
  }

  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    for (const rec of this.requests) if (rec.outcome === 'pending') rec.outcome = 'destroyed'
    const closed = new Promise<void>(resolve => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closed
  }

  private freshScript(): KiroScript {
    const initial = this.options.script
    return {
      queue: [...(initial?.queue ?? [])],
      handler: initial?.handler,
      fallback: initial?.fallback ?? {kind: 'reply'},
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    // Typed as the shared record while it is one (no Kiro behaviour yet), for the shared helpers
    const base: RecordedRequest & {behaviour?: undefined} = {
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
    const rec: KiroRecordedRequest = base
    this.requests.push(rec)
    this.counters.count++
    let onClosed = (): void => {}
    const x: Exchange = {rec, tag: requestTag(base), res, selfClosed: false, closed: new Promise(r => (onClosed = r))}
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
      try {
        rec.body = rec.rawBody === '' ? undefined : JSON.parse(rec.rawBody)
      } catch {
        rec.body = undefined
      }
      rec.key = bearer(base)
      const rpc = req.method === 'POST' && rec.path === '/' && header(base, 'x-amz-target') === RPC_TARGET
      if (!rpc && !(req.method === 'POST' && rec.path === `/${KIRO_ROUTE}`)) {
        return this.send(x, {status: 404, body: {message: `No route for ${rec.method} ${rec.path}`, reason: null}})
      }
      rec.route = KIRO_ROUTE
      rec.stream = true
      const model: unknown = rec.body?.conversationState?.currentMessage?.userInputMessage?.modelId
      rec.model = typeof model === 'string' ? model : undefined
      const rejection = this.authenticate(rec) ?? this.validate(rec)
      if (rejection) return this.send(x, rejection)
      const behaviour =
        this.script.queue.shift() ?? this.script.handler?.(rec, this.counters.generations) ?? this.script.fallback
      this.counters.generations++
      rec.behaviour = behaviour
      await this.run(behaviour, x)
    } catch (err) {
      if (res.headersSent || res.destroyed) return
      console.error(`${this.name}: fake failed`, err)
      res.writeHead(500, {'content-type': 'text/plain'})
      res.end(`fake ${this.name} crashed: ${String(err)}`)
    }
  }

  private authenticate(rec: KiroRecordedRequest): ErrorReply | undefined {
    const {tokens, authStatus = 403} = this.options
    if (rec.key !== undefined && (!tokens || tokens.includes(rec.key))) return undefined
    const type = authStatus === 401 ? 'UnauthorizedException' : 'AccessDeniedException'
    const body = {message: 'The bearer token included in the request is invalid.', reason: null}
    return {...kiroError(authStatus, body), headers: {'x-amzn-errortype': type}}
  }

  private validate(rec: KiroRecordedRequest): ErrorReply | undefined {
    const problem = kiroBodyProblem(rec.body)
    // The real answer never says what was wrong; the extra header spares tests the guessing
    if (problem) {
      const rejected = kiroError(400)
      return {...rejected, headers: {...rejected.headers, 'x-fake-problem': problem}}
    }
    if (this.options.models && !this.options.models.includes(rec.model ?? '')) {
      const message = 'Invalid model ID. Please select a different model to continue.'
      return kiroError(400, {message, reason: 'INVALID_MODEL_ID'})
    }
    return undefined
  }

  private alive(x: Exchange): boolean {
    return !x.res.destroyed && !this.closing
  }

  private async run(b: KiroBehaviour, x: Exchange): Promise<void> {
    if (!this.alive(x)) return
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
      case 'status': {
        const base = kiroError(b.status, b.message === undefined ? {} : {message: b.message})
        const retry: Record<string, string> = b.retryAfter === undefined ? {} : {'retry-after': String(b.retryAfter)}
        const headers = {...base.headers, ...retry, ...b.headers}
        return this.send(x, {status: b.status, body: b.body ?? base.body, headers})
      }
      default: {
        const callToolsWhenOffered = this.options.callToolsWhenOffered
        const reply = resolveReply(b.reply, conversation(x.rec.body), {callToolsWhenOffered}, this.name)
        const frames = renderFrames(x, reply, this.options)
        switch (b.kind) {
          case 'reply':
            return this.stream(x, frames, 'end')
          case 'late-body':
            return this.stream(x, frames, 'end', b.ms)
          case 'cut':
            return this.stream(x, frames.slice(0, b.afterEvents), 'drop')
          case 'stream-error': {
            const status = b.status ?? 500
            const message = b.message ?? kiroError(status).body.message
            const exception: KiroFrame = {
              messageType: 'exception',
              exceptionType: exceptionType(status),
              payload: {message},
            }
            return this.stream(x, [...frames.slice(0, b.afterEvents), encodeFrame(exception)], 'end')
          }
          case 'corrupt':
            const damaged = frames.map((f, i) => (i === b.afterFrames ? corrupt(f, b.part ?? 'payload') : f))
            return this.stream(x, damaged, 'end')
          case 'truncate': {
            const next = frames[b.afterFrames]
            const half = next ? [next.subarray(0, Math.floor(next.length / 2))] : []
            return this.stream(x, [...frames.slice(0, b.afterFrames), ...half], 'drop')
          }
        }
      }
    }
  }

  private send(x: Exchange, e: ErrorReply): void {
    const bytes = Buffer.from(typeof e.body === 'string' ? e.body : JSON.stringify(e.body), 'utf8')
    x.res.writeHead(e.status, {
      'content-type': 'application/json',
      'content-length': String(bytes.length),
      'x-amzn-requestid': x.tag,
      ...e.headers,
    })
    x.res.end(bytes)
  }

  private async stream(x: Exchange, frames: Uint8Array[], end: 'end' | 'drop', thinkMs = 0): Promise<void> {
    x.res.writeHead(200, {'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': x.tag})
    x.res.flushHeaders()
    if (thinkMs > 0) await this.wait(x, thinkMs)
    for (const [i, slice] of splitWrites(frames, this.options.splitBytes).entries()) {
      if (i > 0 && this.options.paceMs) await this.wait(x, this.options.paceMs)
      if (!this.alive(x)) return
      await this.write(x, slice)
    }
    if (!this.alive(x)) return
    if (end === 'end') return void x.res.end()
    this.markDropped(x)
    const socket = x.res.socket
    socket?.end(() => socket.destroy())
  }

  /** Resolves once the bytes reached the socket, so a later drop cannot swallow them */
  private write(x: Exchange, bytes: Uint8Array): Promise<void> {
    return Promise.race([new Promise<void>(resolve => x.res.write(bytes, () => resolve())), x.closed])
  }

  private wait(x: Exchange, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const elapsed = new Promise<void>(resolve => (timer = setTimeout(resolve, ms)))
    return Promise.race([elapsed, x.closed]).finally(() => clearTimeout(timer))
  }

  private markDropped(x: Exchange): void {
    x.selfClosed = true
    x.rec.outcome = 'destroyed'
    x.rec.status = x.res.headersSent ? x.res.statusCode : undefined
  }
}

export function startKiroFake(opts: KiroFakeOptions = {}): Promise<KiroFakeUpstream> {
  return new KiroFake(opts.name ?? 'kiro-fake', opts).listen()
}
