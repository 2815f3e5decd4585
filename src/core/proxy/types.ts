import type {IncomingHttpHeaders} from 'node:http'
import type {Protocol, ProtocolCodec} from '../codecs/types.js'
import type {RequestTimeouts} from '../http/dispatchers.js'
import type {PoolState} from '../pools/pool-state.js'
import type {ProviderType} from '../pools/types.js'
import type {ModelAliasResolver} from '../models/aliases.js'
import type {Fallbacks} from './fallback.js'
import type {TokenUsage} from '../usage/tokens.js'
import type {Operation, ProviderAdapter} from '../providers/types.js'

/** One client request as the server parsed it, ready to be served from the pool. */
export interface ClientCall {
  route: string
  protocol: Protocol
  type: ProviderType
  /** The request body exactly as received. */
  body: Buffer
  json: Record<string, unknown>
  /** The model the upstream should see; differs from the body's when a `type:` prefix was removed. */
  model: string
  modelRewritten: boolean
  stream: boolean
  headers: IncomingHttpHeaders
  /** Another call than the protocol's main one, served by the upstreams that have it only (see Operation). */
  operation?: Operation
  /** The client's `beta` query parameter (Anthropic SDK beta calls send `?beta=true`). */
  beta?: string
  /** The instance to try first: the one holding the conversation this request continues. */
  preferInstance?: string
  /** The id a converted answer shows instead of the upstream's: a Responses id the server keeps and must not repeat. */
  answerId?: string
}

/** What the log and the board show of one served request. */
export interface RequestRecord {
  time: number
  route: string
  protocol: Protocol
  /** Null when the request was refused before a type was chosen (an unknown route, a malformed body). */
  type: ProviderType | null
  /** The type the client asked for, when another one (a fallback) served the request. */
  fallbackFrom?: ProviderType
  instance: string | null
  /** The instance's id in the pool (`type/uuid`), for who needs to find it again. */
  instanceId?: string
  /** The client's model name. */
  model: string
  /** The name an alias sent the upstream instead, when one applied. */
  upstreamModel?: string
  status: number
  ms: number
  attempts: number
  stream: boolean
  /** Milliseconds from the request's arrival to the first byte the client received. */
  ttftMs?: number
  /** The tokens the answer used, when one was served. */
  usage?: TokenUsage
  error?: string
}

export interface ProxyDeps {
  state: PoolState
  adapters: Partial<Record<ProviderType, ProviderAdapter>>
  codecs: Record<Protocol, ProtocolCodec>
  now: () => number
  maxAttempts: number
  /** Largest non-streamed upstream answer held in memory; larger ones fail the attempt. */
  responseLimitBytes?: number
  /** How long each type's upstream may take to answer and may go quiet mid-answer; the dispatcher's own otherwise. */
  timeouts?: Partial<Record<ProviderType, RequestTimeouts>>
  /** Largest upstream error body read; a longer one is cut off unread and its connection closed. */
  errorBodyLimitBytes?: number
  /** Longest single event of a converted stream; a longer one fails the attempt (DEFAULT_EVENT_LIMIT). */
  streamEventLimitBytes?: number
  onDropped?: (field: string) => void
  /** MODEL_ALIASES; instances' own `modelAliases` apply without it. */
  modelAliases?: ModelAliasResolver
  /** Other types to serve a request from when its own cannot. */
  fallbacks?: Fallbacks
}

export const DEFAULT_RESPONSE_LIMIT = 64 * 1024 * 1024
