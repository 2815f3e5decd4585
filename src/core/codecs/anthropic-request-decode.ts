import {CodecError} from './errors.js'
import type {
  IRContentBlock,
  IRImage,
  IRMessage,
  IRRequest,
  IRText,
  IRThinkingConfig,
  IRTool,
  IRToolChoice,
} from './ir.js'
import type {DecodeRequestContext, DropHandler} from './types.js'
import {
  asObject,
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
  const messages = expectArray(request.messages, 'messages').map((value, i): IRMessage => {
    const message = expectObject(value, `messages[${i}]`)
    const role = message.role
    if (role !== 'user' && role !== 'assistant') {
      throw new CodecError(`messages[${i}].role must be "user" or "assistant"`)
    }
    return {role, content: decodeContent(message.content, `messages[${i}].content`, toolNames, drop)}
  })
  if (messages.length === 0) throw new CodecError('messages must not be empty')
  const metadata = request.metadata === undefined ? {} : expectObject(request.metadata, 'metadata')
  for (const key of Object.keys(metadata)) if (key !== 'user_id') drop(`metadata.${key}`)
  const {toolChoice, parallelToolCalls} = decodeToolChoice(request.tool_choice)
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
    thinking: decodeThinking(request.thinking, request.output_config),
    user: optionalString(metadata.user_id, 'metadata.user_id'),
  })
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

function decodeThinking(value: unknown, outputConfig: unknown): IRThinkingConfig | undefined {
  if (value === undefined || value === null) return undefined
  const thinking = expectObject(value, 'thinking')
  if (thinking.type === 'disabled') return {type: 'off'}
  if (thinking.type === 'enabled') {
    const budget = optionalNumber(thinking.budget_tokens, 'thinking.budget_tokens')
    if (budget === undefined) throw new CodecError('thinking.budget_tokens is required when thinking is enabled')
    return {type: 'budget', budgetTokens: budget}
  }
  if (thinking.type === 'adaptive') {
    const effort = asObject(outputConfig).effort
    if (effort === 'low' || effort === 'medium' || effort === 'high') return {type: 'effort', effort}
    if (effort === 'max') return {type: 'effort', effort: 'high'}
    return {type: 'auto'}
  }
  throw new CodecError('thinking.type must be "enabled", "disabled" or "adaptive"')
}
