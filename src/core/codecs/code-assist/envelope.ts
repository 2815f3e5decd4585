// Google Code Assist (cloudcode-pa v1internal) carries a public Gemini request inside an envelope that names the
// model and the account's project, and answers each response, unary or streamed, as {response, traceId}
// (upstreams.md §6.3).
import {randomUUID} from 'node:crypto'

import {encodeGeminiRequest} from '../gemini-request.js'
import {decodeGeminiResponse} from '../gemini-response.js'
import type {IRRequest, IRResponse} from '../ir.js'
import type {CodecOptions} from '../types.js'
import {asObject, asString, isObject, type JsonObject} from '../values.js'

export interface CodeAssistTarget {
  /** The upstream model; Code Assist reads it from the envelope and rejects one inside the request. */
  model: string
  /** The project found by discovery (loadCodeAssist / onboardUser). */
  project: string
}

export function encodeCodeAssistRequest(req: IRRequest, opts: CodeAssistTarget & CodecOptions): JsonObject {
  return wrapGeminiBody(encodeGeminiRequest(req, opts), opts)
}

/**
 * Envelopes a Gemini client's own body without an IR round trip. Fills in what AIClient-2-API found Code Assist
 * to need: `systemInstruction` in camelCase with role "user", and a role on every content.
 */
export function wrapGeminiBody(body: JsonObject, target: CodeAssistTarget): JsonObject {
  const request: JsonObject = {...body}
  delete request.model
  const system = request.systemInstruction ?? request.system_instruction
  delete request.system_instruction
  if (system !== undefined) request.systemInstruction = isObject(system) ? {...system, role: 'user'} : system
  if (Array.isArray(request.contents)) {
    request.contents = request.contents.map((content) =>
      isObject(content) && !content.role ? {...content, role: 'user'} : content,
    )
  }
  return {model: target.model, project: target.project, user_prompt_id: randomUUID(), request}
}

/**
 * The public Gemini response inside an envelope. As in gemini-cli, a missing `response` means no candidates, and
 * the trace id stands in for a missing response id.
 */
export function unwrapResponse(body: unknown): JsonObject {
  const envelope = asObject(body)
  const response = isObject(envelope.response) ? envelope.response : {candidates: []}
  const traceId = asString(envelope.traceId)
  return response.responseId === undefined && traceId !== undefined ? {...response, responseId: traceId} : response
}

export function decodeCodeAssistResponse(body: unknown, opts?: CodecOptions): IRResponse {
  return decodeGeminiResponse(unwrapResponse(body), opts)
}
