// Fake OpenAI Chat Completions upstream (reference §1, §4): the wire format of openai-custom.
import {answerTexts, fakeTokens} from './answers.js'
import {
  bearer,
  estimateTokens,
  isRecord,
  requestTag,
  sseFrame,
  splitCodePoints,
  startFake,
  textOf,
  type Conversation,
  type ErrorOptions,
  type ErrorReply,
  type FakeOptions,
  type FakeUpstream,
  type ProtocolAdapter,
  type RecordedRequest,
  type ResolvedReply,
  type StopReason,
} from './fake-server.js'

export interface OpenAIFakeOptions extends FakeOptions {
  /** End streams without `data: [DONE]`, as some OpenAI-compatible servers do */
  omitDone?: boolean
  /** Rate-limit headers on every answer; read on every request, so a test may change them */
  rateLimits?: OpenAIRateLimits
}

/** One window: `reset` is a duration from now as OpenAI writes it (`1s`, `6m0s`, `1h2m3.5s`) */
export interface OpenAIRateLimitWindow {
  limit: number
  remaining: number
  reset: string
}

export interface OpenAIRateLimits {
  requests?: OpenAIRateLimitWindow
  tokens?: OpenAIRateLimitWindow
}

/** `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` (reference upstreams.md §1.4) */
export function openAIRateLimitHeaders(limits: OpenAIRateLimits = {}): Record<string, string> {
  const out: Record<string, string> = {}
  for (const scope of ['requests', 'tokens'] as const) {
    const w = limits[scope]
    if (!w) continue
    out[`x-ratelimit-limit-${scope}`] = String(w.limit)
    out[`x-ratelimit-remaining-${scope}`] = String(w.remaining)
    out[`x-ratelimit-reset-${scope}`] = w.reset
  }
  return out
}

export interface OpenAIErrorBody {
  error: {message: string; type: string; param: string | null; code: string | null}
}

const DEFAULT_MODELS = ['gpt-4o-mini', 'gpt-4o']

const FINISH: Record<StopReason, string> = {
  end: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool: 'tool_calls',
}

const ERRORS: Record<number, [type: string, code: string | null, message: string]> = {
  400: ['invalid_request_error', null, 'Invalid request.'],
  401: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.'],
  403: ['invalid_request_error', 'unsupported_country_region_territory', 'Country, region, or territory not supported'],
  404: ['invalid_request_error', 'model_not_found', 'The model does not exist or you do not have access to it.'],
  408: ['timeout', null, 'Request timed out.'],
  409: ['conflict', null, 'The request conflicted with another request.'],
  413: ['invalid_request_error', null, 'Request too large.'],
  422: ['invalid_request_error', null, 'Unprocessable request.'],
  429: ['requests', 'rate_limit_exceeded', 'Rate limit reached for requests.'],
  500: ['server_error', null, 'The server had an error while processing your request. Sorry about that!'],
  502: ['server_error', null, 'Bad gateway.'],
  503: ['server_error', null, 'The server is overloaded or not ready yet.'],
  504: ['server_error', null, 'Gateway timeout.'],
}

/** The §1.4 error body for a status; override any field, e.g. `{type: 'insufficient_quota', code: 'insufficient_quota'}` */
export function openAIError(status: number, overrides: Partial<OpenAIErrorBody['error']> = {}): OpenAIErrorBody {
  const [type, code, message] = ERRORS[status] ?? [
    status >= 500 ? 'server_error' : 'invalid_request_error',
    null,
    `HTTP ${status}`,
  ]
  return {error: {message, type, param: null, code, ...overrides}}
}

function invalid(message: string, param: string | null = null, code: string | null = null): ErrorReply {
  return {status: 400, body: openAIError(400, {message, param, code})}
}

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function']
const PART_TYPES: Record<string, string[]> = {
  user: ['text', 'image_url', 'input_audio', 'file'],
  assistant: ['text', 'refusal'],
  system: ['text'],
  developer: ['text'],
  tool: ['text'],
}

