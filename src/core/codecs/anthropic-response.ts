import {newId} from './ids.js'
import type {IRResponse, IRResponseBlock, IRStopReason, IRUsage} from './ir.js'
import type {CodecOptions} from './types.js'
import {asArray, asNumber, asObject, asString, compact, expectObject, isObject, type JsonObject} from './values.js'
import {reportUncarriedAnswer} from './uncarried.js'

const STOP_REASONS: Record<string, IRStopReason> = {
  end_turn: 'end_turn',
  max_tokens: 'max_tokens',
  model_context_window_exceeded: 'max_tokens',
  stop_sequence: 'stop_sequence',
  tool_use: 'tool_use',
  refusal: 'content_filter',
}

export function decodeStopReason(reason: string): IRStopReason {
  return STOP_REASONS[reason] ?? 'other'
}

// `refusal` is Anthropic's own content filter; anything unknown ended the turn as far as a client can tell.
export function encodeStopReason(reason: IRStopReason): string {
  if (reason === 'content_filter') return 'refusal'
  if (reason === 'other') return 'end_turn'
  return reason
}

// Anthropic counts cache reads and writes apart from `input_tokens`; the IR counts all input together.
export function decodeAnthropicUsage(value: unknown, base?: IRUsage): IRUsage {
  const usage = asObject(value)
  const cacheRead = asNumber(usage.cache_read_input_tokens) ?? base?.cachedInputTokens
  const cacheCreation = asNumber(usage.cache_creation_input_tokens) ?? base?.cacheCreationInputTokens
  const input = asNumber(usage.input_tokens)
  return compact({
    inputTokens: input === undefined ? (base?.inputTokens ?? 0) : input + (cacheRead ?? 0) + (cacheCreation ?? 0),
    outputTokens: asNumber(usage.output_tokens) ?? base?.outputTokens ?? 0,
    cachedInputTokens: cacheRead,
    cacheCreationInputTokens: cacheCreation,
  })
}

/**
 * Who called a tool: the API names it on every tool_use block, and `direct` (the model itself) unless a code
 * execution tool made the call, which no upstream here does.
 */
export const DIRECT_CALLER: JsonObject = {type: 'direct'}

export function encodeAnthropicUsage(usage: IRUsage): JsonObject {
  const cacheRead = usage.cachedInputTokens ?? 0
  const cacheCreation = usage.cacheCreationInputTokens ?? 0
  return {
    input_tokens: Math.max(0, usage.inputTokens - cacheRead - cacheCreation),
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: cacheCreation,
    cache_read_input_tokens: cacheRead,
  }
}

export function decodeAnthropicResponse(body: unknown, opts: CodecOptions = {}): IRResponse {
  const drop = opts.onDropped ?? (() => {})
  const response = expectObject(body, 'response body')
  const content: IRResponseBlock[] = []
  for (const value of asArray(response.content)) {
    const block = asObject(value)
    if (block.type === 'text') content.push({type: 'text', text: asString(block.text) ?? ''})
    else if (block.type === 'thinking') {
      const signature = asString(block.signature) || undefined
      content.push(compact({type: 'thinking' as const, text: asString(block.thinking) ?? '', signature}))
    } else if (block.type === 'redacted_thinking') {
      content.push({type: 'redacted_thinking', data: asString(block.data) ?? ''})
    } else if (block.type === 'tool_use') {
      content.push({
        type: 'tool_call',
        id: asString(block.id) ?? newId('toolu_'),
        name: asString(block.name) ?? '',
        input: isObject(block.input) ? block.input : {},
      })
    } else drop(`content.${String(block.type)}`)
  }
  return compact({
    id: asString(response.id),
    model: asString(response.model) ?? '',
    content,
    stopReason: decodeStopReason(asString(response.stop_reason) ?? 'end_turn'),
    stopSequence: asString(response.stop_sequence),
    usage: decodeAnthropicUsage(response.usage),
  })
}

export function encodeAnthropicResponse(res: IRResponse, opts: CodecOptions = {}): JsonObject {
  const drop = opts.onDropped ?? (() => {})
  reportUncarriedAnswer(res, drop)
  const content = res.content.map((block): JsonObject => {
    switch (block.type) {
      case 'text':
        if (block.signature !== undefined) drop('text.signature')
        return {type: 'text', text: block.text}
      case 'thinking':
        return {type: 'thinking', thinking: block.text, signature: block.signature ?? ''}
      case 'redacted_thinking':
        return {type: 'redacted_thinking', data: block.data}
      case 'tool_call':
        if (block.signature !== undefined) drop('tool_call.signature')
        return {type: 'tool_use', id: block.id, name: block.name, input: block.input, caller: DIRECT_CALLER}
    }
  })
  return {
    id: res.id ?? newId('msg_'),
    type: 'message',
    role: 'assistant',
    model: res.model,
    content,
    stop_reason: encodeStopReason(res.stopReason),
    stop_sequence: res.stopSequence ?? null,
    usage: encodeAnthropicUsage(res.usage),
  }
}
