// Fake Anthropic Messages upstream (reference §2, §5): the wire format of claude-custom.
import {
  bearer,
  estimateTokens,
  header,
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
  type RecordedRequest,
  type ResolvedReply,
  type StopReason,
} from './fake-server.js'

export interface AnthropicFakeOptions extends FakeOptions {
  /** Rate-limit headers on every answer; read on every request, so a test may change them */
  rateLimits?: AnthropicRateLimits
}

/** An API key's window: `reset` in RFC 3339 (reference upstreams.md §2.4) */
export interface AnthropicRateLimitWindow {
  limit: number
  remaining: number
  reset: string
}

/**
 * A subscription's window as Claude Code sees it: `utilization` is the used share 0–1, `reset` epoch seconds,
 * `status` `rejected` once spent (undocumented; as public clients read them)
 */
export interface AnthropicUnifiedWindow {
  utilization: number
  reset: number
  status: 'allowed' | 'allowed_warning' | 'rejected'
}

export interface AnthropicRateLimits {
  requests?: AnthropicRateLimitWindow
  tokens?: AnthropicRateLimitWindow
  'input-tokens'?: AnthropicRateLimitWindow
  'output-tokens'?: AnthropicRateLimitWindow
  unified?: {'5h'?: AnthropicUnifiedWindow; '7d'?: AnthropicUnifiedWindow}
}

/** `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}` and the unified ones */
export function anthropicRateLimitHeaders(limits: AnthropicRateLimits = {}): Record<string, string> {
  const out: Record<string, string> = {}
  for (const scope of ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const) {
    const w = limits[scope]
    if (!w) continue
    out[`anthropic-ratelimit-${scope}-limit`] = String(w.limit)
    out[`anthropic-ratelimit-${scope}-remaining`] = String(w.remaining)
    out[`anthropic-ratelimit-${scope}-reset`] = w.reset
  }
  for (const window of ['5h', '7d'] as const) {
    const w = limits.unified?.[window]
    if (!w) continue
    out[`anthropic-ratelimit-unified-${window}-utilization`] = String(w.utilization)
    out[`anthropic-ratelimit-unified-${window}-reset`] = String(w.reset)
    out[`anthropic-ratelimit-unified-${window}-status`] = w.status
  }
  return out
}

export interface AnthropicErrorBody {
  type: 'error'
  error: {type: string; message: string}
  request_id?: string
}

const DEFAULT_MODELS = ['claude-sonnet-4-6', 'claude-haiku-4-5']

const STOP: Record<StopReason, string> = {
  end: 'end_turn',
  max_tokens: 'max_tokens',
  tool: 'tool_use',
  stop_sequence: 'stop_sequence',
}

