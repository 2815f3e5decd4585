import {openAIErrorBody} from '../openai-errors.js'
import {formatSse} from '../sse.js'
import {asObject, type JsonObject} from '../values.js'

// Responses clients read OpenAI's error body.
export function responsesErrorBody(status: number, message: string): JsonObject {
  return openAIErrorBody(status, message)
}

/**
 * The code a failed response carries. Codex decides on it whether to retry (codex-api sse/responses.rs):
 * `rate_limit_exceeded` and unknown codes such as `server_error` are retried (with the delay a "try again in Ns"
 * message names), `invalid_prompt` is shown without retrying; so other client errors, which a retry cannot fix,
 * use it too. All three are codes the SDK's `ResponseError` type lists.
 */
export function responsesFailureCode(status: number): string {
  if (status === 429) return 'rate_limit_exceeded'
  if (status >= 400 && status < 500 && status !== 408) return 'invalid_prompt'
  return 'server_error'
}

/** `response.error` of a failed response. */
export function responsesFailure(message: string, status: number): JsonObject {
  return {code: responsesFailureCode(status), message}
}

/**
 * The body of an `error` event. The API reference puts code, message and param on the event itself, while the live
 * API nests them under `error` as well: the openai SDKs raise an APIError only for the nested form (openai-node's
 * Stream throws on `data.error`), and clients written against the reference read the flat fields. Both are sent.
 */
export function responsesErrorEventBody(message: string, status: number): JsonObject {
  const code = responsesFailureCode(status)
  const error = {...asObject(openAIErrorBody(status, message).error), code}
  return {code, message, param: null, error}
}

/**
 * What the proxy writes to end a started stream after a failure outside the codec. It cannot know how many events
 * went before, so it has no sequence_number; Codex ignores that field and the SDK does not check it.
 */
export function responsesStreamErrorEvent(message: string, status = 500): string {
  return formatSse(JSON.stringify({type: 'error', ...responsesErrorEventBody(message, status)}), 'error')
}
