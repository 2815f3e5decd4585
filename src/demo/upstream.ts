import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {asArray, asObject, asString, isObject, parseJsonObject, type JsonObject} from '../core/codecs/values.js'

/**
 * One local stand-in for a provider, just enough for `serve --demo`: it echoes the last user message back
 * (plain JSON or a paced stream) in the OpenAI Chat Completions or Anthropic Messages wire format, lists a few
 * models and counts tokens roughly. It accepts any key and checks nothing else; the test suite has strict fakes.
 */
export interface DemoUpstream {
  readonly name: string
  /** Origin, e.g. http://127.0.0.1:PORT */
  readonly url: string
  /** What a pool instance stores: OpenAI `${url}/v1`, Anthropic the origin */
  readonly baseUrl: string
  close(): Promise<void>
}

export interface DemoUpstreamOptions {
  name: string
  protocol: 'openai' | 'anthropic'
  /** Pause between stream events, so streams are visibly streams */
  paceMs: number
  /** Answer every n-th model call with a 500, so failover shows */
  failEvery?: number
}

interface Dialect {
  generatePath: string
  baseUrl(origin: string): string
  models(): unknown
  unary(model: string, text: string, tokens: Tokens): unknown
  /** Complete SSE frames, one write each */
  events(model: string, text: string, tokens: Tokens, includeUsage: boolean): string[]
  error(message: string): unknown
}

interface Tokens {
  input: number
  output: number
}

const MODELS = {openai: ['gpt-4o-mini', 'gpt-4o'], anthropic: ['claude-sonnet-4-6', 'claude-haiku-4-5']}
const CREATED = 1_735_689_600

const frame = (data: unknown, event?: string): string =>
  `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`

/** Words with their trailing spaces, so a stream shows text arriving piece by piece */
const pieces = (text: string): string[] => text.match(/\S+\s*|\s+/g) ?? ['']

let served = 0
const id = (): string => `demo${String(served++).padStart(4, '0')}`

const openai: Dialect = {
  generatePath: '/v1/chat/completions',
  baseUrl: (origin) => `${origin}/v1`,
  models: () => ({
    object: 'list',
    data: MODELS.openai.map((m) => ({id: m, object: 'model', created: CREATED, owned_by: 'demo'})),
  }),
  unary: (model, text, t) => ({
    id: `chatcmpl-${id()}`,
    object: 'chat.completion',
    created: CREATED,
    model,
    choices: [
      {index: 0, message: {role: 'assistant', content: text, refusal: null}, logprobs: null, finish_reason: 'stop'},
    ],
    usage: {prompt_tokens: t.input, completion_tokens: t.output, total_tokens: t.input + t.output},
  }),
  events(model, text, t, includeUsage) {
    const base = {id: `chatcmpl-${id()}`, object: 'chat.completion.chunk', created: CREATED, model}
    const chunk = (delta: object, finish: string | null = null) =>
      frame({...base, choices: [{index: 0, delta, finish_reason: finish}]})
    const usage = {prompt_tokens: t.input, completion_tokens: t.output, total_tokens: t.input + t.output}
    return [
      chunk({role: 'assistant', content: ''}),
      ...pieces(text).map((content) => chunk({content})),
      chunk({}, 'stop'),
      ...(includeUsage ? [frame({...base, choices: [], usage})] : []),
      'data: [DONE]\n\n',
    ]
  },
  error: (message) => ({error: {message, type: 'server_error', param: null, code: null}}),
}

const anthropic: Dialect = {
  generatePath: '/v1/messages',
  baseUrl: (origin) => origin,
  models: () => ({
    data: MODELS.anthropic.map((m) => ({type: 'model', id: m, display_name: m, created_at: '2025-09-29T00:00:00Z'})),
    has_more: false,
    first_id: MODELS.anthropic[0],
    last_id: MODELS.anthropic.at(-1),
  }),
  unary: (model, text, t) => ({
    id: `msg_${id()}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [{type: 'text', text}],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {input_tokens: t.input, output_tokens: t.output},
  }),
  events(model, text, t) {
    const event = (type: string, data: object = {}) => frame({type, ...data}, type)
    const message = {
      id: `msg_${id()}`,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
    }
    return [
      event('message_start', {message: {...message, usage: {input_tokens: t.input, output_tokens: 1}}}),
      event('content_block_start', {index: 0, content_block: {type: 'text', text: ''}}),
      ...pieces(text).map((piece) =>
        event('content_block_delta', {index: 0, delta: {type: 'text_delta', text: piece}}),
      ),
      event('content_block_stop', {index: 0}),
      event('message_delta', {delta: {stop_reason: 'end_turn', stop_sequence: null}, usage: {output_tokens: t.output}}),
      event('message_stop'),
    ]
  },
  error: (message) => ({type: 'error', error: {type: 'api_error', message}}),
}

const estimate = (value: unknown): number => Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4))

function lastUserText(body: JsonObject): string {
  const content = asArray(body.messages)
    .filter(isObject)
    .filter((m) => m.role === 'user')
    .at(-1)?.content
  if (typeof content === 'string') return content
  return asArray(content)
    .map((part) => asString(asObject(part).text) ?? '')
    .join('')
}

async function readJson(req: IncomingMessage): Promise<JsonObject> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return parseJsonObject(Buffer.concat(chunks).toString('utf8')) ?? {}
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body))
  res.writeHead(status, {'content-type': 'application/json', 'content-length': String(bytes.length)})
  res.end(bytes)
}

async function sendStream(res: ServerResponse, events: string[], paceMs: number): Promise<void> {
  res.writeHead(200, {'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive'})
  for (const [i, event] of events.entries()) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, paceMs))
    if (res.destroyed) return
    res.write(event)
  }
  res.end()
}

export async function startDemoUpstream(options: DemoUpstreamOptions): Promise<DemoUpstream> {
  const dialect = options.protocol === 'openai' ? openai : anthropic
  let calls = 0
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://demo').pathname
    const body = await readJson(req)
    if (req.method === 'GET' && path === '/v1/models') return sendJson(res, 200, dialect.models())
    if (req.method === 'POST' && path === '/v1/messages/count_tokens' && dialect === anthropic) {
      return sendJson(res, 200, {input_tokens: estimate(body.messages)})
    }
    if (req.method !== 'POST' || path !== dialect.generatePath)
      return sendJson(res, 404, dialect.error(`${req.method} ${path} not found`))
    calls++
    if (options.failEvery && calls % options.failEvery === 0)
      return sendJson(res, 500, dialect.error('demo: simulated outage'))
    const model = typeof body.model === 'string' ? body.model : MODELS[options.protocol][0]!
    const text = `${options.name}: ${lastUserText(body)}`
    const tokens = {input: estimate(body.messages), output: estimate(text)}
    if (body.stream !== true) return sendJson(res, 200, dialect.unary(model, text, tokens))
    return sendStream(
      res,
      dialect.events(model, text, tokens, asObject(body.stream_options).include_usage === true),
      options.paceMs,
    )
  }
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy())
  })
  // Idle keep-alive sockets of the proxy must not hold shutdown up.
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    name: options.name,
    url,
    baseUrl: dialect.baseUrl(url),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
