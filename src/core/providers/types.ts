import type {IncomingHttpHeaders} from 'node:http'
import type {Dispatcher} from 'undici'
import type {Protocol} from '../codecs/types.js'
import type {TokenStatus} from '../oauth/token-manager.js'
import type {PoolInstance, ProviderType} from '../pools/types.js'
import type {Quota} from '../quota/types.js'
import type {Exchange} from './exchange.js'

/**
 * A call other than the protocol's main one, served only by upstreams that have it natively: the request passes
 * through as sent and the answer comes back as it is (Responses compaction, OpenAI embeddings).
 */
export type Operation = 'compact' | 'embeddings'

export interface CallContext {
  stream: boolean
  /** The model as the upstream should see it (any `type:` prefix already removed). */
  model: string
  clientProtocol: Protocol
  clientHeaders: IncomingHttpHeaders
  /** As ClientCall.beta: relayed to an upstream of the client's own protocol. */
  clientBeta?: string
  /** As ClientCall.operation: the call to prepare when it is not the protocol's main one. */
  operation?: Operation
}

export interface UpstreamCall {
  url: string
  headers: Record<string, string>
  dispatcher: Dispatcher
  /** `url` split once, for calls prepared ahead: the dispatcher then needs no URL parsing per request. */
  origin?: string
  path?: string
}

/** Everything that differs between upstream types: where requests go, with which credentials, in which shape. */
export interface ProviderAdapter {
  readonly type: ProviderType
  /** The client protocol closest to the upstream's; equal to the client's means no conversion through the IR. */
  readonly protocol: Protocol
  /** Whether the client's bytes may pass through untouched when it speaks `protocol` (false for wrapped APIs). */
  readonly passthrough: boolean
  prepare(instance: PoolInstance, ctx: CallContext): Promise<UpstreamCall>
  /** The operations `prepare` has a path for; others are refused before any instance is tried. */
  readonly operations?: readonly Operation[]
  /** How a request to this upstream is encoded, sent and read. */
  readonly exchange: Exchange
  /** After a 401: get a new access token so the same instance can be tried once more. */
  refresh?(instance: PoolInstance): Promise<void>
  /** The access token's state, for `pool list` and the board; null for key types. */
  tokenStatus?(instance: PoolInstance): TokenStatus | null
  /** A free probe for `pool check --cheap`: proves the credentials without a generation. */
  cheapProbe?(instance: PoolInstance, signal: AbortSignal): Promise<void>
  /** The upstream's model list, where it has one (Code Assist and Kiro have none: the built-in list serves). */
  modelsCall?(instance: PoolInstance): Promise<UpstreamCall>
  /** Extracts model ids from the upstream's model-list answer. */
  modelIds?(body: unknown): string[]
  /**
   * Where the upstream counts the input tokens of a request in its own protocol, when it can (Anthropic's
   * count_tokens, Code Assist's countTokens).
   */
  countTokensCall?(instance: PoolInstance, ctx: CallContext): Promise<UpstreamCall>
  /** The count request as the upstream takes it, when that is not the client's request (Code Assist's envelope). */
  countTokensBody?(request: Record<string, unknown>, model: string): unknown
  /** What is left of the quota, read from a health check's answer headers (the key types, the Qwen portal). */
  quotaFromHeaders?(headers: IncomingHttpHeaders, now: number): Quota | null
  /** What is left of the quota, asked of the vendor's quota endpoint (Kiro, Code Assist); null when it says nothing. */
  fetchQuota?(instance: PoolInstance, signal: AbortSignal, now: number): Promise<Quota | null>
}
