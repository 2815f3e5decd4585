import {SECRET_FIELD_PATTERN} from './pools/fields.js'

/**
 * Shows enough of a secret to tell keys apart (`sk-…3f9a`) and never enough to use it. Short secrets show
 * nothing, because a 4-character suffix of an 8-character key is half of it.
 */
export function maskSecret(secret: string): string {
  if (secret.length < 12) return '****'
  const prefix = /^[A-Za-z]{2,4}[-_]/.exec(secret)?.[0] ?? ''
  return `${prefix}…${secret.slice(-4)}`
}

/** Removes a password from `scheme://user:pass@host` URLs (proxy URLs carry them). */
export function maskUrlCredentials(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/i, (_match, scheme: string, userinfo: string) => {
    const user = userinfo.split(':')[0] ?? ''
    return `${scheme}${user ? `${user}:****` : '****'}@`
  })
}

/** A deep copy in which every secret-named field is masked and URL passwords are removed. */
export function maskSecrets<T>(value: T): T {
  return maskValue(value, undefined) as T
}

function maskValue(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') {
    if (key !== undefined && SECRET_FIELD_PATTERN.test(key)) return maskSecret(value)
    return maskUrlCredentials(value)
  }
  if (Array.isArray(value)) return value.map((item) => maskValue(item, undefined))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = maskValue(v, k)
    return out
  }
  return value
}

/** The secret values an instance holds (API keys and the like), for scrubbing text that came from its upstream. */
export function secretValues(raw: Record<string, unknown>): string[] {
  return Object.entries(raw)
    .filter(([key, value]) => SECRET_FIELD_PATTERN.test(key) && typeof value === 'string' && value.length >= 8)
    .map(([, value]) => value as string)
}

/** Replaces every occurrence of the given secrets with their masked form: upstreams sometimes echo the key back. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(maskSecret(secret))
  return out
}
