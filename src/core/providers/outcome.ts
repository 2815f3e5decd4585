import {EventTooLargeError} from '../codecs/sse.js'

/**
 * What an upstream answer or failure means for the request and for the instance: the vocabulary shared by the
 * adapters (which classify their upstream's answers), serving, the health probes and the log.
 */
export type Outcome =
  | {kind: 'success'}
  /** The request itself is wrong: pass the answer through, never count it against the instance. */
  | {kind: 'client_fault'}
  | {kind: 'rate_limited'; retryAfterMs: number | null; reason?: string}
  | {kind: 'quota'; retryAfterMs: number | null; reason?: string}
  /** Credentials refused; `reason` overrides "auth" where the upstream said more (suspended, licence missing…). */
  | {kind: 'auth'; reason?: string}
  /** `reason` names what went wrong where the status alone does not (an error event inside a stream). */
  | {kind: 'server'; status: number; reason?: string}
  | {kind: 'network'; code: string}
  | {kind: 'timeout'; phase: 'connect' | 'headers' | 'body'}
  /** We aborted the request because its client went away (or the server is stopping): nobody's fault, never counted. */
  | {kind: 'cancelled'}

type Headers = Record<string, string | string[] | undefined>

const TRANSIENT = new Set([408, 409, 425, 499, 529])

/** The common meaning of an error status; anything else below 500 is the request's fault (400, 404, 422…). */
export function classifyStatus(status: number, headers: Headers, now: number): Outcome {
  if (status < 400) return {kind: 'success'}
  if (status === 429) return {kind: 'rate_limited', retryAfterMs: retryAfterMs(headers, now)}
  if (status === 401 || status === 403) return {kind: 'auth'}
  if (status === 402) return {kind: 'quota', retryAfterMs: retryAfterMs(headers, now)}
  if (status >= 500 || TRANSIENT.has(status)) return {kind: 'server', status}
  return {kind: 'client_fault'}
}

/** Network-level failures from undici, by error code, and answers the proxy refuses to hold. */
export function classifyError(error: unknown): Outcome {
  if (error instanceof EventTooLargeError) return {kind: 'server', status: 502}
  const code = (error as {code?: string}).code ?? 'UNKNOWN'
  // Only the proxy aborts its upstream requests, and only when the client has gone.
  if (code === 'UND_ERR_ABORTED') return {kind: 'cancelled'}
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return {kind: 'timeout', phase: 'connect'}
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return {kind: 'timeout', phase: 'headers'}
  if (code === 'UND_ERR_BODY_TIMEOUT') return {kind: 'timeout', phase: 'body'}
  return {kind: 'network', code}
}

export function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'success':
      return 'ok'
    case 'client_fault':
      return 'client error'
    case 'rate_limited':
      return 'rate limited'
    case 'quota':
      return 'quota exhausted'
    case 'auth':
      return 'auth'
    case 'server':
      return `server error ${outcome.status}`
    case 'network':
      return `network error ${outcome.code}`
    case 'timeout':
      return `${outcome.phase} timeout`
    case 'cancelled':
      return 'cancelled by the client'
  }
}

/** Honours `retry-after-ms`, then `Retry-After` as seconds or an HTTP date. */
export function retryAfterMs(headers: Headers, now: number): number | null {
  const ms = first(headers['retry-after-ms'])
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms))
  const value = first(headers['retry-after'])?.trim()
  if (!value) return null
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? null : Math.max(0, date - now)
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** The message an upstream put in its error body (OpenAI, Anthropic, Google or bare `{message}` shapes), if any. */
export function upstreamErrorMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as {error?: {message?: unknown} | string; message?: unknown}
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message)
    return typeof message === 'string' ? message : undefined
  } catch {
    // Not JSON: HTML error pages and the like say nothing useful.
    return undefined
  }
}