const ERRORS: Record<number, [type: string, message: string]> = {
  400: ['invalid_request_error', 'Invalid request'],
  401: ['authentication_error', 'invalid x-api-key'],
  402: ['billing_error', 'Your credit balance is too low to access the Anthropic API.'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'],
  500: ['api_error', 'Internal server error'],
  504: ['timeout_error', 'Request timeout'],
  529: ['overloaded_error', 'Overloaded'],
}

/** The §2.4 error body for a status; override `type`/`message` as needed */
export function anthropicError(
  status: number,
  overrides: Partial<AnthropicErrorBody['error']> = {},
  requestId?: string,
): AnthropicErrorBody {
  const [type, message] = ERRORS[status] ?? [status >= 500 ? 'api_error' : 'invalid_request_error', `HTTP ${status}`]
  return {type: 'error', error: {type, message, ...overrides}, ...(requestId ? {request_id: requestId} : {})}
}

const BLOCK_TYPES = [
  'text',
  'image',
  'document',
  'search_result',
  'thinking',
  'redacted_thinking',
  'tool_use',
  'tool_result',
  'server_tool_use',
  'web_search_tool_result',
]

type Invalid = (message: string) => ErrorReply

const THINKING_DOCS =
  'Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking'

function blocksOf(m: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(m.content) ? m.content.filter(isRecord) : []
}

function validateBlock(b: unknown, at: string, role: string, invalid: Invalid): ErrorReply | undefined {
  const type = isRecord(b) ? String(b.type) : ''
  if (!isRecord(b) || !BLOCK_TYPES.includes(type)) {
    return invalid(
      `${at}: Input tag '${type}' found using 'type' does not match any of the expected tags: ${BLOCK_TYPES.map((t) => `'${t}'`).join(', ')}`,
    )
  }
  const need = (field: string, ok: boolean): ErrorReply | undefined =>
    ok ? undefined : invalid(`${at}.${type}.${field}: Field required`)
  switch (type) {
    case 'text':
      if (typeof b.text !== 'string') return need('text', false)
      return b.text === '' ? invalid('messages: text content blocks must be non-empty') : undefined
    case 'image': {
      const src = b.source
      if (!isRecord(src)) return need('source', false)
      if (src.type === 'base64')
        return need('source.base64.data', typeof src.data === 'string' && typeof src.media_type === 'string')
      if (src.type === 'url') return need('source.url.url', typeof src.url === 'string')
      return invalid(
        `${at}.image.source: Input tag '${String(src.type)}' found using 'type' does not match any of the expected tags`,
      )
    }
    case 'thinking':
      return (
        need('thinking', typeof b.thinking === 'string') ??
        need('signature', typeof b.signature === 'string' && b.signature !== '')
      )
    case 'redacted_thinking':
      return need('data', typeof b.data === 'string')
    case 'tool_use':
      if (role !== 'assistant') return invalid(`${at}: tool_use blocks can only appear in assistant messages`)
      return (
        need('id', typeof b.id === 'string') ??
        need('name', typeof b.name === 'string') ??
        (isRecord(b.input) ? undefined : invalid(`${at}.tool_use.input: Input should be a valid dictionary`))
      )
    case 'tool_result':
      if (role !== 'user') return invalid(`${at}: tool_result blocks can only appear in user messages`)
      if (typeof b.tool_use_id !== 'string') return need('tool_use_id', false)
      if (b.content !== undefined && typeof b.content !== 'string' && !Array.isArray(b.content)) {
        return invalid(`${at}.tool_result.content: Input should be a valid list`)
      }
      return undefined
    default:
      return undefined
  }
}

/** Each tool_use must be answered by tool_result blocks leading the very next user message (§2.1) */
function validateToolPairing(messages: Record<string, unknown>[], invalid: Invalid): ErrorReply | undefined {
  for (const [i, m] of messages.entries()) {
    const prev = messages[i - 1]
    const offered = new Set(
      prev?.role === 'assistant'
        ? blocksOf(prev)
            .filter((b) => b.type === 'tool_use')
            .map((b) => String(b.id))
        : [],
    )
    const blocks = blocksOf(m)
    for (const [j, b] of blocks.entries()) {
      if (b.type === 'tool_result' && !offered.has(String(b.tool_use_id))) {
        return invalid(
          `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(b.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        )
      }
    }
    if (m.role !== 'assistant') continue
    const uses = blocksOf(m)
      .filter((b) => b.type === 'tool_use')
      .map((b) => String(b.id))
    const next = messages[i + 1]
    if (uses.length === 0 || !next) continue
    const leading: string[] = []
    for (const b of next.role === 'user' ? blocksOf(next) : []) {
      if (b.type !== 'tool_result') break
      leading.push(String(b.tool_use_id))
    }
    const missing = uses.filter((id) => !leading.includes(id))
    if (missing.length > 0) {
      return invalid(
        `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
      )
    }
  }
  return undefined
}

function validateThinking(
  body: Record<string, unknown>,
  messages: Record<string, unknown>[],
  invalid: Invalid,
): ErrorReply | undefined {
  const thinking = body.thinking
  if (thinking === undefined) return undefined
  if (!isRecord(thinking) || !['enabled', 'disabled', 'adaptive'].includes(String(thinking.type))) {
    return invalid(
      "thinking: Input tag found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'",
    )
  }
  if (thinking.type === 'disabled') return undefined
  if (thinking.type === 'enabled') {
    const budget = thinking.budget_tokens
    if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1024) {
      return invalid('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024')
    }
    if (typeof body.max_tokens === 'number' && body.max_tokens <= budget) {
      return invalid(
        `\`max_tokens\` must be greater than \`thinking.budget_tokens\`. ${THINKING_DOCS}#max-tokens-and-context-window-size`,
      )
    }
  }
  if (body.temperature !== undefined && body.temperature !== 1) {
    return invalid(
      `\`temperature\` may only be set to 1 when thinking is enabled or in adaptive mode. ${THINKING_DOCS}#feature-compatibility`,
    )
  }
  // Inside a tool loop the assistant turn being continued must replay its thinking first
  const a = messages.map((m) => m.role).lastIndexOf('assistant')
  const turn = messages[a]
  const continued = messages.slice(a + 1).some((m) => blocksOf(m).some((b) => b.type === 'tool_result'))
  const first = turn ? (blocksOf(turn)[0] ?? {type: 'text'}) : undefined
  if (turn && continued && first && first.type !== 'thinking' && first.type !== 'redacted_thinking') {
    return invalid(
      `messages.${a}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first.type)}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. ${THINKING_DOCS}`,
    )
  }
  return undefined
}

function validateTools(body: Record<string, unknown>, invalid: Invalid): ErrorReply | undefined {
  const tools = body.tools
  if (tools === undefined) return undefined
  if (!Array.isArray(tools)) return invalid('tools: Input should be a valid list')
  for (const [i, t] of tools.entries()) {
    if (!isRecord(t)) return invalid(`tools.${i}: Input should be a valid dictionary`)
    // Server tools (web_search_…) carry their own type and no schema
    if (t.type !== undefined && t.type !== 'custom') continue
    if (typeof t.name !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(t.name)) {
      return invalid(`tools.${i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`)
    }
    if (!isRecord(t.input_schema)) return invalid(`tools.${i}.custom.input_schema: Field required`)
    if (t.input_schema.type !== 'object')
      return invalid(`tools.${i}.custom.input_schema.type: Input should be 'object'`)
  }
  const choice = body.tool_choice
  if (isRecord(choice) && choice.type === 'tool' && !tools.some((t) => isRecord(t) && t.name === choice.name)) {
    return invalid(`Tool '${String(choice.name)}' not found in provided tools`)
  }
  return undefined
}

function validateMessages(
  req: RecordedRequest,
  models: string[] | undefined,
  invalid: Invalid,
): ErrorReply | undefined {
  const body: unknown = req.body
  if (!isRecord(body)) return invalid('There was an error parsing the body of your request as JSON')
  if (typeof body.model !== 'string') return invalid('model: Field required')
  if (models && !models.includes(body.model)) {
    return {status: 404, body: anthropicError(404, {message: `model: ${body.model}`}, `req_${requestTag(req)}`)}
  }
  if (req.route === 'messages') {
    if (body.max_tokens === undefined) return invalid('max_tokens: Field required')
    if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
      return invalid('max_tokens: Input should be greater than or equal to 1')
    }
  }
  if (body.messages === undefined) return invalid('messages: Field required')
  if (!Array.isArray(body.messages)) return invalid('messages: Input should be a valid list')
  if (body.messages.length === 0) return invalid('messages: at least one message is required')
  if (body.system !== undefined && typeof body.system !== 'string') {
    if (!Array.isArray(body.system)) return invalid('system: Input should be a valid list')
    for (const [j, b] of body.system.entries()) {
      if (!isRecord(b) || b.type !== 'text' || typeof b.text !== 'string')
        return invalid(`system.${j}: Input should be a valid text block`)
    }
  }
  const messages = body.messages as unknown[]
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m)) return invalid(`messages.${i}: Input should be a valid dictionary`)
    if (m.role === 'system') {
      return invalid(
        'Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.',
      )
    }
    if (m.role !== 'user' && m.role !== 'assistant')
      return invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`)
    const last = i === messages.length - 1
    const empty = m.content === '' || (Array.isArray(m.content) && m.content.length === 0)
    if (empty && !(last && m.role === 'assistant')) {
      return invalid(
        `messages.${i}: all messages must have non-empty content except for the optional final assistant message`,
      )
    }
    if (typeof m.content !== 'string' && !Array.isArray(m.content))
      return invalid(`messages.${i}.content: Input should be a valid list`)
    for (const [j, b] of (Array.isArray(m.content) ? m.content : []).entries()) {
      const e = validateBlock(b, `messages.${i}.content.${j}`, m.role, invalid)
      if (e) return e
    }
    const tail = typeof m.content === 'string' ? m.content : textOf(blocksOf(m).slice(-1))
    if (last && m.role === 'assistant' && /\s$/.test(tail)) {
      return invalid('messages: final assistant content cannot end with trailing whitespace')
    }
  }
  const records = messages as Record<string, unknown>[]
  return (
    validateToolPairing(records, invalid) ?? validateThinking(body, records, invalid) ?? validateTools(body, invalid)
  )
}

function conversation(req: RecordedRequest): Conversation {
  const messages: Record<string, unknown>[] = (req.body.messages as unknown[]).filter(isRecord)
  const last = messages.at(-1)
  const results = last?.role === 'user' ? blocksOf(last).filter((b) => b.type === 'tool_result') : []
  const lastUser = messages
    .filter((m) => m.role === 'user' && !blocksOf(m).some((b) => b.type === 'tool_result'))
    .at(-1)
  const tools = (Array.isArray(req.body.tools) ? (req.body.tools as unknown[]) : [])
    .filter(isRecord)
    .filter((t) => isRecord(t.input_schema))
    .map((t) => ({name: String(t.name), schema: t.input_schema}))
  return {
    lastUserText: textOf(lastUser?.content),
    toolResults: results.length > 0 ? results.map((b) => textOf(b.content)) : undefined,
    tools,
    inputTokens: inputTokens(req),
  }
}

function inputTokens(req: RecordedRequest): number {
  return estimateTokens({system: req.body.system, messages: req.body.messages, tools: req.body.tools})
}

function blocks(req: RecordedRequest, r: ResolvedReply): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  if (r.thinking) out.push({type: 'thinking', thinking: r.thinking.text, signature: r.thinking.signature})
  if (r.text !== '') out.push({type: 'text', text: r.text})
  for (const [i, c] of r.toolCalls.entries()) {
    out.push({
      type: 'tool_use',
      id: c.id ?? `toolu_${requestTag(req)}_${i}`,
      name: c.name,
      input: c.arguments,
      caller: {type: 'direct'},
    })
  }
  return out
}

function stopSequence(req: RecordedRequest, r: ResolvedReply): string | null {
  if (r.stopReason !== 'stop_sequence') return null
  const seqs: unknown = req.body.stop_sequences
  return Array.isArray(seqs) && typeof seqs[0] === 'string' ? seqs[0] : 'END'
}

export function startAnthropicFake(opts: AnthropicFakeOptions = {}): Promise<FakeUpstream> {
  return startFake({name: 'anthropic-fake'}, opts, ({eol}) => {
    const requestId = (req: RecordedRequest): string => `req_${requestTag(req)}`
    const event = (type: string, data: Record<string, unknown> = {}): string => sseFrame({type, ...data}, eol, type)
    return {
      protocol: 'anthropic',
      midStreamStatus: 529,
      baseUrl: (origin) => origin,
      route(req) {
        const body = isRecord(req.body) ? req.body : {}
        const model = typeof body.model === 'string' ? body.model : undefined
        if (req.method === 'POST' && req.path === '/v1/messages') {
          return {name: 'messages', generate: true, stream: body.stream === true, model}
        }
        if (req.method === 'POST' && req.path === '/v1/messages/count_tokens') {
          return {name: 'count_tokens', generate: false, stream: false, model}
        }
        if (req.method === 'GET' && req.path === '/v1/models') return {name: 'models', generate: false, stream: false}
        const one = /^\/v1\/models\/([^/]+)$/.exec(req.path)
        if (req.method === 'GET' && one?.[1])
          return {name: 'model', generate: false, stream: false, model: decodeURIComponent(one[1])}
        return undefined
      },
      // The official SDK 1.x sends the key as a Bearer token; older clients use x-api-key
      credential: (req) => header(req, 'x-api-key') ?? bearer(req),
      authenticate(req) {
        const fail = (status: number, type: string, message: string): ErrorReply => ({
          status,
          body: anthropicError(status, {type, message}, requestId(req)),
        })
        if (opts.keys && req.key === undefined) return fail(401, 'authentication_error', 'x-api-key header is required')
        if (opts.keys && !opts.keys.includes(req.key ?? ''))
          return fail(401, 'authentication_error', 'invalid x-api-key')
        if (!header(req, 'anthropic-version'))
          return fail(400, 'invalid_request_error', 'anthropic-version: header is required')
        return undefined
      },
      validate(req) {
        const invalid: Invalid = (message) => ({status: 400, body: anthropicError(400, {message}, requestId(req))})
        if (req.route === 'messages' || req.route === 'count_tokens') return validateMessages(req, opts.models, invalid)
        if (req.route === 'model' && !(opts.models ?? DEFAULT_MODELS).includes(req.model ?? '')) {
          return {status: 404, body: anthropicError(404, {message: `model: ${req.model}`}, requestId(req))}
        }
        return undefined
      },
      error(req, status, o: ErrorOptions = {}) {
        const headers: Record<string, string> = o.retryAfter === undefined ? {} : {'retry-after': String(o.retryAfter)}
        return {
          status,
          body: anthropicError(status, o.message === undefined ? {} : {message: o.message}, requestId(req)),
          headers,
        }
      },
      notFound: (req) => ({
        status: 404,
        body: anthropicError(404, {message: `${req.method} ${req.path} not found`}, requestId(req)),
      }),
      conversation,
      unary(req, r) {
        const u = r.usage
        return {
          id: `msg_${requestTag(req)}`,
          type: 'message',
          role: 'assistant',
          model: req.model,
          content: blocks(req, r),
          stop_reason: STOP[r.stopReason],
          stop_sequence: stopSequence(req, r),
          usage: {
            input_tokens: u.input - u.cached - u.cacheWrite,
            output_tokens: u.output,
            cache_creation_input_tokens: u.cacheWrite,
            cache_read_input_tokens: u.cached,
          },
        }
      },
      events(req, r) {
        const u = r.usage
        const message = {
          id: `msg_${requestTag(req)}`,
          type: 'message',
          role: 'assistant',
          model: req.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: u.input - u.cached - u.cacheWrite,
            output_tokens: 1,
            cache_creation_input_tokens: u.cacheWrite,
            cache_read_input_tokens: u.cached,
          },
        }
        const out = [event('message_start', {message})]
        for (const [index, b] of blocks(req, r).entries()) {
          const deltas: Record<string, unknown>[] = []
          let start: Record<string, unknown>
          if (b.type === 'thinking') {
            start = {type: 'thinking', thinking: '', signature: ''}
            for (const piece of splitCodePoints(String(b.thinking), r.chunkSize))
              deltas.push({type: 'thinking_delta', thinking: piece})
            deltas.push({type: 'signature_delta', signature: b.signature})
          } else if (b.type === 'text') {
            start = {type: 'text', text: ''}
            for (const piece of splitCodePoints(String(b.text), r.chunkSize))
              deltas.push({type: 'text_delta', text: piece})
          } else {
            start = {type: 'tool_use', id: b.id, name: b.name, input: {}, caller: {type: 'direct'}}
            // The real API opens with an empty fragment; clients must tolerate it
            deltas.push({type: 'input_json_delta', partial_json: ''})
            for (const piece of splitCodePoints(JSON.stringify(b.input), r.chunkSize)) {
              deltas.push({type: 'input_json_delta', partial_json: piece})
            }
          }
          out.push(event('content_block_start', {index, content_block: start}))
          if (index === 0) out.push(event('ping'))
          for (const delta of deltas) out.push(event('content_block_delta', {index, delta}))
          out.push(event('content_block_stop', {index}))
        }
        if (out.length === 1) out.push(event('ping'))
        const delta = {stop_reason: STOP[r.stopReason], stop_sequence: stopSequence(req, r)}
        out.push(event('message_delta', {delta, usage: {output_tokens: u.output}}))
        out.push(event('message_stop'))
        return out
      },
      streamError: (_req, e) => [event('error', {error: (e.body as AnthropicErrorBody).error})],
      aux(req) {
        if (req.route === 'count_tokens') return {input_tokens: inputTokens(req)}
        const entry = (id: string): Record<string, unknown> => ({
          type: 'model',
          id,
          display_name: id.replace(/^claude-/, 'Claude ').replace(/-/g, ' '),
          created_at: '2025-09-29T00:00:00Z',
        })
        if (req.route === 'model') return entry(req.model ?? '')
        const ids = opts.models ?? DEFAULT_MODELS
        return {data: ids.map(entry), has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null}
      },
      headers: (req) => ({'request-id': requestId(req), ...anthropicRateLimitHeaders(opts.rateLimits)}),
    }
  })
}
