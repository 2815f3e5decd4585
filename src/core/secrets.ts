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

/**
 * Fields whose values are secrets to scrub from text: the name must end in the secret word (`access_token`,
 * `clientSecret`, `OPENAI_API_KEY`), so `token_uri` or `token_type` stay readable wherever they are quoted.
 */
const SECRET_VALUE_FIELD = new RegExp(`${SECRET_FIELD_PATTERN.source}$`, 'i')

/** Shorter values are too likely to be ordinary words to be replaced wherever they occur. */
const MIN_SECRET_LENGTH = 8

/** The secret values of a flat record: a pool entry's keys, a credential file's or a token reply's tokens. */
export function secretValues(record: Record<string, unknown>): string[] {
  const values: string[] = []
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH && SECRET_VALUE_FIELD.test(key))
      values.push(value)
  }
  return values
}

/** Values kept per owner: a rotating token's last few generations, for requests sent before it rotated. */
const VALUES_PER_OWNER = 8

/**
 * Every secret this process holds, by owner (a pool entry, a credential file, the server's own key), so that any
 * text from outside can be scrubbed of all of them, not just of the one a request used. An owner's newest values
 * push out its oldest, which keeps the registry the size of the pool however often tokens rotate.
 */
class SecretRegistry {
  private readonly owners = new Map<string, Set<string>>()
  /** What to look for (each secret and the forms it takes when escaped), longest first; rebuilt after a change. */
  private needles: Array<[needle: string, mask: string]> | undefined

  remember(owner: string, values: readonly string[]): void {
    let known = this.owners.get(owner)
    if (!known) this.owners.set(owner, (known = new Set()))
    for (const value of values) {
      if (value.length < MIN_SECRET_LENGTH) continue
      if (known.delete(value)) {
        known.add(value)
        continue
      }
      known.add(value)
      this.needles = undefined
    }
    for (const oldest of known) {
      if (known.size <= VALUES_PER_OWNER) break
      known.delete(oldest)
      this.needles = undefined
    }
  }

  redact(text: string): string {
    let out = text
    for (const [needle, mask] of (this.needles ??= this.build()))
      if (out.includes(needle)) out = out.split(needle).join(mask)
    return out
  }

  private build(): Array<[string, string]> {
    const needles = new Map<string, string>()
    for (const values of this.owners.values()) {
      for (const secret of values) {
        const mask = maskSecret(secret)
        // As sent (headers, JSON), with JSON's optional `\/`, and form- or URL-encoded (a refresh request echoed back).
        for (const form of [secret, secret.replaceAll('/', '\\/'), encodeURIComponent(secret)]) needles.set(form, mask)
      }
    }
    return [...needles].sort(([a], [b]) => b.length - a.length)
  }
}

const registry = new SecretRegistry()

/**
 * Adds secrets the process holds to those `redact` removes: pool keys as the pool is read, tokens as credential
 * files are read and token endpoints answer, the server's own API key. `owner` names where they come from; its
 * newer values outlive its older ones.
 */
export function rememberSecrets(owner: string, values: readonly string[]): void {
  registry.remember(owner, values)
}

/**
 * Replaces every secret the process holds with its masked form. Upstreams and token servers sometimes echo a key
 * or token back in an error; every such text passes through here before it reaches a client, a log or a file.
 * Only error text does: successful answers never pay for it.
 */
export function redact(text: string): string {
  return registry.redact(text)
}
