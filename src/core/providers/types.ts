import type {IncomingHttpHeaders} from 'node:http'
import type {Dispatcher} from 'undici'
import type {IRRequest, IRResponse} from '../codecs/ir.js'
import type {Protocol, StreamDecoder, StreamDecoderOptions} from '../codecs/types.js'
import type {TokenStatus} from '../oauth/token-manager.js'
import type {PoolInstance, ProviderType} from '../pools/types.js'
import type {Outcome} from './outcome.js'

export interface CallContext {
  stream: boolean
  /** The model as the upstream should see it (any `type:` prefix already removed). */
  model: string
  clientProtocol: Protocol
  clientHeaders: IncomingHttpHeaders
}

export interface UpstreamCall {
  url: string
  headers: Record<string, string>
  dispatcher: Dispatcher
  /** `url` split once, for calls prepared ahead: the dispatcher then needs no URL parsing per request. */
  origin?: string
  path?: string
}

export interface BodyInput {
  clientProtocol: Protocol
  clientJson: Record<string, unknown>
  /** The request in the IR, decoded once on first use. */
  ir(): IRRequest
  model: string
  stream: boolean
}

/** One attempt's upstream body, and for upstreams whose answers depend on it, the matching stream decoder. */
export interface AttemptBody {
  body: string
  createStreamDecoder?: (opts?: StreamDecoderOptions) => StreamDecoder
}

/** Turns the bytes of a same-protocol stream into what the client expects (Code Assist's `{response}` unwrap). */
export interface ByteTransform {
  push(chunk: Uint8Array): string
  end(): string
}

/** Everything that differs between upstream types: where requests go, with which credentials, in which shape. */
export interface ProviderAdapter {
  readonly type: ProviderType
  /** The client protocol closest to the upstream's; equal to the client's means no conversion through the IR. */
  readonly protocol: Protocol
  /** Whether the client's bytes may pass through untouched when it speaks `protocol` (false for wrapped APIs). */
  readonly passthrough: boolean
  /** The upstream answers only with streams; plain requests get the stream collected into one answer. */
  readonly alwaysStreams?: boolean
  prepare(instance: PoolInstance, ctx: CallContext): Promise<UpstreamCall>
  /** The body for one attempt on this instance; without it the proxy converts once for every attempt. */
  encodeBody?(instance: PoolInstance, input: BodyInput): Promise<AttemptBody>
  decodeResponse?(body: unknown): IRResponse
  createStreamDecoder?(opts?: StreamDecoderOptions): StreamDecoder
  /** For clients of `protocol` when `passthrough` is false: answers reshaped without a trip through the IR. */
  sameProtocol?: {json(body: unknown): unknown; stream(opts?: StreamDecoderOptions): ByteTransform}
  /** Upstream-specific meaning of an error answer; undefined falls back to the common status table. */
  classify?(status: number, headers: Record<string, string | string[] | undefined>, body: string, now: number): Outcome | undefined
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
  /** Where the upstream counts input tokens, when it can (Anthropic's count_tokens). */
  countTokensCall?(instance: PoolInstance, ctx: CallContext): Promise<UpstreamCall>
}