function validateMessage(m: unknown, i: number): ErrorReply | undefined {
  const at = `messages[${i}]`
  if (!isRecord(m)) return invalid(`Invalid type for '${at}': expected an object.`, at, 'invalid_type')
  const role = String(m.role)
  if (!ROLES.includes(role)) {
    return invalid(
      `Invalid value: '${role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
      `${at}.role`,
      'invalid_value',
    )
  }
  const content = m.content
  if (Array.isArray(content)) {
    for (const [j, part] of content.entries()) {
      const type = isRecord(part) ? String(part.type) : ''
      if (!(PART_TYPES[role] ?? []).includes(type)) {
        return invalid(
          `Invalid value: '${type}'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', 'audio', and 'file'.`,
          `${at}.content[${j}].type`,
          'invalid_value',
        )
      }
      if (type === 'text' && typeof (part as {text?: unknown}).text !== 'string') {
        return invalid(
          `Missing required parameter: '${at}.content[${j}].text'.`,
          `${at}.content[${j}].text`,
          'missing_required_parameter',
        )
      }
    }
  } else if (typeof content !== 'string' && !(role === 'assistant' && (content === null || content === undefined))) {
    return invalid(`Missing required parameter: '${at}.content'.`, `${at}.content`, 'missing_required_parameter')
  }
  if (role === 'assistant') {
    const calls = m.tool_calls
    if (calls !== undefined && !Array.isArray(calls))
      return invalid(`Invalid type for '${at}.tool_calls': expected an array.`)
    if ((content === null || content === undefined) && !(Array.isArray(calls) && calls.length > 0)) {
      return invalid(`Invalid value for 'content': expected a string, got null.`, `${at}.content`)
    }
    for (const [j, c] of (Array.isArray(calls) ? calls : []).entries()) {
      const p = `${at}.tool_calls[${j}]`
      if (!isRecord(c) || typeof c.id !== 'string') return invalid(`Missing required parameter: '${p}.id'.`, `${p}.id`)
      if (c.type !== 'function') return invalid(`Missing required parameter: '${p}.type'.`, `${p}.type`)
      const fn = c.function
      if (!isRecord(fn) || typeof fn.name !== 'string')
        return invalid(`Missing required parameter: '${p}.function.name'.`)
      if (typeof fn.arguments !== 'string') {
        const got = Array.isArray(fn.arguments) ? 'an array' : `an ${typeof fn.arguments}`
        return invalid(
          `Invalid type for '${p}.function.arguments': expected a string, but got ${got} instead.`,
          `${p}.function.arguments`,
          'invalid_type',
        )
      }
    }
  }
  if (role === 'tool' && typeof m.tool_call_id !== 'string') {
    return invalid(
      `Missing required parameter: '${at}.tool_call_id'.`,
      `${at}.tool_call_id`,
      'missing_required_parameter',
    )
  }
  return undefined
}

/** Every tool_call id must be answered by tool messages right after its assistant message (§1.1) */
function validateToolPairing(messages: Record<string, unknown>[]): ErrorReply | undefined {
  let pending = new Set<string>()
  let owner = -1
  const unanswered = (): ErrorReply =>
    invalid(
      `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending].join(', ')}`,
      `messages.[${owner}].role`,
    )
  for (const [i, m] of messages.entries()) {
    if (m.role === 'tool') {
      if (!pending.delete(String(m.tool_call_id))) {
        return invalid(
          `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`,
          `messages.[${i}].role`,
        )
      }
      continue
    }
    if (pending.size > 0) return unanswered()
    if (m.role === 'assistant' && Array.isArray(m.tool_calls)) {
      pending = new Set(m.tool_calls.map((c) => String((c as {id: unknown}).id)))
      owner = i
    }
  }
  return pending.size > 0 ? unanswered() : undefined
}

