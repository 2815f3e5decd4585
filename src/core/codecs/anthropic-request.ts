import {hoistSystemMessages, mergeTurns} from './conversation.js'
import {CodecError} from './errors.js'
import type {
  IRContentBlock,
  IRImage,
  IRMessage,
  IRRequest,
  IRResponseFormat,
  IRText,
  IRTool,
  IRToolChoice,
} from './ir.js'
import {defaultAnthropicMaxTokens} from './max-tokens.js'
import {thinkingBudget} from './thinking.js'
import type {CodecOptions, DropHandler} from './types.js'
import {compact, type JsonObject} from './values.js'
import {refuseUncarried} from './uncarried.js'

const MIN_THINKING_BUDGET = 1024

export function encodeAnthropicRequest(req: IRRequest, opts: CodecOptions = {}): JsonObject {
  refuseUncarried(req)
  const drop = opts.onDropped ?? (() => {})
  for (const field of ['presencePenalty', 'frequencyPenalty', 'seed', 'promptCacheKey'] as const) {
    if (req[field] !== undefined) drop(field)
  }
  // Anthropic accepts a system message inside `messages` only for some models; the top-level field takes
  // system text for every model.
  const {system, messages: conversation} = hoistSystemMessages(req)
  const messages = encodeMessages(conversation, drop)
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
    system: encodeSystem(system),
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
    output_config: encodeOutputConfig(req.responseFormat),
  })
}

// Structured outputs take a schema; JSON mode without one has no Anthropic counterpart, and an answer that only
// might be JSON would pretend to honour it.
function encodeOutputConfig(format: IRResponseFormat | undefined): JsonObject | undefined {
  if (format === undefined) return undefined
  if (format.type === 'json') {
    throw new CodecError(
      'JSON mode without a schema (response_format json_object, or responseMimeType application/json without ' +
        'responseSchema) is not supported by this upstream: its structured outputs need a JSON schema ' +
        '(response_format json_schema, responseSchema).',
    )
  }
  return {format: {type: 'json_schema', schema: format.schema}}
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
  const wanted = Math.max(MIN_THINKING_BUDGET, budget)
  if (req.maxTokens === undefined && maxTokens <= wanted) maxTokens = wanted + defaultMaxTokens
  const budgetTokens = Math.min(wanted, maxTokens - 1)
  if (budgetTokens < MIN_THINKING_BUDGET) {
    drop(`thinking (budget ${wanted} does not fit max_tokens ${maxTokens})`)
    return {maxTokens}
  }
  if (budgetTokens < wanted) drop(`thinking (budget ${wanted} cut to ${budgetTokens} to fit max_tokens ${maxTokens})`)
  return {maxTokens, thinking: {type: 'enabled', budget_tokens: budgetTokens}}
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
  if (system.length === 1 && system[0] && !system[0].cacheControl) return system[0].text
  return system.map((block) => compact({type: 'text', text: block.text, cache_control: block.cacheControl}))
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
      return compact({type: 'text', text: block.text, cache_control: block.cacheControl})
    case 'image':
      return compact({...encodeImage(block), cache_control: block.cacheControl})
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
