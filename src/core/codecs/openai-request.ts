import {systemTexts, toolResultContent} from './conversation.js'
import type {IRContentBlock, IRImage, IRRequest, IRResponseFormat, IRText, IRTool, IRToolChoice} from './ir.js'
import {toDataUrl} from './media.js'
import {encodeToolCall} from './openai-tool-calls.js'
import {joinThinking, thinkingEffort} from './thinking.js'
import type {CodecOptions, DropHandler} from './types.js'
import {compact, type JsonObject} from './values.js'
import {refuseStreamedUncarried} from './uncarried.js'
import {usesCacheControl} from './cache-control.js'

// Reasoning models reject the legacy `max_tokens`; most OpenAI-compatible servers only know `max_tokens`.
const REASONING_MODEL = /^(o\d|gpt-5)/

export function encodeOpenAIRequest(req: IRRequest, opts: CodecOptions = {}): JsonObject {
  refuseStreamedUncarried(req)
  const drop = opts.onDropped ?? (() => {})
  if (usesCacheControl(req)) drop('cache_control')
  const messages: JsonObject[] = []
  if (req.system.length > 0) messages.push({role: 'system', content: encodeText(req.system)})
  for (const message of req.messages) {
    // In place, as `system` rather than `developer`: every OpenAI-compatible server knows `system`, and
    // OpenAI's reasoning models read it as `developer`.
    if (message.role === 'system') messages.push({role: 'system', content: encodeText(systemTexts(message))})
    else if (message.role === 'assistant') messages.push(encodeAssistant(message.content, drop))
    else messages.push(...encodeUser(message.content, drop))
  }
  if (req.topK !== undefined) drop('top_k')
  // OpenAI rejects tool_choice and parallel_tool_calls without tools.
  const hasTools = req.tools.length > 0
  if (!hasTools && req.toolChoice !== undefined) drop('tool_choice')
  const effort = req.thinking && thinkingEffort(req.thinking)
  return compact({
    model: req.model,
    messages,
    tools: hasTools ? req.tools.map(encodeTool) : undefined,
    tool_choice: hasTools && req.toolChoice !== undefined ? encodeToolChoice(req.toolChoice) : undefined,
    parallel_tool_calls: hasTools ? req.parallelToolCalls : undefined,
    [REASONING_MODEL.test(req.model) ? 'max_completion_tokens' : 'max_tokens']: req.maxTokens,
    temperature: req.temperature,
    top_p: req.topP,
    presence_penalty: req.presencePenalty,
    frequency_penalty: req.frequencyPenalty,
    seed: req.seed,
    stop: req.stop.length > 0 ? req.stop : undefined,
    stream: req.stream || undefined,
    stream_options: req.stream && req.includeUsage ? {include_usage: true} : undefined,
    reasoning_effort: effort,
    response_format: req.responseFormat && encodeResponseFormat(req.responseFormat),
    user: req.user,
    prompt_cache_key: req.promptCacheKey,
    n: req.candidateCount,
    logprobs: req.logprobs && true,
    top_logprobs: req.logprobs?.top,
  })
}

// A single text stays a plain string, the form every OpenAI-compatible server accepts.
function encodeText(blocks: IRText[]): string | JsonObject[] {
  if (blocks.length === 0) return ''
  if (blocks.length === 1 && blocks[0]) return blocks[0].text
  return blocks.map((block) => ({type: 'text', text: block.text}))
}

function encodeAssistant(blocks: IRContentBlock[], drop: DropHandler): JsonObject {
  const reasoning: string[] = []
  const texts: IRText[] = []
  const toolCalls: JsonObject[] = []
  for (const block of blocks) {
    if (block.type === 'thinking') {
      reasoning.push(block.text)
      if (block.signature !== undefined) drop('thinking.signature')
    } else if (block.type === 'text') {
      texts.push(block)
      if (block.signature !== undefined) drop('text.signature')
    } else if (block.type === 'tool_call') {
      toolCalls.push(encodeToolCall(block))
      if (block.signature !== undefined) drop('tool_call.signature')
    } else drop(block.type)
  }
  return compact({
    role: 'assistant',
    content: texts.length > 0 ? encodeText(texts) : toolCalls.length > 0 ? null : '',
    reasoning_content: joinThinking(reasoning) || undefined,
    tool_calls: toolCalls.length > 0 ? toolCalls : undefined,
  })
}

// Tool results become `tool` messages right after the assistant turn; OpenAI tool messages take only text,
// so images returned by a tool follow in a user message.
function encodeUser(blocks: IRContentBlock[], drop: DropHandler): JsonObject[] {
  const toolMessages: JsonObject[] = []
  const parts: JsonObject[] = []
  for (const block of blocks) {
    if (block.type === 'tool_result') {
      const texts = toolResultContent(block).filter((item) => item.type === 'text')
      toolMessages.push({role: 'tool', tool_call_id: block.toolCallId, content: encodeText(texts)})
      for (const item of block.content) if (item.type === 'image') parts.push(encodeImage(item))
    } else if (block.type === 'text') parts.push({type: 'text', text: block.text})
    else if (block.type === 'image') parts.push(encodeImage(block))
    else drop(block.type)
  }
  if (parts.length === 0) return toolMessages
  const only = parts.length === 1 ? parts[0] : undefined
  return [...toolMessages, {role: 'user', content: only?.type === 'text' ? only.text : parts}]
}

function encodeImage(image: IRImage): JsonObject {
  const url = image.source.kind === 'base64' ? toDataUrl(image.source) : image.source.url
  return {type: 'image_url', image_url: {url}}
}

function encodeTool(tool: IRTool): JsonObject {
  const fn = compact({name: tool.name, description: tool.description, parameters: tool.parameters})
  return {type: 'function', function: fn}
}

function encodeToolChoice(choice: IRToolChoice): unknown {
  return typeof choice === 'string' ? choice : {type: 'function', function: {name: choice.name}}
}

function encodeResponseFormat(format: IRResponseFormat): JsonObject {
  if (format.type === 'json') return {type: 'json_object'}
  // OpenAI requires a name; Gemini clients never give one.
  const spec = compact({name: format.name ?? 'response', schema: format.schema, strict: format.strict})
  return {type: 'json_schema', json_schema: spec}
}
