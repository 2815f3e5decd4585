import type {IREffort, IRRequest, IRResponseFormat, IRText, IRThinkingConfig, IRToolChoice} from '../ir.js'
import type {DecodeRequestContext, DropHandler} from '../types.js'
import {compact, isObject} from '../values.js'
import {
  absent,
  invalidType,
  invalidValue,
  missing,
  optionalArray,
  optionalBoolean,
  optionalInteger,
  optionalNumber,
  optionalObject,
  optionalString,
  requireObject,
  requireString,
} from './checks.js'
import {decodeInput} from './input-decode.js'
import {decodeToolList, uniqueTools} from './tool-decode.js'

// Fields read here or that only steer what the proxy itself does (`store`, `include`: the proxy keeps the
// conversation and always hands back encrypted reasoning it gets; `previous_response_id`: the server has spelled out
// the conversation it names in `input` already, and keeps the id only for the answer to echo). Anything else is
// reported as dropped.
const REQUEST_FIELDS = new Set([
  'model',
  'input',
  'instructions',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_output_tokens',
  'temperature',
  'top_p',
  'reasoning',
  'text',
  'user',
  'safety_identifier',
  'prompt_cache_key',
  'stream',
  'stream_options',
  'store',
  'include',
  'previous_response_id',
])
const EFFORTS = new Set(['minimal', 'low', 'medium', 'high'])
const TOOL_CHOICES = ['auto', 'none', 'required'] as const

export function decodeResponsesRequest(body: unknown, ctx: DecodeRequestContext = {}): IRRequest {
  const drop = ctx.onDropped ?? (() => {})
  if (!isObject(body)) throw invalidType('request body', 'an object', body)
  const request = body
  for (const key of Object.keys(request)) if (!REQUEST_FIELDS.has(key) && !absent(request[key])) drop(key)
  const model = optionalString(request.model, 'model') ?? ctx.model
  if (!model) throw missing('model')
  const instructions = optionalString(request.instructions, 'instructions')
  const {system, messages, loadedTools} = decodeInput(request.input, drop)
  decodeStreamOptions(request.stream_options, drop)
  optionalBoolean(request.store, 'store')
  optionalArray(request.include, 'include')
  return compact({
    model,
    system: [...(instructions ? [{type: 'text', text: instructions} satisfies IRText] : []), ...system],
    messages,
    // Tools a client-run tool search loaded are offered from then on, as OpenAI does.
    tools: uniqueTools([...decodeToolList(request.tools, 'tools', drop), ...loadedTools]),
    toolChoice: decodeToolChoice(request.tool_choice, drop),
    parallelToolCalls: optionalBoolean(request.parallel_tool_calls, 'parallel_tool_calls'),
    maxTokens: optionalInteger(request.max_output_tokens, 'max_output_tokens'),
    temperature: optionalNumber(request.temperature, 'temperature'),
    topP: optionalNumber(request.top_p, 'top_p'),
    stop: [],
    stream: ctx.stream ?? optionalBoolean(request.stream, 'stream') ?? false,
    // Responses streams always end with the usage in `response.completed`.
    includeUsage: true,
    thinking: decodeReasoning(request.reasoning, drop),
    responseFormat: decodeTextConfig(request.text, drop),
    user: optionalString(request.safety_identifier, 'safety_identifier') ?? optionalString(request.user, 'user'),
    promptCacheKey: optionalString(request.prompt_cache_key, 'prompt_cache_key'),
  })
}

function decodeStreamOptions(value: unknown, drop: DropHandler): void {
  const options = optionalObject(value, 'stream_options') ?? {}
  // Obfuscation pads deltas against length side channels; leaving it out changes nothing a client reads.
  for (const key of Object.keys(options)) if (key !== 'include_obfuscation') drop(`stream_options.${key}`)
}

function decodeToolChoice(value: unknown, drop: DropHandler): IRToolChoice | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') {
    if ((TOOL_CHOICES as readonly string[]).includes(value)) return value as IRToolChoice
    throw invalidValue('tool_choice', value, TOOL_CHOICES)
  }
  const choice = requireObject(value, 'tool_choice')
  const type = requireString(choice.type, 'tool_choice.type')
  if (type === 'function' || type === 'custom') return {name: requireString(choice.name, 'tool_choice.name')}
  if (type === 'allowed_tools') {
    drop('tool_choice.allowed_tools')
    return choice.mode === 'required' ? 'required' : 'auto'
  }
  // A built-in tool (or an MCP server) was chosen; it was dropped with the tools, so the model picks.
  drop(`tool_choice.${type}`)
  return 'auto'
}

function decodeReasoning(value: unknown, drop: DropHandler): IRThinkingConfig | undefined {
  const reasoning = optionalObject(value, 'reasoning')
  if (reasoning === undefined) return undefined
  // `summary` asks for reasoning summaries, which the answers carry whenever the upstream gives any.
  for (const key of Object.keys(reasoning)) {
    if (key !== 'effort' && key !== 'summary' && key !== 'generate_summary') drop(`reasoning.${key}`)
  }
  const effort = optionalString(reasoning.effort, 'reasoning.effort')
  if (effort === undefined) return undefined
  if (effort === 'none') return {type: 'off'}
  if (effort === 'xhigh') return {type: 'effort', effort: 'high'}
  if (EFFORTS.has(effort)) return {type: 'effort', effort: effort as IREffort}
  drop('reasoning.effort')
  return undefined
}

function decodeTextConfig(value: unknown, drop: DropHandler): IRResponseFormat | undefined {
  const text = optionalObject(value, 'text')
  if (text === undefined) return undefined
  for (const key of Object.keys(text)) if (key !== 'format' && !absent(text[key])) drop(`text.${key}`)
  const format = optionalObject(text.format, 'text.format')
  if (format === undefined) return undefined
  const type = requireString(format.type, 'text.format.type')
  if (type === 'text') return undefined
  if (type === 'json_object') return {type: 'json'}
  if (type !== 'json_schema') throw invalidValue('text.format.type', type, ['text', 'json_object', 'json_schema'])
  if (format.description !== undefined) drop('text.format.description')
  return compact({
    type: 'json_schema' as const,
    schema: requireObject(format.schema, 'text.format.schema'),
    name: optionalString(format.name, 'text.format.name'),
    strict: optionalBoolean(format.strict, 'text.format.strict'),
  })
}
