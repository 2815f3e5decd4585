import {createHash} from 'node:crypto'
import type {IncomingHttpHeaders} from 'node:http'
import type {Protocol} from '../codecs/types.js'

/**
 * The conversation a request belongs to, for sticky sessions; first match wins: Claude Code's session header,
 * Codex's `session_id` header or `prompt_cache_key`, `previous_response_id`, the `session_id` Claude Code puts in
 * Anthropic `metadata.user_id`, an `x-session-id` header, else a hash of the system prompt and the first user
 * message. Reads the body the server has parsed already; undefined when the request has nothing to go by.
 */
export function sessionKey(protocol: Protocol, headers: IncomingHttpHeaders, json: Record<string, unknown>) {
  return (
    header(headers, 'x-claude-code-session-id') ??
    header(headers, 'session_id') ??
    text(json.prompt_cache_key) ??
    text(json.previous_response_id) ??
    userIdSession(json.metadata) ??
    header(headers, 'x-session-id') ??
    openingHash(protocol, json)
  )
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return text(Array.isArray(value) ? value[0] : value)
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** Claude Code sends `metadata.user_id` as a JSON string holding `session_id`; other clients send a plain id. */
function userIdSession(metadata: unknown): string | undefined {
  const userId = text((metadata as {user_id?: unknown} | undefined)?.user_id)
  if (!userId?.startsWith('{')) return undefined
  try {
    return text((JSON.parse(userId) as {session_id?: unknown}).session_id)
  } catch {
    return undefined
  }
}

/** The system prompt and the first user message are the same on every turn of one conversation. */
function openingHash(protocol: Protocol, json: Record<string, unknown>): string | undefined {
  const [system, first] = opening(protocol, json)
  if (first === undefined) return undefined
  return (
    'opening:' +
    createHash('sha256')
      .update(JSON.stringify([system ?? null, first]))
      .digest('base64url')
  )
}

function opening(protocol: Protocol, json: Record<string, unknown>): [unknown, unknown] {
  const list = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value : [])
  switch (protocol) {
    case 'anthropic':
      return [json.system, list(json.messages).find((m) => m.role === 'user')?.content]
    case 'openai': {
      const messages = list(json.messages)
      const system = messages.find((m) => m.role === 'system' || m.role === 'developer')?.content
      return [system, messages.find((m) => m.role === 'user')?.content]
    }
    case 'responses': {
      const input = typeof json.input === 'string' ? json.input : list(json.input).find((m) => m.role === 'user')
      return [json.instructions, input]
    }
    case 'gemini':
      return [json.systemInstruction, list(json.contents).find((c) => c.role === 'user')?.parts]
  }
}
