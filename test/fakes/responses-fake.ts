// Fake OpenAI Responses upstream (`POST /v1/responses`, `/v1/responses/compact`, `GET /v1/models`): the wire format
// of openaiResponses-custom. Keys, error bodies, 404s and the model list are the Chat Completions fake's: OpenAI
// serves both APIs behind the same keys and error shape. What is new here is the typed event stream and the
// memory of response ids that `previous_response_id` and tool results are checked against.
import {
  estimateTokens,
  isRecord,
  requestTag,
  sseFrame,
  splitCodePoints,
  startFake,
  textOf,
  type Chunk,
  type Conversation,
  type ErrorReply,
  type FakeOptions,
  type FakeUpstream,
  type ProtocolAdapter,
  type RecordedRequest,
  type ResolvedReply,
} from './fake-server.js'
import {openAIAdapter, openAIError, type OpenAIFakeOptions} from './openai-fake.js'

/** `rateLimits` as on the Chat Completions fake: the same headers on every answer */
export type ResponsesFakeOptions = FakeOptions & Pick<OpenAIFakeOptions, 'rateLimits'>

/** The Responses API's smallest `max_output_tokens`. */
const MIN_OUTPUT_TOKENS = 16

type Item = Record<string, unknown>

/** What the fake keeps of a stored response: enough to continue it and to check tool results against it. */
interface Remembered {
  output: Item[]
}

function invalid(message: string, param: string | null = null, code: string | null = null): ErrorReply {
  return {status: 400, body: openAIError(400, {message, param, code})}
}

/** Input as items: a string is one user message. */
function inputItems(body: Record<string, unknown>): Item[] {
  if (typeof body.input === 'string') return [{type: 'message', role: 'user', content: body.input}]
  return Array.isArray(body.input) ? body.input.filter(isRecord) : []
}

const isMessage = (item: Item): boolean => item.type === 'message' || (item.type === undefined && 'role' in item)

function partsText(content: unknown): string {
  return textOf(content, 'input_text') || textOf(content, 'output_text') || textOf(content)
}

function conversation(req: RecordedRequest): Conversation {
  const items = inputItems(req.body)
  const tools = (Array.isArray(req.body.tools) ? (req.body.tools as unknown[]) : [])
    .filter(isRecord)
    .filter((t) => t.type === 'function')
    .map((t) => ({name: String(t.name), schema: t.parameters}))
  let toolResults: string[] | undefined
  for (let i = items.length - 1; i >= 0 && items[i]?.type === 'function_call_output'; i--) {
    const output = items[i]?.output
    toolResults = [typeof output === 'string' ? output : partsText(output), ...(toolResults ?? [])]
  }
  const lastUser = items.filter((item) => isMessage(item) && item.role === 'user').at(-1)
  return {
    lastUserText: partsText(lastUser?.content),
    toolResults,
    tools,
    inputTokens: estimateTokens([req.body.instructions ?? '', items]),
  }
}

function usage(r: ResolvedReply): Record<string, unknown> {
  const u = r.usage
  return {
    input_tokens: u.input,
    input_tokens_details: {cached_tokens: u.cached, cache_write_tokens: u.cacheWrite},
    output_tokens: u.output,
    output_tokens_details: {reasoning_tokens: u.reasoning},
    total_tokens: u.input + u.output,
  }
}

export function startResponsesFake(opts: ResponsesFakeOptions = {}): Promise<FakeUpstream> {
  return startFake({name: 'responses-fake'}, opts, ({eol}) => responsesAdapter(opts, eol))
}

/** Tells the response ids of two fakes apart, so one cannot continue a conversation another holds. */
let fakesStarted = 0

