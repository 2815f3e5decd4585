import type {IncomingHttpHeaders} from 'node:http'
import {UsageError} from '../errors.js'

/**
 * Which browser pages may use the server, and under which names it may be reached.
 *
 * Without an API key anything that can send a request can spend the pool, so only requests that cannot come from a
 * hostile page are served: no `Origin` (command-line clients and SDKs), the server's own origin, or an origin the
 * user listed. A page on another loopback port is refused too: that is another program (a dev server, a notebook,
 * a static server in a cloned repository), and it would gain the pool by serving a page. The `Host` must be a
 * loopback name, which stops DNS rebinding (a hostile name that starts resolving to 127.0.0.1).
 *
 * With a key, the key is the guard: the `Host` is not checked (remote clients use whatever name reaches the
 * machine), and cross-origin pages still need an origin the user listed.
 */
export interface AccessPolicy {
  keyRequired: boolean
  /** Normalised origins (`https://app.example.com`) whose pages may call the server. */
  corsOrigins: readonly string[]
}

export type AccessDecision = {allowed: true; corsHeaders: Record<string, string>} | {allowed: false; message: string}

const CORS_HEADERS: Record<string, string> = {
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers':
    'authorization, content-type, x-api-key, anthropic-version, anthropic-beta, x-goog-api-key, model-provider, x-stainless-os, x-stainless-lang, x-stainless-package-version, x-stainless-runtime, x-stainless-runtime-version, x-stainless-arch, x-stainless-retry-count, x-stainless-timeout, anthropic-dangerous-direct-browser-access',
  'access-control-max-age': '86400',
}

/** Every answer depends on the Origin, so caches must keep answers for different origins apart. */
const VARY = {vary: 'origin'}

/**
 * Whether a host name or address (`localhost`, `127.0.0.5`, `::1`, `[::1]`, `app.localhost`) always means this
 * machine. Names are normalised the way a browser does, so `0x7f.1` and `[0:0::1]` count and `127.evil.com` does
 * not. `*.localhost` never reaches DNS in browsers (RFC 6761), so it cannot be rebound.
 */
export function isLoopbackName(host: string): boolean {
  const bare = host.startsWith('[') ? host : host.includes(':') ? `[${host}]` : host
  const hostname = parseAuthority(bare)?.hostname
  return hostname !== undefined && isLoopbackHostname(hostname)
}

function isLoopbackHostname(hostname: string): boolean {
  const name = hostname.replace(/\.$/, '')
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    /^127\.\d+\.\d+\.\d+$/.test(name) ||
    name === '[::1]' ||
    // IPv4-mapped 127.0.0.0/8, as the URL parser writes it: [::ffff:7f00:1].
    /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(name)
  )
}

/** `host[:port]` as a URL parser reads it, or undefined when it is not just an authority. */
function parseAuthority(authority: string): URL | undefined {
  if (authority === '' || /[/?#@\\\s]/.test(authority)) return undefined
  try {
    return new URL(`http://${authority}`)
  } catch {
    return undefined
  }
}

/**
 * An origin as browsers send it (`scheme://host[:port]`, lower case, default port left out), or undefined for
 * anything else, `null` and `*` included: neither names one page.
 */
export function normalizeOrigin(value: string): string | undefined {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]+)\/?$/i.exec(value.trim())
  if (!match) return undefined
  const scheme = match[1]!.toLowerCase()
  if (scheme === 'http' || scheme === 'https') {
    try {
      return new URL(`${scheme}://${match[2]}`).origin
    } catch {
      return undefined
    }
  }
  // Extension and app schemes (chrome-extension://id): the URL parser gives them no origin, so compare as written.
  return `${scheme}://${match[2]!.toLowerCase()}`
}

export function checkAccess(
  policy: AccessPolicy,
  headers: IncomingHttpHeaders,
  target: URL,
  absoluteForm: boolean,
): AccessDecision {
  const host = headers.host
  if (!policy.keyRequired) {
    // An absolute-form target names the host the client meant; RFC 9112 puts it above the Host header.
    for (const name of absoluteForm ? [host, target.host] : [host]) {
      if (name !== undefined && !isLoopbackHostname(parseAuthority(name)?.hostname ?? '')) {
        return {
          allowed: false,
          message: `Refused: the request names the host "${name}", and without an API key only loopback names (localhost, 127.0.0.1, [::1]) are served, so that a web page cannot reach this server through a name of its own (DNS rebinding). Use http://127.0.0.1, or start the server with an API key.`,
        }
      }
    }
  }
  const origin = headers.origin
  if (origin === undefined) return {allowed: true, corsHeaders: VARY}
  if (policy.corsOrigins.includes(origin) || isOwnOrigin(origin, host)) {
    return {
      allowed: true,
      corsHeaders: {...VARY, 'access-control-allow-origin': origin, ...CORS_HEADERS, ...privateNetwork(headers)},
    }
  }
  return {
    allowed: false,
    message: `Refused: requests from web pages of ${JSON.stringify(origin)} are not allowed. If you trust that page, start the server with --cors-origin ${origin} (or AICLIENT_CORS_ORIGINS, or \`aiclient config set corsOrigins\`).`,
  }
}

/** A page the server itself would serve: same loopback host and port, so never another program's page. */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false
  const authority = parseAuthority(host)
  return authority !== undefined && isLoopbackHostname(authority.hostname) && origin === authority.origin
}

/** Chrome asks before a public page may call a private address; a listed origin is allowed to. */
function privateNetwork(headers: IncomingHttpHeaders): Record<string, string> {
  return headers['access-control-request-private-network'] === 'true'
    ? {'access-control-allow-private-network': 'true'}
    : {}
}

/** A list of origins from a flag, a variable or a file (commas separate), normalised; `where` names the source. */
export function parseOriginList(values: readonly string[], where: string): string[] {
  const origins: string[] = []
  for (const value of values
    .flatMap((entry) => entry.split(','))
    .map((entry) => entry.trim())
    .filter(Boolean)) {
    const origin = normalizeOrigin(value)
    if (origin === undefined) {
      throw new UsageError(
        `${where}: ${JSON.stringify(value)} is not an origin. Give scheme://host[:port], e.g. http://localhost:5173; "*" and "null" are not accepted, since neither names a single page.`,
        {
          code: 'bad_origin',
        },
      )
    }
    if (!origins.includes(origin)) origins.push(origin)
  }
  return origins
}
