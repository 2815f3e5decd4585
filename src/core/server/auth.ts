import {createHash, timingSafeEqual} from 'node:crypto'
import type {IncomingHttpHeaders} from 'node:http'

export const KEY_REFUSAL =
  'Invalid or missing API key. Send it as Authorization: Bearer, x-api-key, x-goog-api-key or ?key=.'

/** The key a client presented, in any of the forms the three SDKs use. */
export function presentedKey(headers: IncomingHttpHeaders, query: URLSearchParams): string | undefined {
  const authorization = headers.authorization
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim())
    if (match) return match[1]
  }
  for (const name of ['x-api-key', 'x-goog-api-key'] as const) {
    const value = headers[name]
    if (typeof value === 'string' && value !== '') return value
  }
  return query.get('key') ?? undefined
}

const digest = (value: string) => createHash('sha256').update(value).digest()

/** Compares digests so the time taken says nothing about how much of the key was right, or its length. */
export function keyMatches(presented: string | undefined, expected: string): boolean {
  return timingSafeEqual(digest(presented ?? ''), digest(expected)) && presented !== undefined
}
