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
import type {IRCandidate, IRResponse, IRResponseBlock} from './ir.js'
import {decodeGeminiLogprobs, encodeGeminiLogprobs} from './logprobs.js'
import type {CodecOptions, DropHandler} from './types.js'
import {asArray, asNumber, asObject, asString, compact, expectObject, type JsonObject} from './values.js'

export function decodeGeminiResponse(body: unknown, opts: CodecOptions = {}): IRResponse {
  const drop = opts.onDropped ?? (() => {})
  const response = expectObject(body, 'response body')
  const id = asString(response.responseId)
  const candidates = asArray(response.candidates).map(asObject)
  // Several candidates (candidateCount) each carry their index; one is index 0 with or without it.
  if (candidates.length > 1) candidates.sort((a, b) => (asNumber(a.index) ?? 0) - (asNumber(b.index) ?? 0))
  const [first = {}, ...rest] = candidates
  const nextId = toolCallIds(id)
  const answer = decodeCandidate(first, nextId, drop)
  // A blocked prompt comes back without candidates and with promptFeedback.blockReason.
  const blocked = first.finishReason === undefined && asObject(response.promptFeedback).blockReason !== undefined
  return compact({
    id,
    model: asString(response.modelVersion) ?? '',
    ...answer,
    stopReason: blocked ? 'content_filter' : answer.stopReason,
    usage: decodeGeminiUsage(response.usageMetadata),
    alternatives: rest.length > 0 ? rest.map((candidate) => decodeCandidate(candidate, nextId, drop)) : undefined,
  })
}

function decodeCandidate(candidate: JsonObject, nextId: () => string, drop: DropHandler): IRCandidate {
  const content: IRResponseBlock[] = []
  for (const value of asArray(asObject(candidate.content).parts)) {
    const part = asObject(value)
    const block = decodeModelPart(part, nextId)
    if (block) content.push(block)
    else drop(`parts.${Object.keys(part)[0] ?? 'empty'}`)
  }
  const sawToolCall = content.some((block) => block.type === 'tool_call')
  return compact({
    content,
    stopReason: decodeFinishReason(asString(candidate.finishReason) ?? 'STOP', sawToolCall),
    logprobs: decodeGeminiLogprobs(candidate.logprobsResult),
  })
}

export function encodeGeminiResponse(res: IRResponse, opts: CodecOptions = {}): JsonObject {
  const drop = opts.onDropped ?? (() => {})
  return {
    candidates: [res, ...(res.alternatives ?? [])].map((candidate, index) => encodeCandidate(candidate, index, drop)),
    usageMetadata: encodeGeminiUsage(res.usage),
    modelVersion: res.model,
    responseId: res.id ?? newId(''),
  }
}

function encodeCandidate(candidate: IRCandidate, index: number, drop: DropHandler): JsonObject {
  const parts: JsonObject[] = []
  for (const block of candidate.content) {
    if (block.type === 'redacted_thinking') drop(block.type)
    else parts.push(encodeModelPart(block))
  }
  return {
    content: {role: 'model', parts},
    finishReason: encodeFinishReason(candidate.stopReason),
    index,
    ...(candidate.logprobs && encodeGeminiLogprobs(candidate.logprobs)),
  }
}
