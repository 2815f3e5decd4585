import type {IncomingHttpHeaders} from 'node:http'
import type {Dispatcher} from 'undici'
import type {Protocol} from '../codecs/types.js'
import type {PoolInstance, ProviderType} from '../pools/types.js'

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
}

/** Everything that differs between upstream types: where requests go, and with which credentials. */
export interface ProviderAdapter {
  readonly type: ProviderType
  /** The wire protocol the upstream speaks; equal to the client's means bytes pass through. */
  readonly protocol: Protocol
  prepare(instance: PoolInstance, ctx: CallContext): Promise<UpstreamCall>
  modelsCall(instance: PoolInstance): Promise<UpstreamCall>
  /** Where the upstream counts input tokens, when it can (Anthropic's count_tokens). */
  countTokensCall?(instance: PoolInstance, ctx: CallContext): Promise<UpstreamCall>
  /** Extracts model ids from the upstream's model-list answer. */
  modelIds(body: unknown): string[]
}
