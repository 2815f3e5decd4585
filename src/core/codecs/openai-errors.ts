import {streamError} from './errors.js'
import type {IRStreamEvent} from './ir.js'
import {formatSse} from './sse.js'
import {asNumber, asObject, asString, type JsonObject} from './values.js'

// `type` and `code` per status as the OpenAI API sends them (upstreams.md §1.4).
const ERROR_SHAPES: Record<number, {type: string; code: string | null}> = {
  400: {type: 'invalid_request_error', code: null},
  401: {type: 'invalid_request_error', code: 'invalid_api_key'},
  403: {type: 'request_forbidden', code: null},
  404: {type: 'invalid_request_error', code: 'model_not_found'},
  408: {type: 'timeout', code: null},
  409: {type: 'conflict', code: null},
  413: {type: 'invalid_request_error', code: 'request_too_large'},
  422: {type: 'invalid_request_error', code: null},
  429: {type: 'requests', code: 'rate_limit_exceeded'},
}

export function openAIErrorBody(status: number, message: string): JsonObject {
  const shape = ERROR_SHAPES[status] ?? {type: status < 500 ? 'invalid_request_error' : 'server_error', code: null}
  return {error: {message, type: shape.type, param: null, code: shape.code}}
}

// No [DONE] follows: the stream simply closes after the error.
export function openAIStreamErrorEvent(message: string, status = 500): string {
  return formatSse(JSON.stringify(openAIErrorBody(status, message)))
}

const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  // Responses API failure codes (response.failed's error.code).
  invalid_prompt: 400,
  context_length_exceeded: 400,
  authentication_error: 401,
  invalid_api_key: 401,
  permission_error: 403,
  insufficient_quota: 429,
  rate_limit_exceeded: 429,
  requests: 429,
  tokens: 429,
  not_found_error: 404,
  model_not_found: 404,
  server_error: 500,
  overloaded_error: 503,
  server_is_overloaded: 503,
  service_unavailable: 503,
}

// OpenAI-compatible servers put the status in `code`, `status`, or only imply it through `type`/`code`.
export function decodeOpenAIStreamError(value: unknown): IRStreamEvent & {type: 'error'} {
  const error = asObject(value)
  const code = asString(error.code)
  const type = asString(error.type)
  const status =
    asNumber(error.code) ??
    asNumber(error.status) ??
    (code === undefined ? undefined : STATUS_BY_TYPE[code]) ??
    (type === undefined ? undefined : STATUS_BY_TYPE[type]) ??
    500
  return streamError(status, asString(error.message) ?? JSON.stringify(value))
}
