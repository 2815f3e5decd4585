// Fake public Gemini API upstream (reference §3): generateContent, streamGenerateContent (SSE or JSON array),
// countTokens and the model list. Like the real API it parses proto-JSON: snake_case and camelCase field names
// are both accepted, unknown fields are rejected.
import {answerTexts, fakeTokens} from './answers.js'
import {
  estimateTokens,
  header,
  isRecord,
  requestTag,
  sseFrame,
  splitCodePoints,
  startFake,
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

export interface GeminiFakeOptions extends FakeOptions {
  /** Skip the proto unknown-field checks (e.g. `additionalProperties` in a function schema) */
  acceptUnknownFields?: boolean
}

export interface GeminiErrorBody {
  error: {code: number; message: string; status: string; details?: Record<string, unknown>[]}
}

const DEFAULT_MODELS = ['gemini-2.5-flash', 'gemini-2.5-pro']

const FINISH: Record<StopReason, string> = {end: 'STOP', tool: 'STOP', stop_sequence: 'STOP', max_tokens: 'MAX_TOKENS'}

const ERRORS: Record<number, [status: string, message: string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: ['UNAUTHENTICATED', 'Request had invalid authentication credentials.'],
  403: ['PERMISSION_DENIED', 'The caller does not have permission'],
  404: ['NOT_FOUND', 'Requested entity was not found.'],
  409: ['ABORTED', 'The operation was aborted.'],
  429: ['RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'],
  499: ['CANCELLED', 'The operation was cancelled.'],
  500: [
    'INTERNAL',
    'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  ],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
  504: ['DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'],
}

const TYPE = 'type.googleapis.com/google.rpc.'

/** The §3.5 error body for a status; override `message`, `status` or `details` */
export function geminiError(status: number, overrides: Partial<GeminiErrorBody['error']> = {}): GeminiErrorBody {
  const [name, message] = ERRORS[status] ?? [status >= 500 ? 'UNKNOWN' : 'FAILED_PRECONDITION', `HTTP ${status}`]
  return {error: {code: status, message, status: name, ...overrides}}
}

function invalid(message: string, details?: Record<string, unknown>[]): ErrorReply {
  return {status: 400, body: geminiError(400, {message, ...(details ? {details} : {})})}
}

// ---- proto-JSON field checks ----

const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** Reads a proto field under either spelling */
function field(o: unknown, name: string): unknown {
  return isRecord(o) ? (o[name] ?? o[snake(name)]) : undefined
}

function list(o: unknown, name: string): unknown[] {
  const v = field(o, name)
  return Array.isArray(v) ? v : []
}

const FIELDS = {
  request: [
    'model',
    'contents',
    'tools',
    'toolConfig',
    'safetySettings',
    'systemInstruction',
    'generationConfig',
    'cachedContent',
  ],
  countTokens: ['contents', 'generateContentRequest'],
  content: ['role', 'parts'],
  part: [
    'text',
    'inlineData',
    'fileData',
    'functionCall',
    'functionResponse',
    'executableCode',
    'codeExecutionResult',
    'thought',
    'thoughtSignature',
    'videoMetadata',
    'partMetadata',
    'mediaResolution',
  ],
  generationConfig: [
    'stopSequences',
    'responseMimeType',
    'responseSchema',
    'responseJsonSchema',
    'responseModalities',
    'candidateCount',
    'maxOutputTokens',
    'temperature',
    'topP',
    'topK',
    'seed',
    'presencePenalty',
    'frequencyPenalty',
    'responseLogprobs',
    'logprobs',
    'enableEnhancedCivicAnswers',
    'speechConfig',
    'thinkingConfig',
    'imageConfig',
    'mediaResolution',
  ],
  thinkingConfig: ['includeThoughts', 'thinkingBudget', 'thinkingLevel'],
  tool: [
    'functionDeclarations',
    'googleSearchRetrieval',
    'codeExecution',
    'googleSearch',
    'urlContext',
    'computerUse',
    'fileSearch',
    'googleMaps',
  ],
  functionDeclaration: [
    'name',
    'description',
    'parameters',
    'parametersJsonSchema',
    'response',
    'responseJsonSchema',
    'behavior',
  ],
  schema: [
    'type',
    'format',
    'title',
    'description',
    'nullable',
    'enum',
    'maxItems',
    'minItems',
    'properties',
    'required',
    'minProperties',
    'maxProperties',
    'minLength',
    'maxLength',
    'pattern',
    'example',
    'anyOf',
    'propertyOrdering',
    'default',
    'items',
    'minimum',
    'maximum',
  ],
  toolConfig: ['functionCallingConfig', 'retrievalConfig'],
  functionCallingConfig: ['mode', 'allowedFunctionNames'],
  safetySetting: ['category', 'threshold', 'method'],
}

const SCHEMA_TYPES = ['TYPE_UNSPECIFIED', 'STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']

function unknownField(o: unknown, allowed: string[], at: string): ErrorReply | undefined {
  if (!isRecord(o)) return undefined
  const bad = Object.keys(o).find((k) => !allowed.includes(camel(k)))
  if (bad === undefined) return undefined
  const description = `Invalid JSON payload received. Unknown name "${bad}" at '${at}': Cannot find field.`
  return invalid(description, [{'@type': `${TYPE}BadRequest`, fieldViolations: [{field: at, description}]}])
}

function checkSchema(s: unknown, at: string): ErrorReply | undefined {
  if (!isRecord(s)) return undefined
  const e = unknownField(s, FIELDS.schema, at)
  if (e) return e
  const type = field(s, 'type')
  if (type !== undefined && (typeof type !== 'string' || !SCHEMA_TYPES.includes(type.toUpperCase()))) {
    return invalid(
      `Invalid JSON payload received. Invalid value at '${at}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), ${JSON.stringify(type)}`,
    )
  }
  const props = field(s, 'properties')
  for (const [k, v] of Object.entries(isRecord(props) ? props : {})) {
    const pe = checkSchema(v, `${at}.properties[${k}].value`)
    if (pe) return pe
  }
  for (const [i, v] of list(s, 'anyOf').entries()) {
    const ae = checkSchema(v, `${at}.any_of[${i}]`)
    if (ae) return ae
  }
  return checkSchema(field(s, 'items'), `${at}.items`)
}

function checkContent(c: unknown, at: string): ErrorReply | undefined {
  const e = unknownField(c, FIELDS.content, at)
  if (e) return e
  for (const [j, p] of list(c, 'parts').entries()) {
    const pe = unknownField(p, FIELDS.part, `${at}.parts[${j}]`)
    if (pe) return pe
  }
  return undefined
}

function checkUnknownFields(body: Record<string, unknown>): ErrorReply | undefined {
  const generation = field(body, 'generationConfig')
  const toolConfig = field(body, 'toolConfig')
  const checks: (() => ErrorReply | undefined)[] = [
    () => unknownField(body, FIELDS.request, ''),
    ...list(body, 'contents').map((c, i) => () => checkContent(c, `contents[${i}]`)),
    () => checkContent(field(body, 'systemInstruction'), 'system_instruction'),
    () => unknownField(generation, FIELDS.generationConfig, 'generation_config'),
    () => unknownField(field(generation, 'thinkingConfig'), FIELDS.thinkingConfig, 'generation_config.thinking_config'),
    () => unknownField(toolConfig, FIELDS.toolConfig, 'tool_config'),
    () =>
      unknownField(
        field(toolConfig, 'functionCallingConfig'),
        FIELDS.functionCallingConfig,
        'tool_config.function_calling_config',
      ),
    ...list(body, 'safetySettings').map((s, i) => () => unknownField(s, FIELDS.safetySetting, `safety_settings[${i}]`)),
    ...list(body, 'tools').flatMap((t, i) => [
      () => unknownField(t, FIELDS.tool, `tools[${i}]`),
      ...list(t, 'functionDeclarations').flatMap((d, j) => {
        const at = `tools[${i}].function_declarations[${j}]`
        return [
          () => unknownField(d, FIELDS.functionDeclaration, at),
          () => checkSchema(field(d, 'parameters'), `${at}.parameters`),
        ]
      }),
    ]),
  ]
  for (const check of checks) {
    const e = check()
    if (e) return e
  }
  return undefined
}

// ---- semantic checks ----

const DATA_FIELDS = [
  'text',
  'inlineData',
  'fileData',
  'functionCall',
  'functionResponse',
  'executableCode',
  'codeExecutionResult',
]

function partsWith(c: unknown, name: string): Record<string, unknown>[] {
  return list(c, 'parts').filter((p) => field(p, name) !== undefined) as Record<string, unknown>[]
}

function checkRequest(
  body: Record<string, unknown>,
  strict: boolean,
  what = 'GenerateContentRequest',
): ErrorReply | undefined {
  const fieldsError = strict ? checkUnknownFields(body) : undefined
  if (fieldsError) return fieldsError
  const contents = list(body, 'contents')
  if (contents.length === 0) return invalid(`* ${what}.contents: contents is not specified\n`)
  for (const [i, c] of contents.entries()) {
    const role = field(c, 'role')
    if (role !== undefined && role !== '' && role !== 'user' && role !== 'model')
      return invalid('Please use a valid role: user, model.')
    const parts = list(c, 'parts')
    if (parts.length === 0) return invalid(`* ${what}.contents[${i}].parts: contents.parts must not be empty.\n`)
    for (const [j, p] of parts.entries()) {
      const at = `${what}.contents[${i}].parts[${j}]`
      if (!DATA_FIELDS.some((f) => field(p, f) !== undefined)) {
        return invalid(`* ${at}.data: required oneof field 'data' must have one initialized field\n`)
      }
      const fc = field(p, 'functionCall')
      if (fc !== undefined && !field(fc, 'name')) return invalid(`* ${at}.function_call.name: Name cannot be empty.\n`)
      const fr = field(p, 'functionResponse')
      if (fr !== undefined && !field(fr, 'name'))
        return invalid(`* ${at}.function_response.name: Name cannot be empty.\n`)
    }
    const calls = partsWith(c, 'functionCall').length
    if (calls === 0) continue
    if (i > 0 && field(contents[i - 1], 'role') === 'model') {
      return invalid(
        'Please ensure that function call turn comes immediately after a user turn or after a function response turn.',
      )
    }
    const next = contents[i + 1]
    if (next !== undefined && partsWith(next, 'functionResponse').length !== calls) {
      return invalid(
        'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
      )
    }
  }
  for (const [i, t] of list(body, 'tools').entries()) {
    for (const [j, d] of list(t, 'functionDeclarations').entries()) {
      const name = field(d, 'name')
      if (typeof name !== 'string' || !/^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/.test(name)) {
        return invalid(
          `* ${what}.tools[${i}].function_declarations[${j}].name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64.\n`,
        )
      }
    }
  }
  return undefined
}

/** countTokens takes either bare `contents` or a whole `generateContentRequest` */
function countedRequest(body: Record<string, unknown>): Record<string, unknown> {
  const inner = field(body, 'generateContentRequest')
  return isRecord(inner) ? inner : body
}

// ---- rendering ----

function conversation(req: RecordedRequest): Conversation {
  const body = req.body as Record<string, unknown>
  const contents = list(body, 'contents')
  const last = contents.at(-1)
  const responses = partsWith(last, 'functionResponse')
  const textOf = (c: unknown): string =>
    list(c, 'parts')
      .map((p) => field(p, 'text'))
      .filter((t): t is string => typeof t === 'string')
      .join('')
  const lastUser = contents
    .filter((c) => field(c, 'role') !== 'model' && partsWith(c, 'functionResponse').length === 0)
    .at(-1)
  const tools = list(body, 'tools')
    .flatMap((t) => list(t, 'functionDeclarations'))
    .map((d) => ({name: String(field(d, 'name')), schema: field(d, 'parameters') ?? field(d, 'parametersJsonSchema')}))
  return {
    lastUserText: textOf(lastUser),
    toolResults:
      responses.length > 0
        ? responses.map((p) => JSON.stringify(field(field(p, 'functionResponse'), 'response') ?? {}))
        : undefined,
    tools,
    inputTokens: inputTokens(body),
  }
}

function inputTokens(body: Record<string, unknown>): number {
  return estimateTokens({
    contents: field(body, 'contents'),
    system: field(body, 'systemInstruction'),
    tools: field(body, 'tools'),
  })
}

type Part = Record<string, unknown>

/**
 * Parts grouped into chunks (one chunk per piece when streaming). The thought signature rides on the first
 * function call, else on the last text part, else on the thought itself, as Gemini places it.
 */
function chunks(r: ResolvedReply, split: (s: string) => string[]): Part[][] {
  const thought: Part[][] = split(r.thinking?.text ?? '').map((text) => [{text, thought: true}])
  const text: Part[][] = split(r.text).map((t) => [{text: t}])
  const calls: Part[][] = r.toolCalls.length
    ? [r.toolCalls.map((c) => ({functionCall: {...(c.id ? {id: c.id} : {}), name: c.name, args: c.arguments}}))]
    : []
  const out = [...thought, ...text, ...calls]
  if (out.length === 0) out.push([{text: ''}])
  if (r.thinking) {
    const carrier = calls[0]?.[0] ?? text.at(-1)?.[0] ?? thought.at(-1)?.[0]
    if (carrier) carrier.thoughtSignature = r.thinking.signature
  }
  return out
}

/** A candidate's `logprobsResult` and `avgLogprobs`; top candidates only with a count asked for */
function logprobsResult(text: string, top: unknown): {avgLogprobs?: number; logprobsResult: Record<string, unknown>} {
  const tokens = fakeTokens(text, typeof top === 'number' ? top : 0)
  const entry = (t: {token: string; logprob: number}) => ({token: t.token, logProbability: t.logprob})
  const sum = tokens.reduce((total, t) => total + t.logprob, 0)
  return {
    ...(tokens.length > 0 ? {avgLogprobs: sum / tokens.length} : {}),
    logprobsResult: {
      ...(typeof top === 'number' ? {topCandidates: tokens.map((t) => ({candidates: t.top.map(entry)}))} : {}),
      chosenCandidates: tokens.map(entry),
      logProbabilitySum: sum,
    },
  }
}

function usageMetadata(r: ResolvedReply): Record<string, number> {
  const u = r.usage
  return {
    promptTokenCount: u.input,
    candidatesTokenCount: u.output - u.reasoning,
    totalTokenCount: u.input + u.output,
    // proto3 JSON leaves zero counts out
    ...(u.cached ? {cachedContentTokenCount: u.cached} : {}),
    ...(u.reasoning ? {thoughtsTokenCount: u.reasoning} : {}),
  }
}

export function startGeminiFake(opts: GeminiFakeOptions = {}): Promise<FakeUpstream> {
  return startFake({name: 'gemini-fake', eol: '\r\n'}, opts, ({eol}) => geminiAdapter(opts, eol))
}

/** Puts each rendered response body (unary, or one stream element) into an upstream's own envelope */
export type ResponseWrapper = (req: RecordedRequest, response: Record<string, unknown>) => unknown

/** The public API's adapter; the Code Assist fake reuses it for the Gemini bodies inside its envelope */
export function geminiAdapter(
  opts: GeminiFakeOptions,
  eol: string,
  wrap: ResponseWrapper = (_req, r) => r,
): ProtocolAdapter {
  const models = opts.models ?? DEFAULT_MODELS
  const sse = (req: RecordedRequest): boolean => req.query.alt === 'sse'
  type Usage = Record<string, number>
  // With responseLogprobs, the log probabilities of the candidate's text (of this chunk, when streaming).
  const candidate = (req: RecordedRequest, parts: Part[], index: number, finish?: string): Part => {
    const config = field(req.body, 'generationConfig')
    const text = parts.map((p) => (p.thought !== true && typeof p.text === 'string' ? p.text : '')).join('')
    const logprobs = field(config, 'responseLogprobs') === true && text !== ''
    return {
      content: {role: 'model', parts},
      ...(finish ? {finishReason: finish} : {}),
      index,
      ...(logprobs ? logprobsResult(text, field(config, 'logprobs')) : {}),
    }
  }
  const response = (req: RecordedRequest, candidates: Part[], usage?: Usage): unknown =>
    wrap(req, {
      candidates,
      ...(usage ? {usageMetadata: usage} : {}),
      modelVersion: req.model,
      responseId: requestTag(req),
    })
  return {
    protocol: 'gemini',
    midStreamStatus: 503,
    baseUrl: (origin) => origin,
    route(req) {
      // Clients may percent-encode the ':' before the method name
      const path = decodeURIComponent(req.path)
      const call = /^\/(v1beta|v1)\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/.exec(path)
      if (req.method === 'POST' && call?.[2] && call[3]) {
        const method = call[3]
        return {
          name: method,
          generate: method !== 'countTokens',
          stream: method === 'streamGenerateContent',
          model: call[2],
        }
      }
      if (req.method === 'GET' && /^\/(v1beta|v1)\/models$/.test(path))
        return {name: 'models', generate: false, stream: false}
      const one = /^\/(v1beta|v1)\/models\/([^/:]+)$/.exec(path)
      if (req.method === 'GET' && one?.[2]) return {name: 'model', generate: false, stream: false, model: one[2]}
      return undefined
    },
    credential: (req) => header(req, 'x-goog-api-key') ?? req.query.key,
    authenticate(req) {
      if (!opts.keys) return undefined
      if (req.key === undefined && header(req, 'authorization')) {
        return {
          status: 401,
          body: geminiError(401, {
            message:
              'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
          }),
        }
      }
      if (req.key === undefined) {
        return {
          status: 403,
          body: geminiError(403, {
            message:
              "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
          }),
        }
      }
      if (opts.keys.includes(req.key)) return undefined
      return invalid('API key not valid. Please pass a valid API key.', [
        {
          '@type': `${TYPE}ErrorInfo`,
          reason: 'API_KEY_INVALID',
          domain: 'googleapis.com',
          metadata: {service: 'generativelanguage.googleapis.com'},
        },
      ])
    },
    validate(req) {
      if (req.model !== undefined && opts.models && !opts.models.includes(req.model)) {
        const method = req.route === 'model' ? 'get' : req.route
        return {
          status: 404,
          body: geminiError(404, {
            message: `models/${req.model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
          }),
        }
      }
      if (req.method !== 'POST') return undefined
      const body: unknown = req.body
      if (!isRecord(body)) return invalid('Invalid JSON payload received. Unexpected token.')
      const strict = opts.acceptUnknownFields !== true
      if (req.route !== 'countTokens') return checkRequest(body, strict)
      const top = strict ? unknownField(body, FIELDS.countTokens, '') : undefined
      const inner = field(body, 'generateContentRequest')
      return (
        top ?? checkRequest(isRecord(inner) ? inner : {contents: field(body, 'contents')}, strict, 'CountTokensRequest')
      )
    },
    error(_req, status, o: ErrorOptions = {}) {
      // Google states the retry hint in the body, not in a retry-after header
      const details = o.retryAfter === undefined ? [] : [{'@type': `${TYPE}RetryInfo`, retryDelay: `${o.retryAfter}s`}]
      const overrides = {...(o.message === undefined ? {} : {message: o.message}), ...(details.length ? {details} : {})}
      return {status, body: geminiError(status, overrides)}
    },
    notFound: (req) => ({
      status: 404,
      body: geminiError(404, {message: `Method not found: ${req.method} ${req.path}`}),
    }),
    conversation,
    unary(req, r) {
      const parts = (text: string) => chunks({...r, text}, (s) => (s === '' ? [] : [s])).flat()
      const texts = answerTexts(r.text, field(field(req.body, 'generationConfig'), 'candidateCount'))
      const candidates = texts.map((text, index) => candidate(req, parts(text), index, FINISH[r.stopReason]))
      return response(req, candidates, usageMetadata(r))
    },
    events(req, r) {
      const all = chunks(r, (s) => splitCodePoints(s, r.chunkSize))
      const partial = {promptTokenCount: r.usage.input, totalTokenCount: r.usage.input}
      const bodies = all.map((parts, i) =>
        i === all.length - 1
          ? response(req, [candidate(req, parts, 0, FINISH[r.stopReason])], usageMetadata(r))
          : response(req, [candidate(req, parts, 0)], partial),
      )
      if (sse(req)) return bodies.map((b) => sseFrame(b, eol))
      // Without alt=sse the API streams one JSON array, element by element
      return [...bodies.map((b, i) => `${i === 0 ? '[' : ',\r\n'}${JSON.stringify(b)}`), ']']
    },
    streamError(req, e, written) {
      if (sse(req)) return [sseFrame(e.body, eol)]
      return [`${written === 0 ? '[' : ',\r\n'}${JSON.stringify(e.body)}]`]
    },
    streamContentType: (req) => (sse(req) ? 'text/event-stream' : 'application/json'),
    aux(req) {
      if (req.route === 'countTokens')
        return {totalTokens: inputTokens(countedRequest(req.body as Record<string, unknown>))}
      const entry = (id: string): Record<string, unknown> => ({
        name: `models/${id}`,
        version: '001',
        displayName: id.replace(/^gemini-/, 'Gemini ').replace(/-/g, ' '),
        description: `Fake ${id}`,
        inputTokenLimit: 1048576,
        outputTokenLimit: 65536,
        supportedGenerationMethods: ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
        temperature: 1,
        topP: 0.95,
        topK: 64,
        maxTemperature: 2,
        thinking: true,
      })
      if (req.route === 'model') return entry(req.model ?? '')
      return {models: models.map(entry)}
    },
    headers: () => ({}),
  }
}