/** The Responses adapter, on top of the Chat Completions one for what both APIs share. */
export function responsesAdapter(opts: ResponsesFakeOptions, eol: string): ProtocolAdapter {
  const chat = openAIAdapter(opts, eol)
  const created = Math.floor(Date.now() / 1000)
  const instance = (fakesStarted++).toString(16).padStart(4, '0')
  const remembered = new Map<string, Remembered>()
  const id = (prefix: string, req: RecordedRequest, suffix = ''): string =>
    `${prefix}_${instance}${requestTag(req)}${suffix}`

  /** Every call_id the request's tool results may answer: its own function calls and the previous response's. */
  const knownCalls = (req: RecordedRequest): Set<string> => {
    const previous = remembered.get(String(req.body.previous_response_id))?.output ?? []
    return new Set(
      [...previous, ...inputItems(req.body)].filter((i) => i.type === 'function_call').map((i) => String(i.call_id)),
    )
  }

  const validate = (req: RecordedRequest): ErrorReply | undefined => {
    const body: unknown = req.body
    if (!isRecord(body)) {
      return invalid(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      )
    }
    if (typeof body.model !== 'string' || body.model === '')
      return invalid("Missing required parameter: 'model'.", 'model', 'missing_required_parameter')
    if (opts.models && !opts.models.includes(body.model)) {
      return {
        status: 404,
        body: openAIError(404, {
          message: `The model \`${body.model}\` does not exist or you do not have access to it.`,
        }),
      }
    }
    if (body.input !== undefined && typeof body.input !== 'string' && !Array.isArray(body.input))
      return invalid("Invalid type for 'input': expected one of a string or array of input items.", 'input')
    const max = body.max_output_tokens
    if (typeof max === 'number' && max < MIN_OUTPUT_TOKENS) {
      return invalid(
        `Invalid 'max_output_tokens': integer below minimum value. Expected a value >= ${MIN_OUTPUT_TOKENS}, but got ${max} instead.`,
        'max_output_tokens',
        'integer_below_min_value',
      )
    }
    const previous = body.previous_response_id
    if (typeof previous === 'string' && !remembered.has(previous)) {
      return invalid(
        `Previous response with id '${previous}' not found.`,
        'previous_response_id',
        'previous_response_not_found',
      )
    }
    for (const [i, tool] of (Array.isArray(body.tools) ? body.tools : []).entries()) {
      if (isRecord(tool) && tool.type === 'function' && typeof tool.name !== 'string')
        return invalid(
          `Missing required parameter: 'tools[${i}].name'.`,
          `tools[${i}].name`,
          'missing_required_parameter',
        )
    }
    const calls = knownCalls(req)
    const orphan = inputItems(body).find((i) => i.type === 'function_call_output' && !calls.has(String(i.call_id)))
    if (orphan)
      return invalid(`No tool call found for function call output with call_id ${String(orphan.call_id)}.`, 'input')
    return undefined
  }

  /** The answer's output items, complete. */
  const outputItems = (req: RecordedRequest, r: ResolvedReply): Item[] => {
    const items: Item[] = []
    if (r.thinking) {
      const encrypted = Array.isArray(req.body.include) && req.body.include.includes('reasoning.encrypted_content')
      items.push({
        id: id('rs', req),
        type: 'reasoning',
        summary: [{type: 'summary_text', text: r.thinking.text}],
        ...(encrypted && {encrypted_content: r.thinking.signature}),
      })
    }
    if (r.text !== '' || r.toolCalls.length === 0) {
      items.push({
        id: id('msg', req),
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{type: 'output_text', text: r.text, annotations: [], logprobs: []}],
      })
    }
    for (const [i, call] of r.toolCalls.entries()) {
      items.push({
        id: id('fc', req, `_${i}`),
        type: 'function_call',
        status: 'completed',
        arguments: JSON.stringify(call.arguments),
        call_id: call.id ?? id('call', req, `_${i}`),
        name: call.name,
      })
    }
    return items
  }

  /** The response object; remembered when the request lets it be stored. */
  const response = (req: RecordedRequest, r: ResolvedReply): Record<string, unknown> => {
    const output = outputItems(req, r)
    const store = req.body.store !== false
    const responseId = id('resp', req)
    if (store) remembered.set(responseId, {output})
    const incomplete = r.stopReason === 'max_tokens'
    return {
      id: responseId,
      object: 'response',
      created_at: created,
      status: incomplete ? 'incomplete' : 'completed',
      background: false,
      error: null,
      incomplete_details: incomplete ? {reason: 'max_output_tokens'} : null,
      instructions: req.body.instructions ?? null,
      max_output_tokens: req.body.max_output_tokens ?? null,
      model: req.model,
      output,
      parallel_tool_calls: req.body.parallel_tool_calls ?? true,
      previous_response_id: req.body.previous_response_id ?? null,
      reasoning: {effort: null, summary: null, ...(isRecord(req.body.reasoning) ? req.body.reasoning : {})},
      store,
      temperature: req.body.temperature ?? 1,
      text: {format: {type: 'text'}},
      tool_choice: req.body.tool_choice ?? 'auto',
      tools: echoTools(req.body.tools),
      top_p: req.body.top_p ?? 1,
      truncation: 'disabled',
      usage: usage(r),
      user: null,
      metadata: req.body.metadata ?? {},
    }
  }

  /** `/responses/compact`: the user messages kept, then one opaque compaction item. */
  const compaction = (req: RecordedRequest, r: ResolvedReply): Record<string, unknown> => {
    const users = inputItems(req.body).filter((item) => isMessage(item) && item.role === 'user')
    return {
      id: id('resp', req),
      object: 'response.compaction',
      created_at: created,
      output: [
        ...users.map((item, i) => ({
          id: id('msg', req, `_${i}`),
          type: 'message',
          status: 'completed',
          role: 'user',
          content: [{type: 'input_text', text: partsText(item.content)}],
        })),
        {
          id: id('cmp', req),
          type: 'compaction',
          encrypted_content: Buffer.from(`compacted ${users.length} messages`).toString('base64'),
        },
      ],
      usage: usage(r),
    }
  }

  const events = (req: RecordedRequest, r: ResolvedReply): Chunk[] => {
    const full = response(req, r)
    let sequence = 0
    const event = (type: string, fields: Record<string, unknown>): string =>
      sseFrame({type, ...fields, sequence_number: sequence++}, eol, type)
    const started = {...full, status: 'in_progress', incomplete_details: null, output: [], usage: null}
    const out = [event('response.created', {response: started}), event('response.in_progress', {response: started})]
    for (const [output_index, item] of (full.output as Item[]).entries())
      out.push(...itemEvents(item, output_index, r.chunkSize, event))
    out.push(event(full.status === 'incomplete' ? 'response.incomplete' : 'response.completed', {response: full}))
    return out
  }

  return {
    ...chat,
    protocol: 'responses',
    route(req) {
      if (req.method === 'POST' && (req.path === '/v1/responses' || req.path === '/v1/responses/compact')) {
        const body = isRecord(req.body) ? req.body : {}
        const model = typeof body.model === 'string' ? body.model : undefined
        const compact = req.path.endsWith('/compact')
        const stream = !compact && body.stream === true
        return {name: compact ? 'responses.compact' : 'responses', generate: true, stream, model}
      }
      return chat.route(req)
    },
    validate: (req) => (req.route.startsWith('responses') ? validate(req) : chat.validate(req)),
    conversation,
    unary: (req, r) => (req.route === 'responses.compact' ? compaction(req, r) : response(req, r)),
    events,
    streamError(_req, e, written) {
      const error = (isRecord(e.body) && isRecord(e.body.error) ? e.body.error : {}) as Record<string, unknown>
      const data = {type: 'error', code: error.code ?? null, message: error.message, param: error.param ?? null}
      return [sseFrame({...data, sequence_number: written}, eol, 'error')]
    },
    reset: () => remembered.clear(),
  }
}

