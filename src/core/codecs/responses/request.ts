import type {
  IRContentBlock,
  IRImage,
  IRMessage,
  IRRequest,
  IRResponseFormat,
  IRThinkingConfig,
  IRTool,
  IRToolChoice,
  IRToolResult,
} from '../ir.js'
import {systemTexts, toolResultContent} from '../conversation.js'
import {toDataUrl} from '../media.js'
import {thinkingEffort} from '../thinking.js'
import type {CodecOptions, DropHandler} from '../types.js'
import {refuseUncarried} from '../uncarried.js'
import {compact, type JsonObject} from '../values.js'
import {usesCacheControl} from '../cache-control.js'

// IR → a Responses request for an `openaiResponses-custom` upstream. The proxy keeps the conversation, so
// every request carries the whole history with `store: false`; reasoning then only survives a turn as
// `encrypted_content`, which is why it is asked for whenever thinking is on.
export function encodeResponsesRequest(req: IRRequest, opts: CodecOptions = {}): JsonObject {
  refuseUncarried(req)
  const drop = opts.onDropped ?? (() => {})
  if (usesCacheControl(req)) drop('cache_control')
  for (const field of ['topK', 'seed', 'presencePenalty', 'frequencyPenalty'] as const) {
    if (req[field] !== undefined) drop(field)
  }
  if (req.stop.length > 0) drop('stop')
  // OpenAI rejects tool_choice and parallel_tool_calls without tools.
  const hasTools = req.tools.length > 0
  if (!hasTools && req.toolChoice !== undefined) drop('tool_choice')
  const thinkingOn = req.thinking !== undefined && req.thinking.type !== 'off'
  return compact({
    model: req.model,
    instructions: req.system.length > 0 ? req.system.map((block) => block.text).join('\n\n') : undefined,
    input: req.messages.flatMap((message) => encodeMessage(message, drop)),
    tools: hasTools ? req.tools.map(encodeTool) : undefined,
    tool_choice: hasTools && req.toolChoice !== undefined ? encodeToolChoice(req.toolChoice) : undefined,
    parallel_tool_calls: hasTools ? req.parallelToolCalls : undefined,
    max_output_tokens: req.maxTokens,
    temperature: req.temperature,
    top_p: req.topP,
    reasoning: req.thinking && encodeReasoning(req.thinking),
    text: req.responseFormat && {format: encodeFormat(req.responseFormat)},
    user: req.user,
    prompt_cache_key: req.promptCacheKey,
    stream: req.stream || undefined,
    store: false,
    include: thinkingOn ? ['reasoning.encrypted_content'] : undefined,
  })
}

function encodeMessage(message: IRMessage, drop: DropHandler): JsonObject[] {
  // A system message stays in place as a `developer` item, the role Responses gives the application's instructions.
  if (message.role === 'system') {
    const content = systemTexts(message).map((block) => ({type: 'input_text', text: block.text}))
    return [{type: 'message', role: 'developer', content}]
  }
  return message.role === 'assistant' ? encodeAssistant(message.content, drop) : encodeUser(message.content, drop)
}

// Tool outputs come first, right after the calls they answer; the rest of the turn follows as one message.
function encodeUser(blocks: IRContentBlock[], drop: DropHandler): JsonObject[] {
  const outputs: JsonObject[] = []
  const parts: JsonObject[] = []
  for (const block of blocks) {
    if (block.type === 'tool_result') outputs.push(encodeToolResult(block))
    else if (block.type === 'text') parts.push({type: 'input_text', text: block.text})
    else if (block.type === 'image') parts.push(encodeImage(block))
    else drop(`user.${block.type}`)
  }
  return parts.length > 0 ? [...outputs, {type: 'message', role: 'user', content: parts}] : outputs
}

function encodeToolResult(result: IRToolResult): JsonObject {
  const content = toolResultContent(result)
  const only = content.length === 1 ? content[0] : undefined
  const output =
    content.length === 0
      ? ''
      : only?.type === 'text'
        ? only.text
        : content.map((item) => (item.type === 'text' ? {type: 'input_text', text: item.text} : encodeImage(item)))
  return {type: 'function_call_output', call_id: result.toolCallId, output}
}

function encodeImage(image: IRImage): JsonObject {
  const url = image.source.kind === 'base64' ? toDataUrl(image.source) : image.source.url
  return {type: 'input_image', image_url: url, detail: 'auto'}
}

// Items keep the blocks' order; adjacent texts share one assistant message.
function encodeAssistant(blocks: IRContentBlock[], drop: DropHandler): JsonObject[] {
  const items: JsonObject[] = []
  let texts: JsonObject[] | undefined
  for (const block of blocks) {
    if (block.type !== 'text') texts = undefined
    switch (block.type) {
      case 'text':
        if (block.signature !== undefined) drop('text.signature')
        if (texts === undefined) {
          texts = []
          items.push({type: 'message', role: 'assistant', content: texts})
        }
        texts.push({type: 'output_text', text: block.text})
        break
      case 'tool_call':
        if (block.signature !== undefined) drop('tool_call.signature')
        items.push({type: 'function_call', call_id: block.id, name: block.name, arguments: JSON.stringify(block.input)})
        break
      // Without the upstream's own id the item stands on its encrypted content alone; a made-up id would be
      // looked up (and not found) under `store: false`.
      case 'thinking':
        if (block.signature === undefined) drop('thinking without signature')
        else items.push(reasoningItem(block.text === '' ? [] : [block.text], block.signature))
        break
      case 'redacted_thinking':
        items.push(reasoningItem([], block.data))
        break
      default:
        drop(`assistant.${block.type}`)
    }
  }
  return items
}

function reasoningItem(summary: string[], encrypted: string): JsonObject {
  const parts = summary.map((text) => ({type: 'summary_text', text}))
  return {type: 'reasoning', summary: parts, encrypted_content: encrypted}
}

// Responses function tools are strict unless told otherwise, and strict mode rejects most client schemas.
function encodeTool(tool: IRTool): JsonObject {
  return compact({
    type: 'function',
    name: tool.name,
    description: tool.description,
    parameters: tool.parameters,
    strict: false,
  })
}

function encodeToolChoice(choice: IRToolChoice): unknown {
  return typeof choice === 'string' ? choice : {type: 'function', name: choice.name}
}

function encodeReasoning(config: IRThinkingConfig): JsonObject {
  const effort = thinkingEffort(config)
  return effort === undefined ? {effort: 'none'} : {effort, summary: 'auto'}
}

function encodeFormat(format: IRResponseFormat): JsonObject {
  if (format.type === 'json') return {type: 'json_object'}
  // OpenAI requires a name; Gemini clients never give one.
  return compact({type: 'json_schema', name: format.name ?? 'response', schema: format.schema, strict: format.strict})
}
