// SKELETON: the Responses entry point shared by HTTP and WebSocket.
import type {IncomingHttpHeaders} from 'node:http'
import type {ClientSink} from '../../http/client-sink.js'
import type {ProviderType} from '../../pools/types.js'
import type {RequestRecord} from '../../proxy/types.js'
import type {HandlerDeps} from '../handler.js'
import type {ResponseMemory} from './memory.js'

/** One Responses request as either transport received it. */
export interface ResponsesRequest {
  json: Record<string, unknown>
  /** The body exactly as received (HTTP), or the JSON re-serialised (a WebSocket message). */
  body: Buffer
  pathname: string
  typePrefix?: ProviderType
  headers: IncomingHttpHeaders
}

/**
 * Serves one Responses request: expands `previous_response_id` from `memory`, runs it through the pool, writes the
 * answer to `sink` and keeps the finished response in `memory` (unless the client asked it not to be stored and
 * `keepUnstored` is false).
 */
export async function serveResponses(
  deps: HandlerDeps,
  request: ResponsesRequest,
  sink: ClientSink,
  memory: ResponseMemory,
  keepUnstored = false,
): Promise<RequestRecord> {
  throw new Error(`not implemented ${String([deps, request, sink, memory, keepUnstored])}`)
}
