import {streamError} from './errors.js'
import {newId} from './ids.js'
import type {IRStreamEvent} from './ir.js'
import {formatSse} from './sse.js'
import {asObject, asString, type JsonObject} from './values.js'

// upstreams.md §2.4.
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
}

function errorType(status: number): string {
  return ERROR_TYPES[status] ?? (status < 500 ? 'invalid_request_error' : 'api_error')
}

// An error answer carries the request's id beside the error (`req_011C` and 20 base62 characters), as Anthropic's
// do; clients print it with the message, and the SDK's ErrorResponse type has it. The stream's error event has none.
export function anthropicErrorBody(status: number, message: string): JsonObject {
  return {...errorEvent(status, message), request_id: newId('req_011C', 20)}
}

function errorEvent(status: number, message: string): JsonObject {
  return {type: 'error', error: {type: errorType(status), message}}
}

export function anthropicStreamErrorEvent(message: string, status = 500): string {
  return formatSse(JSON.stringify(errorEvent(status, message)), 'error')
}

const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
}

export function decodeAnthropicStreamError(value: unknown): IRStreamEvent & {type: 'error'} {
  const error = asObject(value)
  const status = STATUS_BY_TYPE[asString(error.type) ?? ''] ?? 500
  return streamError(status, asString(error.message) ?? JSON.stringify(value))
}
