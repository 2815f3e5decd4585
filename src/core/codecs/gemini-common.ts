import {newId} from './ids.js'
import type {IRStopReason, IRText, IRThinking, IRToolCall, IRUsage} from './ir.js'
import {asNumber, asObject, asString, compact, isObject, type JsonObject} from './values.js'

// Gemini parses proto-JSON, so clients may spell any field in snake_case; responses are always camelCase.
export function field(object: JsonObject, camelName: string): unknown {
  return object[camelName] ?? object[camelName.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)]
}

// Sent by other proxies on Gemini 3 function calls that have no signature; it is not a real signature.
export const PLACEHOLDER_SIGNATURE = 'skip_thought_signature_validator'

function decodeSignature(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value !== PLACEHOLDER_SIGNATURE ? value : undefined
}

// Older Gemini models send function calls without ids. Ids derived from the response id stay the same when
// the same bytes are decoded again; without a response id they are random.
export function toolCallIds(responseId: string | undefined): () => string {
  const base = responseId?.replace(/[^A-Za-z0-9_-]/g, '')
  let next = 0
  return () => (base ? `call_${base}_${next++}` : newId('call_'))
}

export type ModelBlock = IRText | IRThinking | IRToolCall

// Text, thought and functionCall parts read the same in requests and responses; other parts give undefined.
export function decodeModelPart(part: JsonObject, nextId: () => string): ModelBlock | undefined {
  const signature = decodeSignature(field(part, 'thoughtSignature'))
  const call = field(part, 'functionCall')
  if (isObject(call)) {
    const id = asString(call.id) ?? nextId()
    const input = isObject(call.args) ? call.args : {}
    return compact({type: 'tool_call' as const, id, name: asString(call.name) ?? '', input, signature})
  }
  if (typeof part.text !== 'string' && signature === undefined) return undefined
  const type = part.thought === true ? ('thinking' as const) : ('text' as const)
  return compact({type, text: asString(part.text) ?? '', signature})
}

export function encodeModelPart(block: ModelBlock): JsonObject {
  if (block.type === 'tool_call') {
    const functionCall = {id: block.id, name: block.name, args: block.input}
    return compact({functionCall, thoughtSignature: block.signature})
  }
  return compact({text: block.text, thought: block.type === 'thinking' || undefined, thoughtSignature: block.signature})
}

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY'])

// Gemini has no tool-use reason: STOP after a functionCall part means the model wants the tool run.
export function decodeFinishReason(reason: string, sawToolCall: boolean): IRStopReason {
  if (reason === 'STOP') return sawToolCall ? 'tool_use' : 'end_turn'
  if (reason === 'MAX_TOKENS') return 'max_tokens'
  return FILTERED.has(reason) ? 'content_filter' : 'other'
}

export function encodeFinishReason(reason: IRStopReason): string {
  if (reason === 'max_tokens') return 'MAX_TOKENS'
  if (reason === 'content_filter') return 'SAFETY'
  if (reason === 'other') return 'OTHER'
  return 'STOP'
}

// Gemini counts thoughts apart from candidates; the IR's outputTokens includes them.
export function decodeGeminiUsage(value: unknown): IRUsage {
  const usage = asObject(value)
  const thoughts = asNumber(usage.thoughtsTokenCount)
  return compact({
    inputTokens: (asNumber(usage.promptTokenCount) ?? 0) + (asNumber(usage.toolUsePromptTokenCount) ?? 0),
    outputTokens: (asNumber(usage.candidatesTokenCount) ?? 0) + (thoughts ?? 0),
    cachedInputTokens: asNumber(usage.cachedContentTokenCount),
    reasoningTokens: thoughts,
  })
}

export function encodeGeminiUsage(usage: IRUsage): JsonObject {
  return compact({
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: usage.outputTokens - (usage.reasoningTokens ?? 0),
    totalTokenCount: usage.inputTokens + usage.outputTokens,
    // Gemini leaves zero counts out.
    thoughtsTokenCount: usage.reasoningTokens || undefined,
    cachedContentTokenCount: usage.cachedInputTokens || undefined,
  })
}
