import {CodecError} from './errors.js'
import type {
  IRContentBlock,
  IRImage,
  IREffort,
  IRMessage,
  IRRequest,
  IRResponseFormat,
  IRText,
  IRThinkingConfig,
  IRTool,
  IRToolChoice,
} from './ir.js'
import type {DecodeRequestContext, DropHandler} from './types.js'
import {
  compact,
  expectArray,
  expectObject,
  expectString,
  optionalBoolean,
  optionalNumber,
  optionalString,
  type JsonObject,
} from './values.js'

const REQUEST_FIELDS = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'metadata',
  'tools',
  'tool_choice',
  'thinking',
  'output_config',
])

export function decodeAnthropicRequest(body: unknown, ctx: DecodeRequestContext = {}): IRRequest {
  const drop = ctx.onDropped ?? (() => {})
  const request = expectObject(body, 'request body')
  for (const key of Object.keys(request)) if (!REQUEST_FIELDS.has(key)) drop(key)
  const model = optionalString(request.model, 'model') ?? ctx.model
  if (!model) throw new CodecError('model is required')
  const toolNames = new Map<string, string>()
  const messages = expectArray(request.messages, 'messages').map((value, i) => decodeMessage(value, i, toolNames, drop))
  if (messages.length === 0) throw new CodecError('messages: at least one message is required')
  const metadata = request.metadata === undefined ? {} : expectObject(request.metadata, 'metadata')
  for (const key of Object.keys(metadata)) if (key !== 'user_id') drop(`metadata.${key}`)
  const {toolChoice, parallelToolCalls} = decodeToolChoice(request.tool_choice)
  const outputConfig = request.output_config == null ? {} : expectObject(request.output_config, 'output_config')
  for (const key of Object.keys(outputConfig)) if (key !== 'effort' && key !== 'format') drop(`output_config.${key}`)
  return compact({
    model,
    system: decodeSystem(request.system, drop),
    messages,
    tools: decodeTools(request.tools, drop),
    toolChoice,
    parallelToolCalls,
    maxTokens: optionalNumber(request.max_tokens, 'max_tokens'),
    temperature: optionalNumber(request.temperature, 'temperature'),
    topP: optionalNumber(request.top_p, 'top_p'),
    topK: optionalNumber(request.top_k, 'top_k'),
    stop: decodeStopSequences(request.stop_sequences),
    stream: optionalBoolean(request.stream, 'stream') ?? false,
    includeUsage: true,
    thinking: decodeThinking(request.thinking, outputConfig.effort, drop),
    responseFormat: decodeFormat(outputConfig.format),
    user: optionalString(metadata.user_id, 'metadata.user_id'),
  })
}

const MESSAGE_FIELDS = new Set(['role', 'content'])

// Current Claude Code sends a `role: "system"` message (with its own `output_config`) after the first user
// message; it stays in place in the IR. Any other role gets the wording Anthropic answers with, which Claude
// Code keys its retry on.
function decodeMessage(value: unknown, i: number, toolNames: Map<string, string>, drop: DropHandler): IRMessage {
  const message = expectObject(value, `messages[${i}]`)
  const role = message.role
  if (role !== 'user' && role !== 'assistant' && role !== 'system') {
    throw new CodecError(`messages.${i}.role: Input should be 'user' or 'assistant'`)
  }
  for (const key of Object.keys(message)) if (!MESSAGE_FIELDS.has(key)) drop(`messages.${key}`)
  const content = decodeContent(message.content, `messages[${i}].content`, toolNames, drop)
  if (role !== 'system') return {role, content}
  const texts = content.filter((block) => block.type === 'text')
  if (texts.length < content.length) {
    throw new CodecError(`messages.${i}.content: a system message may only contain text blocks`)
  }
  return {role, content: texts}
}

function decodeStopSequences(value: unknown): string[] {
  if (value === undefined || value === null) return []
  return expectArray(value, 'stop_sequences').map((entry, i) => expectString(entry, `stop_sequences[${i}]`))
}

function decodeSystem(value: unknown, drop: DropHandler): IRText[] {
  if (value === undefined || value === null) return []
  if (typeof value === 'string') return value === '' ? [] : [{type: 'text', text: value}]
  return expectArray(value, 'system').map((entry, i) => {
    const block = expectObject(entry, `system[${i}]`)
    if (block.cache_control !== undefined) drop('cache_control')
    return {type: 'text', text: expectString(block.text, `system[${i}].text`)}
  })
}

