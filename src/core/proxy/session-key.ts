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

/**
 * The system prompt and the first user message are the same on every turn of one conversation. Only a request
 * that continues one is keyed so: identical one-shot requests (a greeting, a script's prompt) stay spread over the
 * pool, and the map holds conversations only. The second turn binds the conversation, the later ones follow it.
 */
function openingHash(protocol: Protocol, json: Record<string, unknown>): string | undefined {
  const [system, turns] = opening(protocol, json)
  const first = turns.find((turn) => turn.role === 'user')
  if (turns.length < 2 || first === undefined) return undefined
  const hash = createHash('sha256').update(JSON.stringify([system ?? null, first]))
  return 'opening:' + hash.digest('base64url')
}

/** The system prompt, and the conversation's turns without it. */
function opening(protocol: Protocol, json: Record<string, unknown>): [unknown, Record<string, unknown>[]] {
  const list = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value : [])
  switch (protocol) {
    case 'anthropic':
      return [json.system, list(json.messages)]
    case 'openai': {
      const messages = list(json.messages)
      const system = (m: Record<string, unknown>) => m.role === 'system' || m.role === 'developer'
      return [messages.find(system)?.content, messages.filter((m) => !system(m))]
    }
    case 'responses':
      return [json.instructions, list(json.input)]
    case 'gemini':
      return [json.systemInstruction, list(json.contents)]
  }
}
