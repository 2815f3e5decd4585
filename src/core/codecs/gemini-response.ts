import {
  decodeFinishReason,
  decodeGeminiUsage,
  decodeModelPart,
  encodeFinishReason,
  encodeGeminiUsage,
  encodeModelPart,
  toolCallIds,
} from './gemini-common.js'
import {newId} from './ids.js'
import type {IRResponse, IRResponseBlock} from './ir.js'
import type {CodecOptions} from './types.js'
import {asArray, asObject, asString, compact, expectObject, type JsonObject} from './values.js'

export function decodeGeminiResponse(body: unknown, opts: CodecOptions = {}): IRResponse {
  const drop = opts.onDropped ?? (() => {})
  const response = expectObject(body, 'response body')
  const id = asString(response.responseId)
  const candidate = asObject(asArray(response.candidates)[0])
  const nextId = toolCallIds(id)
  const content: IRResponseBlock[] = []
  for (const value of asArray(asObject(candidate.content).parts)) {
    const part = asObject(value)
    const block = decodeModelPart(part, nextId)
    if (block) content.push(block)
    else drop(`parts.${Object.keys(part)[0] ?? 'empty'}`)
  }
  const reason = asString(candidate.finishReason)
  const sawToolCall = content.some((block) => block.type === 'tool_call')
  // A blocked prompt comes back without candidates and with promptFeedback.blockReason.
  const blocked = reason === undefined && asObject(response.promptFeedback).blockReason !== undefined
  return compact({
    id,
    model: asString(response.modelVersion) ?? '',
    content,
    stopReason: blocked ? 'content_filter' : decodeFinishReason(reason ?? 'STOP', sawToolCall),
    usage: decodeGeminiUsage(response.usageMetadata),
  })
}

export function encodeGeminiResponse(res: IRResponse, opts: CodecOptions = {}): JsonObject {
  const drop = opts.onDropped ?? (() => {})
  const parts: JsonObject[] = []
  for (const block of res.content) {
    if (block.type === 'redacted_thinking') drop(block.type)
    else parts.push(encodeModelPart(block))
  }
  return {
    candidates: [{content: {role: 'model', parts}, finishReason: encodeFinishReason(res.stopReason), index: 0}],
    usageMetadata: encodeGeminiUsage(res.usage),
    modelVersion: res.model,
    responseId: res.id ?? newId(''),
  }
}
