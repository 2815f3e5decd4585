import {streamError} from './errors.js'
import type {IRStreamEvent} from './ir.js'
import {formatSse} from './sse.js'
import {asNumber, asObject, asString, type JsonObject} from './values.js'

// google.rpc status names per HTTP status (upstreams.md §3.5).
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
  529: 'UNAVAILABLE',
}

const STATUS_CODES: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ABORTED: 409,
  ALREADY_EXISTS: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
}

// Anthropic's 529 (overloaded) is no HTTP status Google uses: Google says 503 UNAVAILABLE for it.
export function geminiErrorBody(status: number, message: string): JsonObject {
  const name = STATUS_NAMES[status] ?? (status < 500 ? 'INVALID_ARGUMENT' : 'INTERNAL')
  return {error: {code: status === 529 ? 503 : status, message, status: name}}
}

export function geminiStreamErrorEvent(message: string, status = 500): string {
  return formatSse(JSON.stringify(geminiErrorBody(status, message)))
}

export function decodeGeminiStreamError(value: unknown): IRStreamEvent & {type: 'error'} {
  const error = asObject(value)
  const status = asNumber(error.code) ?? STATUS_CODES[asString(error.status) ?? ''] ?? 500
  return streamError(status, asString(error.message) ?? JSON.stringify(value))
}
