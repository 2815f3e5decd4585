import {newId} from './ids.js'
import type {IRCandidate, IRResponse, IRResponseBlock, IRStopReason, IRUsage} from './ir.js'
import {decodeOpenAILogprobs, encodeOpenAILogprobs} from './logprobs.js'
import type {CodecOptions, DropHandler} from './types.js'
import {decodeArguments, encodeToolCall} from './openai-tool-calls.js'
import {joinThinking} from './thinking.js'
import {asArray, asNumber, asObject, asString, compact, expectObject, type JsonObject} from './values.js'

const FINISH_REASONS: Record<string, IRStopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'content_filter',
}

// Some OpenAI-compatible servers answer `stop` after tool calls; clients must still run the tools.
export function decodeFinishReason(reason: string, sawToolCall: boolean): IRStopReason {
  const stopReason = FINISH_REASONS[reason] ?? 'other'
  return stopReason === 'end_turn' && sawToolCall ? 'tool_use' : stopReason
}

// OpenAI has no "stop sequence matched" reason; `stop` covers it.
export function encodeFinishReason(reason: IRStopReason): string {
  if (reason === 'max_tokens') return 'length'
  if (reason === 'tool_use') return 'tool_calls'
  if (reason === 'content_filter') return 'content_filter'
  return 'stop'
}

export function decodeOpenAIUsage(value: unknown): IRUsage {
  const usage = asObject(value)
  return compact({
    inputTokens: asNumber(usage.prompt_tokens) ?? 0,
    outputTokens: asNumber(usage.completion_tokens) ?? 0,
    cachedInputTokens: asNumber(asObject(usage.prompt_tokens_details).cached_tokens),
    reasoningTokens: asNumber(asObject(usage.completion_tokens_details).reasoning_tokens),
  })
}

export function encodeOpenAIUsage(usage: IRUsage): JsonObject {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: {cached_tokens: usage.cachedInputTokens ?? 0},
    completion_tokens_details: {reasoning_tokens: usage.reasoningTokens ?? 0},
  }
}

export function decodeOpenAIResponse(body: unknown, opts: CodecOptions = {}): IRResponse {
  const drop = opts.onDropped ?? (() => {})
  const response = expectObject(body, 'response body')
  const choices = asArray(response.choices).map(asObject)
  // Several choices (n) each carry their index.
  if (choices.length > 1) choices.sort((a, b) => (asNumber(a.index) ?? 0) - (asNumber(b.index) ?? 0))
  const [first = {}, ...rest] = choices
  return compact({
    id: asString(response.id),
    model: asString(response.model) ?? '',
    ...decodeChoice(first, drop),
    usage: decodeOpenAIUsage(response.usage),
    alternatives: rest.length > 0 ? rest.map((choice) => decodeChoice(choice, drop)) : undefined,
  })
}

function decodeChoice(choice: JsonObject, drop: DropHandler): IRCandidate {
  const message = asObject(choice.message)
  const content: IRResponseBlock[] = []
  const reasoning = asString(message.reasoning_content) ?? asString(message.reasoning)
  if (reasoning) content.push({type: 'thinking', text: reasoning})
  const text = asString(message.content)
  if (text) content.push({type: 'text', text})
  for (const part of asArray(message.content)) {
    const partText = asString(asObject(part).text)
    if (partText) content.push({type: 'text', text: partText})
  }
  const refusal = asString(message.refusal)
  if (refusal) content.push({type: 'text', text: refusal})
  for (const value of asArray(message.tool_calls)) {
    const call = asObject(value)
    const fn = asObject(call.function)
    const id = asString(call.id) || newId('call_')
    const name = asString(fn.name)
    // Not the client's fault: another instance may answer properly.
    if (!name) throw new Error('the upstream sent a tool call without a function name')
    content.push({type: 'tool_call', id, name, input: decodeArguments(fn.arguments, drop)})
  }
  return compact({
    content,
    stopReason: decodeFinishReason(
      asString(choice.finish_reason) ?? 'stop',
      content.some((block) => block.type === 'tool_call'),
    ),
    logprobs: decodeOpenAILogprobs(choice.logprobs),
  })
}

export function encodeOpenAIResponse(res: IRResponse, opts: CodecOptions = {}): JsonObject {
  const drop = opts.onDropped ?? (() => {})
  return {
    id: res.id ?? newId('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: res.model,
    choices: [res, ...(res.alternatives ?? [])].map((candidate, index) => ({
      index,
      message: encodeMessage(candidate, drop),
      logprobs: candidate.logprobs ? encodeOpenAILogprobs(candidate.logprobs) : null,
      finish_reason: encodeFinishReason(candidate.stopReason),
    })),
    usage: encodeOpenAIUsage(res.usage),
  }
}

function encodeMessage(candidate: IRCandidate, drop: DropHandler): JsonObject {
  let text: string | null = null
  const reasoning: string[] = []
  const toolCalls: JsonObject[] = []
  for (const block of candidate.content) {
    if (block.type === 'text') text = (text ?? '') + block.text
    else if (block.type === 'thinking') reasoning.push(block.text)
    else if (block.type === 'tool_call') toolCalls.push(encodeToolCall(block))
    else drop(block.type)
  }
  return compact({
    role: 'assistant',
    content: text,
    refusal: null,
    reasoning_content: joinThinking(reasoning) || undefined,
    tool_calls: toolCalls.length > 0 ? toolCalls : undefined,
  })
}
