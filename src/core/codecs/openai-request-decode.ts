import {CodecError} from './errors.js'
import type {
  IRContentBlock,
  IREffort,
  IRImage,
  IRMessage,
  IRRequest,
  IRResponseFormat,
  IRText,
  IRThinkingConfig,
  IRTool,
  IRToolChoice,
  IRToolResult,
} from './ir.js'
import {parseDataUrl} from './media.js'
import {decodeArguments} from './openai-tool-calls.js'
import {severalAnswers} from './uncarried.js'
import type {DecodeRequestContext, DropHandler} from './types.js'
import {
  asArray,
  asString,
  compact,
  expectArray,
  expectObject,
  expectString,
  isObject,
  optionalBoolean,
  optionalNumber,
  optionalString,
  type JsonObject,
} from './values.js'

const REQUEST_FIELDS = new Set([
  'model',
  'messages',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'stop',
  'stream',
  'stream_options',
  'reasoning_effort',
  'response_format',
  'user',
  'prompt_cache_key',
  'n',
  'logprobs',
  'top_logprobs',
])
const EFFORTS = new Set(['minimal', 'low', 'medium', 'high'])

export function decodeOpenAIRequest(body: unknown, ctx: DecodeRequestContext = {}): IRRequest {
  const drop = ctx.onDropped ?? (() => {})
  const request = expectObject(body, 'request body')
  for (const key of Object.keys(request)) if (!REQUEST_FIELDS.has(key)) drop(key)
  const model = optionalString(request.model, 'model') ?? ctx.model
  if (!model) throw new CodecError('model is required')
  const wireMessages = expectArray(request.messages, 'messages')
  if (wireMessages.length === 0) throw new CodecError('messages must not be empty')

  const system: IRText[] = []
  const messages: IRMessage[] = []
  const toolNames = new Map<string, string>()
  wireMessages.forEach((value, i) => {
    const path = `messages[${i}]`
    const message = expectObject(value, path)
    const role = expectString(message.role, `${path}.role`)
    if (role === 'system' || role === 'developer') system.push(...decodeText(message.content, `${path}.content`))
    else if (role === 'user') messages.push({role: 'user', content: decodeUserContent(message.content, path, drop)})
    else if (role === 'assistant') messages.push(decodeAssistant(message, path, toolNames, drop))
    else if (role === 'tool') appendToolResult(messages, message, path, toolNames)
    else {
      throw new CodecError(
        `Invalid value: '${role}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.`,
      )
    }
  })

  const stream = optionalBoolean(request.stream, 'stream') ?? false
  const streamOptions = request.stream_options == null ? {} : expectObject(request.stream_options, 'stream_options')
  return compact({
    model,
    system,
    messages,
    tools: decodeTools(request.tools, drop),
    toolChoice: decodeToolChoice(request.tool_choice),
    parallelToolCalls: optionalBoolean(request.parallel_tool_calls, 'parallel_tool_calls'),
    maxTokens:
      optionalNumber(request.max_completion_tokens, 'max_completion_tokens') ??
      optionalNumber(request.max_tokens, 'max_tokens'),
    temperature: optionalNumber(request.temperature, 'temperature'),
    topP: optionalNumber(request.top_p, 'top_p'),
    presencePenalty: optionalNumber(request.presence_penalty, 'presence_penalty'),
    frequencyPenalty: optionalNumber(request.frequency_penalty, 'frequency_penalty'),
    seed: optionalNumber(request.seed, 'seed'),
    stop: decodeStop(request.stop),
    stream,
    includeUsage: stream && optionalBoolean(streamOptions.include_usage, 'stream_options.include_usage') === true,
    thinking: decodeEffort(request.reasoning_effort, drop),
    responseFormat: decodeResponseFormat(request.response_format),
    user: optionalString(request.user, 'user'),
    promptCacheKey: optionalString(request.prompt_cache_key, 'prompt_cache_key'),
    candidateCount: severalAnswers(optionalNumber(request.n, 'n')),
    logprobs: decodeLogprobs(request),
  })
}

function decodeLogprobs(request: JsonObject): IRRequest['logprobs'] {
  const top = optionalNumber(request.top_logprobs, 'top_logprobs')
  const asked = optionalBoolean(request.logprobs, 'logprobs') === true
  // OpenAI's own answer; any other upstream would quietly give no top tokens.
  if (top !== undefined && !asked)
    throw new CodecError("The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled.")
  return asked ? compact({top}) : undefined
}

function decodeText(content: unknown, path: string): IRText[] {
  if (content === null || content === undefined) return []
  if (typeof content === 'string') return content === '' ? [] : [{type: 'text', text: content}]
  return expectArray(content, path).map((value, j) => {
    const part = expectObject(value, `${path}[${j}]`)
    const text = part.type === 'refusal' ? part.refusal : part.text
    if (part.type !== 'text' && part.type !== 'refusal') throw new CodecError(`${path}[${j}].type must be "text"`)
    return withCacheControl({type: 'text', text: expectString(text, `${path}[${j}].${String(part.type)}`)}, part)
  })
}

function decodeUserContent(content: unknown, path: string, drop: DropHandler): IRContentBlock[] {
  if (!Array.isArray(content)) return decodeText(content, `${path}.content`)
  return content.map((value, j): IRContentBlock => {
    const partPath = `${path}.content[${j}]`
    const part = expectObject(value, partPath)
    if (part.type === 'text')
      return withCacheControl({type: 'text', text: expectString(part.text, `${partPath}.text`)}, part)
    if (part.type === 'image_url') {
      const image =
        typeof part.image_url === 'string'
          ? {url: part.image_url}
          : expectObject(part.image_url, `${partPath}.image_url`)
      if (image.detail !== undefined && image.detail !== 'auto') drop('image_url.detail')
      return withCacheControl(
        decodeImageUrl(expectString(image.url, `${partPath}.image_url.url`), `${partPath}.image_url.url`),
        part,
      )
    }
    throw new CodecError(`${partPath}: content part type "${String(part.type)}" is not supported for this upstream`)
  })
}

