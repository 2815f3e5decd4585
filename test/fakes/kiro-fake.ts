// Fake Kiro / CodeWhisperer streaming upstream (reference §7): both URL styles, the §7.2 body rules, Kiro error
// bodies, and answers as genuine AWS event-stream frames written in arbitrary byte slices (also inside a UTF-8
// character). A variant of the shared fake server: its stream events are binary frames, regrouped into writes
// by `splitBytes`, and it adds behaviours that damage frames. Frames come from encodeFrame (kiro-frames.ts), whose
// bytes the codec tests pin to the reference's worked example.
import {seededRandom} from './random.js'
import {encodeFrame} from './kiro-frames.js'
import {
  bearer,
  estimateTokens,
  header,
  isRecord,
  requestTag,
  splitCodePoints,
  startFake,
  type Behaviour,
  type Chunk,
  type Conversation,
  type ErrorOptions,
  type ErrorReply,
  type FakeOptions,
  type FakeScript,
  type FakeUpstream,
  type ProtocolAdapter,
  type RecordedRequest,
  type ReplySpec,
  type ResolvedReply,
  type StopReason,
  type StreamPlan,
} from './fake-server.js'

export type FramePart = 'prelude-crc' | 'headers' | 'payload' | 'message-crc'

export type KiroBehaviour =
  | Exclude<Behaviour, {kind: 'delay'} | {kind: 'flood'}>
  | {kind: 'delay'; ms: number; then: KiroBehaviour}
  /** Send every frame, but damage one byte of frame `afterFrames` so its CRC no longer matches */
  | {kind: 'corrupt'; afterFrames: number; part?: FramePart; reply?: ReplySpec}
  /** Send `afterFrames` frames and half of the next, then drop the connection */
  | {kind: 'truncate'; afterFrames: number; reply?: ReplySpec}

export type KiroScript = FakeScript<KiroBehaviour>

export type KiroRecordedRequest = RecordedRequest<KiroBehaviour>

/** FakeUpstream with Kiro's extra behaviours; `baseUrl` is the origin, as KIRO_BASE_URL stores it */
export type KiroFakeUpstream = FakeUpstream<KiroBehaviour>

export interface KiroFakeOptions extends Omit<FakeOptions<KiroBehaviour>, 'keys' | 'eol' | 'keepAliveComments'> {
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
  /** The allowance getUsageLimits reports; read on every request, so a test may change it. Default: 3 of 50 used */
  usageLimits?: KiroUsageLimits
}

/**
 * The agentic-request allowance as `GET /getUsageLimits?origin=AI_EDITOR&resourceType=AGENTIC_REQUEST` reports it
 * (observed in AIClient-2-API src/providers/claude/claude-kiro.js getUsageLimits and the fields its
 * src/services/usage-service.js formatKiroUsage reads). Times are epoch seconds, as Kiro sends them
 */
export interface KiroUsageLimits {
  used: number
  limit: number
  nextDateReset: number
  subscriptionTitle?: string
  freeTrial?: {used: number; limit: number; status: 'ACTIVE' | 'EXPIRED'; expiry: number}
}

export const KIRO_USAGE_ROUTE = 'getUsageLimits'

/** The getUsageLimits answer body; `currentUsageWithPrecision` and its kin carry the same counts as floats */
export function kiroUsageLimitsAnswer(u: KiroUsageLimits): Record<string, unknown> {
  const counts = (used: number, limit: number) => ({
    currentUsage: Math.floor(used),
    currentUsageWithPrecision: used,
    usageLimit: Math.floor(limit),
    usageLimitWithPrecision: limit,
  })
  return {
    daysUntilReset: 0,
    nextDateReset: u.nextDateReset,
    subscriptionInfo: {subscriptionTitle: u.subscriptionTitle ?? 'KIRO FREE', type: 'Q_DEVELOPER_STANDALONE_FREE'},
    usageBreakdownList: [
      {
        resourceType: 'AGENTIC_REQUEST',
        displayName: 'Credit',
        unit: 'INVOCATIONS',
        nextDateReset: u.nextDateReset,
        ...counts(u.used, u.limit),
        ...(u.freeTrial && {
          freeTrialInfo: {
            ...counts(u.freeTrial.used, u.freeTrial.limit),
            freeTrialStatus: u.freeTrial.status,
            freeTrialExpiry: u.freeTrial.expiry,
          },
        }),
      },
    ],
  }
}

function defaultUsage(): KiroUsageLimits {
  const now = new Date()
  return {used: 3, limit: 50, nextDateReset: Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) / 1000}
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
  500: [
    'InternalServerException',
    'Encountered an unexpected error when processing the request, please try again.',
    null,
  ],
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
    if (!Array.isArray(r.content) || records(r.content).some((c) => typeof c.text !== 'string')) {
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
  const results = records(context.toolResults).map((r) =>
    records(r.content)
      .map((c) => String(c.text))
      .join(''),
  )
  const tools = records(context.tools)
    .map((t) => (isRecord(t.toolSpecification) ? t.toolSpecification : {}))
    .filter((spec) => spec.name !== PLACEHOLDER_TOOL)
    .map((spec) => ({name: String(spec.name), schema: isRecord(spec.inputSchema) ? spec.inputSchema.json : undefined}))
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

function renderFrames(req: RecordedRequest, r: ResolvedReply, opts: KiroFakeOptions): Uint8Array[] {
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
    const toolUseId = call.id ?? `tooluse_${requestTag(req)}_${i}`
    for (const input of splitCodePoints(JSON.stringify(call.arguments), r.chunkSize)) {
      event('toolUseEvent', {name: call.name, toolUseId, input})
    }
    event('toolUseEvent', {name: call.name, toolUseId, stop: true})
  }
  const u = r.usage
  const window = /opus/i.test(req.model ?? '') ? 1_000_000 : 200_000
  event('meteringEvent', {unit: 'credit', unitPlural: 'credits', usage: 0.01})
  event('contextUsageEvent', {contextUsagePercentage: ((u.input + u.output) / window) * 100})
  if (opts.metadata) {
    const tokenUsage = {
      uncachedInputTokens: u.input - u.cached - u.cacheWrite,
      outputTokens: u.output,
      totalTokens: u.input + u.output,
      cacheReadInputTokens: u.cached,
      cacheWriteInputTokens: u.cacheWrite,
    }
    event('metadataEvent', {tokenUsage, stopReason: STOP[r.stopReason]})
  }
  return frames
}

