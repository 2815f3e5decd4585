import {mergeTurns} from './conversation.js'
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
import {defaultAnthropicMaxTokens} from './max-tokens.js'
import {thinkingBudget} from './thinking.js'
import type {CodecOptions, DecodeRequestContext, DropHandler} from './types.js'
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
const MIN_THINKING_BUDGET = 1024

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

export function encodeAnthropicRequest(req: IRRequest, opts: CodecOptions = {}): JsonObject {
  const drop = opts.onDropped ?? (() => {})
  for (const field of ['responseFormat', 'presencePenalty', 'frequencyPenalty', 'seed'] as const) {
    if (req[field] !== undefined) drop(field)
  }
  const messages = encodeMessages(req.messages, drop)
  const hasTools = req.tools.length > 0
  if (!hasTools && req.toolChoice !== undefined) drop('tool_choice')
  const toolChoice = hasTools ? encodeToolChoice(req.toolChoice, req.parallelToolCalls) : undefined
  const {maxTokens, thinking} = encodeThinking(req, messages, toolChoice, drop)
  const thinkingOn = thinking?.type === 'enabled'
  // Extended thinking rejects a changed temperature or top_k.
  if (thinkingOn && req.temperature !== undefined) drop('temperature')
  if (thinkingOn && req.topK !== undefined) drop('top_k')
  const temperature = thinkingOn || req.temperature === undefined ? undefined : Math.min(req.temperature, 1)
  if (temperature !== undefined && temperature !== req.temperature) drop('temperature>1')
  return compact({
    model: req.model,
    max_tokens: maxTokens,
    system: encodeSystem(req.system),
    messages,
    tools: hasTools ? req.tools.map(encodeTool) : undefined,
    tool_choice: toolChoice,
    stop_sequences: req.stop.length > 0 ? req.stop : undefined,
    stream: req.stream || undefined,
    temperature,
    top_p: req.topP,
    top_k: thinkingOn ? undefined : req.topK,
    thinking,
    metadata: req.user === undefined ? undefined : {user_id: req.user},
  })
}

// Anthropic wants 1024 <= budget_tokens < max_tokens, refuses thinking together with a forced tool choice,
// and, while a tool loop is in progress, wants the assistant turn that called the tools to start with its
// signed thinking block (which clients of other protocols cannot send back). Where these cannot be met,
// thinking gives way, since the request would fail otherwise.
function encodeThinking(
  req: IRRequest,
  messages: WireMessage[],
  toolChoice: JsonObject | undefined,
  drop: DropHandler,
): {maxTokens: number; thinking?: JsonObject} {
  const defaultMaxTokens = defaultAnthropicMaxTokens(req.model)
  let maxTokens = req.maxTokens ?? defaultMaxTokens
  if (req.thinking?.type === 'off') return {maxTokens, thinking: {type: 'disabled'}}
  const budget = req.thinking && thinkingBudget(req.thinking)
  if (budget === undefined) return {maxTokens}
  if (toolChoice?.type === 'any' || toolChoice?.type === 'tool') {
    drop('thinking (forced tool_choice)')
    return {maxTokens}
  }
  if (inToolLoopWithoutThinking(messages)) {
    drop('thinking (tool loop without thinking blocks)')
    return {maxTokens}
  }
  let budgetTokens = Math.max(MIN_THINKING_BUDGET, budget)
  if (req.maxTokens === undefined && maxTokens <= budgetTokens) maxTokens = budgetTokens + defaultMaxTokens
  budgetTokens = Math.min(budgetTokens, maxTokens - 1)
  if (budgetTokens >= MIN_THINKING_BUDGET) return {maxTokens, thinking: {type: 'enabled', budget_tokens: budgetTokens}}
  drop('thinking (max_tokens too small)')
  return {maxTokens}
}

function inToolLoopWithoutThinking(messages: WireMessage[]): boolean {
  const [caller, results] = messages.slice(-2)
  if (results?.role !== 'user' || results.content[0]?.type !== 'tool_result') return false
  const type = caller?.content[0]?.type
  return caller?.role === 'assistant' && type !== 'thinking' && type !== 'redacted_thinking'
}