// Clients written for Anthropic models behind OpenAI-compatible gateways mark cache breakpoints on content parts.
function withCacheControl<T extends IRText | IRImage>(block: T, part: JsonObject): T {
  return isObject(part.cache_control) ? {...block, cacheControl: part.cache_control} : block
}

function decodeImageUrl(url: string, path: string): IRImage {
  const inline = parseDataUrl(url)
  if (inline) return {type: 'image', source: {kind: 'base64', ...inline}}
  if (!/^https?:\/\//i.test(url)) throw new CodecError(`${path} must be an http(s) URL or a base64 data: URL`)
  return {type: 'image', source: {kind: 'url', url}}
}

function decodeAssistant(
  message: JsonObject,
  path: string,
  toolNames: Map<string, string>,
  drop: DropHandler,
): IRMessage {
  const content: IRContentBlock[] = []
  const reasoning = asString(message.reasoning_content)
  if (reasoning) content.push({type: 'thinking', text: reasoning})
  content.push(...decodeText(message.content, `${path}.content`))
  if (message.function_call !== undefined && message.function_call !== null) drop('function_call')
  asArray(message.tool_calls).forEach((value, k) => {
    const callPath = `${path}.tool_calls[${k}]`
    const call = expectObject(value, callPath)
    const fn = expectObject(call.function, `${callPath}.function`)
    const id = expectString(call.id, `${callPath}.id`)
    const name = expectString(fn.name, `${callPath}.function.name`)
    toolNames.set(id, name)
    content.push({type: 'tool_call', id, name, input: decodeArguments(fn.arguments, drop)})
  })
  return {role: 'assistant', content}
}

// Consecutive `tool` messages answer one assistant turn, so they share one IR user message.
function appendToolResult(
  messages: IRMessage[],
  message: JsonObject,
  path: string,
  toolNames: Map<string, string>,
): void {
  const toolCallId = expectString(message.tool_call_id, `${path}.tool_call_id`)
  const toolName = toolNames.get(toolCallId)
  const result: IRToolResult = compact({
    type: 'tool_result' as const,
    toolCallId,
    toolName,
    content: decodeText(message.content, `${path}.content`),
    isError: false,
  })
  const last = messages.at(-1)
  if (last?.role === 'user' && last.content.length > 0 && last.content.every((block) => block.type === 'tool_result')) {
    last.content.push(result)
  } else messages.push({role: 'user', content: [result]})
}

function decodeTools(value: unknown, drop: DropHandler): IRTool[] {
  if (value === undefined || value === null) return []
  const tools: IRTool[] = []
  expectArray(value, 'tools').forEach((entry, i) => {
    const tool = expectObject(entry, `tools[${i}]`)
    if (tool.type !== 'function') return drop(`tools[${i}].type=${String(tool.type)}`)
    const fn = expectObject(tool.function, `tools[${i}].function`)
    if (fn.strict !== undefined) drop('tools.function.strict')
    tools.push(
      compact({
        name: expectString(fn.name, `tools[${i}].function.name`),
        description: optionalString(fn.description, `tools[${i}].function.description`),
        parameters:
          fn.parameters === undefined
            ? {type: 'object', properties: {}}
            : expectObject(fn.parameters, `tools[${i}].function.parameters`),
      }),
    )
  })
  return tools
}

function decodeToolChoice(value: unknown): IRToolChoice | undefined {
  if (value === undefined || value === null) return undefined
  if (value === 'auto' || value === 'none' || value === 'required') return value
  if (isObject(value) && value.type === 'function' && isObject(value.function)) {
    return {name: expectString(value.function.name, 'tool_choice.function.name')}
  }
  throw new CodecError('tool_choice must be "auto", "none", "required" or {type:"function", function:{name}}')
}

function decodeStop(value: unknown): string[] {
  if (value === undefined || value === null) return []
  if (typeof value === 'string') return [value]
  return expectArray(value, 'stop').map((entry, i) => expectString(entry, `stop[${i}]`))
}

function decodeEffort(value: unknown, drop: DropHandler): IRThinkingConfig | undefined {
  if (value === undefined || value === null) return undefined
  if (value === 'none') return {type: 'off'}
  if (typeof value === 'string' && EFFORTS.has(value)) return {type: 'effort', effort: value as IREffort}
  drop('reasoning_effort')
  return undefined
}

function decodeResponseFormat(value: unknown): IRResponseFormat | undefined {
  if (value === undefined || value === null) return undefined
  const format = expectObject(value, 'response_format')
  if (format.type === 'text') return undefined
  if (format.type === 'json_object') return {type: 'json'}
  if (format.type === 'json_schema') {
    const spec = expectObject(format.json_schema, 'response_format.json_schema')
    return compact({
      type: 'json_schema' as const,
      schema: spec.schema === undefined ? {} : expectObject(spec.schema, 'response_format.json_schema.schema'),
      name: optionalString(spec.name, 'response_format.json_schema.name'),
      strict: optionalBoolean(spec.strict, 'response_format.json_schema.strict'),
    })
  }
  throw new CodecError('response_format.type must be "text", "json_object" or "json_schema"')
}