function validateChat(req: RecordedRequest, models: string[] | undefined): ErrorReply | undefined {
  const body: unknown = req.body
  if (!isRecord(body)) {
    return invalid(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    )
  }
  if (typeof body.model !== 'string' || body.model === '') return invalid('you must provide a model parameter')
  if (models && !models.includes(body.model)) {
    return {
      status: 404,
      body: openAIError(404, {message: `The model \`${body.model}\` does not exist or you do not have access to it.`}),
    }
  }
  const messages = body.messages
  if (messages === undefined)
    return invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter')
  if (!Array.isArray(messages))
    return invalid("Invalid type for 'messages': expected an array.", 'messages', 'invalid_type')
  if (messages.length === 0) {
    return invalid(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    )
  }
  for (const [i, m] of messages.entries()) {
    const e = validateMessage(m, i)
    if (e) return e
  }
  const paired = validateToolPairing(messages as Record<string, unknown>[])
  if (paired) return paired
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools))
      return invalid("Invalid type for 'tools': expected an array.", 'tools', 'invalid_type')
    for (const [i, t] of body.tools.entries()) {
      if (!isRecord(t) || t.type !== 'function' || !isRecord(t.function)) {
        return invalid(
          `Missing required parameter: 'tools[${i}].function'.`,
          `tools[${i}].function`,
          'missing_required_parameter',
        )
      }
      if (typeof t.function.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(t.function.name)) {
        return invalid(
          `Invalid 'tools[${i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
          `tools[${i}].function.name`,
          'invalid_value',
        )
      }
    }
  }
  if (body.stream_options != null && body.stream !== true) {
    return invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options')
  }
  return undefined
}

function conversation(req: RecordedRequest): Conversation {
  const messages: Record<string, unknown>[] = (req.body.messages as unknown[]).filter(isRecord)
  const tools = (Array.isArray(req.body.tools) ? (req.body.tools as unknown[]) : [])
    .filter(isRecord)
    .map((t) => t.function)
    .filter(isRecord)
    .map((f) => ({name: String(f.name), schema: f.parameters}))
  let toolResults: string[] | undefined
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === 'tool'; i--) {
    toolResults = [textOf(messages[i]?.content), ...(toolResults ?? [])]
  }
  const lastUser = messages.filter((m) => m.role === 'user').at(-1)
  return {lastUserText: textOf(lastUser?.content), toolResults, tools, inputTokens: estimateTokens(messages)}
}

function usage(r: ResolvedReply): Record<string, unknown> {
  const u = r.usage
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: {cached_tokens: u.cached},
    completion_tokens_details: {reasoning_tokens: u.reasoning},
  }
}

/** `logprobs.content` of one choice, with `top_logprobs` likeliest tokens at each step */
function tokenLogprobs(text: string, top: unknown): Record<string, unknown>[] {
  const bytes = (token: string) => Array.from(Buffer.from(token, 'utf8'))
  return fakeTokens(text, typeof top === 'number' ? top : 0).map((t) => ({
    token: t.token,
    logprob: t.logprob,
    bytes: bytes(t.token),
    top_logprobs: t.top.map((o) => ({token: o.token, logprob: o.logprob, bytes: bytes(o.token)})),
  }))
}

/** The inputs of an embeddings request: a string, strings, or token arrays (one or many). */
function embeddingInputs(input: unknown): unknown[] | undefined {
  if (typeof input === 'string') return [input]
  if (!Array.isArray(input) || input.length === 0) return undefined
  return input.every((x) => typeof x === 'number') ? [input] : input
}

function validateEmbeddings(req: RecordedRequest): ErrorReply | undefined {
  const body: unknown = req.body
  if (!isRecord(body)) return invalid('We could not parse the JSON body of your request.')
  if (typeof body.model !== 'string') return invalid('You must provide a model parameter.', 'model')
  const inputs = embeddingInputs(body.input)
  if (!inputs || inputs.some((x) => typeof x !== 'string' && !Array.isArray(x)))
    return invalid(
      "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      'input',
    )
  const format = body.encoding_format
  if (format !== undefined && format !== 'float' && format !== 'base64')
    return invalid(`Invalid value: '${String(format)}'. Supported values are: 'float' and 'base64'.`, 'encoding_format')
  return undefined
}

/** A deterministic vector per input (`dimensions` long, default 8), as floats or as base64 of little-endian float32. */
function embeddingList(req: RecordedRequest): Record<string, unknown> {
  const body = req.body as Record<string, unknown>
  const inputs = embeddingInputs(body.input) ?? []
  const size = typeof body.dimensions === 'number' ? body.dimensions : 8
  const data = inputs.map((input, index) => {
    const text = JSON.stringify(input)
    const vector = Float32Array.from({length: size}, (_, i) => ((text.length * (i + 1)) % 97) / 97)
    const embedding =
      body.encoding_format === 'base64' ? Buffer.from(vector.buffer).toString('base64') : Array.from(vector)
    return {object: 'embedding', index, embedding}
  })
  const tokens = inputs.reduce<number>((sum, input) => sum + estimateTokens(input), 0)
  return {object: 'list', data, model: req.model, usage: {prompt_tokens: tokens, total_tokens: tokens}}
}

export function startOpenAIFake(opts: OpenAIFakeOptions = {}): Promise<FakeUpstream> {
  return startFake({name: 'openai-fake'}, opts, ({eol}) => openAIAdapter(opts, eol))
}

/** The Chat Completions adapter; OpenAI-compatible upstreams (the Qwen portal fake) build on it */
export function openAIAdapter(opts: OpenAIFakeOptions, eol: string): ProtocolAdapter {
  const created = Math.floor(Date.now() / 1000)
  const callId = (req: RecordedRequest, i: number): string => `call_${requestTag(req)}_${i}`
  return {
    protocol: 'openai',
    midStreamStatus: 500,
    baseUrl: (origin) => `${origin}/v1`,
    route(req) {
      if (req.method === 'POST' && req.path === '/v1/chat/completions') {
        const body = isRecord(req.body) ? req.body : {}
        const model = typeof body.model === 'string' ? body.model : undefined
        return {name: 'chat.completions', generate: true, stream: body.stream === true, model}
      }
      if (req.method === 'POST' && req.path === '/v1/embeddings') {
        const model = isRecord(req.body) && typeof req.body.model === 'string' ? req.body.model : undefined
        return {name: 'embeddings', generate: false, stream: false, model}
      }
      if (req.method === 'GET' && req.path === '/v1/models') return {name: 'models', generate: false, stream: false}
      const one = /^\/v1\/models\/([^/]+)$/.exec(req.path)
      if (req.method === 'GET' && one?.[1])
        return {name: 'model', generate: false, stream: false, model: decodeURIComponent(one[1])}
      return undefined
    },
    credential: bearer,
    authenticate(req) {
      if (!opts.keys) return undefined
      if (req.key === undefined) {
        return {
          status: 401,
          body: openAIError(401, {
            message:
              "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            code: null,
          }),
        }
      }
      if (opts.keys.includes(req.key)) return undefined
      const shown = `${req.key.slice(0, 3)}*****${req.key.slice(-4)}`
      return {
        status: 401,
        body: openAIError(401, {
          message: `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        }),
      }
    },
    validate(req) {
      if (req.route === 'chat.completions') return validateChat(req, opts.models)
      if (req.route === 'embeddings') return validateEmbeddings(req)
      const models = opts.models ?? DEFAULT_MODELS
      if (req.route === 'model' && !models.includes(req.model ?? '')) {
        return {
          status: 404,
          body: openAIError(404, {message: `The model '${req.model}' does not exist`, param: 'model'}),
        }
      }
      return undefined
    },
    error(_req, status, o: ErrorOptions = {}) {
      const headers: Record<string, string> = o.retryAfter === undefined ? {} : {'retry-after': String(o.retryAfter)}
      // The real text repeats the delay; without a scripted delay it must not invent one clients could parse
      const hinted = status === 429 && o.retryAfter !== undefined
      const message =
        o.message ?? (hinted ? `Rate limit reached for requests. Please try again in ${o.retryAfter}s.` : undefined)
      return {status, body: openAIError(status, message === undefined ? {} : {message}), headers}
    },
    notFound: (req) => ({
      status: 404,
      body: openAIError(404, {message: `Invalid URL (${req.method} ${req.path})`, code: null}),
    }),
    conversation,
    unary(req, r) {
      const answer = (text: string): Record<string, unknown> => {
        const message: Record<string, unknown> = {
          role: 'assistant',
          content: text === '' && r.toolCalls.length > 0 ? null : text,
          refusal: null,
        }
        if (r.thinking) message.reasoning_content = r.thinking.text
        if (r.toolCalls.length > 0) {
          message.tool_calls = r.toolCalls.map((c, i) => ({
            id: c.id ?? callId(req, i),
            type: 'function',
            function: {name: c.name, arguments: JSON.stringify(c.arguments)},
          }))
        }
        return message
      }
      const logprobs = (text: string): Record<string, unknown> | null =>
        req.body.logprobs === true ? {content: tokenLogprobs(text, req.body.top_logprobs), refusal: null} : null
      return {
        id: `chatcmpl-${requestTag(req)}`,
        object: 'chat.completion',
        created,
        model: req.model,
        choices: answerTexts(r.text, req.body.n).map((text, index) => ({
          index,
          message: answer(text),
          logprobs: logprobs(text),
          finish_reason: FINISH[r.stopReason],
        })),
        usage: usage(r),
        system_fingerprint: 'fp_fake',
      }
    },
    events(req, r) {
      const includeUsage = isRecord(req.body.stream_options) && req.body.stream_options.include_usage === true
      const base = {id: `chatcmpl-${requestTag(req)}`, object: 'chat.completion.chunk', created, model: req.model}
      const chunk = (delta: Record<string, unknown>, finish: string | null = null): string => {
        // With logprobs, each chunk carries those of its own text.
        const text = typeof delta.content === 'string' ? delta.content : ''
        const logprobs = text === '' ? null : {content: tokenLogprobs(text, req.body.top_logprobs), refusal: null}
        const choice = {index: 0, delta, ...(req.body.logprobs === true && {logprobs}), finish_reason: finish}
        return sseFrame({...base, choices: [choice], ...(includeUsage ? {usage: null} : {})}, eol)
      }
      const events = [chunk({role: 'assistant', content: ''})]
      for (const piece of splitCodePoints(r.thinking?.text ?? '', r.chunkSize))
        events.push(chunk({reasoning_content: piece}))
      for (const piece of splitCodePoints(r.text, r.chunkSize)) events.push(chunk({content: piece}))
      for (const [index, c] of r.toolCalls.entries()) {
        const id = c.id ?? callId(req, index)
        events.push(chunk({tool_calls: [{index, id, type: 'function', function: {name: c.name, arguments: ''}}]}))
        for (const piece of splitCodePoints(JSON.stringify(c.arguments), r.chunkSize)) {
          events.push(chunk({tool_calls: [{index, function: {arguments: piece}}]}))
        }
      }
      events.push(chunk({}, FINISH[r.stopReason]))
      if (includeUsage) events.push(sseFrame({...base, choices: [], usage: usage(r)}, eol))
      if (!opts.omitDone) events.push(`data: [DONE]${eol}${eol}`)
      return events
    },
    streamError: (_req, e) => [sseFrame(e.body, eol)],
    aux(req) {
      const entry = (id: string): Record<string, unknown> => ({
        id,
        object: 'model',
        created: 1721172741,
        owned_by: 'system',
      })
      if (req.route === 'model') return entry(req.model ?? '')
      if (req.route === 'embeddings') return embeddingList(req)
      return {object: 'list', data: (opts.models ?? DEFAULT_MODELS).map(entry)}
    },
    headers: (req) => ({'x-request-id': `req_${requestTag(req)}`, ...openAIRateLimitHeaders(opts.rateLimits)}),
  }
}
