import type {IncomingHttpHeaders} from 'node:http'
import type {ClientSink} from '../../http/client-sink.js'
import type {ProviderType} from '../../pools/types.js'
import {proxyRequest} from '../../proxy/proxy.js'
import type {RequestRecord} from '../../proxy/types.js'
import {newResponseId} from '../../codecs/responses/response.js'
import {requestType, type HandlerDeps} from '../handler.js'
import {requiredModel, streamFlag} from '../request-json.js'
import {FinalResponseCapture} from './final-response.js'
import {inputItems} from './items.js'
import type {ResponseMemory, StoredResponse} from './memory.js'

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
  const started = deps.now()
  const {json, headers} = request
  const stream = streamFlag(json)
  const rawModel = requiredModel(json.model)
  const {type, model} = requestType(deps, request, rawModel)
  const continued = continuation(deps, type, json, memory)
  if (continued.kind === 'unknown') {
    sink.send(400, {'content-type': 'application/json'}, JSON.stringify(previousNotFound(continued.id)))
    return {
      time: started,
      route: request.pathname,
      protocol: 'responses',
      type,
      instance: null,
      model,
      status: 400,
      ms: deps.now() - started,
      attempts: 0,
      stream,
      error: `previous response ${continued.id} not found`,
    }
  }
  const sent = continued.kind === 'expanded' ? continued.json : json
  // Only an answer that will be kept is watched: a client that stores nothing pays nothing for the store.
  const keep = json.store !== false || keepUnstored
  const capture = keep ? new FinalResponseCapture() : undefined
  const record = await proxyRequest(
    deps.proxy,
    {
      route: request.pathname,
      protocol: 'responses',
      type,
      body: sent === json ? request.body : Buffer.from(JSON.stringify(sent)),
      json: sent,
      model,
      modelRewritten: model !== rawModel,
      stream,
      headers,
      ...(continued.kind === 'pinned' && {preferInstance: continued.instanceId}),
      // Upstreams' own ids are unique to each at best, and the store must not mix up two answers.
      answerId: newResponseId(),
    },
    capture ? capture.wrap(sink) : sink,
  )
  const response = capture?.response()
  if (response) {
    memory.put({
      id: response.id as string,
      input: [...continued.history, ...inputItems(json.input)],
      output: response.output as unknown[],
      response,
      type,
      ...(record.instanceId !== undefined && {instanceId: record.instanceId}),
      upstreamStored: isResponsesUpstream(deps, type) && json.store !== false,
    })
  }
  return record
}

type Continuation =
  | {kind: 'none'; history: unknown[]}
  | {kind: 'unknown'; id: string}
  /** A Responses upstream that kept the response itself: the request goes as sent, to the instance that has it. */
  | {kind: 'pinned'; instanceId: string; history: unknown[]}
  /** The history is spelled out for an upstream that cannot look the id up. */
  | {kind: 'expanded'; json: Record<string, unknown>; history: unknown[]}

function continuation(
  deps: HandlerDeps,
  type: ProviderType,
  json: Record<string, unknown>,
  memory: ResponseMemory,
): Continuation {
  const id = json.previous_response_id
  if (id === undefined || id === null) return {kind: 'none', history: []}
  if (typeof id !== 'string' || id === '') return {kind: 'unknown', id: String(id)}
  const stored = memory.get(id)
  const responsesUpstream = isResponsesUpstream(deps, type)
  // An id made elsewhere may still be known to a Responses upstream: its own answer is the right one.
  if (!stored) return responsesUpstream ? {kind: 'none', history: []} : {kind: 'unknown', id}
  const history = historyOf(stored)
  if (responsesUpstream && stored.upstreamStored && stored.type === type && holderUsable(deps, stored))
    return {kind: 'pinned', instanceId: stored.instanceId!, history}
  const input = [...history, ...inputItems(json.input)]
  // A Responses upstream gets the bytes as they are, so the id it cannot know must go; a converted request keeps it
  // for the answer to echo, as OpenAI's does.
  if (!responsesUpstream) return {kind: 'expanded', json: {...json, input}, history}
  const {previous_response_id: _previous, ...rest} = json
  return {kind: 'expanded', json: {...rest, input}, history}
}

/** Whether the instance that made the response can take the follow-up; if not, another gets the whole history. */
function holderUsable(deps: HandlerDeps, stored: StoredResponse): boolean {
  const live = deps.state.list(stored.type).find((candidate) => candidate.id === stored.instanceId)
  return live !== undefined && deps.state.stateOf(live) === 'healthy'
}

/** Everything a follow-up to `stored` continues from: its input and its output. */
function historyOf(stored: StoredResponse): unknown[] {
  return [...stored.input, ...stored.output]
}

/** Whether the type's upstream speaks the Responses API itself (and keeps its own responses). */
export function isResponsesUpstream(deps: HandlerDeps, type: ProviderType): boolean {
  const adapter = deps.adapters[type]
  return adapter?.protocol === 'responses' && adapter.passthrough
}

/** OpenAI's own answer for an id it does not have. */
export function previousNotFound(id: string) {
  return {
    error: {
      message: `Previous response with id '${id}' not found.`,
      type: 'invalid_request_error',
      param: 'previous_response_id',
      code: 'previous_response_not_found',
    },
  }
}