// Anthropic insists on an object schema; JSON Schema lets OpenAI and Gemini clients leave `type` out.
function encodeTool(tool: IRTool): JsonObject {
  const schema = tool.parameters.type === undefined ? {type: 'object', ...tool.parameters} : tool.parameters
  return compact({name: tool.name, description: tool.description, input_schema: schema})
}

function encodeSystem(system: IRText[]): unknown {
  if (system.length === 0) return undefined
  if (system.length === 1 && system[0]) return system[0].text
  return system.map((block) => ({type: 'text', text: block.text}))
}

interface WireMessage {
  role: IRMessage['role']
  content: JsonObject[]
}

function encodeMessages(messages: IRMessage[], drop: DropHandler): WireMessage[] {
  const kept = messages.map((message) => ({
    role: message.role,
    content: message.content.filter((block) => keep(block, drop)),
  }))
  const turns = mergeTurns(kept)
  // A final assistant message is a prefill, and Anthropic rejects one ending in whitespace.
  const last = turns.at(-1)
  const lastBlock = last?.role === 'assistant' ? last.content.at(-1) : undefined
  if (last && lastBlock?.type === 'text') {
    const text = lastBlock.text.trimEnd()
    if (text === '') last.content.pop()
    else last.content[last.content.length - 1] = {type: 'text', text}
    if (last.content.length === 0) turns.pop()
  }
  return turns.map((turn) => ({role: turn.role, content: turn.content.map((block) => encodeBlock(block, drop))}))
}

// Anthropic rejects empty text blocks, and thinking blocks it cannot verify (no signature).
function keep(block: IRContentBlock, drop: DropHandler): boolean {
  if (block.type === 'text' && block.text === '') return false
  if (block.type === 'thinking' && block.signature === undefined) {
    drop('thinking without signature')
    return false
  }
  return true
}

function encodeBlock(block: IRContentBlock, drop: DropHandler): JsonObject {
  switch (block.type) {
    case 'text':
      if (block.signature !== undefined) drop('text.signature')
      return {type: 'text', text: block.text}
    case 'image':
      return encodeImage(block)
    case 'tool_call':
      if (block.signature !== undefined) drop('tool_call.signature')
      return {type: 'tool_use', id: toolUseId(block.id), name: block.name, input: block.input}
    case 'tool_result':
      return compact({
        type: 'tool_result',
        tool_use_id: toolUseId(block.toolCallId),
        content: encodeToolResultContent(block.content),
        is_error: block.isError || undefined,
      })
    case 'thinking':
      return {type: 'thinking', thinking: block.text, signature: block.signature}
    case 'redacted_thinking':
      return {type: 'redacted_thinking', data: block.data}
  }
}

// Anthropic only accepts [A-Za-z0-9_-] in tool ids, and some OpenAI-compatible models emit ids such as
// "functions.get_weather:0". Valid ids pass unchanged; calls and results map the same way, so they still pair.
function toolUseId(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '_')
}

function encodeImage(image: IRImage): JsonObject {
  const {source} = image
  return {
    type: 'image',
    source:
      source.kind === 'base64'
        ? {type: 'base64', media_type: source.mediaType, data: source.data}
        : {type: 'url', url: source.url},
  }
}

function encodeToolResultContent(content: (IRText | IRImage)[]): unknown {
  if (content.length === 0) return undefined
  const only = content.length === 1 ? content[0] : undefined
  if (only?.type === 'text') return only.text
  return content.map((item) => (item.type === 'text' ? {type: 'text', text: item.text} : encodeImage(item)))
}

function encodeToolChoice(choice: IRToolChoice | undefined, parallel: boolean | undefined): JsonObject | undefined {
  const noParallel = parallel === false ? {disable_parallel_tool_use: true} : {}
  if (choice === undefined) return parallel === false ? {type: 'auto', ...noParallel} : undefined
  if (choice === 'none') return {type: 'none'}
  if (choice === 'auto') return {type: 'auto', ...noParallel}
  if (choice === 'required') return {type: 'any', ...noParallel}
  return {type: 'tool', name: choice.name, ...noParallel}
}

