import type {IncomingHttpHeaders} from 'node:http'
import type {Protocol} from '../codecs/types.js'
import {isProviderType, type ProviderType} from '../pools/types.js'

export type Route =
  | {kind: 'chat'; protocol: Protocol; model?: string; stream?: boolean}
  | {kind: 'count_tokens'}
  | {kind: 'models'; protocol: Protocol | 'auto'}
  | {kind: 'health'}
  | {kind: 'compact'}
  | {kind: 'stored_response'; id: string; method: 'GET' | 'DELETE'}
  | {kind: 'embeddings'}
  | {kind: 'gemini_count_tokens'; model: string}
  | {kind: 'gemini_embed'; model: string; method: GeminiEmbedMethod}
  | {kind: 'metrics'; method: string}
  /** The management API: `path` is what follows ADMIN_PREFIX, still percent-encoded. */
  | {kind: 'admin'; method: string; path: string}

export type GeminiEmbedMethod = 'embedContent' | 'batchEmbedContents'

export interface ParsedPath {
  route: Route | undefined
  /** The provider type named by a path prefix (`/claude-custom/v1/messages`). */
  typePrefix?: ProviderType
  /** A first path segment that looks like a prefix but names no known type. */
  unknownPrefix?: string
  /** A path segment whose %-escapes do not decode (`%E0%A4%A`): the request is malformed. */
  malformedSegment?: string
}

export const ADMIN_PREFIX = '/aiclient/v1/'
/** The server's own routes, which a provider-type prefix does not reach. */
const UNPREFIXED: ReadonlySet<Route['kind']> = new Set(['health', 'metrics', 'admin'])

const GEMINI_CALL = /^\/v1beta\/models\/([^/]+):(\w+)$/
const STORED_RESPONSE = /^(?:\/v1)?\/responses\/([^/]+)$/

function match(method: string, path: string): Route | undefined {
  // Any method: their handlers answer a wrong one with a 405 that names the right one.
  if (path === '/metrics') return {kind: 'metrics', method}
  if (path.startsWith(ADMIN_PREFIX)) return {kind: 'admin', method, path: path.slice(ADMIN_PREFIX.length)}
  if (method === 'POST') {
    if (path === '/v1/chat/completions' || path === '/chat/completions') return {kind: 'chat', protocol: 'openai'}
    if (path === '/v1/responses' || path === '/responses') return {kind: 'chat', protocol: 'responses'}
    if (path === '/v1/responses/compact' || path === '/responses/compact') return {kind: 'compact'}
    if (path === '/v1/messages') return {kind: 'chat', protocol: 'anthropic'}
    if (path === '/v1/messages/count_tokens') return {kind: 'count_tokens'}
    if (path === '/v1/embeddings' || path === '/embeddings') return {kind: 'embeddings'}
    const gemini = GEMINI_CALL.exec(path)
    if (gemini) return geminiMethod(gemini[1]!, gemini[2]!)
  }
  if (method === 'GET') {
    if (path === '/v1/models' || path === '/models') return {kind: 'models', protocol: 'auto'}
    if (path === '/v1beta/models') return {kind: 'models', protocol: 'gemini'}
    if (path === '/health') return {kind: 'health'}
  }
  if (method === 'GET' || method === 'DELETE') {
    const stored = STORED_RESPONSE.exec(path)
    if (stored) return {kind: 'stored_response', id: stored[1]!, method}
  }
  return undefined
}

/** A Gemini model's custom method (`models/{model}:{method}`); undefined for one we do not serve. */
function geminiMethod(model: string, method: string): Route | undefined {
  switch (method) {
    case 'generateContent':
    case 'streamGenerateContent':
      return {kind: 'chat', protocol: 'gemini', model, stream: method === 'streamGenerateContent'}
    case 'countTokens':
      return {kind: 'gemini_count_tokens', model}
    case 'embedContent':
    case 'batchEmbedContents':
      return {kind: 'gemini_embed', model, method}
    default:
      return undefined
  }
}

export function parsePath(method: string, pathname: string): ParsedPath {
  const direct = match(method, pathname)
  if (direct) return decodeModel({route: direct})
  const slash = pathname.indexOf('/', 1)
  if (slash > 1) {
    const raw = pathname.slice(1, slash)
    const first = decodeSegment(raw)
    const rest = match(method, pathname.slice(slash))
    if (rest && !UNPREFIXED.has(rest.kind)) {
      if (first === undefined) return {route: rest, malformedSegment: raw}
      return decodeModel(isProviderType(first) ? {route: rest, typePrefix: first} : {route: rest, unknownPrefix: first})
    }
  }
  return {route: undefined}
}

/** The model named in a Gemini path, which matching left encoded. */
function decodeModel(parsed: ParsedPath): ParsedPath {
  const route = parsed.route
  if (!route || !('model' in route) || route.model === undefined) return parsed
  const model = decodeSegment(route.model)
  return model === undefined ? {...parsed, malformedSegment: route.model} : {...parsed, route: {...route, model}}
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

/**
 * The request target as a URL, or undefined when it is not one (`http://[`, `*`). The usual origin-form is read
 * as a path even when it starts with `//`, which a URL parser would take for a host name.
 */
export function parseTarget(target: string): {url: URL; absoluteForm: boolean} | undefined {
  const absoluteForm = !target.startsWith('/')
  let url: URL
  try {
    url = absoluteForm ? new URL(target) : new URL(`http://localhost${target}`)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  // A base URL with a trailing slash makes `//v1/messages`; such paths mean what they would with one slash.
  url.pathname = url.pathname.replace(/\/{2,}/g, '/')
  return {url, absoluteForm}
}

/**
 * The protocol a route's errors are shaped in when the route itself does not say: from the path, else from the
 * headers only one protocol's clients send (`anthropic-version`, `x-goog-api-key`).
 */
export function protocolForPath(pathname: string, headers: IncomingHttpHeaders = {}): Protocol {
  // Google's custom methods (`models/x:embedContent`) name themselves after a colon, in any API version.
  if (pathname.includes('/v1beta/') || /\/models\/[^/]+:\w+$/.test(pathname)) return 'gemini'
  if (pathname.includes('/messages')) return 'anthropic'
  if (pathname.includes('/responses')) return 'responses'
  if (headers['anthropic-version'] !== undefined) return 'anthropic'
  if (headers['x-goog-api-key'] !== undefined) return 'gemini'
  return 'openai'
}
