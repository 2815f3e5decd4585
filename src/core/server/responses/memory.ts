import type {ProviderType} from '../../pools/types.js'

/** One finished Responses answer, kept so that a follow-up can name it by `previous_response_id`. */
export interface StoredResponse {
  id: string
  /** The whole conversation up to this response, as Responses input items (earlier turns expanded). */
  input: unknown[]
  /** The response's output items. */
  output: unknown[]
  /** The response object as the client received it, for `GET /v1/responses/{id}`. */
  response: Record<string, unknown>
  type: ProviderType
  /** The pool id of the instance that answered (`type/uuid`); a Responses upstream holds the id only there. */
  instanceId?: string
  /** Whether the upstream itself was asked to keep the response (`store` not false on a Responses upstream). */
  upstreamStored: boolean
}

/** Where responses are kept and found again: the server's bounded store, or a WebSocket connection's own. */
export interface ResponseMemory {
  get(id: string): StoredResponse | undefined
  put(stored: StoredResponse): void
}
