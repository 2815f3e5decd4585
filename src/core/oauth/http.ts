import {request, type Dispatcher} from 'undici'
import {AppError, CancelledError} from '../errors.js'
import {rememberSecrets, redact, secretValues} from '../secrets.js'
import {DEFAULT_ERROR_BODY_LIMIT, readText} from '../http/body.js'
import {escapeControls} from '../escape.js'

export interface HttpContext {
  dispatcher?: Dispatcher
  /** The user's cancellation (Ctrl-C). */
  signal?: AbortSignal
  /** Per request, so one stalled call cannot hang a login or a refresh. */
  timeoutMs?: number
}

export interface HttpReply {
  status: number
  text: string
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown
}

const DEFAULT_TIMEOUT_MS = 30_000

async function sendRequest(
  method: 'GET' | 'POST',
  url: string,
  init: {headers?: Record<string, string>; body?: string},
  ctx: HttpContext = {},
): Promise<HttpReply> {
  const timeoutMs = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout
  let reply: {status: number; text: string; complete: boolean}
  try {
    const response = await request(url, {
      method,
      headers: init.headers,
      body: init.body,
      signal,
      dispatcher: ctx.dispatcher,
    })
    reply = {status: response.statusCode, ...(await readText(response.body, DEFAULT_ERROR_BODY_LIMIT))}
  } catch (error) {
    if (ctx.signal?.aborted) throw new CancelledError()
    const why = timeout.aborted ? `no answer within ${Math.round(timeoutMs / 1000)} s` : networkReason(error)
    throw new AppError(`Cannot reach ${originOf(url)}: ${why}.`, {
      code: 'network_error',
      cause: error,
      suggestions: ['Check the network connection and any HTTPS_PROXY setting, then try again.'],
    })
  }
  // Token and account answers are small; a huge one is broken or hostile, and is not read on.
  if (!reply.complete)
    throw new AppError(
      `${originOf(url)} sent an answer longer than ${DEFAULT_ERROR_BODY_LIMIT / 1024 / 1024} MB (HTTP ${reply.status}).`,
      {code: 'network_error'},
    )
  const json = parseJson(reply.text)
  // Tokens and client secrets arrive here first (logins, refreshes, client registrations): from now on no error may quote them.
  const body = objectOf(json)
  if (body) rememberSecrets(url, secretValues(body))
  return {status: reply.status, text: reply.text, json}
}

export function postForm(
  url: string,
  fields: Record<string, string>,
  ctx?: HttpContext,
  headers: Record<string, string> = {},
): Promise<HttpReply> {
  const body = new URLSearchParams(fields).toString()
  return sendRequest(
    'POST',
    url,
    {headers: {'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers}, body},
    ctx,
  )
}

export function postJson(
  url: string,
  body: unknown,
  ctx?: HttpContext,
  headers: Record<string, string> = {},
): Promise<HttpReply> {
  const text = JSON.stringify(body)
  return sendRequest(
    'POST',
    url,
    {headers: {'content-type': 'application/json', accept: 'application/json', ...headers}, body: text},
    ctx,
  )
}

export function getJson(url: string, ctx?: HttpContext, headers: Record<string, string> = {}): Promise<HttpReply> {
  return sendRequest('GET', url, {headers: {accept: 'application/json', ...headers}}, ctx)
}

export function isOk(reply: HttpReply): boolean {
  return reply.status >= 200 && reply.status < 300
}

/** The OAuth `error` code of a reply (RFC 6749 §5.2, also used by AWS SSO OIDC), when it has one. */
export function oauthErrorCode(reply: HttpReply): string | undefined {
  const error = objectOf(reply.json)?.error
  return typeof error === 'string' ? error : undefined
}

/**
 * What the server said, for a user to read: the status plus the error code and description of an OAuth error,
 * the message of a Google API error, or the start of whatever text came back. One line, controls escaped: it is
 * quoted in messages and on the instance.
 */
export function serverSays(reply: HttpReply): string {
  const body = objectOf(reply.json)
  const parts: string[] = []
  if (body) {
    const error = body.error
    if (typeof error === 'string') parts.push(error)
    const nested = objectOf(error)
    if (nested) {
      for (const key of ['status', 'message']) if (typeof nested[key] === 'string') parts.push(nested[key] as string)
    }
    for (const key of ['error_description', 'message', 'Message'])
      if (typeof body[key] === 'string') parts.push(body[key] as string)
  }
  if (parts.length === 0 && reply.text.trim() !== '') parts.push(truncate(reply.text.trim().replace(/\s+/g, ' '), 300))
  // Token servers quote what they were sent, the refresh token or the client secret included.
  return redact(`HTTP ${reply.status}${parts.length > 0 ? ` ${escapeControls([...new Set(parts)].join(': '))}` : ''}`)
}

export function objectOf(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}

function parseJson(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return url
  }
}

function networkReason(error: unknown): string {
  const err = error as NodeJS.ErrnoException & {cause?: NodeJS.ErrnoException}
  const code = err.code ?? err.cause?.code
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found'
    case 'ECONNRESET':
      return 'connection reset'
    default:
      return code ?? err.message
  }
}