function decodeContent(
  value: unknown,
  path: string,
  toolNames: Map<string, string>,
  drop: DropHandler,
): IRContentBlock[] {
  if (typeof value === 'string') return value === '' ? [] : [{type: 'text', text: value}]
  const blocks: IRContentBlock[] = []
  expectArray(value, path).forEach((entry, j) => {
    const blockPath = `${path}[${j}]`
    const block = expectObject(entry, blockPath)
    if (block.cache_control !== undefined) drop('cache_control')
    switch (block.type) {
      case 'text':
        if (block.citations !== undefined) drop('citations')
        blocks.push({type: 'text', text: expectString(block.text, `${blockPath}.text`)})
        return
      case 'image':
        blocks.push(decodeImage(block, blockPath))
        return
      case 'tool_use': {
        const id = expectString(block.id, `${blockPath}.id`)
        const name = expectString(block.name, `${blockPath}.name`)
        toolNames.set(id, name)
        const input = block.input === undefined ? {} : expectObject(block.input, `${blockPath}.input`)
        blocks.push({type: 'tool_call', id, name, input})
        return
      }
      case 'tool_result': {
        const toolCallId = expectString(block.tool_use_id, `${blockPath}.tool_use_id`)
        const content = decodeContent(block.content ?? [], `${blockPath}.content`, toolNames, drop).filter(
          (item): item is IRText | IRImage => item.type === 'text' || item.type === 'image',
        )
        const toolName = toolNames.get(toolCallId)
        const isError = block.is_error === true
        blocks.push(compact({type: 'tool_result' as const, toolCallId, toolName, content, isError}))
        return
      }
      case 'thinking': {
        const text = expectString(block.thinking, `${blockPath}.thinking`)
        const signature = optionalString(block.signature, `${blockPath}.signature`) || undefined
        blocks.push(compact({type: 'thinking' as const, text, signature}))
        return
      }
      case 'redacted_thinking':
        blocks.push({type: 'redacted_thinking', data: expectString(block.data, `${blockPath}.data`)})
        return
      case 'document':
        throw new CodecError(`${blockPath}: document blocks are not supported for this upstream`)
      default:
        drop(`content.${String(block.type)}`)
    }
  })
  return blocks
}

function decodeImage(block: JsonObject, path: string): IRImage {
  const source = expectObject(block.source, `${path}.source`)
  if (source.type === 'base64') {
    return {
      type: 'image',
      source: {
        kind: 'base64',
        mediaType: expectString(source.media_type, `${path}.source.media_type`),
        data: expectString(source.data, `${path}.source.data`),
      },
    }
  }
  if (source.type === 'url') {
    return {type: 'image', source: {kind: 'url', url: expectString(source.url, `${path}.source.url`)}}
  }
  throw new CodecError(`${path}.source.type must be "base64" or "url"`)
}

function decodeTools(value: unknown, drop: DropHandler): IRTool[] {
  if (value === undefined || value === null) return []
  const tools: IRTool[] = []
  expectArray(value, 'tools').forEach((entry, i) => {
    const tool = expectObject(entry, `tools[${i}]`)
    // Server tools (web search, code execution…) run inside Anthropic and have no equivalent elsewhere.
    if (tool.type !== undefined && tool.type !== 'custom') return drop(`tools[${i}].type=${String(tool.type)}`)
    if (tool.cache_control !== undefined) drop('cache_control')
    tools.push(
      compact({
        name: expectString(tool.name, `tools[${i}].name`),
        description: optionalString(tool.description, `tools[${i}].description`),
        parameters:
          tool.input_schema === undefined
            ? {type: 'object', properties: {}}
            : expectObject(tool.input_schema, `tools[${i}].input_schema`),
      }),
    )
  })
  return tools
}

function decodeToolChoice(value: unknown): {toolChoice?: IRToolChoice; parallelToolCalls?: boolean} {
  if (value === undefined || value === null) return {}
  const choice = expectObject(value, 'tool_choice')
  const parallelToolCalls = choice.disable_parallel_tool_use === true ? false : undefined
  if (choice.type === 'auto' || choice.type === 'none') return {toolChoice: choice.type, parallelToolCalls}
  if (choice.type === 'any') return {toolChoice: 'required', parallelToolCalls}
  if (choice.type === 'tool') {
    return {toolChoice: {name: expectString(choice.name, 'tool_choice.name')}, parallelToolCalls}
  }
  throw new CodecError('tool_choice.type must be one of auto, any, none, tool')
}

// Anthropic's `effort` (output_config) sets how hard an adaptive thinker works; without `thinking` it is still
// the client asking for that much reasoning, which is what the other protocols' effort settings mean.
function decodeThinking(value: unknown, effortValue: unknown, drop: DropHandler): IRThinkingConfig | undefined {
  const effort = decodeEffort(effortValue)
  if (value === undefined || value === null) return effort && {type: 'effort', effort}
  const thinking = expectObject(value, 'thinking')
  // `display` only chooses whether Anthropic returns the thinking text; the others have no such switch.
  if (thinking.display !== undefined) drop('thinking.display')
  if (thinking.type === 'disabled') return {type: 'off'}
  if (thinking.type === 'enabled') {
    const budget = optionalNumber(thinking.budget_tokens, 'thinking.enabled.budget_tokens')
    if (budget === undefined) throw new CodecError('thinking.enabled.budget_tokens: Field required')
    return {type: 'budget', budgetTokens: budget}
  }
  if (thinking.type === 'adaptive') return effort ? {type: 'effort', effort} : {type: 'auto'}
  throw new CodecError(
    `thinking: Input tag '${String(thinking.type)}' found using 'type' does not match any of the expected tags: ` +
      "'disabled', 'enabled', 'adaptive'",
  )
}

function decodeEffort(value: unknown): IREffort | undefined {
  if (value === undefined || value === null) return undefined
  if (value === 'low' || value === 'medium' || value === 'high') return value
  if (value === 'max') return 'high'
  throw new CodecError("output_config.effort: Input should be 'low', 'medium', 'high' or 'max'")
}

// Structured outputs: `output_config.format` is `{type: "json_schema", schema}`.
function decodeFormat(value: unknown): IRResponseFormat | undefined {
  if (value === undefined || value === null) return undefined
  const format = expectObject(value, 'output_config.format')
  if (format.type !== 'json_schema') {
    throw new CodecError(
      `output_config.format: Input tag '${String(format.type)}' found using 'type' does not match any of the ` +
        "expected tags: 'json_schema'",
    )
  }
  return {type: 'json_schema', schema: expectObject(format.schema, 'output_config.format.schema')}
}
