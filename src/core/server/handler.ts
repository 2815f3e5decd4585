import type {IncomingHttpHeaders, ServerResponse} from 'node:http'
import type {Management} from '../admin/management.js'
import type {Protocol, ProtocolCodec} from '../codecs/types.js'
import type {ProxyMetrics} from '../metrics/metrics.js'
import type {PoolState} from '../pools/pool-state.js'
import type {ProviderType} from '../pools/types.js'
import type {ProxyDeps, RequestRecord} from '../proxy/types.js'
import type {ProviderAdapter} from '../providers/types.js'
import type {Exchange} from '../request-log/capture.js'
import {resolveType} from './resolve-type.js'
import type {ResponseStore} from './responses/memory.js'
import type {Route} from './routes.js'

/** A request that passed access, key and routing checks, as the handlers see it. */
export interface ClientRequest<R extends Route = Route> {
  route: R
  pathname: string
  searchParams?: URLSearchParams
  /** The provider type named by a path prefix (`/claude-custom/v1/messages`). */
  typePrefix?: ProviderType
  headers: IncomingHttpHeaders
  /** The body, read within the server's limits; empty for routes that take none. */
  body: Buffer
  /** Where chat relays the upstream's answer as it arrives (the attempt loop writes it itself). */
  res: ServerResponse
}

/** What a handler answers: a JSON body, text sent as is, or nothing more because it was relayed already. */
export type Reply =
  | {kind: 'json'; status: number; body: unknown; headers?: Record<string, string>}
  | {kind: 'text'; status: number; text: string; headers?: Record<string, string>}
  | {kind: 'relayed'}

/** What every handler may use; built once per server. */
export interface HandlerDeps {
  state: PoolState
  adapters: Partial<Record<ProviderType, ProviderAdapter>>
  codecs: Record<Protocol, ProtocolCodec>
  defaultType?: ProviderType
  now: () => number
  /** When the server started, for /health's uptime. */
  started: number
  /** The attempt loop's settings, for chat. */
  proxy: ProxyDeps
  responseLimitBytes: number
  errorBodyLimitBytes: number
  /** Responses kept for `previous_response_id` and `GET /v1/responses/{id}`. */
  responses: ResponseStore
  /** With `logBodies`, a record can come with what the client sent and received. */
  onRecord?: (record: RequestRecord, exchange?: Exchange) => void
  logBodies?: boolean
  /** /metrics; absent when METRICS_ENABLED is false, and the route with it. */
  metrics?: ProxyMetrics
  /** /aiclient/v1/…; absent, the routes are too. */
  admin?: Management
}

export type Handler<K extends Route['kind']> = (
  deps: HandlerDeps,
  request: ClientRequest<Extract<Route, {kind: K}>>,
) => Promise<Reply>

/** The provider type that serves a request for `rawModel`, and the model its upstream sees (see resolveType). */
export function requestType(
  deps: HandlerDeps,
  {typePrefix, headers}: Pick<ClientRequest, 'typePrefix' | 'headers'>,
  rawModel: string,
) {
  return resolveType(
    {
      typePrefix,
      header: headers['model-provider'],
      defaultType: deps.defaultType,
      configuredTypes: () => deps.state.types(),
    },
    rawModel,
  )
}
