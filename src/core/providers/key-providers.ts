import type {Protocol} from '../codecs/types.js'
import type {Dispatchers} from '../http/dispatchers.js'
import type {PoolInstance} from '../pools/types.js'
import {anthropicRateLimits, openAIRateLimits} from '../quota/headers.js'
import {protocolExchange} from './exchange.js'
import {dataIds, instanceField, proxyOf} from './instance.js'
import type {CallContext, Operation, ProviderAdapter, UpstreamCall} from './types.js'

const JSON_TYPE = 'application/json'

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '')
}

/**
 * The chat call of an instance, built once per version of its pool entry: a reload replaces the entry object, so
 * edits are picked up, while every request in between reuses the same URL, headers and dispatcher.
 */
function cachedCall(build: (instance: PoolInstance) => UpstreamCall): (instance: PoolInstance) => UpstreamCall {
  const calls = new WeakMap<PoolInstance, UpstreamCall>()
  return (instance) => {
    let call = calls.get(instance)
    if (!call) {
      call = build(instance)
      const url = new URL(call.url)
      calls.set(instance, (call = {...call, origin: url.origin, path: `${url.pathname}${url.search}`}))
    }
    return call
  }
}

/** An OpenAI key instance's call to `path` under its base (`OPENAI_BASE_URL`, which includes `/v1`). */
function openAICall(dispatchers: Dispatchers): (instance: PoolInstance, path: string) => UpstreamCall {
  return (instance, path) => ({
    url: `${trimSlash(instanceField(instance, 'OPENAI_BASE_URL') ?? 'https://api.openai.com/v1')}${path}`,
    headers: {
      authorization: `Bearer ${instanceField(instance, 'OPENAI_API_KEY') ?? ''}`,
      'content-type': JSON_TYPE,
      accept: JSON_TYPE,
    },
    dispatcher: dispatchers.get(proxyOf(instance)),
  })
}

/** The paths of an OpenAI key type under its base: its protocol's main call, and the operations it serves. */
type OpenAIPaths = {main: string} & Partial<Record<Operation, string>>

/**
 * The two OpenAI key types differ only in their API (protocol) and its paths. Both serve embeddings, which every
 * OpenAI-compatible API has beside its chat.
 */
function openAIKeyAdapter(
  dispatchers: Dispatchers,
  type: ProviderAdapter['type'],
  protocol: Protocol,
  paths: OpenAIPaths,
): ProviderAdapter {
  const call = openAICall(dispatchers)
  const calls = (path: string) => cachedCall((instance) => call(instance, path))
  const main = calls(paths.main)
  const {main: _main, ...operationPaths} = {embeddings: '/embeddings', ...paths}
  const operations = Object.keys(operationPaths) as Operation[]
  const byOperation = new Map(operations.map((operation) => [operation, calls(operationPaths[operation]!)]))
  return {
    type,
    protocol,
    passthrough: true,
    exchange: protocolExchange(protocol),
    operations,
    prepare: async (instance, ctx) => {
      if (ctx.operation === undefined) return main(instance)
      const prepared = byOperation.get(ctx.operation)
      // The attempt loop refuses operations a type does not list, so this is a defect, not a client's mistake.
      if (!prepared) throw new Error(`${type} has no ${ctx.operation} call.`)
      return prepared(instance)
    },
    modelsCall: async (instance) => call(instance, '/models'),
    modelIds: dataIds,
    quotaFromHeaders: openAIRateLimits,
  }
}

/** `openai-custom`: any OpenAI-compatible endpoint; the base includes `/v1`. */
export function openAICustom(dispatchers: Dispatchers): ProviderAdapter {
  return openAIKeyAdapter(dispatchers, 'openai-custom', 'openai', {main: '/chat/completions'})
}

/** `openaiResponses-custom`: OpenAI's Responses API (`/responses`, and `/responses/compact` for compaction). */
export function openAIResponsesCustom(dispatchers: Dispatchers): ProviderAdapter {
  return openAIKeyAdapter(dispatchers, 'openaiResponses-custom', 'responses', {
    main: '/responses',
    compact: '/responses/compact',
  })
}

/** Anthropic's base may be given with or without `/v1` (AIClient-2-API examples omit it). */
export function anthropicBase(url: string): string {
  const trimmed = trimSlash(url)
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`
}

/** `claude-custom`: the Anthropic Messages API with an API key. */
export function claudeCustom(dispatchers: Dispatchers): ProviderAdapter {
  const call = (instance: PoolInstance, path: string, ctx?: CallContext): UpstreamCall => {
    const headers: Record<string, string> = {
      'x-api-key': instanceField(instance, 'CLAUDE_API_KEY') ?? '',
      'anthropic-version': '2023-06-01',
      'content-type': JSON_TYPE,
      accept: JSON_TYPE,
    }
    // Anthropic clients choose the API version and beta features; others get the stable version.
    if (ctx?.clientProtocol === 'anthropic') {
      const version = ctx.clientHeaders['anthropic-version']
      const beta = ctx.clientHeaders['anthropic-beta']
      if (typeof version === 'string') headers['anthropic-version'] = version
      if (beta) headers['anthropic-beta'] = Array.isArray(beta) ? beta.join(',') : beta
    }
    const query =
      ctx?.clientProtocol === 'anthropic' && ctx.clientBeta !== undefined
        ? `?beta=${encodeURIComponent(ctx.clientBeta)}`
        : ''
    return {
      url: `${anthropicBase(instanceField(instance, 'CLAUDE_BASE_URL') ?? 'https://api.anthropic.com')}${path}${query}`,
      headers,
      dispatcher: dispatchers.get(proxyOf(instance)),
    }
  }
  const messages = cachedCall((instance) => call(instance, '/messages'))
  return {
    type: 'claude-custom',
    protocol: 'anthropic',
    passthrough: true,
    exchange: protocolExchange('anthropic'),
    // Anthropic clients bring their own version and beta headers; everyone else shares one prepared call.
    prepare: async (instance, ctx) =>
      ctx.clientProtocol === 'anthropic' ? call(instance, '/messages', ctx) : messages(instance),
    modelsCall: async (instance) => call(instance, '/models'),
    countTokensCall: async (instance, ctx) => call(instance, '/messages/count_tokens', ctx),
    modelIds: dataIds,
    quotaFromHeaders: anthropicRateLimits,
  }
}