type Emit = (type: string, fields: Record<string, unknown>) => string

/** One output item as the stream tells it: added, its parts arriving in pieces, done. */
function itemEvents(item: Item, output_index: number, chunkSize: number, event: Emit): string[] {
  const item_id = item.id
  const at = {item_id, output_index}
  const out: string[] = []
  if (item.type === 'message') {
    const part = (item.content as Item[])[0]!
    const text = String(part.text)
    out.push(event('response.output_item.added', {output_index, item: {...item, status: 'in_progress', content: []}}))
    out.push(event('response.content_part.added', {...at, content_index: 0, part: {...part, text: ''}}))
    for (const delta of splitCodePoints(text, chunkSize))
      out.push(event('response.output_text.delta', {...at, content_index: 0, delta, logprobs: []}))
    out.push(event('response.output_text.done', {...at, content_index: 0, text, logprobs: []}))
    out.push(event('response.content_part.done', {...at, content_index: 0, part}))
  } else if (item.type === 'function_call') {
    const args = String(item.arguments)
    out.push(event('response.output_item.added', {output_index, item: {...item, status: 'in_progress', arguments: ''}}))
    for (const delta of splitCodePoints(args, chunkSize))
      out.push(event('response.function_call_arguments.delta', {...at, delta}))
    out.push(event('response.function_call_arguments.done', {...at, name: item.name, arguments: args}))
  } else {
    const summary = (item.summary as Item[])[0]!
    const text = String(summary.text)
    const part = {...at, summary_index: 0}
    out.push(event('response.output_item.added', {output_index, item: {...item, summary: []}}))
    out.push(event('response.reasoning_summary_part.added', {...part, part: {type: 'summary_text', text: ''}}))
    for (const delta of splitCodePoints(text, chunkSize))
      out.push(event('response.reasoning_summary_text.delta', {...part, delta}))
    out.push(event('response.reasoning_summary_text.done', {...part, text}))
    out.push(event('response.reasoning_summary_part.done', {...part, part: summary}))
  }
  out.push(event('response.output_item.done', {output_index, item}))
  return out
}

/** The request's tools as the API lists them: a function tool with its `parameters` and `strict` (strict by default) */
function echoTools(tools: unknown): unknown[] {
  if (!Array.isArray(tools)) return []
  return tools.map((tool: unknown) =>
    isRecord(tool) && tool.type === 'function'
      ? {...tool, parameters: tool.parameters ?? null, strict: tool.strict ?? true}
      : tool,
  )
}