/** Flips one byte inside the chosen part of a frame, which its CRCs then no longer match */
function corrupt(chunk: Chunk, part: FramePart): Uint8Array {
  const frame = bytesOf(chunk)
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
  for (let at = 0; at < bytes.length;) {
    const size = Math.max(1, next())
    out.push(bytes.subarray(at, at + size))
    at += size
  }
  return out
}

const bytesOf = (chunk: Chunk): Uint8Array => (typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)

// ---- the adapter ----

/** The behaviours only Kiro has, on the reply's frames */
function damage(b: KiroBehaviour, frames: Chunk[]): StreamPlan {
  switch (b.kind) {
    case 'corrupt':
      return {chunks: frames.map((f, i) => (i === b.afterFrames ? corrupt(f, b.part ?? 'payload') : f)), end: 'end'}
    case 'truncate': {
      const next = frames[b.afterFrames]
      const half = next === undefined ? [] : [bytesOf(next).subarray(0, Math.floor(bytesOf(next).length / 2))]
      return {chunks: [...frames.slice(0, b.afterFrames), ...half], end: 'cut'}
    }
    default:
      throw new Error(`kiro fake: ${b.kind} is not a frame behaviour`)
  }
}

function kiroAdapter(opts: KiroFakeOptions): ProtocolAdapter<KiroBehaviour> {
  return {
    protocol: 'kiro',
    midStreamStatus: 500,
    baseUrl: (origin) => origin,
    route(req) {
      if (req.method === 'GET' && req.path === `/${KIRO_USAGE_ROUTE}`)
        return {name: KIRO_USAGE_ROUTE, generate: false, stream: false}
      const rpc = req.method === 'POST' && req.path === '/' && header(req, 'x-amz-target') === RPC_TARGET
      if (!rpc && !(req.method === 'POST' && req.path === `/${KIRO_ROUTE}`)) return undefined
      const model: unknown = req.body?.conversationState?.currentMessage?.userInputMessage?.modelId
      return {name: KIRO_ROUTE, generate: true, stream: true, model: typeof model === 'string' ? model : undefined}
    },
    credential: bearer,
    authenticate(req) {
      const {tokens, authStatus = 403} = opts
      if (req.key !== undefined && (!tokens || tokens.includes(req.key))) return undefined
      const type = authStatus === 401 ? 'UnauthorizedException' : 'AccessDeniedException'
      const body = {message: 'The bearer token included in the request is invalid.', reason: null}
      return {...kiroError(authStatus, body), headers: {'x-amzn-errortype': type}}
    },
    validate(req) {
      if (req.route === KIRO_USAGE_ROUTE)
        return req.query.resourceType && req.query.origin
          ? undefined
          : kiroError(400, {message: 'resourceType and origin are required.'})
      const problem = kiroBodyProblem(req.body)
      // The real answer never says what was wrong; the extra header spares tests the guessing
      if (problem) {
        const rejected = kiroError(400)
        return {...rejected, headers: {...rejected.headers, 'x-fake-problem': problem}}
      }
      if (opts.models && !opts.models.includes(req.model ?? '')) {
        const message = 'Invalid model ID. Please select a different model to continue.'
        return kiroError(400, {message, reason: 'INVALID_MODEL_ID'})
      }
      return undefined
    },
    error(_req, status, o: ErrorOptions = {}) {
      const base = kiroError(status, o.message === undefined ? {} : {message: o.message})
      const retry: Record<string, string> = o.retryAfter === undefined ? {} : {'retry-after': String(o.retryAfter)}
      return {...base, headers: {...base.headers, ...retry}}
    },
    notFound: (req) => ({status: 404, body: {message: `No route for ${req.method} ${req.path}`, reason: null}}),
    conversation: (req) => conversation(req.body),
    unary() {
      throw new Error('kiro fake: Kiro answers only in streams')
    },
    events: (req, reply) => renderFrames(req, reply, opts),
    streamError(_req, e) {
      const message = (e.body as KiroErrorBody).message
      return [encodeFrame({messageType: 'exception', exceptionType: exceptionType(e.status), payload: {message}})]
    },
    streamContentType: () => 'application/vnd.amazon.eventstream',
    writes: (frames) => splitWrites(frames.map(bytesOf), opts.splitBytes),
    custom: damage,
    aux: (req) => (req.route === KIRO_USAGE_ROUTE ? kiroUsageLimitsAnswer(opts.usageLimits ?? defaultUsage()) : {}),
    headers: (req) => ({'x-amzn-requestid': requestTag(req)}),
  }
}

export function startKiroFake(opts: KiroFakeOptions = {}): Promise<KiroFakeUpstream> {
  return startFake<KiroBehaviour>({name: 'kiro-fake'}, opts, () => kiroAdapter(opts))
}
